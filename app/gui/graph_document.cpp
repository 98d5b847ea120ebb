#include "graph_document.h"

#include <QFileInfo>
#include <algorithm>
#include <map>

#include "base/errors.h"
#include "edit_commands.h"
#include "ir/group_tree.h"
#include "io/graph_file.h"
#include "io/json_format.h"

using namespace adj;

namespace {

void setPositionMeta(Node& n, const QPointF& p) {
    n.meta["x"] = QString::number(p.x(), 'g', 10).toStdString();
    n.meta["y"] = QString::number(p.y(), 'g', 10).toStdString();
}

bool readPosition(const Node& n, QPointF* out) {
    auto x = n.meta.find("x"), y = n.meta.find("y");
    if (x == n.meta.end() || y == n.meta.end()) return false;
    bool okx = false, oky = false;
    const double px = QString::fromStdString(x->second).toDouble(&okx);
    const double py = QString::fromStdString(y->second).toDouble(&oky);
    if (!okx || !oky) return false;
    if (out) *out = {px, py};
    return true;
}

}  // namespace

GraphDocument::GraphDocument(QObject* parent) : QObject(parent) {
    QObject::connect(&undo_, &QUndoStack::cleanChanged, this, [this](bool) { Q_EMIT modifiedChanged(isModified()); });
    reverify();
}

QString GraphDocument::displayName() const {
    return filePath_.isEmpty() ? tr("Untitled") : QFileInfo(filePath_).fileName();
}

void GraphDocument::newDocument() { setGraph(Graph{}, {}); }

