#pragma once
// RewriteTimeline: the optimization pipeline as a film. A preset (-O0, -O1, -O2) fills the pass
// list (each pass a checkbox); Run optimizes a copy of the graph, recording the RewriteTrace; the
// slider then steps through the trace one rule application at a time. The canvas shows the graph
// at step k (rebuilt by replaying the trace) with the nodes step k removes in red and the nodes it
// adds in green, and the table shows the step's cost delta (FLOPs, bytes, kernels, intensity) and
// the cumulative change since the start. The canvas scrolls to the node the step adds (or
// removes). Nodes keep their place from step to step: each node stays where it was first drawn
// (by name), and the nodes a step adds are put where the nodes it removes stood (else below
// their inputs), so that stepping through the film moves nothing but what the step changes.
//
// Both the optimization and the replay of a step run off the GUI thread: request() optimizes on
// a worker and shows the chosen step when the trace arrives; setStep() updates the step's text and
// costs at once and draws the replayed graph when its worker is done. A newer request drops an
// older one's result; meanwhile the view says "computing…" and keeps its previous drawing. run()
// is the synchronous form of the optimization (tests).
//
// The graph optimized is the document's as drawn, or (the "Graph" choice) its backward graph: the
// reverse-mode gradients of its first scalar output (its outputs kept beside them, so that the
// passes keep the loss the checkpoint pass needs), or for a model without one its training step
// (train/memory_report.h, passGraph). The pass list holds the preset's passes, checked, then the
// passes of no -O level (checkpoint: recomputation, which needs a backward pass), unchecked.
#include <QPointF>
#include <QWidget>
#include <map>
#include <memory>
#include <string>

#include "async_analysis.h"
#include "ir/graph.h"
#include "passes/pipeline.h"
#include "passes/trace_replay.h"

class CanvasOverlays;
class GraphView;
class QComboBox;
class QLabel;
class QListWidget;
class QPushButton;
class QSlider;
class QTableWidget;

class RewriteTimeline : public QWidget {
    Q_OBJECT
public:
    explicit RewriteTimeline(QWidget* parent = nullptr);

    /// Which step a new trace opens at: step 1, or the step that changes the most nodes at once
    /// (the first of them; step 1 when all are alike).
    enum class StartAt { FirstStep, BusiestStep };
    /// What is optimized: the graph as drawn or its backward graph.
    enum class Source { Drawn, Backward };

    /// The graph to optimize (copied); clears the trace.
    void setGraph(const adj::Graph& graph);
    /// Optimizes `graph` with the checked passes on a worker; when the trace arrives it becomes the
    /// timeline's graph and trace (traceChanged) and the view shows the `start` step. A failure
    /// clears the view and emits failed.
    void request(std::shared_ptr<const adj::Graph> graph, StartAt start = StartAt::FirstStep);
    /// Fills the pass list from -O<level>, checked, then the other passes, unchecked.
    void setPreset(int level);
    /// Checks or unchecks a pass of the list (false when the list has no such pass).
    bool setPassChecked(const QString& pass, bool checked);
    void setSource(Source source);
    Source source() const;
    /// Optimizes a copy of the graph with the checked passes and shows step 1 (or the unchanged
    /// graph when nothing applies). Returns false with the message when it fails.
    bool run(QString* error = nullptr);
    /// 0: the graph before any rewrite; k in 1..stepCount(): after step k, its changes marked.
    void setStep(int k);

    /// The optimization or a step's drawing is computing.
    bool isComputing() const { return optimize_.isBusy() || replay_.isBusy(); }
    /// Traces applied so far (tests: stale results are never applied).
    int appliedCount() const { return optimize_.appliedCount(); }
    /// The graph being optimized (null before setGraph or request).
    const adj::Graph* graph() const { return graph_.get(); }
    /// The step that changes the most nodes (1-based; 0 when no step changes any).
    static int busiestStep(const adj::RewriteTrace& trace);

    int stepCount() const;
    int currentStep() const { return step_; }
    const adj::RewriteTrace* trace() const { return trace_.get(); }
    /// Checked passes, in order.
    std::vector<std::string> checkedPasses() const;
    GraphView* view() const { return view_; }
    CanvasOverlays* overlays() const { return overlays_; }
    QSlider* slider() const { return slider_; }
    QListWidget* passList() const { return passes_; }
    QTableWidget* costTable() const { return costs_; }
    QString stepText() const;

Q_SIGNALS:
    void stepChanged(int k);
    /// A new trace (or none, after a failure) is in place.
    void traceChanged();
    void failed(const QString& message);

private:
    struct Optimized {
        std::shared_ptr<const adj::Graph> graph;
        std::shared_ptr<const adj::RewriteTrace> trace;
        StartAt start = StartAt::FirstStep;
    };
    static Optimized optimize(std::shared_ptr<const adj::Graph> graph, std::vector<std::string> passes, StartAt start, Source source);
    void applyOptimized(Optimized&& result);
    void showOptimizeFailure(const QString& message);
    void applyReplay(adj::ReplayedStep&& step);
    void updateBusy();
    void showCosts(const adj::CostSummary& before, const adj::CostSummary& after, const adj::CostSummary& start);

    std::shared_ptr<const adj::Graph> graph_;
    std::shared_ptr<const adj::RewriteTrace> trace_;
    int step_ = 0;
    /// The next drawing is of a new trace: frame it afresh.
    bool reframe_ = false;
    /// The node the drawn step adds (or else removes), scrolled to once laid out.
    adj::NodeId focus_ = adj::kNoNode;
    /// Where each node (by name) was drawn in this trace's film so far (scene coordinates).
    std::map<std::string, QPointF> placed_;
    /// The graph drawn last (its ids name the scene's items), for recording placed_.
    std::shared_ptr<const adj::Graph> drawn_;
    /// Pins `graph`'s nodes where placed_ has them, and the nodes `step` adds near what it removes.
    void pinPlacedNodes(adj::Graph& graph, const adj::ReplayedStep& step) const;
    void recordPlacedNodes();
    GraphView* view_;
    CanvasOverlays* overlays_;
    QComboBox* preset_;
    QComboBox* source_;
    QListWidget* passes_;
    QPushButton* run_;
    QSlider* slider_;
    QLabel* stepLabel_;
    QTableWidget* costs_;
    QLabel* busy_;
    AsyncAnalysis<Optimized> optimize_;
    AsyncAnalysis<adj::ReplayedStep> replay_;
};
