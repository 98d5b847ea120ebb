#pragma once
// GraphDocument: the one owner of the graph being edited and of its undo stack. Every edit is a QUndoCommand pushed through the document; commands hold node ids
// and names, never pointers. Views listen to the signals and never hold graph data of their own.
//
// Node positions live in the node's meta ("x", "y", scene coordinates): a node with a position
// is pinned there by the canvas; the others are placed by the Graphviz layout.
#include <QObject>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <QUndoStack>
#include <optional>
#include <vector>

#include "ir/graph.h"
#include "ir/group_tree.h"
#include "ir/verifier.h"

class GraphDocument : public QObject {
    Q_OBJECT
public:
    explicit GraphDocument(QObject* parent = nullptr);

    const adj::Graph& graph() const { return graph_; }
    QUndoStack* undoStack() { return &undo_; }
    QString filePath() const { return filePath_; }
    /// Unsaved changes: edits since the last save or load, or a graph recovered from an autosave.
    bool isModified() const { return !undo_.isClean() || dirty_; }
    /// The file name for titles: the file's name, or "Untitled".
    QString displayName() const;
    /// Problems of the current graph (re-checked after every edit), each naming its node.
    const std::vector<adj::Diagnostic>& diagnostics() const { return diagnostics_; }

    /// Replaces the document with an empty graph (clears undo history).
    void newDocument();
    /// Loads a .json or .onnx file; on failure returns false with the message and changes nothing.
    bool load(const QString& path, QString* error = nullptr);
    /// Saves atomically in the format of the extension (JSON keeps positions in node meta).
    /// Marks the document unmodified.
    bool save(const QString& path, QString* error = nullptr);
    /// Replaces the graph (e.g. from a drop or a recovery file); clears the undo history.
    /// `modified` marks the new content as unsaved (a recovered autosave).
    void setGraph(adj::Graph graph, const QString& filePath = {}, bool modified = false);

    // ---- edits, each one undoable step ----
    /// Adds a node of `op` at a position; returns its id. Sources get a default value/shape.
    adj::NodeId addNode(adj::Op op, const QPointF& position, const QString& name = {});
    void removeNode(adj::NodeId id);
    /// Removes several nodes as one undo step.
    void removeNodes(const std::vector<adj::NodeId>& ids);
    /// Connects `value` to input `index` of `node` (growing the input list when index >= size).
    void connect(adj::ValueRef value, adj::NodeId node, int index);
    void disconnect(adj::NodeId node, int index);
    void setAttribute(adj::NodeId node, const QString& name, const adj::AttrValue& value);
    void removeAttribute(adj::NodeId node, const QString& name);
    /// Renames a node; returns false (and changes nothing) for an empty or taken name.
    bool rename(adj::NodeId node, const QString& newName);
    /// Sets the declared shape of an Input node, or the shape (zero-filled value) of a Parameter
    /// or Constant node.
    void setSourceShape(adj::NodeId node, const adj::Shape& shape);
    /// Moves a node; consecutive moves of the same node merge into one undo step (a drag).
    void moveNode(adj::NodeId node, const QPointF& to);
    /// Moves several nodes as one undo step (a drag of a selection).
    void moveNodes(const std::vector<std::pair<adj::NodeId, QPointF>>& moves);
    /// Makes `value` a graph output named `name` (a fresh name when taken or empty).
    void addOutput(adj::ValueRef value, const QString& name = {});
    QPointF position(adj::NodeId node) const;

    // ---- groups (editor metadata in node meta "group"/"group_collapsed"; semantics unchanged) ----
    // Groups nest: a group is a path ("layer1/layer1.0"; ir/group_tree.h).
    /// Puts the nodes into a new group (one undo step) inside the innermost group that holds them
    /// all; returns its path (its name "group", "group_1"..., or `name` made unique), or an empty
    /// string when no node is given.
    QString groupNodes(const std::vector<adj::NodeId>& ids, const QString& name = {});
    /// Removes the group: its nodes become ungrouped (one undo step).
    void ungroup(const QString& group);
    /// Collapses the group into one node box, or expands it again (one undo step).
    void setGroupCollapsed(const QString& group, bool collapsed);
    /// As setGroupCollapsed for several groups, one undo step (those already so are left alone).
    void setGroupsCollapsed(const std::vector<QString>& groups, bool collapsed);
    /// Expands every collapsed group around the node, so that it is drawn (one undo step).
    void revealNode(adj::NodeId node);
    /// The innermost group of a node (a path, "layer1/layer1.0"), or an empty string.
    QString groupOf(adj::NodeId node) const;
    /// The group drawing the node: its outermost collapsed group, else its innermost group.
    QString drawnGroupOf(adj::NodeId node) const;
    bool isGroupCollapsed(const QString& group) const;
    /// The nodes of a group and of the groups inside it, in id order.
    std::vector<adj::NodeId> groupMembers(const QString& group) const;
    /// Every group name, sorted.
    QStringList groups() const;
    bool hasPosition(adj::NodeId node) const;

    // ---- placement by hand (node meta "device", for the partition view; semantics unchanged) ----
    /// Places the nodes on the named device, or takes their placement away with an empty name
    /// (one undo step).
    void placeNodes(const std::vector<adj::NodeId>& ids, const QString& device);
    /// The device a node is placed on, or an empty string.
    QString deviceOf(adj::NodeId node) const;

    // ---- clipboard ----
    /// The JSON text (adjoint-graph format) of the given nodes and the edges among them; inputs
    /// from outside the selection are left unconnected.
    QString copyNodes(const std::vector<adj::NodeId>& ids) const;
    /// Adds the nodes of a copyNodes() text as one undo step, renamed where names are taken and
    /// shifted by `offset`; returns the new ids. On bad text returns {} with the message.
    std::vector<adj::NodeId> pasteNodes(const QString& json, const QPointF& offset, QString* error = nullptr);

    // ---- for the commands (not for views) ----
    adj::Graph& mutableGraph() {
        groupTree_.reset();  // (whatever the caller changes, the groups are read again)
        return graph_;
    }
    /// Re-verifies and tells the views.
    void notifyChanged();
    void notifyNodeChanged(adj::NodeId id);
    void notifyNodeMoved(adj::NodeId id);

Q_SIGNALS:
    /// The structure changed (nodes or edges added or removed): re-layout.
    void graphChanged();
    /// A node's attributes, name or shape changed.
    void nodeChanged(adj::NodeId id);
    /// A node's position changed (no re-layout needed).
    void nodeMoved(adj::NodeId id);
    /// The whole graph was replaced (open, new, revert): node ids now name other nodes, so anything
    /// keyed by an id (overlay marks, live tensors, selections) must be dropped. Comes before graphChanged.
    void replaced();
    void modifiedChanged(bool modified);
    void filePathChanged(const QString& path);
    void diagnosticsChanged();

private:
    void reverify();
    /// The graph's group tree, built on first use after a change (a selection's breadcrumbs ask
    /// several questions of it; a 100,000-node tree costs tens of milliseconds to build).
    const adj::GroupTree& groupTree() const;
    adj::Graph graph_;
    mutable std::optional<adj::GroupTree> groupTree_;
    QUndoStack undo_;
    QString filePath_;
    bool dirty_ = false;
    std::vector<adj::Diagnostic> diagnostics_;
};
