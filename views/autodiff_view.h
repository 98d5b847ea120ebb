#pragma once
// AutodiffView: the backward graph beside the forward graph. It shows the backward graph of the
// document's graph in its own canvas (forward part greyed, adjoints in their op colours), marks
// the saved tensors (dashed orange, "saved") on both canvases, and links the canvases by hover:
// an adjoint lights up its forward value and a forward value lights up its adjoints. Below the
// canvas: the forward-vs-reverse cost panel and the finite-difference comparison (computed off
// the GUI thread). "Gradient of gradient" replaces the graph by the backward graph of the
// backward graph (a Hessian-vector product).
#include <QFutureWatcher>
#include <QPointer>
#include <QWidget>
#include <memory>
#include <utility>

#include "autodiff_view_model.h"

class CanvasOverlays;
class CostPanel;
class GraphView;
class QLabel;
class QPushButton;
class QTableWidget;

class AutodiffView : public QWidget {
    Q_OBJECT
public:
    /// `forwardView` is the canvas showing the forward graph (may be null: no linking there).
    explicit AutodiffView(GraphView* forwardView, QWidget* parent = nullptr);
    ~AutodiffView() override;

    /// Differentiates `graph` and shows the result; on failure shows the message, keeps nothing
    /// and returns false with it in *error.
    bool showBackwardOf(const adj::Graph& graph, QString* error = nullptr);
    /// Differentiates the shown backward graph again; false (with the message) when nothing is
    /// shown or it fails.
    bool showGradientOfGradient(QString* error = nullptr);
    void clear();

    bool hasAnalysis() const { return analysis_ != nullptr; }
    const AutodiffAnalysis* analysis() const { return analysis_.get(); }
    GraphView* backwardView() const { return view_; }
    CanvasOverlays* backwardOverlays() const { return overlays_; }
    CanvasOverlays* forwardOverlays() const { return forwardOverlays_; }
    CostPanel* costPanel() const { return costs_; }
    QTableWidget* finiteDifferenceTable() const { return numeric_; }
    bool isNumericPending() const;

    /// Hover links (also driven by the canvases' mouse tracking).
    void hoverBackwardNode(adj::NodeId id);
    void hoverForwardNode(adj::NodeId id);

Q_SIGNALS:
    void analysisChanged();
    void numericFinished();
    void failed(const QString& message);

private:
    void setAnalysis(std::unique_ptr<AutodiffAnalysis> analysis);
    void startNumeric();
    void showNumeric();

    GraphView* forwardView_;
    QPointer<CanvasOverlays> forwardOverlays_;
    GraphView* view_;
    CanvasOverlays* overlays_;
    QLabel* title_;
    QPushButton* secondOrder_;
    CostPanel* costs_;
    QTableWidget* numeric_;
    QLabel* numericStatus_;
    std::unique_ptr<AutodiffAnalysis> analysis_;
    std::shared_ptr<const AutodiffAnalysis> numericInput_;
    QFutureWatcher<std::pair<std::vector<FiniteDifferenceRow>, QString>>* numericWatcher_;
    int numericGeneration_ = 0;
};
