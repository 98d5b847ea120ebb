#include "graph_document.h"

#include <QFileInfo>

#include "edit_commands.h"
#include "io/graph_file.h"
#include "ir/errors.h"

using namespace adj;

GraphDocument::GraphDocument(QObject* parent) : QObject(parent) {
    QObject::connect(&undo_, &QUndoStack::cleanChanged, this, [this](bool clean) { Q_EMIT modifiedChanged(!clean); });
    reverify();
}

void GraphDocument::newDocument() { setGraph(Graph{}, {}); }

bool GraphDocument::load(const QString& path, QString* error) {
    try {
        Graph g = loadGraphFile(path.toStdString());
        setGraph(std::move(g), path);
        return true;
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}

bool GraphDocument::save(const QString& path, QString* error) {
    try {
        saveGraphFile(graph_, path.toStdString());
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    if (filePath_ != path) {
        filePath_ = path;
        Q_EMIT filePathChanged(path);
    }
    undo_.setClean();
    return true;
}

void GraphDocument::setGraph(Graph graph, const QString& filePath) {
    undo_.clear();
    graph_ = std::move(graph);
    filePath_ = filePath;
    Q_EMIT filePathChanged(filePath_);
    notifyChanged();
    Q_EMIT modifiedChanged(false);
}

NodeId GraphDocument::addNode(Op op, const QPointF& position, const QString& name) {
    Node n;
    n.op = op;
    n.name = graph_.freshName(name.isEmpty() ? std::string(opName(op)) : name.toStdString());
    if (op == Op::Input) {
        n.declaredShape = {1};
        n.dimNames = {""};
    } else if (op == Op::Parameter || op == Op::Constant) {
        n.value = Tensor::zeros({1});
    }
    n.meta["x"] = QString::number(position.x(), 'g', 10).toStdString();
    n.meta["y"] = QString::number(position.y(), 'g', 10).toStdString();
    auto* cmd = new AddNodeCommand(this, n);
    undo_.push(cmd);
    return cmd->id();
}

void GraphDocument::removeNode(NodeId id) {
    if (graph_.contains(id)) undo_.push(new RemoveNodeCommand(this, id));
}

void GraphDocument::connect(ValueRef value, NodeId node, int index) {
    if (!graph_.contains(node) || index < 0 || !graph_.contains(value.node)) return;
    undo_.push(new ConnectCommand(this, node, index, value));
}

void GraphDocument::disconnect(NodeId node, int index) {
    if (!graph_.contains(node) || index < 0 || index >= int(graph_.node(node).inputs.size())) return;
    undo_.push(new ConnectCommand(this, node, index, ValueRef{}));
}

void GraphDocument::setAttribute(NodeId node, const QString& name, const AttrValue& value) {
    if (graph_.contains(node)) undo_.push(new SetAttributeCommand(this, node, name.toStdString(), value));
}

void GraphDocument::removeAttribute(NodeId node, const QString& name) {
    if (graph_.contains(node)) undo_.push(new SetAttributeCommand(this, node, name.toStdString(), std::nullopt));
}

void GraphDocument::rename(NodeId node, const QString& newName) {
    if (!graph_.contains(node) || newName.isEmpty() || graph_.findNode(newName.toStdString())) return;
    undo_.push(new RenameNodeCommand(this, node, newName.toStdString()));
}

void GraphDocument::moveNode(NodeId node, const QPointF& to) {
    if (graph_.contains(node)) undo_.push(new MoveNodeCommand(this, node, position(node), to));
}

QPointF GraphDocument::position(NodeId node) const {
    const auto& m = graph_.node(node).meta;
    auto x = m.find("x"), y = m.find("y");
    if (x == m.end() || y == m.end()) return {};
    return {QString::fromStdString(x->second).toDouble(), QString::fromStdString(y->second).toDouble()};
}

void GraphDocument::reverify() { diagnostics_ = verifyGraph(graph_); }

void GraphDocument::notifyChanged() {
    reverify();
    Q_EMIT graphChanged();
    Q_EMIT diagnosticsChanged();
}

void GraphDocument::notifyNodeChanged(NodeId id) {
    reverify();
    Q_EMIT nodeChanged(id);
    Q_EMIT diagnosticsChanged();
}
