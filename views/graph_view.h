#pragma once
// GraphView shows a graph laid out by Graphviz. showGraph() copies the graph and runs the layout
// on a worker thread (QtConcurrent); the result is applied on the GUI thread, and a newer
// showGraph() supersedes (and cancels, where it has not started) an older one.
//
// Navigation: Ctrl+wheel or +/- zooms around the cursor, 0 is 100 %, F fits the graph to the
// window; dragging the background pans; clicking selects a node; Esc gives up a pending layout.
//
// Editing: an op dragged from the palette (kOpMimeType) and dropped on the view is reported with
// opDropped at its scene position; .json/.onnx files dropped on it with filesDropped.
//
// A new graph first shows whole when it fits at a readable scale, otherwise at a readable scale
// from its top (its inputs). Until the user zooms or edits, the view keeps that framing as the
// window is resized. A re-layout of an edited graph (showGraph's keepView) keeps the scale and
// holds one node still on the screen: the one anchorNextLayout() names (a dropped node, under the
// cursor), else the node under the pointer, else the node nearest the view's middle; a collapsed
// group that was expanded keeps its corner where the box was.
#include <QFutureWatcher>
#include <QGraphicsView>
#include <QThreadPool>
#include <atomic>
#include <memory>
#include <optional>

#include "graph_scene.h"
#include "io/graphviz.h"
#include "thread_hand_off.h"

class Minimap;

class GraphView : public QGraphicsView {
    Q_OBJECT
public:
    explicit GraphView(QWidget* parent = nullptr);
    ~GraphView() override;

    GraphScene* graphScene() const { return scene_; }
    /// The overview in the corner, shown while the drawing does not fit (View > Minimap).
    Minimap* minimap() const { return minimap_; }

    /// The MIME type of a palette drag: the op's name (ops.def) as UTF-8.
    static constexpr const char* kOpMimeType = "application/x-adjoint-op";

    /// Lays out a copy of `graph` off the GUI thread, then draws it (layoutApplied) or reports
    /// the failure (layoutFailed). The graph may change or die as soon as this returns.
    /// `keepView` keeps the zoom and scroll position (a re-layout of an edited graph); otherwise
    /// the new graph gets the initial framing.
    void showGraph(const adj::Graph& graph, const adj::DotOptions& options = {}, bool keepView = false);
    /// The next layout that keeps the view draws node `id` at `viewportPos` (viewport pixels):
    /// a node dropped from the palette lands under the cursor whatever the layout does.
    void anchorNextLayout(adj::NodeId id, const QPointF& viewportPos);
    /// The thread pool layouts run on (one thread: Graphviz lays out one graph at a time anyway).
    /// Neither the global pool, on which Qt's raster painter waits from the GUI thread, nor the
    /// analyses' pool, which a minutes-long layout of a large graph would starve.
    static QThreadPool* layoutThreadPool();
    /// Removes the drawing and drops any pending layout.
    void clearGraph();
    /// Gives up the pending layout (Esc on the canvas, or the status bar's Cancel): the drawing
    /// stays as it was, layoutCancelled() follows. Graphviz cannot be interrupted, so the worker
    /// finishes in the background and its result is dropped. Nothing happens when none is pending.
    void cancelLayout();
    bool isLayoutPending() const { return pending_; }
    /// The drawing shown was made by the layered layout (not Graphviz).
    bool isLayered() const { return layered_; }
    /// Current scale (1 = one layout point per device-independent pixel).
    double zoom() const;

    static constexpr double kMinZoom = 0.02;
    static constexpr double kMaxZoom = 8.0;
    /// fitToWindow never magnifies more than this, so small graphs keep a natural size.
    static constexpr double kMaxFitZoom = 1.6;
    /// The initial framing never shrinks text below this scale (13 px labels stay >= 8 px).
    static constexpr double kMinReadableZoom = 0.6;

public Q_SLOTS:
    void zoomIn();
    void zoomOut();
    void resetZoom();
    void setZoom(double zoom);
    /// Shows the whole graph (until the user zooms, also after resizes).
    void fitToWindow();
    /// Selects a node and scrolls it into view (`middle`: to the middle of the view).
    void centerOnNode(adj::NodeId id, bool middle = false);
    /// Scrolls a part of the drawing (scene coordinates) into view, and keeps it there as the
    /// window is resized (the framing becomes the user's).
    void bringIntoView(const QRectF& sceneRect);
    /// Presentation mode: thicker, darker drawing, a white background, and 1.5x magnification
    /// (the initial framing and fit allow 1.5x larger scales).
    void setPresentationMode(bool on);

Q_SIGNALS:
    void layoutStarted();
    /// The drawing now shows the graph of the latest showGraph().
    void layoutApplied();
    void layoutFailed(const QString& message);
    /// The pending layout was given up (cancelLayout); the drawing shows an older graph or none.
    void layoutCancelled();
    void zoomChanged(double zoom);
    /// An op from the palette was dropped at `scenePos`.
    void opDropped(const QString& opName, const QPointF& scenePos);
    /// Graph files were dropped on the canvas.
    void filesDropped(const QStringList& paths);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    /// A drag on empty background pans (ScrollHandDrag); Shift+drag there draws a rubber band
    /// that selects the nodes it touches, as in most diagram editors.
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void scrollContentsBy(int dx, int dy) override;
    /// A dark palette (the system's) gives a dark canvas (graph_items.h, setGraphDarkMode).
    void changeEvent(QEvent* event) override;
    void drawForeground(QPainter* painter, const QRectF& rect) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dragMoveEvent(QDragMoveEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    struct LayoutResult {
        std::shared_ptr<const adj::Graph> graph;
        adj::GraphLayout layout;
        QString error;
    };
    enum class Framing { Initial, FitAll, Manual };
    /// What a re-layout holds still: a node (its centre), or a collapsed group's box, whose
    /// frame takes its top-left corner when the group was expanded.
    struct Anchor {
        adj::NodeId node = adj::kNoNode;
        QString group;
        QPointF viewportPos;     // where the node's centre was, viewport pixels
        QPointF viewportCorner;  // where the box's top-left corner was
    };
    /// The anchor of the drawing shown, among the nodes `next` (the graph about to be drawn) keeps.
    std::optional<Anchor> anchorFromView(const adj::Graph& next) const;
    /// Scrolls (growing the view's scene rect where needed) so that the anchor is where it was.
    bool placeAnchor(const Anchor& anchor);
    void applyLayout();
    void applyFraming();
    void followPalette();
    void zoomBy(double factor);
    double fitZoom() const;

    GraphScene* scene_;
    Minimap* minimap_;
    QFutureWatcher<void>* watcher_;
    PoolResult<LayoutResult> pendingLayout_;  // the latest layout asked for
    std::shared_ptr<std::atomic<bool>> cancel_;
    adj::DotOptions options_;
    bool pending_ = false;
    QString failure_;             // why the latest layout failed, shown in the empty canvas
    bool labelsDropped_ = false;  // the layout left the edge labels out (DotOptions::placementBudget)
    bool layered_ = false;        // drawn by the layered layout (DotOptions::layeredAbove)
    bool presentation_ = false;
    bool keepView_ = false;         // the pending layout is a re-layout of the graph shown
    std::optional<Anchor> anchor_;  // anchorNextLayout()
    Framing framing_ = Framing::Initial;
};
