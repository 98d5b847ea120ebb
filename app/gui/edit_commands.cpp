#include "edit_commands.h"

#include <QString>
#include <map>
#include <string>

#include "graph_document.h"

using namespace adj;

AddNodeCommand::AddNodeCommand(GraphDocument* doc, Node node) : doc_(doc), node_(std::move(node)) {
    setText(QString("Add %1").arg(QString::fromStdString(std::string(opName(node_.op)))));
}

void AddNodeCommand::redo() {
    Graph& g = doc_->mutableGraph();
    if (node_.id == kNoNode) {
        NodeId id = g.addNode(node_.op, node_.inputs, node_.attrs, node_.name);
        Node& n = g.node(id);
        n.value = node_.value;
        n.declaredShape = node_.declaredShape;
        n.declaredDType = node_.declaredDType;
        n.dimNames = node_.dimNames;
        n.meta = node_.meta;
        node_ = n;
    } else {
        g.insertNodeAt(node_);
    }
    doc_->notifyChanged();
}

void AddNodeCommand::undo() {
    doc_->mutableGraph().removeNodeForce(node_.id);
    doc_->notifyChanged();
}

RemoveNodeCommand::RemoveNodeCommand(GraphDocument* doc, NodeId id) : doc_(doc), node_(doc->graph().node(id)) {
    setText(QString("Delete %1").arg(QString::fromStdString(node_.name)));
}

void RemoveNodeCommand::redo() {
    Graph& g = doc_->mutableGraph();
    node_ = g.node(node_.id);
    uses_ = g.users(node_.id);
    ports_.clear();
    for (const Use& u : uses_) ports_.push_back(g.node(u.user).inputs[std::size_t(u.index)].port);
    savedOutputs_ = g.outputs();
    std::vector<GraphOutput> kept;
    for (const auto& o : g.outputs())
        if (o.value.node != node_.id) kept.push_back(o);
    g.setOutputs(kept);
    g.removeNodeForce(node_.id);
    doc_->notifyChanged();
}

void RemoveNodeCommand::undo() {
    Graph& g = doc_->mutableGraph();
    g.insertNodeAt(node_);
    // the users' inputs were left dangling by the removal; point them back
    for (std::size_t i = 0; i < uses_.size(); ++i)
        if (g.contains(uses_[i].user)) g.setInput(uses_[i].user, uses_[i].index, ValueRef{node_.id, ports_[i]});
    g.setOutputs(savedOutputs_);
    doc_->notifyChanged();
}

ConnectCommand::ConnectCommand(GraphDocument* doc, NodeId node, int index, ValueRef value)
    : doc_(doc), node_(node), index_(index), value_(value) {
    setText(value.node == kNoNode ? QString("Disconnect") : QString("Connect"));
}

void ConnectCommand::redo() {
    Graph& g = doc_->mutableGraph();
    Node& n = g.node(node_);
    if (index_ >= int(n.inputs.size())) {
        std::vector<ValueRef> ins = n.inputs;
        ins.resize(std::size_t(index_) + 1);
        grew_ = true;
        old_ = ValueRef{};
        g.setInputs(node_, ins);
    } else {
        old_ = n.inputs[std::size_t(index_)];
    }
    g.setInput(node_, index_, value_);
    doc_->notifyChanged();
}

void ConnectCommand::undo() {
    Graph& g = doc_->mutableGraph();
    if (grew_) {
        std::vector<ValueRef> ins = g.node(node_).inputs;
        ins.resize(std::size_t(index_));
        g.setInputs(node_, ins);
    } else {
        g.setInput(node_, index_, old_);
    }
    doc_->notifyChanged();
}

SetAttributeCommand::SetAttributeCommand(GraphDocument* doc, NodeId node, std::string name, std::optional<AttrValue> value)
    : doc_(doc), node_(node), name_(std::move(name)), value_(std::move(value)) {
    const auto& m = doc->graph().node(node).attrs.map();
    if (auto it = m.find(name_); it != m.end()) old_ = it->second;
    setText(QString("Set %1").arg(QString::fromStdString(name_)));
}

void SetAttributeCommand::apply(const std::optional<AttrValue>& v) {
    Node& n = doc_->mutableGraph().node(node_);
    if (v) n.attrs.set(name_, *v);
    else n.attrs.erase(name_);
    doc_->notifyChanged();
}

void SetAttributeCommand::redo() { apply(value_); }
void SetAttributeCommand::undo() { apply(old_); }

RenameNodeCommand::RenameNodeCommand(GraphDocument* doc, NodeId node, std::string newName)
    : doc_(doc), node_(node), newName_(std::move(newName)), oldName_(doc->graph().node(node).name) {
    setText(QString("Rename %1").arg(QString::fromStdString(oldName_)));
}

void RenameNodeCommand::redo() {
    doc_->mutableGraph().rename(node_, newName_);
    doc_->notifyNodeChanged(node_);
}

void RenameNodeCommand::undo() {
    doc_->mutableGraph().rename(node_, oldName_);
    doc_->notifyNodeChanged(node_);
}

