#include "memory_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "base/byte_size.h"
#include "base/errors.h"

namespace {

QString readableBytes(qint64 bytes) { return QString::fromStdString(adj::readableBytes(bytes)); }

/// The document node a node of the analysed graph stands for: the same name, or for a
/// recomputation the node it copies.
adj::NodeId documentNodeOf(const adj::Graph& g, adj::NodeId id, const adj::Graph& document) {
    const adj::Node& n = g.node(id);
    if (auto r = n.meta.find("recompute_of"); r != n.meta.end())
        if (auto d = document.findNode(r->second)) return *d;
    if (auto d = document.findNode(n.name)) return *d;
    return adj::kNoNode;
}

constexpr double kCurveShare = 0.34;  // of the height, above the lanes
constexpr double kMargin = 6;

}  // namespace

QColor memoryBarColour(MemoryBar::Kind kind) {
    switch (kind) {
        case MemoryBar::Kind::Kept: return {235, 135, 30};
        case MemoryBar::Kind::Forward: return {70, 125, 220};
        case MemoryBar::Kind::Backward: return {60, 170, 90};
        case MemoryBar::Kind::Recomputed: return {150, 80, 200};
        case MemoryBar::Kind::Output: return {140, 140, 140};
    }
    return Qt::gray;
}

MemoryPicture memoryPicture(const adj::train::MemoryReport& report, const adj::Graph& document) {
    using adj::BufferPlacement;
    const adj::MemoryPlan& plan = report.plan;
    const adj::Graph& g = report.graph;
    MemoryPicture p;
    std::vector<int> writers(plan.values.size(), 0);
    for (const adj::PlannedValue& v : plan.values)
        if (v.placement == BufferPlacement::InPlace)
            if (const adj::PlannedValue* b = plan.find(v.aliasOf)) ++writers[std::size_t(b - plan.values.data())];
    for (std::size_t i = 0; i < plan.values.size(); ++i) {
        const adj::PlannedValue& v = plan.values[i];
        if (v.placement != BufferPlacement::Arena && v.placement != BufferPlacement::Own) continue;
        MemoryBar bar;
        bar.name = QString::fromStdString(g.valueName(v.value));
        if (writers[i] > 0) bar.name += QObject::tr(" (then %n written in place over it)", nullptr, writers[i]);
        bar.bytes = v.bytes;
        bar.start = v.defined;
        bar.end = v.lastUse;
        const adj::Node& n = g.node(v.value.node);
        if (n.meta.count("recompute_of")) bar.kind = MemoryBar::Kind::Recomputed;
        else if (v.placement == BufferPlacement::Own) bar.kind = MemoryBar::Kind::Output;
        else if (i < report.savedBuffers.size() && report.savedBuffers[i]) bar.kind = MemoryBar::Kind::Kept;
        else if (report.forward.empty() || report.isForward(v.value.node)) bar.kind = MemoryBar::Kind::Forward;
        else bar.kind = MemoryBar::Kind::Backward;
        bar.node = documentNodeOf(g, v.value.node, document);
        p.bars.push_back(std::move(bar));
    }
    // lanes: by start, each bar into the first lane free since before it starts
    std::stable_sort(p.bars.begin(), p.bars.end(), [](const MemoryBar& a, const MemoryBar& b) { return a.start < b.start; });
    std::vector<int> laneEnd;
    for (MemoryBar& bar : p.bars) {
        auto it = std::find_if(laneEnd.begin(), laneEnd.end(), [&](int e) { return e < bar.start; });
        if (it == laneEnd.end()) {
            laneEnd.push_back(bar.end);
            bar.lane = int(laneEnd.size()) - 1;
        } else {
            *it = bar.end;
            bar.lane = int(it - laneEnd.begin());
        }
    }
    p.lanes = int(laneEnd.size());
    p.firstStep = int(plan.schedule.size());
    for (std::size_t s = 0; s < plan.schedule.size(); ++s)
        if (!adj::isSource(g.node(plan.schedule[s]).op)) {
            p.firstStep = int(s);
            break;
        }
    if (p.firstStep >= int(plan.schedule.size())) p.firstStep = 0;
    p.live.assign(report.live.begin(), report.live.end());
    p.peakStep = report.peakStep;
    if (std::size_t(p.peakStep) < plan.schedule.size()) p.peakNode = QString::fromStdString(g.node(plan.schedule[std::size_t(p.peakStep)]).name);
    p.plannedPeak = plan.plannedPeakBytes();
    p.lowerBound = plan.lowerBoundBytes;
    p.noReuse = plan.noReuseBytes;
    p.activationBytes = report.activationBytes;
    p.recomputed = int(report.recompute.recomputed.size());
    QString s = QObject::tr("%1, %2 steps: planned peak %3 (lower bound %4, %5 without reuse)")
                    .arg(QString::fromStdString(report.mode))
                    .arg(plan.schedule.size())
                    .arg(readableBytes(p.plannedPeak), readableBytes(p.lowerBound), readableBytes(p.noReuse));
    if (!report.forward.empty()) s += QObject::tr("; activations kept for the backward pass %1").arg(readableBytes(p.activationBytes));
    if (p.recomputed > 0) s += QObject::tr("; %n forward nodes recomputed", nullptr, p.recomputed);
    // the tensors live at the peak, largest first
    std::vector<const MemoryBar*> atPeak;
    for (const MemoryBar& b : p.bars)
        if (b.start <= p.peakStep && p.peakStep <= b.end) atPeak.push_back(&b);
    std::stable_sort(atPeak.begin(), atPeak.end(), [](const MemoryBar* a, const MemoryBar* b) { return a->bytes > b->bytes; });
    for (const MemoryBar* b : atPeak) p.livePeak << QStringLiteral("%1 (%2)").arg(b->name.section(QLatin1Char(' '), 0, 0), readableBytes(b->bytes));
    if (!atPeak.empty()) {
        constexpr int kShown = 6;
        s += QObject::tr("\nLive at the peak (step %1, %2): %3").arg(p.peakStep).arg(p.peakNode, p.livePeak.mid(0, kShown).join(QStringLiteral(", ")));
        if (p.livePeak.size() > kShown) s += QObject::tr(" and %1 more").arg(p.livePeak.size() - kShown);
    }
    p.summary = s;
    return p;
}

