#include "graph_scene.h"

#include <QGraphicsPathItem>
#include <QGraphicsSceneMouseEvent>
#include <QPen>
#include <algorithm>
#include <cmath>

#include "ir/group_tree.h"
#include "ir/printer.h"

namespace {

QStringList toQStringList(const std::vector<std::string>& lines) {
    QStringList out;
    for (const auto& l : lines) out << QString::fromStdString(l);
    return out;
}

QString nodeToolTip(const adj::Graph& graph, adj::NodeId id) {
    const adj::Node& n = graph.node(id);
    QString tip = QStringLiteral("<b>%1</b> (%2)").arg(QString::fromStdString(n.name).toHtmlEscaped(),
                                                        QString::fromUtf8(adj::opName(n.op).data(),
                                                                          qsizetype(adj::opName(n.op).size())));
    try {
        tip += QStringLiteral("<br><tt>%1</tt>").arg(QString::fromStdString(adj::printNode(graph, id)).toHtmlEscaped());
    } catch (const std::exception&) {
        // A node the printer cannot describe (mid-edit): the name is enough.
    }
    return tip;
}

}  // namespace

bool metaPosition(const adj::Node& n, QPointF* out) {
    auto x = n.meta.find("x"), y = n.meta.find("y");
    if (x == n.meta.end() || y == n.meta.end()) return false;
    bool okx = false, oky = false;
    *out = QPointF(QString::fromStdString(x->second).toDouble(&okx), QString::fromStdString(y->second).toDouble(&oky));
    return okx && oky;
}

/// Input slots to draw: the connected ones, plus one free slot while the op takes more.
int inputSlots(const adj::Node& n) {
    const adj::OpInfo& info = adj::opInfo(n.op);
    const int have = int(n.inputs.size());
    if (have >= info.minInputs && (info.maxInputs < 0 || have < info.maxInputs)) return have + 1;
    return std::max(have, info.minInputs);
}

GraphScene::GraphScene(QObject* parent) : QGraphicsScene(parent) {}


void GraphScene::clearGraph() {
    wire_ = nullptr;
    wireFrom_ = nullptr;
    dragStart_.clear();
    // Forget the items before deleting them: clear() signals selection changes on the way.
    nodes_.clear();
    edges_.clear();
    clusters_.clear();
    edgesOf_.clear();
    byId_.clear();
    collapsed_.clear();
    clear();
    graphRect_ = {};
    setSceneRect(QRectF());
}

