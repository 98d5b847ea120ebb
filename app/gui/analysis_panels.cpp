#include "analysis_panels.h"

#include <QActionGroup>
#include <QDockWidget>
#include <QMainWindow>
#include <QMenu>
#include <QPointer>
#include <QStatusBar>
#include <cmath>
#include <iterator>
#include <utility>

#include "autodiff_view.h"
#include "base/byte_size.h"
#include "canvas_overlays.h"
#include "fusion_panel.h"
#include "graph_document.h"
#include "graph_scene.h"
#include "graph_view.h"
#include "io/graphviz.h"
#include "ir/verifier.h"
#include "memory_view.h"
#include "partition_view.h"
#include "rewrite_timeline.h"
#include "roofline_chart.h"
#include "training_controller.h"
#include "training_dashboard.h"

namespace {
// The canvas overlay layers of the memory view: its hover mark and the activations its plan keeps
// for the backward pass (the autodiff view uses 0-1 and 10-11).
constexpr int kMemoryHoverLayer = 20;
constexpr int kMemoryKeptLayer = 21;
// the partition view's bytes received by each node from another device
constexpr int kPartitionLayer = 30;
// Training runs this long for the training view's viewReady (a screenshot shows curves).
constexpr int kTrainingReadyMs = 4000;

// (the colouring shows what it can of a graph with problems: verify fills in the types it can)
adj::Graph verifiedCopy(const adj::Graph& g) {
    adj::Graph copy = g;
    adj::verifyGraph(copy);
    return copy;
}
}  // namespace

