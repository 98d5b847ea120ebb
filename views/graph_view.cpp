#include "graph_view.h"

#include <QCoreApplication>
#include <QCursor>
#include <QDragEnterEvent>
#include <QFileInfo>
#include <QKeyEvent>
#include <QMimeData>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <limits>

#include "chart_palette.h"
#include "minimap.h"

namespace {
constexpr double kZoomStep = 1.25;
constexpr double kPresentationZoom = 1.5;

QStringList graphFiles(const QMimeData* mime) {
    QStringList out;
    if (!mime || !mime->hasUrls()) return out;
    for (const QUrl& url : mime->urls()) {
        const QString suffix = QFileInfo(url.toLocalFile()).suffix().toLower();
        if (url.isLocalFile() && (suffix == QLatin1String("json") || suffix == QLatin1String("onnx")))
            out << url.toLocalFile();
    }
    return out;
}
}  // namespace

QThreadPool* GraphView::layoutThreadPool() {
    // (never deleted, as the global pool: the application's end drops queued layouts and waits
    // for a running one)
    static QThreadPool* pool = [] {
        auto* p = new QThreadPool;
        p->setObjectName(QStringLiteral("layoutPool"));
        p->setMaxThreadCount(1);
        qAddPostRoutine([] {
            GraphView::layoutThreadPool()->clear();
            GraphView::layoutThreadPool()->waitForDone();
        });
        return p;
    }();
    return pool;
}

GraphView::GraphView(QWidget* parent)
    : QGraphicsView(parent), scene_(new GraphScene(this)), minimap_(new Minimap(this)), watcher_(new QFutureWatcher<void>(this)) {
    setScene(scene_);
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing | QPainter::SmoothPixmapTransform);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    // A dock or the window changing size keeps the top-left of the drawing where it is (what is
    // under the pointer stays put); the initial and fitted framings re-frame on resize anyway.
    setResizeAnchor(QGraphicsView::NoAnchor);
    setViewportUpdateMode(QGraphicsView::SmartViewportUpdate);
    followPalette();
    setFrameShape(QFrame::NoFrame);
    setFocusPolicy(Qt::StrongFocus);
    setAcceptDrops(true);
    connect(watcher_, &QFutureWatcher<void>::finished, this, &GraphView::applyLayout);
}

GraphView::~GraphView() {
    // A running layout keeps its own copy of the graph; it finishes on its worker and is dropped.
    if (cancel_) cancel_->store(true);
}

void GraphView::showGraph(const adj::Graph& graph, const adj::DotOptions& options, bool keepView) {
    if (!keepView) framing_ = Framing::Initial;
    keepView_ = keepView;
    if (!keepView) anchor_.reset();
    if (cancel_) cancel_->store(true);
    cancel_ = std::make_shared<std::atomic<bool>>(false);
    options_ = options;
    // A canvas never asks Graphviz for more than its budget (minutes and gigabytes beyond).
    if (!options_.placementBudget) options_.placementBudget = adj::kCanvasPlacementBudget;
    // Past what Graphviz lays out in about half a second, our own layered layout (milliseconds).
    if (!options_.layeredAbove) options_.layeredAbove = adj::kCanvasLayeredAbove;
    auto copy = std::make_shared<const adj::Graph>(graph);
    failure_.clear();
    pending_ = true;
    viewport()->update();
    Q_EMIT layoutStarted();
    // setFuture() stops watching the previous future: only the latest result is applied.
    pendingLayout_ = runOnPool<LayoutResult>(layoutThreadPool(), [copy, options = options_, cancel = cancel_]() {
        LayoutResult r;
        r.graph = copy;
        try {
            r.layout = adj::layoutGraph(*copy, options, cancel.get());
        } catch (const std::exception& e) {
            r.error = QString::fromStdString(e.what());
        }
        return r;
    });
    watcher_->setFuture(pendingLayout_.future());
}

void GraphView::clearGraph() {
    if (cancel_) cancel_->store(true);
    cancel_.reset();
    pendingLayout_ = {};
    watcher_->setFuture(QFuture<void>());
    pending_ = false;
    failure_.clear();
    scene_->clearGraph();
    minimap_->rebuild();
    viewport()->update();
}

void GraphView::cancelLayout() {
    if (!pending_) return;
    if (cancel_) cancel_->store(true);
    cancel_.reset();
    pendingLayout_ = {};
    watcher_->setFuture(QFuture<void>());
    pending_ = false;
    viewport()->update();
    Q_EMIT layoutCancelled();
}

