#include "graph_scene.h"

#include <QGraphicsSceneMouseEvent>

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

GraphScene::GraphScene(QObject* parent) : QGraphicsScene(parent) {}

void GraphScene::clearGraph() {
    clear();
    nodes_.clear();
    edges_.clear();
    byId_.clear();
    graphRect_ = {};
    setSceneRect(QRectF());
}

void GraphScene::setGraph(const adj::Graph& graph, const adj::GraphLayout& layout, const adj::DotOptions& options) {
    clearGraph();
    const auto& outputs = graph.outputs();
    for (const adj::NodeLayout& nl : layout.nodes) {
        GraphNodeItem* item = nullptr;
        if (adj::isLayoutOutputId(nl.id)) {
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
        QString tip = QStringLiteral("%1 \u2192 %2").arg(QString::fromStdString(graph.valueName(el.from)), to);
        if (!adj::isLayoutOutputId(el.to)) tip += QStringLiteral(" (input %1)").arg(el.toIndex);
        if (!el.label.empty()) tip += QStringLiteral(": ") + QString::fromStdString(el.label);
        item->setToolTip(tip.toHtmlEscaped());
        addItem(item);
        edges_.push_back(item);
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

std::vector<adj::NodeId> GraphScene::selectedNodeIds() const {
    std::vector<adj::NodeId> ids;
    for (auto* n : nodes_)
        if (n->isSelected() && !adj::isLayoutOutputId(n->nodeId())) ids.push_back(n->nodeId());
    return ids;
}

void GraphScene::selectNode(adj::NodeId id) {
    clearSelection();
    if (auto* item = nodeItem(id)) item->setSelected(true);
}

void GraphScene::mouseDoubleClickEvent(QGraphicsSceneMouseEvent* event) {
    for (QGraphicsItem* item : items(event->scenePos()))
        if (item->type() == GraphNodeItem::Type) {
            Q_EMIT nodeActivated(static_cast<GraphNodeItem*>(item)->nodeId());
            event->accept();
            return;
        }
    QGraphicsScene::mouseDoubleClickEvent(event);
}