// ---- MemoryTimeline ----

MemoryTimeline::MemoryTimeline(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("memoryTimeline"));
    setMouseTracking(true);
    setMinimumHeight(160);
}

void MemoryTimeline::setPicture(const MemoryPicture* picture) {
    picture_ = picture;
    hovered_ = -1;
    update();
}

void MemoryTimeline::setCurveTop(qint64 bytes) {
    curveTop_ = bytes;
    update();
}

void MemoryTimeline::highlightNode(adj::NodeId id) {
    highlighted_ = id;
    update();
}

QRectF MemoryTimeline::curveArea() const {
    const QRectF r = QRectF(rect()).adjusted(kMargin, kMargin, -kMargin, -kMargin);
    return {r.left(), r.top(), r.width(), r.height() * kCurveShare};
}

QRectF MemoryTimeline::laneArea() const {
    const QRectF r = QRectF(rect()).adjusted(kMargin, kMargin, -kMargin, -kMargin);
    const QRectF c = curveArea();
    return {r.left(), c.bottom() + 8, r.width(), r.bottom() - c.bottom() - 8};
}

double MemoryTimeline::laneHeight() const {
    if (!picture_ || picture_->lanes == 0) return 0;
    return std::clamp(laneArea().height() / picture_->lanes, 1.0, 14.0);
}

double MemoryTimeline::xOf(double step) const {
    const QRectF a = laneArea();
    const double first = picture_ ? picture_->firstStep : 0;
    const double steps = picture_ ? std::max<double>(1, double(picture_->live.size()) - first) : 1;
    return a.left() + a.width() * (step - first) / steps;
}

QRectF MemoryTimeline::barRect(std::size_t i) const {
    if (!picture_ || i >= picture_->bars.size()) return {};
    const MemoryBar& b = picture_->bars[i];
    const double h = laneHeight();
    const QRectF a = laneArea();
    return {xOf(b.start), a.top() + b.lane * h, std::max(2.0, xOf(b.end + 1) - xOf(b.start)), std::max(1.0, h - 1)};
}

