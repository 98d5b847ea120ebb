#include "rewrite_timeline.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <utility>

#include "base/errors.h"
#include "canvas_overlays.h"
#include "cost_panel.h"
#include "graph_view.h"
#include "ir/verifier.h"
#include "passes/trace_replay.h"
#include "train/memory_report.h"

namespace {
const QColor kRemoved(215, 40, 40);
const QColor kAdded(20, 150, 60);
}  // namespace

RewriteTimeline::RewriteTimeline(QWidget* parent)
    : QWidget(parent), view_(new GraphView(this)), overlays_(new CanvasOverlays(view_)), preset_(new QComboBox(this)),
      source_(new QComboBox(this)), passes_(new QListWidget(this)), run_(new QPushButton(tr("Run"), this)), slider_(new QSlider(Qt::Horizontal, this)),
      stepLabel_(new QLabel(this)), costs_(new QTableWidget(4, 4, this)), busy_(new QLabel(this)),
      optimize_([this](Optimized&& r) { applyOptimized(std::move(r)); }, [this](const QString& m) { showOptimizeFailure(m); }),
      replay_([this](adj::ReplayedStep&& r) { applyReplay(std::move(r)); },
              [this](const QString& m) {
                  updateBusy();
                  stepLabel_->setText(tr("<b>Cannot show step %1:</b> %2").arg(step_).arg(m.toHtmlEscaped()));
              }) {
    setObjectName(QStringLiteral("rewriteTimeline"));
    auto* controls = new QWidget(this);
    auto* side = new QVBoxLayout(controls);
    side->setContentsMargins(0, 0, 0, 0);
    auto* presetRow = new QHBoxLayout;
    presetRow->addWidget(new QLabel(tr("Preset"), controls));
    for (int level = 0; level <= adj::kMaxOptLevel; ++level) preset_->addItem(QStringLiteral("-O%1").arg(level));
    presetRow->addWidget(preset_, 1);
    presetRow->addWidget(run_);
    side->addLayout(presetRow);
    auto* sourceRow = new QHBoxLayout;
    sourceRow->addWidget(new QLabel(tr("Graph"), controls));
    source_->addItem(tr("As drawn"), int(Source::Drawn));
    source_->addItem(tr("Backward graph"), int(Source::Backward));
    source_->setToolTip(tr("Backward graph: the graph with the reverse-mode gradients of its first scalar output (a model without "
                           "one: its training step), where the checkpoint pass recomputes activations"));
    sourceRow->addWidget(source_, 1);
    side->addLayout(sourceRow);
    passes_->setToolTip(tr("The passes run in this order; check or uncheck one to add or leave it out."));
    side->addWidget(passes_, 1);
    stepLabel_->setWordWrap(true);
    stepLabel_->setTextFormat(Qt::RichText);
    stepLabel_->setMinimumHeight(QFontMetrics(font()).height() * 3);
    side->addWidget(stepLabel_);
    costs_->setHorizontalHeaderLabels({tr("Before"), tr("After"), tr("Δ step"), tr("Δ total")});
    costs_->setVerticalHeaderLabels({tr("FLOPs"), tr("Bytes"), tr("Kernels"), tr("Intensity")});
    costs_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    costs_->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    costs_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    costs_->setFixedHeight(costs_->horizontalHeader()->sizeHint().height() + 4 * costs_->verticalHeader()->defaultSectionSize() + 6);
    side->addWidget(costs_);

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(controls);
    split->addWidget(view_);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 3);
    split->setSizes({320, 960});
    controls->setMaximumWidth(420);

    auto* sliderRow = new QHBoxLayout;
    auto* prev = new QToolButton(this);
    prev->setArrowType(Qt::LeftArrow);
    auto* next = new QToolButton(this);
    next->setArrowType(Qt::RightArrow);
    slider_->setRange(0, 0);
    slider_->setTickPosition(QSlider::TicksBelow);
    slider_->setPageStep(1);
    sliderRow->addWidget(prev);
    sliderRow->addWidget(slider_, 1);
    sliderRow->addWidget(next);
    busy_->setStyleSheet(QStringLiteral("color: #5a6270; font-style: italic;"));
    busy_->hide();
    sliderRow->addWidget(busy_);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(split, 1);
    layout->addLayout(sliderRow);

    connect(preset_, &QComboBox::currentIndexChanged, this, [this](int i) { setPreset(i); });
    connect(run_, &QPushButton::clicked, this, [this] {
        if (graph_) request(graph_);
        else Q_EMIT failed(tr("no graph to optimize"));
    });
    connect(slider_, &QSlider::valueChanged, this, &RewriteTimeline::setStep);
    // a step's drawing scrolls to what it changed (once the scene's new size has reached the
    // scroll bars: the next turn of the event loop)
    connect(view_, &GraphView::layoutApplied, this, [this] {
        recordPlacedNodes();
        if (focus_ == adj::kNoNode) return;
        QTimer::singleShot(0, this, [this, id = focus_] {
            if (focus_ == id) view_->centerOnNode(id, true);
        });
    });
    connect(prev, &QToolButton::clicked, this, [this] { slider_->setValue(slider_->value() - 1); });
    connect(next, &QToolButton::clicked, this, [this] { slider_->setValue(slider_->value() + 1); });
    preset_->setCurrentIndex(adj::kMaxOptLevel);
    setPreset(adj::kMaxOptLevel);
}

