#pragma once
// GraphDocument: the one owner of the graph being edited and of its undo stack (DESIGN.md
// convention 8). Every edit is a QUndoCommand pushed through the document; commands hold node ids
// and names, never pointers. Views listen to the signals and never hold graph data of their own.
#include <QObject>
#include <QPointF>
#include <QString>
#include <QUndoStack>
#include <vector>

#include "ir/graph.h"
#include "ir/verifier.h"

class GraphDocument : public QObject {
    Q_OBJECT
public:
    explicit GraphDocument(QObject* parent = nullptr);

    const adj::Graph& graph() const { return graph_; }
    QUndoStack* undoStack() { return &undo_; }
    QString filePath() const { return filePath_; }
    bool isModified() const { return !undo_.isClean(); }
    /// Problems of the current graph (re-checked after every edit), each naming its node.
    const std::vector<adj::Diagnostic>& diagnostics() const { return diagnostics_; }

    /// Replaces the document with an empty graph (clears undo history).
    void newDocument();
    /// Loads a .json or .onnx file; on failure returns false with the message and changes nothing.
    bool load(const QString& path, QString* error = nullptr);
    /// Saves atomically (JSON; positions are kept in node meta). Marks the stack clean.
    bool save(const QString& path, QString* error = nullptr);
    /// Replaces the graph (e.g. from a drop); clears the undo history.
    void setGraph(adj::Graph graph, const QString& filePath = {});

    // ---- edits, each one undoable step ----
    /// Adds a node of `op` at a position; returns its id. Sources get a default value/shape.
    adj::NodeId addNode(adj::Op op, const QPointF& position, const QString& name = {});
    void removeNode(adj::NodeId id);
    /// Connects `value` to input `index` of `node` (growing the input list when index == size).
    void connect(adj::ValueRef value, adj::NodeId node, int index);
    void disconnect(adj::NodeId node, int index);
    void setAttribute(adj::NodeId node, const QString& name, const adj::AttrValue& value);
    void removeAttribute(adj::NodeId node, const QString& name);
    void rename(adj::NodeId node, const QString& newName);
    /// Moves a node; consecutive moves of the same node merge into one undo step (a drag).
    void moveNode(adj::NodeId node, const QPointF& to);
    QPointF position(adj::NodeId node) const;

    // ---- for the commands (not for views) ----
    adj::Graph& mutableGraph() { return graph_; }
    /// Re-verifies and tells the views.
    void notifyChanged();
    void notifyNodeChanged(adj::NodeId id);

Q_SIGNALS:
    /// The structure changed (nodes or edges added or removed): re-layout.
    void graphChanged();
    /// A node's attributes, name or position changed.
    void nodeChanged(adj::NodeId id);
    void modifiedChanged(bool modified);
    void filePathChanged(const QString& path);
    void diagnosticsChanged();

private:
    void reverify();
    adj::Graph graph_;
    QUndoStack undo_;
    QString filePath_;
    std::vector<adj::Diagnostic> diagnostics_;
};
