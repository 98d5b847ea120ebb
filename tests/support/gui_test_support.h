#pragma once
// Helpers shared by the GUI tests (tests/gui) and bench_responsiveness: waiting for a canvas
// layout, holding a thread pool, mouse and drag-and-drop events delivered the way a view would
// deliver them, and a bare window for the analysis views.
#include <QEvent>
#include <QMainWindow>
#include <QMenu>
#include <QPointF>
#include <QSemaphore>
#include <QSize>
#include <QThreadPool>
#include <memory>
#include <utility>

#include "autodiff_view.h"
#include "canvas_overlays.h"
#include "cost/machine_model.h"
#include "fusion_panel.h"
#include "graph_document.h"
#include "rewrite_timeline.h"
#include "roofline_chart.h"
#include "training_controller.h"
#include "training_dashboard.h"

class AnalysisPanels;
class GraphView;
class QGraphicsScene;
class QMimeData;
class QPoint;
class QWidget;

namespace adj::test {

/// Waits until `view` has applied its latest layout (at most `timeoutMs`); true when it has.
bool waitForLayout(GraphView& view, int timeoutMs = 60000);

/// Keeps a test's main windows off the user's files: Qt's test-mode standard paths, and the
/// recovery folder, settings and caches under `dir`; the settings under AdjointTest/`application`.
void isolateApplication(const QString& dir, const char* application);

/// Runs the event loop until a timer of `intervalMs` has fired `ticks` times; true when it did
/// (false after ten times as long as that should take, and at least 10 s).
bool timerFires(int ticks, int intervalMs = 5);

/// Holds every thread of a pool until released (at the latest when it goes): work started
/// meanwhile waits in the pool's queue.
class PoolGate {
public:
    explicit PoolGate(QThreadPool* pool) : held_(pool->maxThreadCount()) {
        // (through runOnPool, which states the hand-off to ThreadSanitizer)
        for (int i = 0; i < held_; ++i) runOnPool<int>(pool, [gate = gate_] {
                gate->acquire();
                return 0;
            });
    }
    ~PoolGate() { release(); }
    PoolGate(const PoolGate&) = delete;
    PoolGate& operator=(const PoolGate&) = delete;
    void release() { gate_->release(std::exchange(held_, 0)); }

private:
    std::shared_ptr<QSemaphore> gate_ = std::make_shared<QSemaphore>();
    int held_ = 0;
};

/// Sends a left-button mouse event of `type` (press, move or release) at scene position `pos`
/// to `scene`; `downPos` is where the button went down.
void sceneMouse(QGraphicsScene* scene, QEvent::Type type, const QPointF& pos, const QPointF& downPos);
/// Press at `from`, two moves, release at `to`.
void sceneDrag(QGraphicsScene* scene, const QPointF& from, const QPointF& to);
/// Sends a left-button double-click at `pos`.
void sceneDoubleClick(QGraphicsScene* scene, const QPointF& pos);

/// Drops `mime` on `widget` at `pos` (widget coordinates), as a drag and drop would; true when
/// both the enter and the drop were accepted. Does not take ownership of `mime`.
bool dropOn(QWidget* widget, const QPoint& pos, QMimeData* mime);

/// The four analysis views, standalone (no window): one of them at a time is asked to analyse a
/// graph on its worker (tst_async_analysis, bench_responsiveness).
struct AnalysisViewSet {
    RewriteTimeline rewrite;
    FusionPanel fusion;
    AutodiffView autodiff{nullptr};
    RooflineChart roofline;

    /// Asks `view` ("rewrite" at its busiest step, "fusion", "autodiff" or "roofline") to analyse
    /// `graph`; returns the canvas its result is drawn on (null for the roofline).
    GraphView* request(const std::string& view, std::shared_ptr<const adj::Graph> graph, const adj::MachineModel& machine);
    /// Whether `view` still waits for its result.
    bool isComputing(const std::string& view) const;
};

/// A shown training dashboard (1200 x 450) with a controller attached, set to train
/// resources/examples/spirals_mlp.json on spirals for `steps` steps once Start is pressed.
struct SpiralsTraining {
    TrainingDashboard dashboard;
    TrainingController controller;
    explicit SpiralsTraining(std::int64_t steps);
};

/// A bare main window for the analysis views: a canvas as its central widget, a document and a
/// View menu; installPanels() adds the analysis panels to it, as MainWindow does.
struct AnalysisWindow {
    QMainWindow window;
    GraphDocument document;
    GraphView* canvas;
    QMenu menu;
    AnalysisPanels* panels = nullptr;

    explicit AnalysisWindow(QSize size = QSize(1200, 800));
    /// Loads resources/examples/<name>.json into the document and shows it on the canvas.
    bool openExample(const std::string& name, QString* error);
    AnalysisPanels* installPanels();
};

}  // namespace adj::test