void RewriteTimeline::setPreset(int level) {
    if (preset_->currentIndex() != level) {
        preset_->setCurrentIndex(level);  // re-enters through the signal
        return;
    }
    passes_->clear();
    const std::vector<std::string> inLevel = adj::pipelinePasses(level);
    auto add = [this](const std::string& p, bool checked, const QString& note) {
        auto* item = new QListWidgetItem(QString::fromStdString(p), passes_);
        item->setToolTip(QString::fromStdString(adj::findPass(p)->description) + note);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
    };
    for (const std::string& p : inLevel) add(p, true, {});
    for (const std::string& p : adj::knownPasses())
        if (std::find(inLevel.begin(), inLevel.end(), p) == inLevel.end()) add(p, false, tr(" (not in -O%1)").arg(level));
}

bool RewriteTimeline::setPassChecked(const QString& pass, bool checked) {
    for (int i = 0; i < passes_->count(); ++i)
        if (passes_->item(i)->text() == pass) {
            passes_->item(i)->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
            return true;
        }
    return false;
}

void RewriteTimeline::setSource(Source source) { source_->setCurrentIndex(source_->findData(int(source))); }

RewriteTimeline::Source RewriteTimeline::source() const { return Source(source_->currentData().toInt()); }

std::vector<std::string> RewriteTimeline::checkedPasses() const {
    std::vector<std::string> out;
    for (int i = 0; i < passes_->count(); ++i)
        if (passes_->item(i)->checkState() == Qt::Checked) out.push_back(passes_->item(i)->text().toStdString());
    return out;
}

void RewriteTimeline::setGraph(const adj::Graph& graph) {
    optimize_.cancel();
    replay_.cancel();
    updateBusy();
    graph_ = std::make_shared<const adj::Graph>(graph);
    trace_.reset();
    step_ = 0;
    const QSignalBlocker block(slider_);
    slider_->setRange(0, 0);
    overlays_->clearAll();
    view_->showGraph(*graph_);
    stepLabel_->setText(tr("Choose passes and press Run to record the rewrites."));
    costs_->clearContents();
    Q_EMIT traceChanged();
}

int RewriteTimeline::stepCount() const { return trace_ ? int(trace_->steps.size()) : 0; }

int RewriteTimeline::busiestStep(const adj::RewriteTrace& trace) {
    std::size_t best = 0, most = 0;
    for (std::size_t k = 0; k < trace.steps.size(); ++k) {
        const auto& step = trace.steps[k];
        if (step.removed.size() + step.added.size() > most) most = step.removed.size() + step.added.size(), best = k;
    }
    return most > 0 ? int(best) + 1 : 0;
}

