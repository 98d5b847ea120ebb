#pragma once
// AnalysisPanels: the docks that show what the engine computes from the document's graph: the
// backward graph beside the forward one (AutodiffView), the rewrite timeline,
// the fusion groups, the roofline, the memory plan (MemoryView) and the training dashboard, plus the View menu's "colour
// nodes by intensity / by bound". Docks start hidden; each View > Analysis action shows its dock
// and brings it up to date. While a dock is visible it follows the document's edits (debounced).
// The roofline and the main canvas are linked both ways: a dot selects and centres its node, a
// selected node rings its dot.
//
// Every analysis runs off the GUI thread (each view's request(), views/async_analysis.h): the
// panels hand the views a shared copy of the document's graph (one per document version), and
// a result that arrives after the document changed again is dropped by its view. The machine
// model for the roofline and the bound colouring is measured once, on a worker, on first use.
#include <QColor>
#include <QFuture>
#include <QObject>
#include <QSet>
#include <QStringList>
#include <QTimer>
#include <functional>
#include <map>
#include <memory>

#include "async_analysis.h"
#include "cost/machine_model.h"
#include "ir/graph.h"

struct TrainingSnapshot;

class AutodiffView;
class CanvasOverlays;
class FusionPanel;
class GraphDocument;
class GraphView;
class MemoryView;
class PartitionView;
class QAction;
class QDockWidget;
class QMainWindow;
class QMenu;
class RewriteTimeline;
class RooflineChart;
class TrainingController;
class TrainingDashboard;

class AnalysisPanels : public QObject {
    Q_OBJECT
public:
    enum class Colouring { None, Intensity, Bound };

    AnalysisPanels(QMainWindow* window, GraphDocument* document, GraphView* canvas, QMenu* viewMenu);
    ~AnalysisPanels() override;

    /// "autodiff", "rewrite", "fusion", "roofline", "memory", "partition", "training".
    static QStringList viewNames();
    /// Shows the named view and starts its analysis; viewReady(name) follows once the result is
    /// applied and drawn (for the training view: at once, or after a short run on the document's
    /// model when setTrainingStartsWhenShown), or
    /// viewFailed(name, message) when the graph cannot be analysed (the message also goes to the
    /// status bar). False with a message for an unknown name.
    bool showView(const QString& name, QString* error = nullptr);
    /// Whether showing the training view also starts a run (off by default: the user presses
    /// Start; on for a screenshot of the view, which shows curves).
    void setTrainingStartsWhenShown(bool on) { startTrainingWhenShown_ = on; }
    QDockWidget* dock(const QString& name) const;

    AutodiffView* autodiffView() const { return autodiff_; }
    RewriteTimeline* rewriteTimeline() const { return rewrite_; }
    FusionPanel* fusionPanel() const { return fusion_; }
    RooflineChart* rooflineChart() const { return roofline_; }
    MemoryView* memoryView() const { return memory_; }
    PartitionView* partitionView() const { return partition_; }
    /// The colour of device `d` on the canvas and in the partition view (kAllDevices and
    /// kSplitDevices of parallel/strategies.h have colours of their own).
    static QColor deviceColour(int d);
    TrainingDashboard* trainingDashboard() const { return dashboard_; }
    TrainingController* trainingController() const { return controller_; }
    CanvasOverlays* canvasOverlays() const { return canvasOverlays_; }
    Colouring colouring() const { return colouring_; }
    /// The canvas colouring is computing (its fills not applied yet).
    bool isColouringPending() const { return fills_.isBusy(); }

public Q_SLOTS:
    void setColouring(Colouring colouring);
    /// Differentiates the document's graph and shows the autodiff dock.
    void showBackwardGraph();
    /// Brings every visible dock up to date with the document.
    void refresh();

Q_SIGNALS:
    void viewReady(const QString& name);
    /// The analysis of a view opened by showView failed (also reported on the status bar).
    void viewFailed(const QString& name, const QString& message);

private:
    QDockWidget* addDock(const QString& name, const QString& title, QWidget* content, int area);
    bool refreshView(const QString& name, QString* error = nullptr);
    void applyColouring();
    /// The document's graph, copied once per document version and shared by the workers.
    std::shared_ptr<const adj::Graph> snapshot();
    /// Returns the machine model, waiting for its one measurement; called on workers.
    std::function<adj::MachineModel()> machineSource();
    void report(const QString& message);
    /// A view's analysis failed: report it, and end a pending showView with viewFailed.
    void viewAnalysisFailed(const QString& name, const QString& message);
    void emitReadyIf(const QString& name, bool drawn);
    void showLiveAdjoints(const TrainingSnapshot& snapshot);
    void showHoveredTensor(adj::NodeId id);
    /// Colours the canvas by the partition view's devices and thickens the edges that cross.
    void showPartition();

    QMainWindow* window_;
    GraphDocument* document_;
    GraphView* canvas_;
    CanvasOverlays* canvasOverlays_;
    AutodiffView* autodiff_;
    RewriteTimeline* rewrite_;
    FusionPanel* fusion_;
    RooflineChart* roofline_;
    MemoryView* memory_;
    PartitionView* partition_;
    TrainingDashboard* dashboard_;
    TrainingController* controller_;
    // which document the training model came from: each replaced() counts one more
    int documentGeneration_ = 0;
    bool startTrainingWhenShown_ = false;
    int trainedGeneration_ = -1;
    std::map<QString, QDockWidget*> docks_;
    QTimer refreshTimer_;
    Colouring colouring_ = Colouring::None;
    PoolResult<adj::MachineModel> machine_;
    bool machineStarted_ = false;
    std::shared_ptr<const adj::Graph> snapshot_;
    AsyncAnalysis<std::map<adj::NodeId, QColor>> fills_;
    QString pendingReady_;
    /// Views refreshed since the document last changed.
    QSet<QString> upToDate_;
    int probeVersion_ = -1;
    std::map<adj::NodeId, adj::Tensor> liveValues_;
};

/// Creates the panels for a main window (one line at the end of MainWindow's constructor).
AnalysisPanels* installAnalysisPanels(QMainWindow* window, GraphDocument* document, GraphView* canvas, QMenu* viewMenu);
/// The panels installed on `window`, or nullptr.
AnalysisPanels* analysisPanels(QMainWindow* window);
