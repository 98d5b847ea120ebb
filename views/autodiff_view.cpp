#include "autodiff_view.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <set>

#include "base/errors.h"
#include "canvas_overlays.h"
#include "cost_panel.h"
#include "graph_view.h"

namespace {
const QColor kSaved(230, 130, 0);
const QColor kNoGradient(130, 130, 130);
const QColor kLinked(214, 30, 160);
const QColor kForwardPart(236, 236, 236);
enum Layer { SavedLayer = 0, HoverLayer = 1 };
// The forward canvas is shared with other features: use layers of our own.
enum ForwardLayer { ForwardSavedLayer = 10, ForwardHoverLayer = 11 };
}  // namespace

AutodiffView::AutodiffView(GraphView* forwardView, QWidget* parent)
    : QWidget(parent), forwardView_(forwardView), view_(new GraphView(this)), overlays_(new CanvasOverlays(view_)),
      title_(new QLabel(this)), busy_(new QLabel(tr("Computing…"), this)),
      secondOrder_(new QPushButton(tr("Gradient of gradient"), this)), costs_(new CostPanel(this)), numeric_(new QTableWidget(this)),
      numericStatus_(new QLabel(this)),
      compute_([this](AutodiffAnalysis&& a) { setAnalysis(std::make_shared<const AutodiffAnalysis>(std::move(a))); },
               [this](const QString& message) { showFailure(message); }),
      numericWatcher_(new QFutureWatcher<void>(this)) {
    setObjectName(QStringLiteral("autodiffView"));
    if (forwardView_) {
        forwardOverlays_ = forwardView_->findChild<CanvasOverlays*>(QString(), Qt::FindDirectChildrenOnly);
        if (!forwardOverlays_) forwardOverlays_ = new CanvasOverlays(forwardView_);
        connect(forwardOverlays_, &CanvasOverlays::nodeHovered, this, &AutodiffView::hoverForwardNode);
    }
    connect(overlays_, &CanvasOverlays::nodeHovered, this, &AutodiffView::hoverBackwardNode);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* top = new QHBoxLayout;
    title_->setWordWrap(true);
    title_->setText(tr("Use “Show backward graph” to differentiate the graph."));
    top->addWidget(title_, 1);
    busy_->setStyleSheet(QStringLiteral("color: #5a6270; font-style: italic;"));
    busy_->hide();
    top->addWidget(busy_);
    secondOrder_->setEnabled(false);
    secondOrder_->setToolTip(tr("Differentiate the backward graph again: ∇(½‖∇f‖²) = H·∇f"));
    connect(secondOrder_, &QPushButton::clicked, this, &AutodiffView::requestGradientOfGradient);
    top->addWidget(secondOrder_);
    layout->addLayout(top);

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(view_);
    auto* tabs = new QTabWidget(split);
    tabs->addTab(costs_, tr("Forward vs reverse"));
    auto* numericPage = new QWidget(tabs);
    auto* numericLayout = new QVBoxLayout(numericPage);
    numericLayout->setContentsMargins(0, 0, 0, 0);
    numericLayout->addWidget(numericStatus_);
    numeric_->setColumnCount(6);
    numeric_->setHorizontalHeaderLabels(
        {tr("Value"), tr("Shape"), tr("max |reverse|"), tr("max |reverse − numeric|"), tr("error estimate"), tr("Agrees")});
    numeric_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    numeric_->verticalHeader()->hide();
    numeric_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    numericLayout->addWidget(numeric_);
    tabs->addTab(numericPage, tr("Finite differences"));
    split->addWidget(tabs);
    // the backward graph first: the tables below are read a few rows at a time
    tabs->setMinimumHeight(80);  // (its tables' own minimum would take a third of a small dock)
    split->setStretchFactor(0, 4);
    split->setStretchFactor(1, 1);
    split->setSizes({800, 170});
    layout->addWidget(split, 1);

    connect(numericWatcher_, &QFutureWatcherBase::finished, this, &AutodiffView::showNumeric);
}

AutodiffView::~AutodiffView() {
    numericWatcher_->disconnect(this);
    if (numericCancel_) numericCancel_->store(true);
    numericWatcher_->waitForFinished();
    // The forward canvas may already be gone (window teardown): leave its marks alone.
}

bool AutodiffView::isNumericPending() const { return numericWatcher_->isRunning(); }

bool AutodiffView::showBackwardOf(const adj::Graph& graph, QString* error) {
    secondOrderRequest_ = false;
    setBusy(false);
    return compute_.runNow([&graph] { return analyseAutodiff(graph); }, error);
}

bool AutodiffView::showGradientOfGradient(QString* error) {
    if (!analysis_) {
        if (error) *error = tr("no backward graph is shown");
        return false;
    }
    secondOrderRequest_ = true;
    setBusy(false);
    const std::shared_ptr<const AutodiffAnalysis> first = analysis_;
    return compute_.runNow([first] { return gradientOfGradient(*first); }, error);
}