int MemoryTimeline::barAt(const QPointF& p) const {
    if (!picture_) return -1;
    for (std::size_t i = 0; i < picture_->bars.size(); ++i)
        if (barRect(i).contains(p)) return int(i);
    return -1;
}

void MemoryTimeline::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), palette().base());
    if (!picture_ || picture_->live.empty()) {
        painter.setPen(palette().text().color());
        painter.drawText(rect(), Qt::AlignCenter, tr("No memory plan"));
        return;
    }
    painter.setRenderHint(QPainter::Antialiasing);
    const MemoryPicture& p = *picture_;
    // the live bytes, filled, with the peak marked
    const QRectF c = curveArea();
    const qint64 top = std::max<qint64>({1, curveTop_, *std::max_element(p.live.begin(), p.live.end())});
    QPainterPath curve;
    curve.moveTo(xOf(p.firstStep), c.bottom());
    for (std::size_t s = std::size_t(p.firstStep); s < p.live.size(); ++s) {
        const double y = c.bottom() - c.height() * double(p.live[s]) / double(top);
        curve.lineTo(xOf(double(s)), y);
        curve.lineTo(xOf(double(s) + 1), y);
    }
    curve.lineTo(xOf(double(p.live.size())), c.bottom());
    curve.closeSubpath();
    painter.setPen(QPen(QColor(40, 90, 170), 1.5));
    painter.setBrush(QColor(120, 160, 230, 110));
    painter.drawPath(curve);
    const double px = xOf(p.peakStep + 0.5);
    painter.setPen(QPen(QColor(200, 30, 30), 1.5, Qt::DashLine));
    painter.drawLine(QPointF(px, c.top()), QPointF(px, laneArea().bottom()));
    painter.setPen(palette().text().color());
    const QString label = tr("peak %1 at step %2 (%3)").arg(readableBytes(p.live[std::size_t(p.peakStep)])).arg(p.peakStep).arg(p.peakNode);
    const QFontMetricsF fm(font());
    const double lx = std::min(px + 4, double(width()) - fm.horizontalAdvance(label) - kMargin);
    painter.drawText(QPointF(std::max(kMargin, lx), c.top() + fm.ascent()), label);
    // the lanes of bars
    painter.setRenderHint(QPainter::Antialiasing, false);
    for (std::size_t i = 0; i < p.bars.size(); ++i) {
        const QRectF r = barRect(i);
        if (r.top() > laneArea().bottom()) continue;  // (more lanes than fit: the rest is cut)
        const MemoryBar& b = p.bars[i];
        painter.fillRect(r, memoryBarColour(b.kind));
        if ((b.node != adj::kNoNode && b.node == highlighted_) || int(i) == hovered_) {
            painter.setPen(QPen(QColor(214, 30, 160), 2));
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(r.adjusted(-1, -1, 1, 1));
        }
    }
}

void MemoryTimeline::mouseMoveEvent(QMouseEvent* e) {
    const int i = barAt(e->position());
    if (i == hovered_) return;
    hovered_ = i;
    update();
    if (i < 0) {
        QToolTip::hideText();
        Q_EMIT nodeHovered(adj::kNoNode);
        return;
    }
    const MemoryBar& b = picture_->bars[std::size_t(i)];
    QToolTip::showText(e->globalPosition().toPoint(),
                       tr("%1\n%2, steps %3 to %4").arg(b.name, readableBytes(b.bytes)).arg(b.start).arg(b.end), this);
    Q_EMIT nodeHovered(b.node);
}

void MemoryTimeline::mousePressEvent(QMouseEvent* e) {
    const int i = barAt(e->position());
    if (i >= 0) Q_EMIT nodeClicked(picture_->bars[std::size_t(i)].node);
}

void MemoryTimeline::leaveEvent(QEvent*) {
    if (hovered_ < 0) return;
    hovered_ = -1;
    update();
    Q_EMIT nodeHovered(adj::kNoNode);
}

// ---- MemoryView ----