MoveNodeCommand::MoveNodeCommand(GraphDocument* doc, NodeId node, QPointF from, QPointF to)
    : doc_(doc), node_(node), from_(from), to_(to), hadPosition_(doc->hasPosition(node)) {
    setText("Move");
}

void MoveNodeCommand::apply(QPointF p) {
    Node& n = doc_->mutableGraph().node(node_);
    n.meta["x"] = QString::number(p.x(), 'g', 10).toStdString();
    n.meta["y"] = QString::number(p.y(), 'g', 10).toStdString();
    doc_->notifyNodeMoved(node_);
}

void MoveNodeCommand::redo() { apply(to_); }
void MoveNodeCommand::undo() {
    if (hadPosition_) return apply(from_);
    Node& n = doc_->mutableGraph().node(node_);
    n.meta.erase("x");
    n.meta.erase("y");
    doc_->notifyNodeChanged(node_);
}

bool MoveNodeCommand::mergeWith(const QUndoCommand* other) {
    auto* o = dynamic_cast<const MoveNodeCommand*>(other);
    if (!o || o->node_ != node_) return false;
    to_ = o->to_;
    return true;
}

SetSourceShapeCommand::SetSourceShapeCommand(GraphDocument* doc, NodeId node, Shape shape)
    : doc_(doc), node_(node), shape_(std::move(shape)) {
    const Node& n = doc->graph().node(node);
    oldShape_ = n.declaredShape;
    oldDimNames_ = n.dimNames;
    oldValue_ = n.value;
    setText(QString("Set shape of %1").arg(QString::fromStdString(n.name)));
}

void SetSourceShapeCommand::redo() {
    Node& n = doc_->mutableGraph().node(node_);
    if (n.op == Op::Input) {
        n.declaredShape = shape_;
        n.dimNames.assign(shape_.size(), std::string());
    } else {
        n.value = Tensor::zeros(shape_);
    }
    doc_->notifyChanged();
}

void SetSourceShapeCommand::undo() {
    Node& n = doc_->mutableGraph().node(node_);
    n.declaredShape = oldShape_;
    n.dimNames = oldDimNames_;
    n.value = oldValue_;
    doc_->notifyChanged();
}

AddOutputCommand::AddOutputCommand(GraphDocument* doc, GraphOutput output) : doc_(doc), output_(std::move(output)) {
    setText(QString("Add output %1").arg(QString::fromStdString(output_.name)));
}

void AddOutputCommand::redo() {
    doc_->mutableGraph().addOutput(output_.name, output_.value);
    doc_->notifyChanged();
}

void AddOutputCommand::undo() {
    Graph& g = doc_->mutableGraph();
    std::vector<GraphOutput> outs = g.outputs();
    for (auto it = outs.begin(); it != outs.end(); ++it)
        if (it->name == output_.name) {
            outs.erase(it);
            break;
        }
    g.setOutputs(outs);
    doc_->notifyChanged();
}

namespace {
void setOrErase(std::map<std::string, std::string>& meta, const char* key, const std::optional<std::string>& v) {
    if (v) meta[key] = *v;
    else meta.erase(key);
}
std::optional<std::string> metaValue(const Node& n, const char* key) {
    auto it = n.meta.find(key);
    return it == n.meta.end() ? std::nullopt : std::optional<std::string>(it->second);
}
}  // namespace

SetGroupCommand::SetGroupCommand(GraphDocument* doc, std::vector<Values> values, const QString& text)
    : doc_(doc), new_(std::move(values)) {
    for (const Values& v : new_) {
        const Node& n = doc->graph().node(v.id);
        old_.push_back({v.id, metaValue(n, "group"), metaValue(n, "group_collapsed")});
    }
    setText(text);
}

void SetGroupCommand::apply(const std::vector<Values>& values) {
    Graph& g = doc_->mutableGraph();
    for (const Values& v : values) {
        auto& meta = g.node(v.id).meta;
        setOrErase(meta, "group", v.group);
        setOrErase(meta, "group_collapsed", v.collapsed);
    }
    doc_->notifyChanged();
}

void SetGroupCommand::redo() { apply(new_); }

void SetGroupCommand::undo() { apply(old_); }

SetDeviceCommand::SetDeviceCommand(GraphDocument* doc, std::vector<NodeId> nodes, std::string device, const QString& text)
    : doc_(doc), nodes_(std::move(nodes)), device_(std::move(device)) {
    for (NodeId id : nodes_) old_.push_back(metaValue(doc->graph().node(id), "device"));
    setText(text);
}

void SetDeviceCommand::redo() {
    Graph& g = doc_->mutableGraph();
    for (NodeId id : nodes_) setOrErase(g.node(id).meta, "device", device_.empty() ? std::nullopt : std::optional<std::string>(device_));
    for (NodeId id : nodes_) doc_->notifyNodeChanged(id);
}

void SetDeviceCommand::undo() {
    Graph& g = doc_->mutableGraph();
    for (std::size_t i = 0; i < nodes_.size(); ++i) setOrErase(g.node(nodes_[i]).meta, "device", old_[i]);
    for (NodeId id : nodes_) doc_->notifyNodeChanged(id);
}