AnalysisPanels::AnalysisPanels(QMainWindow* window, GraphDocument* document, GraphView* canvas, QMenu* viewMenu)
    : QObject(window), window_(window), document_(document), canvas_(canvas),
      fills_([this](std::map<adj::NodeId, QColor>&& fills) { canvasOverlays_->setNodeFills(std::move(fills)); },
             [this](const QString& message) {
                 canvasOverlays_->setNodeFills({});
                 report(tr("Cannot colour the nodes: %1").arg(message));
             }) {
    setObjectName(QStringLiteral("analysisPanels"));
    canvasOverlays_ = canvas->findChild<CanvasOverlays*>(QString(), Qt::FindDirectChildrenOnly);
    if (!canvasOverlays_) canvasOverlays_ = new CanvasOverlays(canvas);
    autodiff_ = new AutodiffView(canvas);
    rewrite_ = new RewriteTimeline;
    fusion_ = new FusionPanel;
    roofline_ = new RooflineChart;
    memory_ = new MemoryView;
    partition_ = new PartitionView;
    dashboard_ = new TrainingDashboard;
    controller_ = new TrainingController(this);
    controller_->attach(dashboard_);

    addDock(QStringLiteral("autodiff"), tr("Backward graph"), autodiff_, Qt::RightDockWidgetArea);
    addDock(QStringLiteral("roofline"), tr("Roofline"), roofline_, Qt::RightDockWidgetArea);
    addDock(QStringLiteral("rewrite"), tr("Rewrite timeline"), rewrite_, Qt::BottomDockWidgetArea);
    addDock(QStringLiteral("fusion"), tr("Fusion groups"), fusion_, Qt::BottomDockWidgetArea);
    addDock(QStringLiteral("memory"), tr("Memory"), memory_, Qt::BottomDockWidgetArea);
    addDock(QStringLiteral("partition"), tr("Partition over devices"), partition_, Qt::BottomDockWidgetArea);
    addDock(QStringLiteral("training"), tr("Training"), dashboard_, Qt::BottomDockWidgetArea);
    window_->tabifyDockWidget(docks_["rewrite"], docks_["fusion"]);
    window_->tabifyDockWidget(docks_["fusion"], docks_["memory"]);
    window_->tabifyDockWidget(docks_["memory"], docks_["partition"]);
    window_->tabifyDockWidget(docks_["partition"], docks_["training"]);
    window_->tabifyDockWidget(docks_["autodiff"], docks_["roofline"]);

    if (viewMenu) {
        QMenu* menu = viewMenu->addMenu(tr("&Analysis"));
        QAction* backward = menu->addAction(tr("Show &Backward Graph"), this, &AnalysisPanels::showBackwardGraph);
        backward->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_B));
        backward->setStatusTip(tr("Differentiate the graph and show the backward graph beside it"));
        QAction* second = menu->addAction(tr("&Gradient of Gradient"), this, [this] {
            QDockWidget* d = docks_["autodiff"];
            upToDate_.insert(QStringLiteral("autodiff"));
            d->show();
            d->raise();
            if (autodiff_->hasAnalysis() && !autodiff_->isComputing()) autodiff_->requestGradientOfGradient();
            else autodiff_->requestBackwardOf(snapshot(), 2);
        });
        second->setStatusTip(tr("Differentiate the backward graph again (a Hessian-vector product)"));
        struct Entry {
            const char* name;
            QString text;
            QKeySequence key;
        };
        const Entry entries[] = {{"rewrite", tr("&Rewrite Timeline"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R)},
                                 {"fusion", tr("&Fusion Groups"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_U)},
                                 {"roofline", tr("Roo&fline"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L)},
                                 {"memory", tr("&Memory"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_M)},
                                 {"partition", tr("&Partition over Devices"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D)},
                                 {"training", tr("&Training Dashboard"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T)}};
        for (const Entry& e : entries) {
            const QString name = QString::fromLatin1(e.name);
            QAction* a = menu->addAction(e.text, this, [this, name] {
                QString error;
                if (!showView(name, &error)) report(error);
            });
            a->setShortcut(e.key);
        }
        menu->addSeparator();
        QMenu* colour = menu->addMenu(tr("&Colour Nodes"));
        auto* group = new QActionGroup(colour);
        const std::pair<QString, Colouring> modes[] = {{tr("By Op &Group"), Colouring::None},
                                                       {tr("By Arithmetic &Intensity"), Colouring::Intensity},
                                                       {tr("By &Bound (Compute or Memory)"), Colouring::Bound}};
        for (const auto& [text, mode] : modes) {
            QAction* a = colour->addAction(text);
            a->setCheckable(true);
            a->setChecked(mode == Colouring::None);
            group->addAction(a);
            connect(a, &QAction::triggered, this, [this, m = mode] { setColouring(m); });
        }
        menu->addSeparator();
        for (const QString& name : viewNames()) menu->addAction(docks_[name]->toggleViewAction());
    }

    refreshTimer_.setSingleShot(true);
    refreshTimer_.setInterval(400);
    connect(&refreshTimer_, &QTimer::timeout, this, &AnalysisPanels::refresh);
    connect(document_, &GraphDocument::graphChanged, &refreshTimer_, qOverload<>(&QTimer::start));
    connect(document_, &GraphDocument::nodeChanged, &refreshTimer_, qOverload<>(&QTimer::start));
    connect(document_, &GraphDocument::graphChanged, this, [this] {
        upToDate_.clear();
        snapshot_.reset();
    });
    connect(document_, &GraphDocument::nodeChanged, this, [this] {
        upToDate_.clear();
        snapshot_.reset();
    });
    // A new graph reuses node ids for other nodes: drop every mark keyed by the old ids at once,
    // before the debounced refresh recomputes what is visible.
    connect(document_, &GraphDocument::replaced, this, [this] {
        // training belongs to the graph it started on: a new document starts afresh, and what
        // the old run still had queued is not drawn on the new graph's edges (showLiveAdjoints)
        controller_->reset();
        ++documentGeneration_;
        autodiff_->clear();
        fills_.cancel();
        canvasOverlays_->clearAll();
        liveValues_.clear();
    });

    connect(roofline_, &RooflineChart::nodeClicked, this, [this](adj::NodeId id) {
        if (id == adj::kNoNode) return;
        canvas_->centerOnNode(id);
        roofline_->highlightNode(id);
    });
    // hovering a bar marks its node on the canvas, hovering a node outlines its bars
    connect(memory_, &MemoryView::nodeHovered, this, [this](adj::NodeId id) {
        std::map<adj::NodeId, NodeMark> marks;
        if (id != adj::kNoNode) marks[id] = NodeMark{QColor(214, 30, 160), false, tr("bytes")};
        canvasOverlays_->setNodeMarks(kMemoryHoverLayer, std::move(marks));
    });
    connect(canvasOverlays_, &CanvasOverlays::nodeHovered, memory_, &MemoryView::highlightNode);
    connect(memory_, &MemoryView::nodeClicked, this, [this](adj::NodeId id) {
        if (id == adj::kNoNode || !document_->graph().contains(id)) return;
        canvas_->graphScene()->selectNode(id);
        canvas_->centerOnNode(id);
    });
    // Deferred: the scene also reports selection changes while it deletes its items.
    connect(canvas_->graphScene(), &QGraphicsScene::selectionChanged, this, [this] {
        QTimer::singleShot(0, this, [this, canvas = QPointer<GraphView>(canvas_)] {
            if (!canvas) return;
            const auto ids = canvas->graphScene()->selectedNodeIds();
            roofline_->highlightNodes(ids);  // a selected module: each of its kernels
            memory_->highlightNode(ids.empty() ? adj::kNoNode : ids.front());
        });
    });
    connect(controller_, &TrainingController::snapshotReady, this, &AnalysisPanels::showLiveAdjoints);
    connect(canvasOverlays_, &CanvasOverlays::nodeHovered, this, &AnalysisPanels::showHoveredTensor);
    connect(autodiff_, &AutodiffView::failed, this, [this](const QString& m) { viewAnalysisFailed(QStringLiteral("autodiff"), m); });
    connect(rewrite_, &RewriteTimeline::failed, this, [this](const QString& m) { viewAnalysisFailed(QStringLiteral("rewrite"), m); });
    connect(fusion_, &FusionPanel::failed, this, [this](const QString& m) { viewAnalysisFailed(QStringLiteral("fusion"), m); });
    connect(roofline_, &RooflineChart::failed, this, [this](const QString& m) { viewAnalysisFailed(QStringLiteral("roofline"), m); });
    connect(partition_, &PartitionView::placeRequested, this, [this](const QString& device) {
        const auto ids = canvas_->graphScene()->selectedNodeIds();
        if (ids.empty()) {
            report(tr("Select the nodes to place on the canvas first"));
            return;
        }
        document_->placeNodes(ids, device);
        upToDate_.insert(QStringLiteral("partition"));  // (simulated here, on the placed graph)
        partition_->request(snapshot(), QStringLiteral("placement"));
    });
    connect(partition_, &PartitionView::failed, this, [this](const QString& m) { viewAnalysisFailed(QStringLiteral("partition"), m); });
    connect(partition_, &PartitionView::pictureChanged, this, [this] {
        showPartition();
        if (pendingReady_ == QLatin1String("partition") && !partition_->isComputing())
            QTimer::singleShot(100, this, [this] { emitReadyIf(QStringLiteral("partition"), !partition_->isComputing()); });
    });
    connect(memory_, &MemoryView::failed, this, [this](const QString& m) { viewAnalysisFailed(QStringLiteral("memory"), m); });
    connect(memory_, &MemoryView::pictureChanged, this, [this] {
        // the activations the backward pass keeps, marked on the canvas while the view is shown
        std::map<adj::NodeId, NodeMark> kept;
        if (docks_["memory"]->isVisible())
            for (const MemoryBar& b : memory_->picture().bars)
                if (b.kind == MemoryBar::Kind::Kept && b.node != adj::kNoNode && document_->graph().contains(b.node))
                    kept[b.node] = NodeMark{memoryBarColour(MemoryBar::Kind::Kept), true, tr("kept")};
        canvasOverlays_->setNodeMarks(kMemoryKeptLayer, std::move(kept));
        if (pendingReady_ == QLatin1String("memory") && !memory_->isComputing())
            QTimer::singleShot(100, this, [this] { emitReadyIf(QStringLiteral("memory"), !memory_->isComputing()); });
    });
    // A canvas that cannot be laid out (over its budget, Graphviz failing) fails its view.
    connect(autodiff_->backwardView(), &GraphView::layoutFailed, this, [this](const QString& m) { viewAnalysisFailed(QStringLiteral("autodiff"), m); });
    connect(rewrite_->view(), &GraphView::layoutFailed, this, [this](const QString& m) { viewAnalysisFailed(QStringLiteral("rewrite"), m); });
    connect(fusion_->view(), &GraphView::layoutFailed, this, [this](const QString& m) { viewAnalysisFailed(QStringLiteral("fusion"), m); });
    // viewReady once the latest result is applied and its canvas laid out (an older drawing
    // finishing its layout while a newer analysis computes does not count).
    connect(rewrite_->view(), &GraphView::layoutApplied, this,
            [this] { emitReadyIf(QStringLiteral("rewrite"), !rewrite_->isComputing()); });
    connect(fusion_->view(), &GraphView::layoutApplied, this,
            [this] { emitReadyIf(QStringLiteral("fusion"), !fusion_->isComputing()); });
    connect(autodiff_->backwardView(), &GraphView::layoutApplied, this, [this] {
        emitReadyIf(QStringLiteral("autodiff"), !autodiff_->isComputing() && !autodiff_->isNumericPending());
    });
    connect(autodiff_, &AutodiffView::numericFinished, this, [this] {
        emitReadyIf(QStringLiteral("autodiff"), !autodiff_->isComputing() && !autodiff_->backwardView()->isLayoutPending());
    });
    connect(roofline_, &RooflineChart::dotsChanged, this, [this] {
        roofline_->highlightNodes(canvas_->graphScene()->selectedNodeIds());
        // (the chart paints on the next frames)
        if (pendingReady_ == QLatin1String("roofline") && !roofline_->isComputing())
            QTimer::singleShot(300, this, [this] { emitReadyIf(QStringLiteral("roofline"), !roofline_->isComputing()); });
    });
}