MemoryView::MemoryView(QWidget* parent)
    : QWidget(parent), pass_(new QComboBox), checkpoint_(new QComboBox), order_(new QComboBox),
      compare_(new QCheckBox(tr("Compare orders"))), summary_(new QLabel), caption_(new QLabel), comparedCaption_(new QLabel),
      timeline_(new MemoryTimeline), comparedTimeline_(new MemoryTimeline),
      compute_([this](MemoryPicture&& p) { apply(std::move(p)); },
               [this](const QString& m) {
                   picture_ = {};
                   summary_->setText(tr("Memory: %1").arg(m));
                   timeline_->setPicture(&picture_);
                   showComparison();
                   Q_EMIT pictureChanged();
                   Q_EMIT failed(m);
               }) {
    setObjectName(QStringLiteral("memoryView"));
    pass_->addItem(tr("Forward pass"), int(adj::train::MemoryPass::Forward));
    pass_->addItem(tr("Backward graph"), int(adj::train::MemoryPass::Backward));
    pass_->addItem(tr("Training step"), int(adj::train::MemoryPass::TrainingStep));
    pass_->setCurrentIndex(1);
    for (const char* c : {"none", "sqrt", "every:2", "every:4"}) checkpoint_->addItem(QString::fromLatin1(c));
    checkpoint_->setToolTip(tr("Recompute activations in the backward pass instead of keeping them: sqrt keeps the ends of "
                               "sqrt(n) segments (Chen et al. 2016), every:K every K-th node"));
    order_->addItem(tr("Topological order"), int(adj::ScheduleOrder::Topological));
    order_->addItem(tr("Min-peak order"), int(adj::ScheduleOrder::MinPeak));
    order_->setToolTip(tr("The order the nodes run in decides what is live together"));
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Plan:")));
    controls->addWidget(pass_);
    controls->addWidget(new QLabel(tr("Checkpoints:")));
    controls->addWidget(checkpoint_);
    controls->addWidget(order_);
    compare_->setToolTip(tr("Plan the graph in both orders and draw them one above the other, on one byte scale"));
    controls->addWidget(compare_);
    controls->addStretch(1);
    auto* legend = new QLabel;
    QString l;
    const std::pair<MemoryBar::Kind, QString> kinds[] = {{MemoryBar::Kind::Kept, tr("kept for backward")},
                                                        {MemoryBar::Kind::Forward, tr("forward")},
                                                        {MemoryBar::Kind::Backward, tr("backward")},
                                                        {MemoryBar::Kind::Recomputed, tr("recomputed")},
                                                        {MemoryBar::Kind::Output, tr("output")}};
    for (const auto& [kind, text] : kinds)
        l += QStringLiteral("<span style='color:%1'>&#9632;</span> %2&nbsp;&nbsp;").arg(memoryBarColour(kind).name(), text);
    legend->setText(l);
    controls->addWidget(legend);
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(summary_);
    layout->addWidget(caption_);
    layout->addWidget(timeline_, 1);
    layout->addWidget(comparedCaption_);
    layout->addWidget(comparedTimeline_, 1);
    comparedTimeline_->setObjectName(QStringLiteral("memoryTimelineMinPeak"));
    timeline_->setPicture(&picture_);
    showComparison();
    auto again = [this] {
        if (graph_) request(graph_);
    };
    connect(pass_, &QComboBox::currentIndexChanged, this, again);
    connect(checkpoint_, &QComboBox::currentIndexChanged, this, again);
    connect(order_, &QComboBox::currentIndexChanged, this, again);
    connect(compare_, &QCheckBox::toggled, this, [this, again](bool on) {
        order_->setEnabled(!on);
        again();
    });
    connect(timeline_, &MemoryTimeline::nodeHovered, this, &MemoryView::nodeHovered);
    connect(timeline_, &MemoryTimeline::nodeClicked, this, &MemoryView::nodeClicked);
    connect(comparedTimeline_, &MemoryTimeline::nodeHovered, this, &MemoryView::nodeHovered);
    connect(comparedTimeline_, &MemoryTimeline::nodeClicked, this, &MemoryView::nodeClicked);
}

adj::train::MemoryRequest MemoryView::currentRequest() const {
    adj::train::MemoryRequest r;
    r.pass = adj::train::MemoryPass(pass_->currentData().toInt());
    if (auto p = adj::parseCheckpointPolicy(checkpoint_->currentText().toStdString())) r.checkpoint = *p;
    r.order = adj::ScheduleOrder(order_->currentData().toInt());
    return r;
}