void AutodiffView::requestBackwardOf(const adj::Graph& graph, int order) {
    requestBackwardOf(std::make_shared<const adj::Graph>(graph), order);
}

void AutodiffView::requestBackwardOf(std::shared_ptr<const adj::Graph> graph, int order) {
    secondOrderRequest_ = false;
    setBusy(true);
    compute_.start([graph = std::move(graph), order] {
        AutodiffAnalysis a = analyseAutodiff(*graph);
        for (int k = 1; k < order; ++k) a = gradientOfGradient(a);
        return a;
    });
}

void AutodiffView::requestGradientOfGradient() {
    if (!analysis_) {
        Q_EMIT failed(tr("Gradient of gradient: no backward graph is shown"));
        return;
    }
    secondOrderRequest_ = true;
    setBusy(true);
    compute_.start([first = analysis_] { return gradientOfGradient(*first); });
}

void AutodiffView::setBusy(bool busy) {
    busy_->setVisible(busy);
    if (!busy) return;
    // The drawing stays until the new one arrives; what it shows is about to change.
    busy_->setText(secondOrderRequest_ ? tr("Differentiating again…") : tr("Computing the backward graph…"));
}

void AutodiffView::showFailure(const QString& message) {
    setBusy(false);
    if (secondOrderRequest_) {
        Q_EMIT failed(tr("Gradient of gradient: %1").arg(message));
        return;
    }
    clear();
    title_->setText(tr("Cannot differentiate: %1").arg(message));
    Q_EMIT failed(message);
}

void AutodiffView::clear() {
    if (compute_.isBusy()) compute_.cancel();
    setBusy(false);
    analysis_.reset();
    ++numericGeneration_;
    if (numericCancel_) numericCancel_->store(true);
    view_->clearGraph();
    overlays_->clearAll();
    if (forwardOverlays_) {
        forwardOverlays_->setNodeMarks(ForwardSavedLayer, {});
        forwardOverlays_->setNodeMarks(ForwardHoverLayer, {});
    }
    costs_->clear();
    numeric_->setRowCount(0);
    numericStatus_->clear();
    secondOrder_->setEnabled(false);
    Q_EMIT analysisChanged();
}

void AutodiffView::setAnalysis(std::shared_ptr<const AutodiffAnalysis> analysis) {
    setBusy(false);
    analysis_ = std::move(analysis);
    const AutodiffAnalysis& a = *analysis_;
    std::map<adj::NodeId, QColor> fills;
    for (adj::NodeId id : a.backward.forwardNodes) fills[id] = kForwardPart;
    std::map<adj::NodeId, NodeMark> saved;
    for (const adj::ValueRef& v : a.backward.savedValues) saved[v.node] = NodeMark{kSaved, true, tr("saved")};
    // Values of any type but f32 carry no gradient (token ids, masks, shapes, f64 and half values,
    // ir/element_types.h): the path stops there.
    int noGradient = 0;
    for (adj::NodeId id : a.backward.forwardNodes) {
        const adj::Graph& bg = a.backward.graph;
        if (bg.node(id).numOutputs() < 1 || !bg.hasType({id, 0}) || bg.type({id, 0}).dtype == adj::DType::F32) continue;
        ++noGradient;
        const QString type = QString::fromUtf8(adj::dtypeName(bg.type({id, 0}).dtype).data());
        if (auto it = saved.find(id); it != saved.end()) it->second.badge = tr("saved, %1: no gradient").arg(type);
        else saved[id] = NodeMark{kNoGradient, true, tr("%1: no gradient").arg(type)};
    }
    title_->setText(tr("<b>%1</b> &nbsp; %2 backward nodes; dashed orange: saved tensors;%3 hover a node to see its "
                       "partner.")
                        .arg(a.description.toHtmlEscaped())
                        .arg(a.costs.backwardNodes)
                        .arg(noGradient ? tr(" dashed grey: values of a type other than f32 (integers, bools, f64, f16), which carry no gradient;") : QString()));
    secondOrder_->setEnabled(a.order < 3);
    overlays_->clearAll();
    overlays_->setNodeFills(std::move(fills));
    overlays_->setNodeMarks(SavedLayer, saved);
    // The forward canvas shows the document's graph: its ids match the analysed copy (order 1).
    if (forwardOverlays_) forwardOverlays_->setNodeMarks(ForwardSavedLayer, a.order == 1 ? saved : std::map<adj::NodeId, NodeMark>{});
    adj::DotOptions drawing;
    drawing.layBackwardPassUpwards(a.backward.graph, a.backward.forwardNodes);
    // the model's collapsed modules, and their adjoints (d_<module>), as one box each, as on the
    // canvas (boxes only: see GroupDrawing::BoxesOnly)
    drawing.addGroups(a.backward.graph, adj::DotOptions::GroupDrawing::BoxesOnly);
    view_->showGraph(a.backward.graph, drawing);
    costs_->setReport(a.costs);
    startNumeric();
    Q_EMIT analysisChanged();
}

