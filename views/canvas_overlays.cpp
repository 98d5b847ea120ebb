#include "canvas_overlays.h"

#include <QFontMetricsF>
#include <QGraphicsObject>
#include <QGraphicsSceneMouseEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPathStroker>
#include <algorithm>
#include <cmath>
#include <functional>

#include "graph_view.h"

namespace {

// One drawn mark: a path with a pen and a brush, and optionally a badge; clicking it reports its
// hull index (when it is a hull).
class OverlayItem : public QGraphicsObject {
public:
    OverlayItem(QPainterPath path, QPen pen, QBrush brush, std::function<void()> onClick = {})
        : path_(std::move(path)), pen_(std::move(pen)), brush_(std::move(brush)), onClick_(std::move(onClick)) {
        setAcceptedMouseButtons(onClick_ ? Qt::LeftButton : Qt::NoButton);
    }
    void setBadge(const QString& text, QPointF at, QColor colour) {
        badge_ = text;
        badgeAt_ = at;
        badgeColour_ = colour;
    }
    QRectF boundingRect() const override {
        QRectF r = path_.boundingRect().adjusted(-pen_.widthF(), -pen_.widthF(), pen_.widthF(), pen_.widthF());
        if (!badge_.isEmpty()) r |= badgeRect();
        return r;
    }
    QPainterPath shape() const override {
        QPainterPath p;
        if (brush_.style() != Qt::NoBrush) p = path_;
        return p;
    }
    void paint(QPainter* painter, const QStyleOptionGraphicsItem*, QWidget*) override {
        painter->setRenderHint(QPainter::Antialiasing);
        painter->setPen(pen_);
        painter->setBrush(brush_);
        painter->drawPath(path_);
        if (!badge_.isEmpty()) {
            const QRectF r = badgeRect();
            painter->setPen(Qt::NoPen);
            painter->setBrush(badgeColour_);
            painter->drawRoundedRect(r, 5, 5);
            painter->setPen(Qt::white);
            painter->setFont(badgeFont());
            painter->drawText(r, Qt::AlignCenter, badge_);
        }
    }

protected:
    void mousePressEvent(QGraphicsSceneMouseEvent* event) override {
        if (onClick_) onClick_();
        event->accept();
    }

private:
    static QFont badgeFont() {
        QFont f;
        f.setPixelSize(10);
        f.setBold(true);
        return f;
    }
    QRectF badgeRect() const {
        const double w = QFontMetricsF(badgeFont()).horizontalAdvance(badge_) + 8;
        return QRectF(badgeAt_.x() - w / 2, badgeAt_.y() - 8, w, 15);
    }
    QPainterPath path_;
    QPen pen_;
    QBrush brush_;
    std::function<void()> onClick_;
    QString badge_;
    QPointF badgeAt_;
    QColor badgeColour_;
};

QPainterPath hullPath(const std::vector<QRectF>& boxes) {
    // The union of the node boxes, grown and rounded so that neighbours merge into one blob.
    QPainterPath path;
    path.setFillRule(Qt::WindingFill);
    for (const QRectF& b : boxes) path.addRoundedRect(b.adjusted(-12, -12, 12, 12), 14, 14);
    if (boxes.size() > 1) {
        // Bridge consecutive boxes so that a group reads as one region.
        for (std::size_t i = 0; i + 1 < boxes.size(); ++i) {
            QPainterPath bridge;
            bridge.moveTo(boxes[i].center());
            bridge.lineTo(boxes[i + 1].center());
            QPainterPathStroker stroker;
            stroker.setWidth(22);
            stroker.setCapStyle(Qt::RoundCap);
            path.addPath(stroker.createStroke(bridge));
        }
    }
    return path.simplified();
}

}  // namespace

CanvasOverlays::CanvasOverlays(GraphView* view) : QObject(view), view_(view) {
    connect(view, &GraphView::layoutApplied, this, &CanvasOverlays::redraw);
    view->viewport()->setMouseTracking(true);
    view->viewport()->installEventFilter(this);
}

void CanvasOverlays::setNodeMarks(int layer, std::map<adj::NodeId, NodeMark> marks) {
    if (marks.empty()) marks_.erase(layer);
    else marks_[layer] = std::move(marks);
    redraw();
}

void CanvasOverlays::setHulls(std::vector<NodeHull> hulls) {
    hulls_ = std::move(hulls);
    redraw();
}