std::function<MemoryPicture()> MemoryView::computation(std::shared_ptr<const adj::Graph> graph) const {
    const bool compare = compare_->isChecked();
    return [graph, request = currentRequest(), compare] {
        if (!compare) return memoryPictureOrFallback(*graph, request);
        adj::train::MemoryRequest topo = request, low = request;
        topo.order = adj::ScheduleOrder::Topological;
        low.order = adj::ScheduleOrder::MinPeak;
        MemoryPicture p = memoryPictureOrFallback(*graph, topo);
        p.compared = std::make_shared<const MemoryPicture>(memoryPictureOrFallback(*graph, low));
        return p;
    };
}

MemoryPicture memoryPictureOrFallback(const adj::Graph& document, const adj::train::MemoryRequest& request) {
    try {
        return memoryPicture(adj::train::memoryReport(document, request), document);
    } catch (const adj::Error&) {
        // a model without a loss has no backward graph of its own: show its training step, or
        // else its forward pass, and say so
        if (request.pass != adj::train::MemoryPass::Backward) throw;
        for (auto pass : {adj::train::MemoryPass::TrainingStep, adj::train::MemoryPass::Forward}) {
            adj::train::MemoryRequest other = request;
            other.pass = pass;
            try {
                MemoryPicture p = memoryPicture(adj::train::memoryReport(document, other), document);
                p.summary = QObject::tr("(no scalar output to differentiate) ") + p.summary;
                return p;
            } catch (const adj::Error&) {
            }
        }
        throw;
    }
}

void MemoryView::request(std::shared_ptr<const adj::Graph> graph) {
    graph_ = graph;
    summary_->setText(tr("Memory: computing…"));
    compute_.start(computation(std::move(graph)));
}

bool MemoryView::requestNow(std::shared_ptr<const adj::Graph> graph, QString* error) {
    graph_ = graph;
    return compute_.runNow(computation(std::move(graph)), error);
}

void MemoryView::apply(MemoryPicture&& p) {
    picture_ = std::move(p);
    summary_->setText(picture_.summary);
    timeline_->setPicture(&picture_);
    showComparison();
    Q_EMIT pictureChanged();
}

void MemoryView::showComparison() {
    const MemoryPicture* other = picture_.compared.get();
    caption_->setVisible(other != nullptr);
    comparedCaption_->setVisible(other != nullptr);
    comparedTimeline_->setVisible(other != nullptr);
    comparedTimeline_->setPicture(other);
    if (!other) {
        timeline_->setCurveTop(0);
        caption_->clear();
        comparedCaption_->clear();
        return;
    }
    auto top = [](const MemoryPicture& p) { return p.live.empty() ? qint64(0) : *std::max_element(p.live.begin(), p.live.end()); };
    const qint64 scale = std::max(top(picture_), top(*other));
    timeline_->setCurveTop(scale);
    comparedTimeline_->setCurveTop(scale);
    caption_->setText(tr("<b>Topological order</b>: planned peak %1").arg(readableBytes(picture_.plannedPeak)));
    QString c = tr("<b>Min-peak order</b>: planned peak %1").arg(readableBytes(other->plannedPeak));
    if (other->plannedPeak < picture_.plannedPeak && picture_.plannedPeak > 0)
        c += tr(" (%1x of the topological order's)").arg(double(other->plannedPeak) / double(picture_.plannedPeak), 0, 'f', 2);
    else c += tr(" (the greedy order plans no lower peak here: the topological order is kept)");
    comparedCaption_->setText(c);
}

QString MemoryView::comparisonText() const {
    if (!picture_.compared) return {};
    return caption_->text() + QLatin1Char('\n') + comparedCaption_->text();
}

void MemoryView::setCompareOrders(bool on) { compare_->setChecked(on); }

void MemoryView::setPass(adj::train::MemoryPass pass) { pass_->setCurrentIndex(pass_->findData(int(pass))); }
void MemoryView::setCheckpoint(const QString& policy) { checkpoint_->setCurrentText(policy); }
void MemoryView::setOrder(adj::ScheduleOrder order) { order_->setCurrentIndex(order_->findData(int(order))); }
QString MemoryView::summaryText() const { return summary_->text(); }
void MemoryView::highlightNode(adj::NodeId id) {
    timeline_->highlightNode(id);
    comparedTimeline_->highlightNode(id);
}