void AutodiffView::startNumeric() {
    numeric_->setRowCount(0);
    numericStatus_->setText(tr("Comparing with central differences…"));
    const int generation = ++numericGeneration_;
    numericWatcher_->setProperty("generation", generation);
    auto input = analysis_;
    if (numericCancel_) numericCancel_->store(true);
    numericCancel_ = std::make_shared<std::atomic<bool>>(false);
    numericResult_ = runOnPool<std::pair<std::vector<FiniteDifferenceRow>, QString>>(analysisThreadPool(), [input, cancel = numericCancel_] {
        try {
            return std::make_pair(compareWithFiniteDifferences(*input, cancel.get()), QString());
        } catch (const std::exception& e) {
            return std::make_pair(std::vector<FiniteDifferenceRow>{}, QString::fromUtf8(e.what()));
        }
    });
    numericWatcher_->setFuture(numericResult_.future());
}

void AutodiffView::showNumeric() {
    if (numericWatcher_->property("generation").toInt() != numericGeneration_) return;
    if (!numericResult_.isFinished()) return;
    const auto [rows, error] = numericResult_.result();
    if (!error.isEmpty()) {
        numericStatus_->setText(tr("Finite differences failed: %1").arg(error));
        Q_EMIT numericFinished();
        return;
    }
    numeric_->setRowCount(int(rows.size()));
    int agree = 0, compared = 0;
    for (int i = 0; i < int(rows.size()); ++i) {
        const FiniteDifferenceRow& r = rows[std::size_t(i)];
        auto set = [&](int col, const QString& text) { numeric_->setItem(i, col, new QTableWidgetItem(text)); };
        set(0, r.name);
        set(1, r.checked < r.elements ? tr("%1 (%2 of %3 entries checked)").arg(r.shape).arg(r.checked).arg(r.elements) : r.shape);
        set(2, QString::number(r.maxGradient, 'g', 4));
        ++compared;
        agree += r.agrees;
        set(3, QString::number(r.maxDifference, 'g', 3));
        set(4, QString::number(r.maxErrorEstimate, 'g', 3));
        set(5, r.agrees ? tr("yes") : tr("NO"));
        numeric_->item(i, 5)->setForeground(r.agrees ? QColor(20, 130, 40) : QColor(200, 20, 20));
    }
    QString status = tr("%1 of %2 values agree with central differences (random inputs, seed 7).").arg(agree).arg(compared);
    if (analysis_ && rows.size() < analysis_->backward.wrt.size())
        status += tr(" The other %1 values are not compared: a graph this size would take minutes.")
                      .arg(analysis_->backward.wrt.size() - rows.size());
    numericStatus_->setText(status);
    Q_EMIT numericFinished();
}

void AutodiffView::hoverBackwardNode(adj::NodeId id) {
    if (!analysis_) return;
    const AutodiffAnalysis& a = *analysis_;
    std::map<adj::NodeId, NodeMark> here, there;
    if (id != adj::kNoNode) {
        auto it = a.backward.adjointOf.find(id);
        const std::set<adj::NodeId> forward(a.backward.forwardNodes.begin(), a.backward.forwardNodes.end());
        adj::NodeId value = adj::kNoNode;
        if (it != a.backward.adjointOf.end()) value = it->second.node;
        else if (forward.count(id)) value = id;
        if (value != adj::kNoNode) {
            here[value] = NodeMark{kLinked, false, tr("value")};
            for (const auto& [adjoint, of] : a.backward.adjointOf)
                if (of.node == value) here[adjoint] = NodeMark{kLinked, false, tr("adjoint")};
            there[value] = NodeMark{kLinked, false, tr("value")};
        }
    }
    overlays_->setNodeMarks(HoverLayer, std::move(here));
    if (forwardOverlays_ && a.order == 1) forwardOverlays_->setNodeMarks(ForwardHoverLayer, std::move(there));
}

void AutodiffView::hoverForwardNode(adj::NodeId id) {
    if (!analysis_ || analysis_->order != 1) return;
    if (forwardOverlays_ && id == adj::kNoNode) forwardOverlays_->setNodeMarks(ForwardHoverLayer, {});
    std::map<adj::NodeId, NodeMark> here;
    if (id != adj::kNoNode)
        for (const auto& [adjoint, of] : analysis_->backward.adjointOf)
            if (of.node == id) here[adjoint] = NodeMark{kLinked, false, tr("adjoint")};
    if (!here.empty() && forwardOverlays_)
        forwardOverlays_->setNodeMarks(ForwardHoverLayer, {{id, NodeMark{kLinked, false, tr("value")}}});
    overlays_->setNodeMarks(HoverLayer, std::move(here));
}