RewriteTimeline::Optimized RewriteTimeline::optimize(std::shared_ptr<const adj::Graph> graph, std::vector<std::string> passes,
                                                     StartAt start, Source source) {
    adj::Graph copy = *graph;
    if (source == Source::Backward) {
        adj::train::MemoryRequest backward;
        backward.pass = adj::train::MemoryPass::Backward;
        backward.keepForwardOutputs = true;  // the loss stays: -O2 keeps it, the checkpoint pass finds it
        try {
            copy = adj::train::passGraph(copy, backward).graph;
        } catch (const adj::Error&) {
            backward.pass = adj::train::MemoryPass::TrainingStep;  // a model: its training step
            try {
                copy = adj::train::passGraph(copy, backward).graph;
            } catch (const adj::Error&) {
                throw adj::GraphError("no backward graph: the graph has no scalar output to differentiate and is not a model to train");
            }
        }
    }
    const auto problems = adj::verifyGraph(copy);
    if (!problems.empty()) throw adj::GraphError("cannot optimize an invalid graph: " + problems.front().message);
    auto trace = std::make_shared<adj::RewriteTrace>();
    adj::OptimizeOptions options;
    options.passes = std::move(passes);
    if (options.passes.empty()) options.level = 0;
    options.trace = trace.get();
    adj::optimizeGraph(copy, options);
    return Optimized{std::move(graph), std::move(trace), start};
}

bool RewriteTimeline::run(QString* error) {
    if (!graph_) {
        if (error) *error = tr("no graph to optimize");
        return false;
    }
    updateBusy();
    return optimize_.runNow([graph = graph_, passes = checkedPasses(), source = source()] {
        return optimize(graph, passes, StartAt::FirstStep, source);
    }, error);
}

void RewriteTimeline::request(std::shared_ptr<const adj::Graph> graph, StartAt start) {
    optimize_.start([graph = std::move(graph), passes = checkedPasses(), start, source = source()] {
        return optimize(graph, passes, start, source);
    });
    updateBusy();
}

void RewriteTimeline::applyOptimized(Optimized&& r) {
    graph_ = std::move(r.graph);
    trace_ = std::move(r.trace);
    const int start = r.start == StartAt::BusiestStep ? std::max(busiestStep(*trace_), 1) : 1;
    {
        const QSignalBlocker block(slider_);
        slider_->setRange(0, stepCount());
        slider_->setValue(stepCount() > 0 ? start : 0);
    }
    step_ = -1;
    reframe_ = true;
    placed_.clear();  // a new film: laid out afresh
    setStep(slider_->value());
    updateBusy();
    Q_EMIT traceChanged();
}

void RewriteTimeline::showOptimizeFailure(const QString& message) {
    trace_.reset();
    step_ = 0;
    replay_.cancel();
    updateBusy();
    {
        const QSignalBlocker block(slider_);
        slider_->setRange(0, 0);
    }
    overlays_->clearAll();
    view_->clearGraph();
    costs_->clearContents();
    stepLabel_->setText(tr("<b>Failed:</b> %1").arg(message.toHtmlEscaped()));
    Q_EMIT traceChanged();
    Q_EMIT failed(message);
}

void RewriteTimeline::updateBusy() {
    busy_->setText(optimize_.isBusy() ? tr("Optimizing…") : tr("Replaying…"));
    busy_->setVisible(isComputing());
}