void AnalysisPanels::emitReadyIf(const QString& name, bool drawn) {
    if (drawn && pendingReady_ == name) Q_EMIT viewReady(std::exchange(pendingReady_, QString()));
}

void AnalysisPanels::viewAnalysisFailed(const QString& name, const QString& message) {
    report(message);
    if (pendingReady_ == name) {
        pendingReady_.clear();
        Q_EMIT viewFailed(name, message);
    }
}

AnalysisPanels::~AnalysisPanels() { controller_->stop(); }

QStringList AnalysisPanels::viewNames() {
    return {QStringLiteral("autodiff"), QStringLiteral("rewrite"), QStringLiteral("fusion"), QStringLiteral("roofline"),
            QStringLiteral("memory"), QStringLiteral("partition"), QStringLiteral("training")};
}

QDockWidget* AnalysisPanels::addDock(const QString& name, const QString& title, QWidget* content, int area) {
    auto* dock = new QDockWidget(title, window_);
    dock->setObjectName(name + QStringLiteral("Dock"));
    dock->setWidget(content);
    window_->addDockWidget(Qt::DockWidgetArea(area), dock);
    dock->hide();
    docks_[name] = dock;
    connect(dock, &QDockWidget::visibilityChanged, this, [this, name](bool visible) {
        if (!visible && name == QLatin1String("memory")) {  // its canvas marks go with it
            canvasOverlays_->setNodeMarks(kMemoryKeptLayer, {});
            canvasOverlays_->setNodeMarks(kMemoryHoverLayer, {});
        }
        if (!visible && name == QLatin1String("partition")) showPartition();  // its colours go with it
        // (a view shown again over an unchanged graph keeps its state, such as the rewrite step)
        if (visible && name != QLatin1String("training") && pendingReady_ != name && !upToDate_.contains(name)) refreshView(name);
    });
    return dock;
}