void GraphScene::setGraph(const adj::Graph& graph, const adj::GraphLayout& layout, const adj::DotOptions& options) {
    clearGraph();
    QPointF pinnedScratch;
    const auto& outputs = graph.outputs();
    // Collapsed groups: members, and the values crossing the border in the layout's edge order.
    for (const auto& [id, k] : options.collapsedInto) {
        if (k < 0 || std::size_t(k) >= options.collapsedNames.size() || !graph.contains(id)) continue;
        CollapsedGroup& group = collapsed_[adj::layoutCollapsedId(k)];
        group.name = QString::fromStdString(options.collapsedNames[std::size_t(k)]);
        group.members.push_back(id);
    }
    for (const adj::EdgeLayout& el : layout.edges) {
        auto add = [](std::vector<adj::ValueRef>& values, adj::ValueRef v) {
            if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
        };
        if (auto it = collapsed_.find(el.toBox); it != collapsed_.end()) add(it->second.inputs, el.from);
        if (auto it = collapsed_.find(el.fromBox); it != collapsed_.end()) add(it->second.outputs, el.from);
    }
    for (const adj::NodeLayout& nl : layout.nodes) {
        GraphNodeItem* item = nullptr;
        if (adj::isLayoutCollapsedId(nl.id)) {
            auto it = collapsed_.find(nl.id);
            if (it == collapsed_.end()) continue;
            const CollapsedGroup& group = it->second;
            const int n = int(group.members.size());
            QStringList lines{QString::fromStdString(adj::groupLabel(group.name.toStdString())),
                              n == 1 ? tr("1 node") : tr("%1 nodes").arg(n)};
            const auto k = std::size_t(adj::layoutCollapsedIndex(nl.id));
            if (k < options.collapsedDetails.size())
                lines << QString::fromStdString(options.collapsedDetails[k]).split('\n', Qt::SkipEmptyParts);
            item = new GraphNodeItem(nl.id, adj::NodeCategory::Other, lines, nl, QColor(0xf4, 0xf1, 0xea));
            item->setCollapsedGroup(true);
            item->setPorts(int(group.inputs.size()), int(group.outputs.size()));
            QStringList names;
            for (adj::NodeId m : group.members) {
                if (names.size() == 12) {
                    names << QStringLiteral("\u2026");
                    break;
                }
                names << QString::fromStdString(graph.node(m).name).toHtmlEscaped();
            }
            item->setToolTip(tr("group <b>%1</b>, collapsed: %2<br><i>double-click to expand</i>")
                                 .arg(group.name.toHtmlEscaped(), names.join(QStringLiteral(", "))));
            for (adj::NodeId m : group.members) byId_[m] = item;
        } else if (adj::isLayoutOutputId(nl.id)) {
            const int k = adj::layoutOutputIndex(nl.id);
            if (k < 0 || std::size_t(k) >= outputs.size()) continue;
            const QString name = QString::fromStdString(outputs[std::size_t(k)].name);
            item = new GraphNodeItem(nl.id, adj::NodeCategory::Output, {name}, nl);
            item->setToolTip(QStringLiteral("output <b>%1</b> = %2")
                                 .arg(name.toHtmlEscaped(),
                                      QString::fromStdString(graph.valueName(outputs[std::size_t(k)].value)).toHtmlEscaped()));
        } else {
            if (!graph.contains(nl.id)) continue;
            const adj::Node& n = graph.node(nl.id);
            QColor fill;
            if (options.colourByIntensity) {
                auto it = options.nodeColours.find(nl.id);
                if (it != options.nodeColours.end()) fill = QColor(QString::fromStdString(it->second));
            }
            item = new GraphNodeItem(nl.id, adj::nodeCategory(n.op), toQStringList(adj::dotNodeLabelLines(graph, nl.id, options)),
                                     nl, fill);
            item->setToolTip(nodeToolTip(graph, nl.id));
            item->setPorts(inputSlots(n), n.numOutputs());
            QPointF pinned;
            if (metaPosition(n, &pinned)) item->setPos(pinned);
        }
        addItem(item);
        nodes_.push_back(item);
        byId_[nl.id] = item;
    }
    for (const adj::EdgeLayout& el : layout.edges) {
        if (el.points.empty()) continue;
        auto* item = new GraphEdgeItem(el);
        QString to = adj::isLayoutOutputId(el.to)
                         ? QStringLiteral("output %1").arg(QString::fromStdString(
                               std::size_t(adj::layoutOutputIndex(el.to)) < outputs.size()
                                   ? outputs[std::size_t(adj::layoutOutputIndex(el.to))].name
                                   : std::string("?")))
                         : (graph.contains(el.to) ? QString::fromStdString(graph.node(el.to).name) : QStringLiteral("?"));
        if (el.toBox != adj::kNoNode) {
            auto it = collapsed_.find(el.toBox);
            if (it != collapsed_.end()) to = tr("group %1").arg(it->second.name);
        }
        QString tip = QStringLiteral("%1 \u2192 %2").arg(QString::fromStdString(graph.valueName(el.from)), to);
        if (!adj::isLayoutOutputId(el.to) && el.toBox == adj::kNoNode) tip += QStringLiteral(" (input %1)").arg(el.toIndex);
        if (!el.label.empty()) tip += QStringLiteral(": ") + QString::fromStdString(el.label);
        item->setToolTip(tip.toHtmlEscaped());
        addItem(item);
        edges_.push_back(item);
        edgesOf_[el.fromBox != adj::kNoNode ? el.fromBox : el.from.node].push_back(item);
        edgesOf_[el.toBox != adj::kNoNode ? el.toBox : el.to].push_back(item);
    }
    for (auto* e : edges_) {
        // (members of a collapsed group are not drawn: their pins do not count)
        const bool fromPinned = e->fromBox() == adj::kNoNode && graph.contains(e->from().node) &&
                                metaPosition(graph.node(e->from().node), &pinnedScratch);
        const bool toPinned =
            e->toBox() == adj::kNoNode && graph.contains(e->to()) && metaPosition(graph.node(e->to()), &pinnedScratch);
        if (fromPinned || toPinned) rerouteEdge(e);
    }
    for (auto* n : nodes_) {
        auto it = problems_.find(n->nodeId());
        if (it != problems_.end()) n->setProblem(it->second);
    }
    for (const adj::ClusterLayout& cl : layout.clusters) {
        auto* item = new GraphClusterItem(cl);
        addItem(item);
        clusters_.push_back(item);
    }
    graphRect_ = QRectF(0, 0, layout.width, layout.height);
    for (auto* n : nodes_) graphRect_ = graphRect_.united(n->sceneBoundingRect());
    for (auto* e : edges_) graphRect_ = graphRect_.united(e->sceneBoundingRect());
    setSceneRect(graphRect_.adjusted(-24, -24, 24, 24));
}

