#pragma once
// AutodiffView: the backward graph beside the forward graph. It shows the backward graph of the
// document's graph in its own canvas (forward part greyed, adjoints in their op colours), marks
// the saved tensors (dashed orange, "saved") on both canvases, and links the canvases by hover:
// an adjoint lights up its forward value and a forward value lights up its adjoints. Below the
// canvas: the forward-vs-reverse cost panel and the finite-difference comparison (computed off
// the GUI thread). "Gradient of gradient" replaces the graph by the backward graph of the
// backward graph (a Hessian-vector product).
//
// The analysis itself (differentiation, costs) runs off the GUI thread too: requestBackwardOf()
// and requestGradientOfGradient() compute on a worker and apply the result when it arrives (a
// newer request drops an older one's result); meanwhile the view says "computing…" and keeps
// its previous drawing. showBackwardOf() and showGradientOfGradient() are the synchronous forms.
#include <QFutureWatcher>
#include <QPointer>
#include <QWidget>
#include <atomic>
#include <memory>
#include <utility>

#include "async_analysis.h"
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
    /// Differentiates `graph` on a worker (`order` 2: then its gradient of gradient); the result
    /// is shown when it arrives (analysisChanged), a failure clears the view and emits failed.
    void requestBackwardOf(std::shared_ptr<const adj::Graph> graph, int order = 1);
    void requestBackwardOf(const adj::Graph& graph, int order = 1);
    /// Differentiates the shown backward graph again on a worker; failed when nothing is shown.
    void requestGradientOfGradient();
    /// Drops any pending request and clears the view.
    void clear();

    /// A request is computing (its result not applied yet).
    bool isComputing() const { return compute_.isBusy(); }
    /// Results applied so far (tests: stale results are never applied).
    int appliedCount() const { return compute_.appliedCount(); }
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
    void setAnalysis(std::shared_ptr<const AutodiffAnalysis> analysis);
    void showFailure(const QString& message);
    void setBusy(bool busy);
    void startNumeric();
    void showNumeric();

    GraphView* forwardView_;
    QPointer<CanvasOverlays> forwardOverlays_;
    GraphView* view_;
    CanvasOverlays* overlays_;
    QLabel* title_;
    QLabel* busy_;
    QPushButton* secondOrder_;
    CostPanel* costs_;
    QTableWidget* numeric_;
    QLabel* numericStatus_;
    std::shared_ptr<const AutodiffAnalysis> analysis_;
    /// The pending (or last) request was a gradient of gradient: its failure keeps the view.
    bool secondOrderRequest_ = false;
    AsyncAnalysis<AutodiffAnalysis> compute_;
    QFutureWatcher<void>* numericWatcher_;
    PoolResult<std::pair<std::vector<FiniteDifferenceRow>, QString>> numericResult_;
    int numericGeneration_ = 0;
    /// Raised to stop the running comparison (a newer one, clear(), the view's destruction).
    std::shared_ptr<std::atomic<bool>> numericCancel_;
};