QDockWidget* AnalysisPanels::dock(const QString& name) const {
    auto it = docks_.find(name);
    return it == docks_.end() ? nullptr : it->second;
}

void AnalysisPanels::report(const QString& message) {
    if (window_->statusBar()) window_->statusBar()->showMessage(message, 8000);
}

std::shared_ptr<const adj::Graph> AnalysisPanels::snapshot() {
    if (!snapshot_) snapshot_ = std::make_shared<const adj::Graph>(document_->graph());
    return snapshot_;
}

std::function<adj::MachineModel()> AnalysisPanels::machineSource() {
    if (!std::exchange(machineStarted_, true)) machine_ = runOnPool<adj::MachineModel>(analysisThreadPool(), [] { return adj::machineModel(); });
    // (a worker waiting on a measurement that has not started runs it itself: no deadlock)
    return [machine = machine_]() -> adj::MachineModel { return machine.result(); };
}

void AnalysisPanels::showBackwardGraph() {
    QString error;
    if (!showView(QStringLiteral("autodiff"), &error)) report(error);
}

bool AnalysisPanels::showView(const QString& name, QString* error) {
    QDockWidget* d = dock(name);
    if (!d) {
        if (error) *error = tr("unknown view '%1' (expected one of %2)").arg(name, viewNames().join(QStringLiteral(", ")));
        return false;
    }
    pendingReady_ = name;
    d->show();
    d->raise();
    // Give the dock most of the window: these views need room.
    const bool bottom = window_->dockWidgetArea(d) == Qt::BottomDockWidgetArea;
    if (!bottom) {
        // the document's side docks beside it (graph text, diagnostics, history) as one tab
        // group, so that the view gets the column's height, not a strip under four docks
        QDockWidget* first = nullptr;
        for (const char* side : {"graphTextDock", "diagnosticsDock", "historyDock"}) {
            auto* dock = window_->findChild<QDockWidget*>(QLatin1String(side));
            // (a dock behind a tab is not visible, but not hidden: only those the user closed stay out)
            if (!dock || dock->isFloating() || dock->isHidden() || window_->dockWidgetArea(dock) != window_->dockWidgetArea(d)) continue;
            if (!first) first = dock;
            else if (!window_->tabifiedDockWidgets(first).contains(dock)) window_->tabifyDockWidget(first, dock);
        }
        if (first) first->raise();
        d->raise();
        window_->resizeDocks({d}, {int(window_->width() * 0.55)}, Qt::Horizontal);
        // the view most of the column's height, the side docks what is left
        QList<QDockWidget*> column{d};
        QList<int> heights{int(window_->height() * 0.8)};
        for (const char* side : {"inspectorDock", "graphTextDock"}) {
            auto* dock = window_->findChild<QDockWidget*>(QLatin1String(side));
            if (dock && !dock->isHidden() && !dock->isFloating() && window_->dockWidgetArea(dock) == window_->dockWidgetArea(d))
                column << dock, heights << int(window_->height() * 0.1);
        }
        window_->resizeDocks(column, heights, Qt::Vertical);
    } else {
        window_->resizeDocks({d}, {int(window_->height() * 0.6)}, Qt::Vertical);
    }
    const bool ok = refreshView(name, error);
    if (!ok) pendingReady_.clear();
    return ok;
}