GraphNodeItem* GraphScene::nodeItem(adj::NodeId id) const {
    auto it = byId_.find(id);
    return it == byId_.end() ? nullptr : it->second;
}

std::vector<adj::NodeId> GraphScene::collapsedMembers(adj::NodeId boxId) const {
    auto it = collapsed_.find(boxId);
    if (it == collapsed_.end()) return {};
    std::vector<adj::NodeId> members = it->second.members;
    std::sort(members.begin(), members.end());
    return members;
}

QString GraphScene::collapsedName(adj::NodeId boxId) const {
    auto it = collapsed_.find(boxId);
    return it == collapsed_.end() ? QString() : it->second.name;
}

std::vector<adj::NodeId> GraphScene::selectedNodeIds() const {
    std::vector<adj::NodeId> ids;
    for (auto* n : nodes_) {
        if (!n->isSelected() || adj::isLayoutOutputId(n->nodeId())) continue;
        if (adj::isLayoutCollapsedId(n->nodeId())) {
            for (adj::NodeId m : collapsedMembers(n->nodeId())) ids.push_back(m);
        } else {
            ids.push_back(n->nodeId());
        }
    }
    return ids;
}

adj::ValueRef GraphScene::portValue(const GraphNodeItem* item, int port) const {
    auto it = collapsed_.find(item->nodeId());
    if (it == collapsed_.end()) return adj::ValueRef{item->nodeId(), port};
    if (port < 0 || std::size_t(port) >= it->second.outputs.size()) return {};
    return it->second.outputs[std::size_t(port)];
}

void GraphScene::selectNode(adj::NodeId id) {
    clearSelection();
    if (auto* item = nodeItem(id)) item->setSelected(true);
}

void GraphScene::mouseDoubleClickEvent(QGraphicsSceneMouseEvent* event) {
    for (QGraphicsItem* item : items(event->scenePos()))
        if (item->type() == GraphNodeItem::Type) {
            const adj::NodeId id = static_cast<GraphNodeItem*>(item)->nodeId();
            if (adj::isLayoutCollapsedId(id)) Q_EMIT groupToggled(collapsedName(id));
            else Q_EMIT nodeActivated(id);
            event->accept();
            return;
        }
    for (auto it = clusters_.rbegin(); it != clusters_.rend(); ++it)  // an inner frame before its parent
        if (GraphClusterItem* c = *it; c->titleContains(event->scenePos())) {
            Q_EMIT groupToggled(c->name());
            event->accept();
            return;
        }
    QGraphicsScene::mouseDoubleClickEvent(event);
}

void GraphScene::setProblems(std::map<adj::NodeId, QString> problems) {
    problems_ = std::move(problems);
    for (auto* n : nodes_) {
        auto it = problems_.find(n->nodeId());
        n->setProblem(it == problems_.end() ? QString() : it->second);
    }
}

void GraphScene::rerouteEdge(GraphEdgeItem* e) {
    GraphNodeItem* from = nodeItem(e->fromBox() != adj::kNoNode ? e->fromBox() : e->from().node);
    GraphNodeItem* to = nodeItem(e->toBox() != adj::kNoNode ? e->toBox() : e->to());
    if (!from || !to) return;
    int port = e->from().port, index = e->toIndex();
    auto portOf = [](const std::vector<adj::ValueRef>& values, adj::ValueRef v) {
        return int(std::find(values.begin(), values.end(), v) - values.begin());
    };
    if (auto it = collapsed_.find(e->fromBox()); it != collapsed_.end()) port = portOf(it->second.outputs, e->from());
    if (auto it = collapsed_.find(e->toBox()); it != collapsed_.end()) index = portOf(it->second.inputs, e->from());
    const QPointF tail = from->mapToScene(from->outputPortPos(port));
    const QPointF head = to->inputPortCount() > index ? to->mapToScene(to->inputPortPos(index))
                                                      : to->mapToScene(QPointF(0, to->box().top()));
    e->reroute(tail, head);
}