void GraphView::applyLayout() {
    if (!pending_ || !pendingLayout_.isFinished()) return;
    const LayoutResult r = pendingLayout_.result();
    if (r.layout.cancelled) return;  // superseded; the newer job reports
    pending_ = false;
    if (!r.error.isEmpty()) {
        scene_->clearGraph();
        failure_ = r.error;
        viewport()->update();
        Q_EMIT layoutFailed(r.error);
        return;
    }
    labelsDropped_ = r.layout.edgeLabelsDropped;
    layered_ = r.layout.layered;
    std::optional<Anchor> anchor;
    if (keepView_) anchor = anchor_ ? anchor_ : anchorFromView(*r.graph);
    anchor_.reset();
    const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
    const bool hadDrawing = !scene_->nodeItems().empty();
    scene_->setGraph(*r.graph, r.layout, options_);
    if (anchor && placeAnchor(*anchor)) {
        framing_ = Framing::Manual;  // the user's scale and place, from now on also across resizes
    } else if (keepView_ && hadDrawing) {
        // nothing to hold on to (everything in view went): the same part of the plane stays in view
        setSceneRect(scene_->sceneRect().united(visible));
        centerOn(visible.center());
        framing_ = Framing::Manual;
    } else {
        setSceneRect(QRectF());  // the view follows the scene's extent again
        applyFraming();
    }
    minimap_->rebuild();
    viewport()->update();
    Q_EMIT layoutApplied();
}

void GraphView::anchorNextLayout(adj::NodeId id, const QPointF& viewportPos) {
    Anchor a;
    a.node = id;
    a.viewportPos = viewportPos;
    a.viewportCorner = viewportPos;
    anchor_ = a;
}

std::optional<GraphView::Anchor> GraphView::anchorFromView(const adj::Graph& next) const {
    const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
    const QPoint cursor = viewport()->mapFromGlobal(QCursor::pos());
    // a node that is still there after the edit (a collapsed box stands for its first member)
    auto survives = [&](const QGraphicsItem* item) {
        if (item->type() != GraphNodeItem::Type) return false;
        const auto* node = static_cast<const GraphNodeItem*>(item);
        if (node->isCollapsedGroup()) {
            const auto members = scene_->collapsedMembers(node->nodeId());
            return !members.empty() && next.contains(members.front());
        }
        return next.contains(node->nodeId());
    };
    const GraphNodeItem* chosen = nullptr;
    if (viewport()->rect().contains(cursor)) {
        for (QGraphicsItem* item : items(cursor))
            if (item->type() == GraphNodeItem::Type) {
                if (survives(item)) chosen = static_cast<const GraphNodeItem*>(item);
                break;
            }
    }
    if (!chosen) {
        const QPointF middle = visible.center();
        double best = std::numeric_limits<double>::infinity();
        for (QGraphicsItem* item : scene_->items(visible, Qt::IntersectsItemBoundingRect)) {
            if (!survives(item)) continue;
            const double d = QLineF(item->scenePos(), middle).length();
            if (d < best) best = d, chosen = static_cast<const GraphNodeItem*>(item);
        }
    }
    if (!chosen) return std::nullopt;
    Anchor a;
    a.node = chosen->nodeId();
    if (chosen->isCollapsedGroup()) {
        const std::vector<adj::NodeId> members = scene_->collapsedMembers(chosen->nodeId());
        if (members.empty()) return std::nullopt;
        a.node = members.front();
        a.group = scene_->collapsedName(chosen->nodeId());
    }
    a.viewportPos = viewportTransform().map(chosen->scenePos());  // (a node's origin is its box's centre)
    a.viewportCorner = viewportTransform().map(chosen->sceneBoundingRect().topLeft());
    return a;
}

bool GraphView::placeAnchor(const Anchor& anchor) {
    QPointF scenePoint;
    QPointF viewportPoint;
    const GraphClusterItem* frame = nullptr;
    if (!anchor.group.isEmpty())
        for (const GraphClusterItem* c : scene_->clusterItems())
            if (c->name() == anchor.group) frame = c;
    if (frame) {
        scenePoint = frame->sceneBoundingRect().topLeft();
        viewportPoint = anchor.viewportCorner;
    } else if (const GraphNodeItem* item = scene_->nodeItem(anchor.node)) {
        scenePoint = item->scenePos();
        viewportPoint = anchor.viewportPos;
    } else {
        return false;  // the node went (deleted): nothing to hold still
    }
    const double z = zoom();
    const QSizeF size(viewport()->width() / z, viewport()->height() / z);
    const QRectF wanted(scenePoint - viewportPoint / z, size);
    // Scrolling cannot go past the scene's extent: grow the view's extent to what must show. (Set
    // always: a view that follows the scene's extent shifts when the scene grows after this.)
    const double margin = 60 / z;  // (room for scroll bars that come or go)
    setSceneRect(scene_->sceneRect().united(wanted.adjusted(-margin, -margin, margin, margin)));
    centerOn(wanted.center());
    // centerOn rounds, and a scroll bar appearing or going resizes the viewport: the remainder
    // by whole pixels
    for (int pass = 0; pass < 2; ++pass) {
        const QPointF error = viewportTransform().map(scenePoint) - viewportPoint;
        if (std::abs(error.x()) < 0.5 && std::abs(error.y()) < 0.5) break;
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() + qRound(error.x()));
        verticalScrollBar()->setValue(verticalScrollBar()->value() + qRound(error.y()));
    }
    return true;
}