bool AnalysisPanels::refreshView(const QString& name, QString* error) {
    upToDate_.insert(name);
    const bool opening = pendingReady_ == name;
    if (name == QLatin1String("autodiff")) {
        autodiff_->requestBackwardOf(snapshot());
    } else if (name == QLatin1String("rewrite")) {
        // The film starts at its first step (opened from the menu, --view, or after an edit).
        rewrite_->request(snapshot(), RewriteTimeline::StartAt::FirstStep);
    } else if (name == QLatin1String("fusion")) {
        fusion_->request(snapshot());
    } else if (name == QLatin1String("roofline")) {
        roofline_->request(snapshot(), machineSource());
    } else if (name == QLatin1String("memory")) {
        memory_->request(snapshot());
    } else if (name == QLatin1String("partition")) {
        partition_->request(snapshot());
    } else if (name == QLatin1String("training")) {
        controller_->setModel(document_->graph());
        trainedGeneration_ = documentGeneration_;
        // Training starts when asked (the dashboard's Start), not when the view opens: a class
        // watches it start. A screenshot asks for a run (setTrainingStartsWhenShown).
        if (opening && startTrainingWhenShown_ && !controller_->isRunning()) {
            controller_->start(dashboard_->settings());
            QTimer::singleShot(kTrainingReadyMs, this, [this] { emitReadyIf(QStringLiteral("training"), true); });
        } else if (opening) {
            QTimer::singleShot(0, this, [this] { emitReadyIf(QStringLiteral("training"), true); });
        }
    } else {
        if (error) *error = tr("unknown view '%1'").arg(name);
        return false;
    }
    return true;
}

void AnalysisPanels::refresh() {
    for (const auto& [name, d] : docks_) {
        if (!d->isVisible() || upToDate_.contains(name)) continue;
        if (name == QLatin1String("autodiff") && !autodiff_->hasAnalysis() && !autodiff_->isComputing()) continue;
        if (name == QLatin1String("training")) {
            if (!controller_->isRunning()) {
                controller_->setModel(document_->graph());
                trainedGeneration_ = documentGeneration_;
            }
            continue;
        }
        refreshView(name);
    }
    applyColouring();
}

QColor AnalysisPanels::deviceColour(int d) {
    if (d == adj::parallel::kAllDevices) return {215, 215, 215};
    if (d == adj::parallel::kSplitDevices) return {120, 200, 200};
    static const QColor kColours[] = {{110, 160, 235}, {245, 170, 80}, {120, 200, 120}, {225, 120, 170},
                                      {170, 140, 225}, {200, 190, 90}, {100, 200, 210}, {230, 120, 110}};
    return kColours[std::size_t(d) % std::size(kColours)];
}