bool GraphDocument::load(const QString& path, QString* error) {
    try {
        Graph g = loadGraphFile(QFile::encodeName(path).toStdString());
        adj::collapseGroupsToFit(g, adj::kOpenCollapsedAbove);  // a large model opens on its outer blocks
        setGraph(std::move(g), QFileInfo(path).absoluteFilePath());
        return true;
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}

bool GraphDocument::save(const QString& path, QString* error) {
    try {
        saveGraphFile(graph_, QFile::encodeName(path).toStdString());
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    const QString absolute = QFileInfo(path).absoluteFilePath();
    if (filePath_ != absolute) {
        filePath_ = absolute;
        Q_EMIT filePathChanged(filePath_);
    }
    const bool onlyDirty = dirty_ && undo_.isClean();  // no cleanChanged will come
    dirty_ = false;
    undo_.setClean();
    if (onlyDirty) Q_EMIT modifiedChanged(false);
    return true;
}

void GraphDocument::setGraph(Graph graph, const QString& filePath, bool modified) {
    undo_.clear();
    graph_ = std::move(graph);
    groupTree_.reset();
    filePath_ = filePath;
    dirty_ = modified;
    Q_EMIT replaced();
    Q_EMIT filePathChanged(filePath_);
    notifyChanged();
    Q_EMIT modifiedChanged(isModified());
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
    setPositionMeta(n, position);
    auto* cmd = new AddNodeCommand(this, n);
    undo_.push(cmd);
    return cmd->id();
}

void GraphDocument::removeNode(NodeId id) {
    if (graph_.contains(id)) undo_.push(new RemoveNodeCommand(this, id));
}

void GraphDocument::removeNodes(const std::vector<NodeId>& ids) {
    std::vector<NodeId> live;
    for (NodeId id : ids)
        if (graph_.contains(id)) live.push_back(id);
    if (live.empty()) return;
    if (live.size() == 1) return removeNode(live.front());
    undo_.beginMacro(tr("Delete %n node(s)", nullptr, int(live.size())));
    for (NodeId id : live) undo_.push(new RemoveNodeCommand(this, id));
    undo_.endMacro();
}

void GraphDocument::connect(ValueRef value, NodeId node, int index) {
    if (!graph_.contains(node) || index < 0 || !graph_.contains(value.node)) return;
    if (value.port < 0 || value.port >= graph_.node(value.node).numOutputs()) return;
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

bool GraphDocument::rename(NodeId node, const QString& newName) {
    if (!graph_.contains(node) || newName.trimmed().isEmpty()) return false;
    const std::string n = newName.trimmed().toStdString();
    if (graph_.node(node).name == n) return true;
    if (graph_.findNode(n)) return false;
    undo_.push(new RenameNodeCommand(this, node, n));
    return true;
}

void GraphDocument::setSourceShape(NodeId node, const Shape& shape) {
    if (!graph_.contains(node) || !isSource(graph_.node(node).op)) return;
    undo_.push(new SetSourceShapeCommand(this, node, shape));
}

void GraphDocument::moveNode(NodeId node, const QPointF& to) {
    if (graph_.contains(node)) undo_.push(new MoveNodeCommand(this, node, position(node), to));
}

void GraphDocument::moveNodes(const std::vector<std::pair<NodeId, QPointF>>& moves) {
    if (moves.size() == 1) return moveNode(moves.front().first, moves.front().second);
    if (moves.empty()) return;
    undo_.beginMacro(tr("Move %n node(s)", nullptr, int(moves.size())));
    for (const auto& [id, to] : moves)
        if (graph_.contains(id)) undo_.push(new MoveNodeCommand(this, id, position(id), to));
    undo_.endMacro();
}

void GraphDocument::addOutput(ValueRef value, const QString& name) {
    if (!graph_.contains(value.node)) return;
    std::string stem = name.isEmpty() ? graph_.node(value.node).name + "_out" : name.toStdString();
    std::string unique = stem;
    auto taken = [this](const std::string& n) {
        for (const auto& o : graph_.outputs())
            if (o.name == n) return true;
        return false;
    };
    for (int i = 1; taken(unique); ++i) unique = stem + "_" + std::to_string(i);
    undo_.push(new AddOutputCommand(this, GraphOutput{unique, value}));
}

namespace {
/// `stem`, or `stem_1`, `stem_2`... : the first not in `taken`.
QString uniqueGroupName(const QString& stem, const QStringList& taken) {
    QString unique = stem;
    for (int i = 1; taken.contains(unique); ++i) unique = stem + "_" + QString::number(i);
    return unique;
}
}  // namespace

namespace {
/// What a node's group meta becomes for a path and its collapsed levels (ir/group_tree.h).
SetGroupCommand::Values groupValues(NodeId id, const std::vector<std::string>& path, const std::vector<bool>& levels) {
    SetGroupCommand::Values v{id, std::nullopt, std::nullopt};
    std::string joined;
    for (const auto& part : path) joined += (joined.empty() ? "" : "/") + part;
    if (!joined.empty()) v.group = joined;
    std::string flags;
    bool any = false;
    for (std::size_t i = 0; i < path.size(); ++i) {
        const bool c = i < levels.size() && levels[i];
        flags += c ? '1' : '0';
        any = any || c;
    }
    if (any) v.collapsed = flags;
    return v;
}
}  // namespace

QString GraphDocument::groupNodes(const std::vector<NodeId>& ids, const QString& name) {
    std::vector<NodeId> live;
    for (NodeId id : ids)
        if (graph_.contains(id) && std::find(live.begin(), live.end(), id) == live.end()) live.push_back(id);
    if (live.empty()) return {};
    // the new group goes inside the innermost group that holds every chosen node
    std::vector<std::string> common;
    for (std::size_t k = 0; k < live.size(); ++k) {
        const auto parts = adj::groupPathComponents(adj::nodeGroup(graph_.node(live[k])));
        if (k == 0) common = parts;
        std::size_t n = 0;
        while (n < common.size() && n < parts.size() && common[n] == parts[n]) ++n;
        common.resize(n);
    }
    QString stem = name.trimmed().isEmpty() ? QStringLiteral("group") : name.trimmed();
    stem.replace('/', '_');
    QString prefix;
    for (const auto& part : common) prefix += QString::fromStdString(part) + "/";
    QStringList taken;
    for (const QString& g : groups())
        if (g.startsWith(prefix)) taken << g.mid(prefix.size());
    const QString unique = uniqueGroupName(stem, taken);
    std::vector<std::string> path = common;
    path.push_back(unique.toStdString());
    std::vector<SetGroupCommand::Values> values;
    for (NodeId id : live) {
        std::vector<bool> levels = adj::nodeCollapsedLevels(graph_.node(id));
        levels.resize(common.size());
        values.push_back(groupValues(id, path, levels));
    }
    undo_.push(new SetGroupCommand(this, std::move(values), tr("Group %1").arg(unique)));
    return prefix + unique;
}

void GraphDocument::ungroup(const QString& group) {
    const adj::GroupTree tree = adj::buildGroupTree(graph_);
    const int g = tree.find(group.toStdString());
    if (g < 0) return;
    const auto level = std::size_t(tree.groups[std::size_t(g)].depth);
    std::vector<SetGroupCommand::Values> values;
    for (NodeId id : tree.members(g)) {
        auto parts = adj::groupPathComponents(adj::nodeGroup(graph_.node(id)));
        auto levels = adj::nodeCollapsedLevels(graph_.node(id));
        parts.erase(parts.begin() + std::ptrdiff_t(level));
        levels.erase(levels.begin() + std::ptrdiff_t(level));
        values.push_back(groupValues(id, parts, levels));
    }
    undo_.push(new SetGroupCommand(this, std::move(values), tr("Ungroup %1").arg(group)));
}

void GraphDocument::setGroupCollapsed(const QString& group, bool collapsed) {
    const std::vector<QString> one{group};
    setGroupsCollapsed(one, collapsed);
}

void GraphDocument::setGroupsCollapsed(const std::vector<QString>& groups, bool collapsed) {
    const adj::GroupTree tree = adj::buildGroupTree(graph_);
    std::map<NodeId, std::vector<bool>> levels;
    QStringList changed;
    for (const QString& group : groups) {
        const int g = tree.find(group.toStdString());
        if (g < 0 || tree.groups[std::size_t(g)].collapsed == collapsed) continue;
        changed << group;
        for (NodeId id : tree.members(g)) {
            auto it = levels.try_emplace(id, adj::nodeCollapsedLevels(graph_.node(id))).first;
            it->second[std::size_t(tree.groups[std::size_t(g)].depth)] = collapsed;
        }
    }
    if (changed.isEmpty()) return;
    std::vector<SetGroupCommand::Values> values;
    for (const auto& [id, l] : levels) values.push_back(groupValues(id, adj::groupPathComponents(adj::nodeGroup(graph_.node(id))), l));
    const QString what = changed.size() == 1 ? changed.front() : tr("%n groups", nullptr, int(changed.size()));
    undo_.push(new SetGroupCommand(this, std::move(values), (collapsed ? tr("Collapse %1") : tr("Expand %1")).arg(what)));
}

void GraphDocument::revealNode(NodeId node) {
    if (!graph_.contains(node)) return;
    const adj::GroupTree tree = adj::buildGroupTree(graph_);
    std::vector<QString> closed;
    for (int g = tree.groupOf(node); g >= 0; g = tree.groups[std::size_t(g)].parent)
        if (tree.groups[std::size_t(g)].collapsed) closed.push_back(QString::fromStdString(tree.groups[std::size_t(g)].path));
    setGroupsCollapsed(closed, false);
}

void GraphDocument::placeNodes(const std::vector<NodeId>& ids, const QString& device) {
    std::vector<NodeId> live;
    for (NodeId id : ids)
        if (graph_.contains(id) && std::find(live.begin(), live.end(), id) == live.end() && deviceOf(id) != device) live.push_back(id);
    if (live.empty()) return;
    undo_.push(new SetDeviceCommand(this, live, device.toStdString(),
                                    device.isEmpty() ? tr("Unplace %n nodes", nullptr, int(live.size()))
                                                     : tr("Place %n nodes on %1", nullptr, int(live.size())).arg(device)));
}

QString GraphDocument::deviceOf(NodeId node) const {
    if (!graph_.contains(node)) return {};
    const auto& meta = graph_.node(node).meta;
    auto it = meta.find("device");
    return it == meta.end() ? QString() : QString::fromStdString(it->second);
}

QString GraphDocument::groupOf(NodeId node) const {
    if (!graph_.contains(node)) return {};
    return QString::fromStdString(adj::nodeGroup(graph_.node(node)));
}

QString GraphDocument::drawnGroupOf(NodeId node) const {
    if (!graph_.contains(node)) return {};
    const adj::GroupTree& tree = groupTree();
    const int box = tree.collapsedAncestor(node);
    return box >= 0 ? QString::fromStdString(tree.groups[std::size_t(box)].path) : groupOf(node);
}

bool GraphDocument::isGroupCollapsed(const QString& group) const {
    const adj::GroupTree& tree = groupTree();
    const int g = tree.find(group.toStdString());
    return g >= 0 && tree.groups[std::size_t(g)].collapsed;
}

std::vector<NodeId> GraphDocument::groupMembers(const QString& group) const {
    const adj::GroupTree& tree = groupTree();
    const int g = tree.find(group.toStdString());
    return g < 0 ? std::vector<NodeId>{} : tree.members(g);
}

QStringList GraphDocument::groups() const {
    QStringList out;
    for (const auto& g : groupTree().groups) out.push_back(QString::fromStdString(g.path));
    out.sort();
    return out;
}

QPointF GraphDocument::position(NodeId node) const {
    QPointF p;
    readPosition(graph_.node(node), &p);
    return p;
}

bool GraphDocument::hasPosition(NodeId node) const { return graph_.contains(node) && readPosition(graph_.node(node), nullptr); }

QString GraphDocument::copyNodes(const std::vector<NodeId>& ids) const {
    Graph part;
    part.name = "clipboard";
    std::map<NodeId, NodeId> newId;
    std::vector<NodeId> order;
    for (NodeId id : graph_.nodeIds())
        if (std::find(ids.begin(), ids.end(), id) != ids.end()) order.push_back(id);
    for (NodeId id : order) {
        Node n = graph_.node(id);
        n.id = NodeId(newId.size());
        n.inputs.clear();
        n.outputs.clear();
        newId[id] = n.id;
        part.insertNodeAt(std::move(n));
    }
    for (NodeId id : order) {
        std::vector<ValueRef> ins;
        for (const ValueRef& v : graph_.node(id).inputs) {
            auto it = newId.find(v.node);
            ins.push_back(it == newId.end() ? ValueRef{} : ValueRef{it->second, v.port});
        }
        part.setInputs(newId[id], std::move(ins));
    }
    return QString::fromStdString(graphToJson(part));
}

std::vector<NodeId> GraphDocument::pasteNodes(const QString& json, const QPointF& offset, QString* error) {
    Graph part;
    try {
        part = parseGraphJson(json.toStdString(), "clipboard");
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return {};
    }
    const std::vector<NodeId> order = part.nodeIds();
    if (order.empty()) {
        if (error) *error = tr("the clipboard holds no nodes");
        return {};
    }
    std::map<NodeId, NodeId> newId;
    std::vector<NodeId> added;
    // Pasted groups are new groups: a copy of "block" becomes "block_1", not more of "block".
    QStringList taken = groups();
    std::map<std::string, std::string> groupCopy;
    undo_.beginMacro(tr("Paste %n node(s)", nullptr, int(order.size())));
    for (NodeId id : order) {
        Node n = part.node(id);
        n.id = kNoNode;
        n.inputs.clear();
        n.outputs.clear();
        n.name = graph_.freshName(n.name);
        if (auto g = n.meta.find("group"); g != n.meta.end() && !g->second.empty()) {
            auto [it, fresh] = groupCopy.emplace(g->second, std::string());
            if (fresh) {
                const QString copy = uniqueGroupName(QString::fromStdString(g->second), taken);
                taken << copy;
                it->second = copy.toStdString();
            }
            g->second = it->second;
        }
        QPointF p;
        if (readPosition(n, &p)) setPositionMeta(n, p + offset);
        auto* cmd = new AddNodeCommand(this, n);
        undo_.push(cmd);
        newId[id] = cmd->id();
        added.push_back(cmd->id());
    }
    for (NodeId id : order) {
        const auto& ins = part.node(id).inputs;
        for (std::size_t i = 0; i < ins.size(); ++i) {
            auto it = newId.find(ins[i].node);
            undo_.push(new ConnectCommand(this, newId[id], int(i), it == newId.end() ? ValueRef{} : ValueRef{it->second, ins[i].port}));
        }
    }
    undo_.endMacro();
    return added;
}

void GraphDocument::reverify() {
    try {
        diagnostics_ = verifyGraph(graph_);
    } catch (const std::exception& e) {
        diagnostics_ = {Diagnostic{kNoNode, e.what()}};
    }
}

const adj::GroupTree& GraphDocument::groupTree() const {
    if (!groupTree_) groupTree_ = adj::buildGroupTree(graph_);
    return *groupTree_;
}

void GraphDocument::notifyChanged() {
    groupTree_.reset();
    reverify();
    Q_EMIT graphChanged();
    Q_EMIT diagnosticsChanged();
}

void GraphDocument::notifyNodeChanged(NodeId id) {
    groupTree_.reset();
    reverify();
    Q_EMIT nodeChanged(id);
    Q_EMIT diagnosticsChanged();
}

void GraphDocument::notifyNodeMoved(NodeId id) { Q_EMIT nodeMoved(id); }