double GraphView::zoom() const { return transform().m11(); }

void GraphView::setZoom(double z) {
    z = std::clamp(z, kMinZoom, kMaxZoom);
    const double factor = z / zoom();
    if (std::abs(factor - 1) < 1e-9) return;
    scale(factor, factor);
    minimap_->place();
    Q_EMIT zoomChanged(zoom());
}

void GraphView::zoomBy(double factor) {
    framing_ = Framing::Manual;
    setZoom(zoom() * factor);
}

void GraphView::zoomIn() { zoomBy(kZoomStep); }
void GraphView::zoomOut() { zoomBy(1 / kZoomStep); }

void GraphView::resetZoom() {
    framing_ = Framing::Manual;
    setZoom(1.0);
}

void GraphView::fitToWindow() {
    framing_ = Framing::FitAll;
    applyFraming();
}

double GraphView::fitZoom() const {
    const QRectF r = scene_->sceneRect();
    const QRectF vp = viewport()->rect();
    if (r.isEmpty() || vp.width() < 2 || vp.height() < 2) return 0;
    const double maxFit = kMaxFitZoom * (presentation_ ? kPresentationZoom : 1.0);
    return std::clamp(std::min(vp.width() / r.width(), vp.height() / r.height()), kMinZoom, maxFit);
}

void GraphView::applyFraming() {
    if (framing_ == Framing::Manual) return;
    const double fit = fitZoom();
    if (fit <= 0) return;
    const QRectF r = scene_->sceneRect();
    // Presentation mode magnifies: text must read from the back of a classroom.
    const double magnify = presentation_ ? kPresentationZoom : 1.0;
    if (framing_ == Framing::FitAll || fit >= kMinReadableZoom * magnify) {
        setTransform(QTransform::fromScale(fit, fit));
        centerOn(r.center());
    } else {
        // Too big to read whole: a readable scale, as wide as fits, from the top, centred on the
        // nodes there (a long chain starts at one side of a wide drawing, not in its middle).
        const QRectF vp = viewport()->rect();
        const double z = std::clamp(vp.width() / r.width(), kMinReadableZoom * magnify, magnify);
        setTransform(QTransform::fromScale(z, z));
        const double band = r.top() + vp.height() / z;
        QRectF top;
        for (const GraphNodeItem* item : scene_->nodeItems()) {
            const QRectF box = item->sceneBoundingRect();
            if (box.top() <= band) top = top.isNull() ? box : top.united(box);
        }
        centerOn(top.isNull() ? r.center().x() : top.center().x(), r.top() + vp.height() / (2 * z));
    }
    minimap_->place();
    Q_EMIT zoomChanged(zoom());
}

void GraphView::centerOnNode(adj::NodeId id, bool middle) {
    GraphNodeItem* item = scene_->nodeItem(id);
    scene_->selectNode(id);
    if (!item) return;
    framing_ = Framing::Manual;  // a resize no longer re-frames away from it
    if (middle) centerOn(item);
    else ensureVisible(item, 40, 40);
}

void GraphView::bringIntoView(const QRectF& sceneRect) {
    framing_ = Framing::Manual;
    ensureVisible(sceneRect, 40, 40);
}

void GraphView::wheelEvent(QWheelEvent* event) {
    if (event->modifiers() & Qt::ControlModifier) {
        const double steps = event->angleDelta().y() / 120.0;
        if (steps != 0) zoomBy(std::pow(kZoomStep, steps));
        event->accept();
        return;
    }
    QGraphicsView::wheelEvent(event);
}

void GraphView::keyPressEvent(QKeyEvent* event) {
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal: zoomIn(); return;
    case Qt::Key_Minus: zoomOut(); return;
    case Qt::Key_0: resetZoom(); return;
    case Qt::Key_Escape:
        if (pending_) {
            cancelLayout();
            return;
        }
        break;
    case Qt::Key_F:
        if (!(event->modifiers() & (Qt::ControlModifier | Qt::AltModifier))) {
            fitToWindow();
            return;
        }
        break;
    default: break;
    }
    QGraphicsView::keyPressEvent(event);
}

