#pragma once
// RewriteTimeline: the optimization pipeline as a film. A preset (-O0, -O1, -O2) fills the pass
// list (each pass a checkbox); Run optimizes a copy of the graph, recording the RewriteTrace; the
// slider then steps through the trace one rule application at a time. The canvas shows the graph
// at step k (rebuilt by replaying the trace) with the nodes step k removes in red and the nodes it
// adds in green, and the table shows the step's cost delta (FLOPs, bytes, kernels, intensity) and
// the cumulative change since the start.
#include <QWidget>
#include <memory>

#include "ir/graph.h"
#include "passes/pipeline.h"

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

    /// The graph to optimize (copied); clears the trace.
    void setGraph(const adj::Graph& graph);
    /// Fills the pass list from -O<level>, all checked.
    void setPreset(int level);
    /// Optimizes a copy of the graph with the checked passes and shows step 1 (or the unchanged
    /// graph when nothing applies). Returns false with the message when it fails.
    bool run(QString* error = nullptr);
    /// 0: the graph before any rewrite; k in 1..stepCount(): after step k, its changes marked.
    void setStep(int k);

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
    void failed(const QString& message);

private:
    void showCosts(const adj::CostSummary& before, const adj::CostSummary& after, const adj::CostSummary& start);

    std::unique_ptr<adj::Graph> graph_;
    std::unique_ptr<adj::RewriteTrace> trace_;
    int step_ = 0;
    GraphView* view_;
    CanvasOverlays* overlays_;
    QComboBox* preset_;
    QListWidget* passes_;
    QPushButton* run_;
    QSlider* slider_;
    QLabel* stepLabel_;
    QTableWidget* costs_;
};