void RewriteTimeline::setStep(int k) {
    if (!trace_) return;
    k = std::clamp(k, 0, stepCount());
    if (k == step_) return;
    step_ = k;
    if (slider_->value() != k) {
        const QSignalBlocker block(slider_);
        slider_->setValue(k);
    }
    const adj::CostSummary start = trace_->steps.empty() ? adj::CostSummary{} : trace_->steps.front().before;
    if (k == 0) {
        stepLabel_->setText(trace_->steps.empty() ? tr("No rule applied: the graph is already optimal for these passes.")
                                                  : tr("<b>Before any rewrite</b> (%1 steps recorded)").arg(stepCount()));
        if (!trace_->steps.empty()) showCosts(start, start, start);
        replay_.start([trace = trace_] { return adj::ReplayedStep{adj::replayInitialGraph(*trace), {}, {}}; });
    } else {
        const adj::RewriteStep& s = trace_->steps[std::size_t(k - 1)];
        // the module the step works in (the group its new nodes joined), when the graph has modules
        const std::string group = s.added.empty() ? std::string() : s.added.front().group;
        stepLabel_->setText(tr("<b>Step %1/%2</b> &nbsp; pass <b>%3</b>, rule <b>%4</b> at <i>%5</i>%9<br>"
                               "<span style='color:#c02020'>removed %6</span> · <span style='color:#149040'>added %7</span>%8")
                                .arg(k)
                                .arg(stepCount())
                                .arg(QString::fromStdString(s.pass).toHtmlEscaped(), QString::fromStdString(s.rule).toHtmlEscaped(),
                                     QString::fromStdString(s.root).toHtmlEscaped())
                                .arg(s.removed.size())
                                .arg(s.added.size())
                                .arg(s.retargeted.empty()      ? QString()
                                     : s.retargeted.size() == 1 ? tr(" · 1 input now reads the copy")
                                                                : tr(" · %1 inputs now read the copy").arg(s.retargeted.size()))
                                .arg(group.empty() ? QString() : tr(" in %1").arg(QString::fromStdString(group).toHtmlEscaped())));
        showCosts(s.before, s.after, start);
        replay_.start([trace = trace_, k] { return adj::replayTo(*trace, k - 1); });
    }
    updateBusy();
    Q_EMIT stepChanged(k);
}

void RewriteTimeline::applyReplay(adj::ReplayedStep&& r) {
    updateBusy();
    std::map<adj::NodeId, NodeMark> marks;
    for (adj::NodeId id : r.removed) marks[id] = NodeMark{kRemoved, true, QStringLiteral("−")};
    for (adj::NodeId id : r.added) marks[id] = NodeMark{kAdded, false, QStringLiteral("+")};
    std::map<adj::NodeId, QColor> fills;
    for (adj::NodeId id : r.removed) fills[id] = QColor(255, 215, 215);
    for (adj::NodeId id : r.added) fills[id] = QColor(205, 245, 210);
    overlays_->clearAll();
    overlays_->setNodeFills(std::move(fills));
    overlays_->setNodeMarks(0, std::move(marks));
    focus_ = !r.added.empty() ? r.added.front() : !r.removed.empty() ? r.removed.front() : adj::kNoNode;
    auto graph = std::make_shared<adj::Graph>(std::move(r.graph));
    pinPlacedNodes(*graph, r);
    drawn_ = graph;
    view_->showGraph(*graph, {}, !std::exchange(reframe_, false));
}

void RewriteTimeline::recordPlacedNodes() {
    if (!drawn_) return;
    for (const GraphNodeItem* item : view_->graphScene()->nodeItems()) {
        const adj::NodeId id = item->nodeId();
        if (!drawn_->contains(id)) continue;  // outputs' pseudo nodes
        placed_.try_emplace(drawn_->node(id).name, item->pos());
    }
}