void GraphView::mousePressEvent(QMouseEvent* event) {
    const bool band = event->button() == Qt::LeftButton && (event->modifiers() & Qt::ShiftModifier) &&
                      !itemAt(event->position().toPoint());
    setDragMode(band ? QGraphicsView::RubberBandDrag : QGraphicsView::ScrollHandDrag);
    if (band) setRubberBandSelectionMode(Qt::IntersectsItemShape);
    QGraphicsView::mousePressEvent(event);
}

void GraphView::mouseReleaseEvent(QMouseEvent* event) {
    QGraphicsView::mouseReleaseEvent(event);
    if (dragMode() != QGraphicsView::ScrollHandDrag) setDragMode(QGraphicsView::ScrollHandDrag);
}

void GraphView::resizeEvent(QResizeEvent* event) {
    QGraphicsView::resizeEvent(event);
    applyFraming();
    minimap_->place();
}

void GraphView::followPalette() {
    setGraphDarkMode(isDarkPalette(palette()));
    setBackgroundBrush(graphBackgroundColour());
    scene_->update();
}

void GraphView::changeEvent(QEvent* event) {
    QGraphicsView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) followPalette();
}

void GraphView::scrollContentsBy(int dx, int dy) {
    QGraphicsView::scrollContentsBy(dx, dy);
    minimap_->place();
}

void GraphView::drawForeground(QPainter* painter, const QRectF& rect) {
    QGraphicsView::drawForeground(painter, rect);
    if (!scene_->nodeItems().empty() && !pending_) {
        if (labelsDropped_ || layered_) {
            painter->save();
            painter->resetTransform();
            painter->setPen(QColor(0x70, 0x78, 0x84));
            painter->drawText(viewport()->rect().adjusted(12, 8, -12, -8), Qt::AlignTop | Qt::AlignRight,
                              layered_ ? tr("%n boxes, drawn by the quick layered layout (Graphviz would take minutes)", nullptr,
                                            int(scene_->nodeItems().size()))
                                       : tr("Edge shapes left out: a graph this large lays out in time without them"));
            painter->restore();
        }
        return;
    }
    // A hint in the middle of the viewport while there is nothing to show yet.
    const QString text = pending_              ? tr("Laying out\u2026 (Esc cancels)")
                         : !failure_.isEmpty() ? tr("Cannot draw this graph: %1").arg(failure_)
                                               : tr("No graph");
    painter->save();
    painter->resetTransform();
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 1.3);
    painter->setFont(f);
    painter->setPen(QColor(0x70, 0x78, 0x84));
    if (pending_ && !scene_->nodeItems().empty()) {
        painter->drawText(viewport()->rect().adjusted(12, 8, -12, -8), Qt::AlignTop | Qt::AlignRight, text);
    } else {
        painter->drawText(viewport()->rect().adjusted(24, 24, -24, -24), Qt::AlignCenter | Qt::TextWordWrap, text);
    }
    painter->restore();
}

void GraphView::setPresentationMode(bool on) {
    if (on == presentation_) return;
    presentation_ = on;
    setGraphPresentationMode(on);
    setBackgroundBrush(graphBackgroundColour());
    if (framing_ == Framing::Manual) setZoom(zoom() * (on ? kPresentationZoom : 1 / kPresentationZoom));
    else applyFraming();
    scene_->update();
    viewport()->update();
}

void GraphView::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasFormat(QLatin1String(kOpMimeType)) || !graphFiles(event->mimeData()).isEmpty())
        event->acceptProposedAction();
    else
        event->ignore();
}

void GraphView::dragMoveEvent(QDragMoveEvent* event) {
    if (event->mimeData()->hasFormat(QLatin1String(kOpMimeType)) || !graphFiles(event->mimeData()).isEmpty())
        event->acceptProposedAction();
    else
        event->ignore();
}

void GraphView::dropEvent(QDropEvent* event) {
    const QMimeData* mime = event->mimeData();
    if (mime->hasFormat(QLatin1String(kOpMimeType))) {
        event->acceptProposedAction();
        Q_EMIT opDropped(QString::fromUtf8(mime->data(QLatin1String(kOpMimeType))),
                         mapToScene(event->position().toPoint()));
        return;
    }
    const QStringList files = graphFiles(mime);
    if (!files.isEmpty()) {
        event->acceptProposedAction();
        Q_EMIT filesDropped(files);
        return;
    }
    event->ignore();
}
