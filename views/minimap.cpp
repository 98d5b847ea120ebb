#include "minimap.h"

#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <algorithm>
#include <cmath>

#include "graph_items.h"
#include "graph_scene.h"
#include "graph_view.h"

namespace {
constexpr int kMargin = 10;
/// The overview's longer side: a quarter of the view's shorter side, within 90..180 pixels, so
/// that it never hides much of a small canvas (an analysis view's).
int maxSide(const QWidget* viewport) { return std::clamp(std::min(viewport->width(), viewport->height()) / 4, 90, 180); }
}  // namespace

Minimap::Minimap(GraphView* view) : QWidget(view), view_(view) {
    setObjectName(QStringLiteral("minimap"));
    setCursor(Qt::PointingHandCursor);
    setToolTip(tr("The whole drawing: click or drag to go there (View > Minimap hides it)"));
    hide();
}

void Minimap::rebuild() {
    const GraphScene* scene = view_->graphScene();
    sceneRect_ = scene->sceneRect();
    if (sceneRect_.isEmpty() || scene->nodeItems().empty()) {
        picture_ = QImage();
        place();
        return;
    }
    const int side = maxSide(view_->viewport());
    scale_ = std::min(side / sceneRect_.width(), side / sceneRect_.height());
    const QSize size(std::max(24, int(std::ceil(sceneRect_.width() * scale_)) + 2),
                     std::max(24, int(std::ceil(sceneRect_.height() * scale_)) + 2));
    offset_ = QPointF(1, 1);
    picture_ = QImage(size * devicePixelRatioF(), QImage::Format_ARGB32_Premultiplied);
    picture_.setDevicePixelRatio(devicePixelRatioF());
    picture_.fill(Qt::transparent);
    QPainter p(&picture_);
    p.setPen(QPen(QColor(0x9a, 0xa3, 0xb0), 0));
    p.setBrush(Qt::NoBrush);
    for (const GraphClusterItem* c : scene->clusterItems()) p.drawRect(QRectF(fromScene(c->sceneBoundingRect().topLeft()),
                                                                               c->sceneBoundingRect().size() * scale_));
    p.setPen(Qt::NoPen);
    for (const GraphNodeItem* item : scene->nodeItems()) {
        const QRectF box = item->sceneBoundingRect();
        QRectF dot(fromScene(box.topLeft()), box.size() * scale_);
        if (dot.width() < 1.5) dot.setWidth(1.5);
        if (dot.height() < 1.5) dot.setHeight(1.5);
        p.fillRect(dot, graphBorderColour(item->category()));
    }
    p.end();
    place();
    update();
}

QPointF Minimap::fromScene(const QPointF& s) const { return offset_ + (s - sceneRect_.topLeft()) * scale_; }
QPointF Minimap::toScene(const QPointF& m) const { return sceneRect_.topLeft() + (m - offset_) / scale_; }

void Minimap::setWanted(bool on) {
    wanted_ = on;
    place();
}

void Minimap::place() {
    const QRectF visible = view_->mapToScene(view_->viewport()->rect()).boundingRect();
    // useful while part of the drawing is out of view, and while the view has room for it
    const double slack = 3 / std::max(view_->zoom(), 1e-6);  // (a fitted view may miss an edge by a pixel)
    const bool useful = !picture_.isNull() && !visible.contains(sceneRect_.adjusted(slack, slack, -slack, -slack)) &&
                        view_->viewport()->width() >= 400 && view_->viewport()->height() >= 300;
    if (!wanted_ || !useful) {
        hide();
        return;
    }
    if (std::max(picture_.width(), picture_.height()) / picture_.devicePixelRatio() > maxSide(view_->viewport()) + 3) return rebuild();  // the view shrank
    const QSize size = picture_.size() / picture_.devicePixelRatio();
    const QRect area = view_->viewport()->geometry();
    setGeometry(area.right() - size.width() - kMargin, area.bottom() - size.height() - kMargin, size.width(), size.height());
    show();
    raise();
    update();
}

void Minimap::paintEvent(QPaintEvent*) {
    QPainter p(this);
    QColor background = graphBackgroundColour();
    background.setAlpha(225);
    p.fillRect(rect(), background);
    p.setPen(graphDarkMode() ? QColor(0x5a, 0x62, 0x6e) : QColor(0xc0, 0xc6, 0xd0));
    p.drawRect(rect().adjusted(0, 0, -1, -1));
    p.drawImage(QPointF(0, 0), picture_);
    const QRectF visible = view_->mapToScene(view_->viewport()->rect()).boundingRect();
    QRectF frame(fromScene(visible.topLeft()), fromScene(visible.bottomRight()));
    frame = frame.intersected(QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5));
    p.setPen(QPen(QColor(0x1f, 0x6f, 0xd0), 1.5));
    p.setBrush(QColor(0x1f, 0x6f, 0xd0, 40));
    p.drawRect(frame);
}

void Minimap::mousePressEvent(QMouseEvent* event) {
    view_->centerOn(toScene(event->position()));
    event->accept();
}

void Minimap::mouseMoveEvent(QMouseEvent* event) {
    if (event->buttons() & Qt::LeftButton) view_->centerOn(toScene(event->position()));
    event->accept();
}