void RewriteTimeline::pinPlacedNodes(adj::Graph& graph, const adj::ReplayedStep& step) const {
    if (placed_.empty()) return;  // the first drawing of a film: the layout places everything
    auto pin = [&](adj::NodeId id, QPointF p) {
        graph.node(id).meta["x"] = QString::number(p.x(), 'g', 10).toStdString();
        graph.node(id).meta["y"] = QString::number(p.y(), 'g', 10).toStdString();
    };
    auto placedAt = [&](adj::NodeId id, QPointF* p) {
        auto it = placed_.find(graph.node(id).name);
        if (it == placed_.end()) return false;
        *p = it->second;
        return true;
    };
    std::vector<adj::NodeId> unplaced;
    for (adj::NodeId id : graph.liveTopoOrder()) {
        QPointF p;
        if (placedAt(id, &p)) pin(id, p);
        else unplaced.push_back(id);
    }
    for (adj::NodeId id : graph.nodeIds()) {  // (nodes no output reads)
        QPointF p;
        if (!graph.node(id).meta.count("x") && placedAt(id, &p)) pin(id, p);
    }
    // What the step removes marks where its replacement goes: beside it, to the right.
    QPointF removedAt;
    int removed = 0;
    for (adj::NodeId id : step.removed) {
        QPointF p;
        if (placedAt(id, &p)) removedAt += p, ++removed;
    }
    int beside = 0;
    constexpr double kStepX = 150, kStepY = 70;
    for (adj::NodeId id : unplaced) {
        QPointF at;
        const bool added = std::find(step.added.begin(), step.added.end(), id) != step.added.end();
        if (added && removed > 0) {
            at = removedAt / removed + QPointF(kStepX * (1 + beside / 3), kStepY * (beside % 3 - 1));
            ++beside;
        } else {
            // below the inputs that have a place (set just above, in topological order)
            QPointF sum;
            int n = 0;
            for (const adj::ValueRef& in : graph.node(id).inputs) {
                QPointF p;
                if (metaPosition(graph.node(in.node), &p)) sum += p, ++n;
            }
            if (n == 0) continue;  // nothing to go by: the layout's place
            at = sum / n + QPointF(0, kStepY);
        }
        pin(id, at);
    }
}

QString RewriteTimeline::stepText() const { return stepLabel_->text(); }

void RewriteTimeline::showCosts(const adj::CostSummary& before, const adj::CostSummary& after, const adj::CostSummary& start) {
    auto set = [&](int row, int col, const QString& text, double delta = 0) {
        auto* item = new QTableWidgetItem(text);
        item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        if (col >= 2 && delta != 0) item->setForeground(delta < 0 ? QColor(20, 130, 40) : QColor(200, 60, 20));
        costs_->setItem(row, col, item);
    };
    const QString flop = QStringLiteral("FLOP"), byte = QStringLiteral("B");
    set(0, 0, formatQuantity(before.flops, flop));
    set(0, 1, formatQuantity(after.flops, flop));
    set(0, 2, signedQuantity(after.flops - before.flops, flop), after.flops - before.flops);
    set(0, 3, signedQuantity(after.flops - start.flops, flop), after.flops - start.flops);
    set(1, 0, formatQuantity(before.bytes, byte));
    set(1, 1, formatQuantity(after.bytes, byte));
    set(1, 2, signedQuantity(after.bytes - before.bytes, byte), after.bytes - before.bytes);
    set(1, 3, signedQuantity(after.bytes - start.bytes, byte), after.bytes - start.bytes);
    auto count = [](std::int64_t v) { return (v > 0 ? QStringLiteral("+") : QString()) + QString::number(v); };
    set(2, 0, QString::number(before.kernels));
    set(2, 1, QString::number(after.kernels));
    set(2, 2, count(after.kernels - before.kernels), double(after.kernels - before.kernels));
    set(2, 3, count(after.kernels - start.kernels), double(after.kernels - start.kernels));
    auto ratio = [](double v) { return QString::number(v, 'f', 3); };
    auto dratio = [](double v) { return (v > 0 ? QStringLiteral("+") : QString()) + QString::number(v, 'f', 3); };
    set(3, 0, ratio(before.intensity()));
    set(3, 1, ratio(after.intensity()));
    // Higher intensity is better: colour its delta the other way round.
    set(3, 2, dratio(after.intensity() - before.intensity()), before.intensity() - after.intensity());
    set(3, 3, dratio(after.intensity() - start.intensity()), start.intensity() - after.intensity());
}