void AnalysisPanels::showPartition() {
    const PartitionPicture& p = partition_->picture();
    const adj::parallel::PartitionResult* r = p.result();
    if (!docks_["partition"]->isVisible() || !r) {  // the document's own colours come back
        canvasOverlays_->setNodeMarks(kPartitionLayer, {});
        canvasOverlays_->setEdgeWeights({});
        applyColouring();
        return;
    }
    const adj::Graph& g = document_->graph();
    std::map<adj::NodeId, QColor> fills;
    for (const auto& [name, device] : r->deviceOfNode)
        if (auto id = g.findNode(name)) fills[*id] = deviceColour(device);
    fills_.cancel();
    canvasOverlays_->setNodeFills(std::move(fills));
    double most = 0;
    for (const adj::parallel::CrossEdge& e : r->crossEdges) most = std::max(most, e.bytes);
    std::map<adj::ValueRef, double> weights;
    std::map<adj::NodeId, NodeMark> marks;
    std::map<adj::NodeId, double> received;
    for (const adj::parallel::CrossEdge& e : r->crossEdges) {
        const auto from = g.findNode(e.from), to = g.findNode(e.to);
        if (!from || !to || e.fromDevice > e.toDevice) continue;  // (forward edges: the adjoints go back over the same)
        for (const adj::ValueRef& in : g.node(*to).inputs)
            if (in.node == *from) weights[in] = 0.35 + 0.65 * (most > 0 ? e.bytes / most : 1);
        received[*to] += e.bytes;
    }
    for (const auto& [id, bytes] : received)
        marks[id] = NodeMark{QColor(210, 70, 90), false, QStringLiteral("← %1").arg(QString::fromStdString(adj::readableBytes(std::int64_t(bytes))))};
    canvasOverlays_->setEdgeWeights(std::move(weights), QColor(210, 70, 90));
    canvasOverlays_->setNodeMarks(kPartitionLayer, std::move(marks));
}

void AnalysisPanels::setColouring(Colouring colouring) {
    colouring_ = colouring;
    applyColouring();
}

void AnalysisPanels::applyColouring() {
    switch (colouring_) {
    case Colouring::None:
        fills_.cancel();
        canvasOverlays_->setNodeFills({});
        break;
    case Colouring::Intensity: fills_.start([g = snapshot()] { return intensityFills(verifiedCopy(*g)); }); break;
    case Colouring::Bound:
        fills_.start([g = snapshot(), machine = machineSource()] { return boundFills(verifiedCopy(*g), machine()); });
        break;
    }
}

void AnalysisPanels::showLiveAdjoints(const TrainingSnapshot& s) {
    if (trainedGeneration_ != documentGeneration_) return;  // a run on a graph no longer open
    if (s.probeVersion == probeVersion_) return;
    probeVersion_ = s.probeVersion;
    liveValues_ = s.values;
    // Edge width and colour on a log scale between the smallest and largest mean |adjoint|.
    std::map<adj::ValueRef, double> weights;
    double lo = 1e300, hi = 0;
    for (const auto& [v, m] : s.adjointMagnitudes)
        if (m > 0) lo = std::min(lo, m), hi = std::max(hi, m);
    for (const auto& [v, m] : s.adjointMagnitudes) {
        if (m <= 0 || hi <= 0) {
            weights[v] = 0;
            continue;
        }
        weights[v] = hi > lo ? (std::log(m) - std::log(lo)) / (std::log(hi) - std::log(lo)) : 1.0;
    }
    canvasOverlays_->setEdgeWeights(std::move(weights));
    if (canvasOverlays_->hoveredNode() != adj::kNoNode) showHoveredTensor(canvasOverlays_->hoveredNode());
}

void AnalysisPanels::showHoveredTensor(adj::NodeId id) {
    auto it = liveValues_.find(id);
    if (it == liveValues_.end() || !document_->graph().contains(id)) return;
    dashboard_->showTensor(tr("%1 %2").arg(QString::fromStdString(document_->graph().node(id).name),
                                           QString::fromStdString(adj::shapeLabel(it->second.shape()))),
                           it->second);
}

AnalysisPanels* installAnalysisPanels(QMainWindow* window, GraphDocument* document, GraphView* canvas, QMenu* viewMenu) {
    return new AnalysisPanels(window, document, canvas, viewMenu);
}

AnalysisPanels* analysisPanels(QMainWindow* window) {
    return window->findChild<AnalysisPanels*>(QStringLiteral("analysisPanels"), Qt::FindDirectChildrenOnly);
}