void CanvasOverlays::setNodeFills(std::map<adj::NodeId, QColor> fills) {
    fills_ = std::move(fills);
    redraw();
}

void CanvasOverlays::setEdgeWeights(std::map<adj::ValueRef, double> weights, QColor colour) {
    edgeWeights_ = std::move(weights);
    edgeColour_ = colour;
    redraw();
}

void CanvasOverlays::clearAll() {
    marks_.clear();
    hulls_.clear();
    fills_.clear();
    edgeWeights_.clear();
    redraw();
}

int CanvasOverlays::itemCount() const {
    return int(std::count_if(items_.begin(), items_.end(), [](const auto& p) { return !p.isNull(); }));
}

void CanvasOverlays::removeItems() {
    for (auto& item : items_)
        if (item) delete item.data();
    items_.clear();
}

void CanvasOverlays::redraw() {
    removeItems();
    GraphScene* scene = view_->graphScene();
    for (GraphNodeItem* item : scene->nodeItems()) {
        auto it = fills_.find(item->nodeId());
        item->setFillOverride(it == fills_.end() ? QColor() : it->second);
    }
    auto add = [&](OverlayItem* item, double z) {
        item->setZValue(z);
        scene->addItem(item);
        items_.emplace_back(item);
    };
    for (std::size_t h = 0; h < hulls_.size(); ++h) {
        std::vector<QRectF> boxes;
        for (adj::NodeId id : hulls_[h].nodes)
            if (GraphNodeItem* n = scene->nodeItem(id)) boxes.push_back(n->box().translated(n->pos()));
        if (boxes.empty()) continue;
        QColor fill = hulls_[h].colour;
        fill.setAlpha(70);
        const int index = int(h);
        auto* item = new OverlayItem(hullPath(boxes), QPen(hulls_[h].colour.darker(120), 2.0, Qt::SolidLine),
                                     QBrush(fill), [this, index] { Q_EMIT hullClicked(index); });
        if (!hulls_[h].label.isEmpty()) {
            QRectF all;
            for (const QRectF& b : boxes) all |= b;
            item->setBadge(hulls_[h].label, QPointF(all.left() + 4, all.top() - 14), hulls_[h].colour.darker(140));
        }
        add(item, -1);
    }
    if (!edgeWeights_.empty()) {
        for (GraphEdgeItem* edge : scene->edgeItems()) {
            auto it = edgeWeights_.find(edge->from());
            if (it == edgeWeights_.end()) continue;
            const double w = std::clamp(it->second, 0.0, 1.0);
            QColor c = edgeColour_;
            c.setAlphaF(0.25 + 0.65 * w);
            add(new OverlayItem(edge->path(), QPen(c, 1.5 + 9.0 * w, Qt::SolidLine, Qt::RoundCap), Qt::NoBrush), 0.5);
        }
    }
    for (const auto& [layer, marks] : marks_) {
        for (const auto& [id, mark] : marks) {
            GraphNodeItem* n = scene->nodeItem(id);
            if (!n) continue;
            QPainterPath path;
            const QRectF box = n->box().translated(n->pos()).adjusted(-5, -5, 5, 5);
            path.addRoundedRect(box, 9, 9);
            auto* item = new OverlayItem(path, QPen(mark.colour, 3.5, mark.dashed ? Qt::DashLine : Qt::SolidLine), Qt::NoBrush);
            if (!mark.badge.isEmpty()) item->setBadge(mark.badge, QPointF(box.right() - 6, box.top()), mark.colour);
            add(item, 2 + layer * 0.01);
        }
    }
}

bool CanvasOverlays::eventFilter(QObject* watched, QEvent* event) {
    if (watched == view_->viewport()) {
        if (event->type() == QEvent::MouseMove) {
            auto* me = static_cast<QMouseEvent*>(event);
            adj::NodeId id = adj::kNoNode;
            for (QGraphicsItem* item : view_->items(me->position().toPoint())) {
                if (item->type() == GraphNodeItem::Type) {
                    id = static_cast<GraphNodeItem*>(item)->nodeId();
                    break;
                }
            }
            setHoveredNode(id);
        } else if (event->type() == QEvent::Leave) {
            setHoveredNode(adj::kNoNode);
        }
    }
    return QObject::eventFilter(watched, event);
}

void CanvasOverlays::setHoveredNode(adj::NodeId id) {
    if (id == hovered_) return;
    hovered_ = id;
    Q_EMIT nodeHovered(id);
}
