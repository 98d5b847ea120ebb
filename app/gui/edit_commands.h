#pragma once
// The undo commands of GraphDocument, one per kind of edit. They hold ids, names and copies of
// values, never pointers into the graph, so that any sequence of undo and redo is safe.
#include <QPointF>
#include <QUndoCommand>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

class GraphDocument;

class AddNodeCommand : public QUndoCommand {
public:
    AddNodeCommand(GraphDocument* doc, adj::Node node);
    void redo() override;
    void undo() override;
    adj::NodeId id() const { return node_.id; }

private:
    GraphDocument* doc_;
    adj::Node node_;  // id assigned on first redo
};

class RemoveNodeCommand : public QUndoCommand {
public:
    RemoveNodeCommand(GraphDocument* doc, adj::NodeId id);
    void redo() override;
    void undo() override;

private:
    GraphDocument* doc_;
    adj::Node node_;
    std::vector<adj::Use> uses_;
    std::vector<int> ports_;  // the port each use read
    std::vector<adj::GraphOutput> savedOutputs_;
};

class ConnectCommand : public QUndoCommand {
public:
    /// `value` with node kNoNode disconnects.
    ConnectCommand(GraphDocument* doc, adj::NodeId node, int index, adj::ValueRef value);
    void redo() override;
    void undo() override;

private:
    GraphDocument* doc_;
    adj::NodeId node_;
    int index_;
    adj::ValueRef value_;
    adj::ValueRef old_;
    bool grew_ = false;
};

class SetAttributeCommand : public QUndoCommand {
public:
    /// `value` empty removes the attribute.
    SetAttributeCommand(GraphDocument* doc, adj::NodeId node, std::string name, std::optional<adj::AttrValue> value);
    void redo() override;
    void undo() override;

private:
    void apply(const std::optional<adj::AttrValue>& v);
    GraphDocument* doc_;
    adj::NodeId node_;
    std::string name_;
    std::optional<adj::AttrValue> value_, old_;
};

class RenameNodeCommand : public QUndoCommand {
public:
    RenameNodeCommand(GraphDocument* doc, adj::NodeId node, std::string newName);
    void redo() override;
    void undo() override;

private:
    GraphDocument* doc_;
    adj::NodeId node_;
    std::string newName_, oldName_;
};

class MoveNodeCommand : public QUndoCommand {
public:
    MoveNodeCommand(GraphDocument* doc, adj::NodeId node, QPointF from, QPointF to);
    void redo() override;
    void undo() override;
    int id() const override { return 1; }
    bool mergeWith(const QUndoCommand* other) override;

private:
    void apply(QPointF p);
    GraphDocument* doc_;
    adj::NodeId node_;
    QPointF from_, to_;
    bool hadPosition_;  // undo of a first move unpins the node (back to the layout's place)
};

/// Sets the declared shape of an Input node, or replaces a Parameter's or Constant's value by
/// zeros of a new shape.
class SetSourceShapeCommand : public QUndoCommand {
public:
    SetSourceShapeCommand(GraphDocument* doc, adj::NodeId node, adj::Shape shape);
    void redo() override;
    void undo() override;

private:
    GraphDocument* doc_;
    adj::NodeId node_;
    adj::Shape shape_;
    adj::Shape oldShape_;
    std::vector<std::string> oldDimNames_;
    adj::Tensor oldValue_;
};

/// Appends a graph output.
class AddOutputCommand : public QUndoCommand {
public:
    AddOutputCommand(GraphDocument* doc, adj::GraphOutput output);
    void redo() override;
    void undo() override;

private:
    GraphDocument* doc_;
    adj::GraphOutput output_;
};

/// Node meta "group" and "group_collapsed" for each of some nodes (ir/group_tree.h): grouping,
/// ungrouping, collapsing and expanding are all this one command, with the values each node gets
/// (nullopt erases the key). Editor metadata: the graph's semantics stay unchanged.
class SetGroupCommand : public QUndoCommand {
public:
    struct Values {
        adj::NodeId id;
        std::optional<std::string> group, collapsed;
    };
    SetGroupCommand(GraphDocument* doc, std::vector<Values> values, const QString& text);
    void redo() override;
    void undo() override;

private:
    void apply(const std::vector<Values>& values);
    GraphDocument* doc_;
    std::vector<Values> new_, old_;
};

/// Places nodes on a device for the partition view's placement by hand: node meta "device" (a
/// device's name; empty removes it). Like groups, editor metadata that survives a JSON save and
/// leaves the graph's semantics alone (parallel/strategies.h reads it).
class SetDeviceCommand : public QUndoCommand {
public:
    SetDeviceCommand(GraphDocument* doc, std::vector<adj::NodeId> nodes, std::string device, const QString& text);
    void redo() override;
    void undo() override;

private:
    GraphDocument* doc_;
    std::vector<adj::NodeId> nodes_;
    std::string device_;
    std::vector<std::optional<std::string>> old_;
};