void GraphScene::rerouteEdges(adj::NodeId id) {
    auto it = edgesOf_.find(id);
    if (it == edgesOf_.end()) return;
    for (auto* e : it->second) rerouteEdge(e);
}

void GraphScene::moveNodeItem(adj::NodeId id, const QPointF& pos) {
    GraphNodeItem* item = nodeItem(id);
    if (!item || item->isCollapsedGroup() || item->pos() == pos) return;
    item->setPos(pos);
    rerouteEdges(id);
}

GraphNodeItem* GraphScene::nodeItemAt(const QPointF& scenePos, GraphNodeItem* except) const {
    // Bounding rects: ports sit on the outline's edge, half outside the shape.
    for (QGraphicsItem* item : items(scenePos, Qt::IntersectsItemBoundingRect))
        if (item->type() == GraphNodeItem::Type && item != except) return static_cast<GraphNodeItem*>(item);
    return nullptr;
}

void GraphScene::mousePressEvent(QGraphicsSceneMouseEvent* event) {
    if (event->button() == Qt::LeftButton) {
        GraphNodeItem* item = nodeItemAt(event->scenePos());
        if (item && !adj::isLayoutOutputId(item->nodeId())) {  // (a collapsed group's outputs are its members' values)
            const int port = item->outputPortAt(item->mapFromScene(event->scenePos()));
            if (port >= 0) {
                wireFrom_ = item;
                wirePort_ = port;
                wire_ = new QGraphicsPathItem;
                QPen pen(QColor(0x1f, 0x6f, 0xeb), 2.0, Qt::DashLine);
                pen.setCosmetic(true);
                wire_->setPen(pen);
                wire_->setZValue(10);
                addItem(wire_);
                event->accept();
                return;
            }
        }
    }
    QGraphicsScene::mousePressEvent(event);
    dragStart_.clear();
    if (event->button() == Qt::LeftButton)
        for (auto* n : nodes_)
            if (n->isSelected() && (n->flags() & QGraphicsItem::ItemIsMovable)) dragStart_[n->nodeId()] = n->pos();
}

void GraphScene::mouseMoveEvent(QGraphicsSceneMouseEvent* event) {
    if (wire_ && wireFrom_) {
        const QPointF tail = wireFrom_->mapToScene(wireFrom_->outputPortPos(wirePort_));
        const QPointF head = event->scenePos();
        QPainterPath path(tail);
        const double bend = std::max(20.0, std::abs(head.y() - tail.y()) * 0.5);
        path.cubicTo(tail + QPointF(0, bend), head - QPointF(0, bend), head);
        wire_->setPath(path);
        event->accept();
        return;
    }
    QGraphicsScene::mouseMoveEvent(event);
    if (!dragStart_.empty() && (event->buttons() & Qt::LeftButton))
        for (const auto& [id, start] : dragStart_) {
            GraphNodeItem* item = nodeItem(id);
            if (item && item->pos() != start) rerouteEdges(id);
        }
}

void GraphScene::mouseReleaseEvent(QGraphicsSceneMouseEvent* event) {
    if (wire_) {
        GraphNodeItem* from = wireFrom_;
        const int port = wirePort_;
        removeItem(wire_);
        delete wire_;
        wire_ = nullptr;
        wireFrom_ = nullptr;
        GraphNodeItem* target = nodeItemAt(event->scenePos(), from);
        event->accept();
        if (from && target && adj::isLayoutCollapsedId(target->nodeId())) {
            Q_EMIT hint(tr("Expand group %1 (double-click it) to connect to one of its nodes").arg(collapsedName(target->nodeId())));
        } else if (from && target && !adj::isLayoutOutputId(target->nodeId())) {
            const QPointF local = target->mapFromScene(event->scenePos());
            int index = target->inputPortAt(local);
            if (index < 0) index = target->nearestInputPort(local);
            const adj::ValueRef value = portValue(from, port);
            if (index >= 0 && value.node != adj::kNoNode) Q_EMIT connectRequested(value, target->nodeId(), index);
        }
        return;
    }
    QGraphicsScene::mouseReleaseEvent(event);
    std::vector<std::pair<adj::NodeId, QPointF>> moves;
    for (const auto& [id, start] : dragStart_) {
        GraphNodeItem* item = nodeItem(id);
        if (item && item->pos() != start) moves.emplace_back(id, item->pos());
    }
    dragStart_.clear();
    if (!moves.empty()) Q_EMIT nodesMoved(moves);
}
