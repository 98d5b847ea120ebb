#include "roofline_chart.h"

#include <QChart>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <set>

#include "base/errors.h"
#include "chart_palette.h"
#include "cost_panel.h"
#include "ir/verifier.h"

RooflineChart::RooflineChart(QWidget* parent)
    : QChartView(parent), roof_(new QLineSeries), memoryDots_(new QScatterSeries), computeDots_(new QScatterSeries),
      highlight_(new QScatterSeries), axisX_(new QLogValueAxis), axisY_(new QLogValueAxis), title_(tr("Roofline")),
      compute_([this](Plot&& p) { setDots(std::move(p.dots), p.machine); },
               [this](const QString& m) {
                   clearGraph();
                   title_ = tr("Roofline: %1").arg(m);
                   setBusy(false);
                   Q_EMIT dotsChanged();
                   Q_EMIT failed(m);
               }) {
    setObjectName(QStringLiteral("rooflineChart"));
    setRenderHint(QPainter::Antialiasing);
    auto* c = new QChart;
    c->setTitle(tr("Roofline"));
    roof_->setName(tr("machine roofs"));
    roof_->setPen(QPen(QColor(60, 60, 60), 2.5));
    memoryDots_->setName(tr("memory-bound"));
    memoryDots_->setColor(QColor(240, 140, 30));
    memoryDots_->setMarkerSize(11);
    computeDots_->setName(tr("compute-bound"));
    computeDots_->setColor(QColor(50, 110, 230));
    computeDots_->setMarkerSize(11);
    highlight_->setName(tr("selected"));
    highlight_->setColor(Qt::transparent);
    highlight_->setBorderColor(QColor(214, 30, 160));
    highlight_->setPen(QPen(QColor(214, 30, 160), 3));
    highlight_->setMarkerSize(22);
    for (QAbstractSeries* s : std::initializer_list<QAbstractSeries*>{roof_, memoryDots_, computeDots_, highlight_}) c->addSeries(s);
    axisX_->setTitleText(tr("arithmetic intensity (FLOP/byte)"));
    axisX_->setLabelFormat(QStringLiteral("%g"));
    axisX_->setBase(10);
    axisY_->setTitleText(tr("attainable FLOP/s"));
    axisY_->setLabelFormat(QStringLiteral("%.0e"));
    axisY_->setBase(10);
    c->addAxis(axisX_, Qt::AlignBottom);
    c->addAxis(axisY_, Qt::AlignLeft);
    for (QAbstractSeries* s : c->series()) {
        s->attachAxis(axisX_);
        s->attachAxis(axisY_);
    }
    c->legend()->setAlignment(Qt::AlignBottom);
    setChart(c);
    chartFollowsPalette(this);
    auto onClick = [this](const QPointF& p) { Q_EMIT nodeClicked(nodeNearest(p)); };
    connect(memoryDots_, &QScatterSeries::clicked, this, onClick);
    connect(computeDots_, &QScatterSeries::clicked, this, onClick);
    auto onHover = [this](const QPointF& p, bool entered) {
        if (!entered) return QToolTip::hideText();
        QToolTip::showText(QCursor::pos(), tooltipAt(p), this);
    };
    connect(memoryDots_, &QScatterSeries::hovered, this, onHover);
    connect(computeDots_, &QScatterSeries::hovered, this, onHover);
}

QString RooflineChart::tooltipAt(const QPointF& value) const {
    // the dots drawn within a marker's radius of the point (in pixels, where the chart is laid out)
    const QPointF at = chart()->mapToPosition(value, memoryDots_);
    const double reach = memoryDots_->markerSize() / 2 + 2;
    std::vector<const RooflineDot*> here;
    for (const RooflineDot& d : dots_) {
        const QPointF p = chart()->mapToPosition(QPointF(d.intensity, d.attainable), memoryDots_);
        if (QLineF(p, at).length() <= reach) here.push_back(&d);
    }
    if (here.empty()) return {};
    std::sort(here.begin(), here.end(), [](const RooflineDot* a, const RooflineDot* b) { return a->flops > b->flops; });
    const QString flop = QStringLiteral("FLOP"), byte = QStringLiteral("B");
    QString text = here.size() == 1 ? QString()
                                     : tr("<b>%1 kernels</b> at this intensity (%2)<br>")
                                           .arg(here.size())
                                           .arg(here.front()->computeBound ? tr("compute-bound") : tr("memory-bound"));
    constexpr std::size_t kListed = 8;
    for (std::size_t i = 0; i < here.size() && i < kListed; ++i) {
        const RooflineDot& d = *here[i];
        text += tr("<b>%1</b>: %2, %3 moved, %4 FLOP/B, %5/s attainable%6")
                    .arg(d.label.toHtmlEscaped(), formatQuantity(d.flops, flop), formatQuantity(d.bytes, byte))
                    .arg(d.intensity, 0, 'g', 3)
                    .arg(formatQuantity(d.attainable, flop))
                    .arg(here.size() == 1 ? (d.computeBound ? tr(" (compute-bound)") : tr(" (memory-bound)")) : QString());
        if (i + 1 < here.size() && i + 1 < kListed) text += QStringLiteral("<br>");
    }
    if (here.size() > kListed) text += tr("<br>\u2026 and %1 more (click to select the nearest)").arg(here.size() - kListed);
    return text;
}

void RooflineChart::clearGraph() {
    dots_.clear();
    roof_->clear();
    memoryDots_->clear();
    computeDots_->clear();
    highlight_->clear();
    highlighted_ = adj::kNoNode;
}

void RooflineChart::setGraph(const adj::Graph& graph, const adj::MachineModel& machine) {
    compute_.cancel();
    setDots(rooflineDots(graph, machine), machine);
}

void RooflineChart::request(std::shared_ptr<const adj::Graph> graph, std::function<adj::MachineModel()> machine) {
    compute_.start([graph = std::move(graph), machine = std::move(machine)] {
        adj::Graph copy = *graph;
        const auto problems = adj::verifyGraph(copy);
        if (!problems.empty()) throw adj::GraphError("cannot draw the roofline of an invalid graph: " + problems.front().message);
        Plot p;
        p.machine = machine();
        p.dots = rooflineDots(copy, p.machine);
        return p;
    });
    setBusy(true);
}

void RooflineChart::setBusy(bool busy) {
    chart()->setTitle(busy ? tr("%1 (computing…)").arg(title_) : title_);
}

void RooflineChart::setDots(std::vector<RooflineDot> dots, const adj::MachineModel& machine) {
    clearGraph();
    dots_ = std::move(dots);
    double lo = machine.ridge() / 100, hi = machine.ridge() * 100;
    for (const RooflineDot& d : dots_) {
        lo = std::min(lo, d.intensity / 3);
        hi = std::max(hi, d.intensity * 3);
    }
    lo = std::max(lo, 1e-4);
    const double decadeLo = std::pow(10.0, std::floor(std::log10(lo)));
    const double decadeHi = std::pow(10.0, std::ceil(std::log10(hi)));
    // At most kMarkersAcross markers per bound across the axis, a few pixels apart at the widest,
    // well inside an 11-pixel marker; one replace per series (appending point by point redraws the
    // chart thousands of times).
    constexpr double kMarkersAcross = 400;
    const RooflineMarkers markers = rooflineMarkers(dots_, std::log10(decadeHi / decadeLo) / kMarkersAcross);
    computeDots_->replace(markers.compute);
    memoryDots_->replace(markers.memory);
    roof_->append(decadeLo, machine.attainable(decadeLo));
    roof_->append(machine.ridge(), machine.peakFlops);
    roof_->append(decadeHi, machine.peakFlops);
    axisX_->setRange(decadeLo, decadeHi);
    const double yLo = std::pow(10.0, std::floor(std::log10(std::max(machine.attainable(decadeLo), 1.0))));
    const double yHi = std::pow(10.0, std::ceil(std::log10(machine.peakFlops * 1.5)));
    axisY_->setRange(yLo, yHi);
    title_ = tr("Roofline: %1 GFLOP/s peak, %2 GB/s, ridge at %3 FLOP/byte (%4 threads)")
                 .arg(machine.peakFlops / 1e9, 0, 'f', 1)
                 .arg(machine.bandwidth / 1e9, 0, 'f', 1)
                 .arg(machine.ridge(), 0, 'f', 2)
                 .arg(machine.threads);
    setBusy(compute_.isBusy());
    Q_EMIT dotsChanged();
}

adj::NodeId RooflineChart::nodeNearest(const QPointF& value) const {
    adj::NodeId best = adj::kNoNode;
    double bestDistance = 1e300;
    for (const RooflineDot& d : dots_) {
        const double dx = std::log10(d.intensity) - std::log10(std::max(value.x(), 1e-12));
        const double dy = std::log10(d.attainable) - std::log10(std::max(value.y(), 1e-12));
        const double distance = dx * dx + dy * dy;
        if (distance < bestDistance) {
            bestDistance = distance;
            best = d.node;
        }
    }
    return best;
}

void RooflineChart::highlightNode(adj::NodeId id) { highlightNodes(id == adj::kNoNode ? std::vector<adj::NodeId>{} : std::vector<adj::NodeId>{id}); }

void RooflineChart::highlightNodes(const std::vector<adj::NodeId>& ids) {
    highlight_->clear();
    highlighted_ = adj::kNoNode;
    const std::set<adj::NodeId> wanted(ids.begin(), ids.end());
    QList<QPointF> rings;
    for (const RooflineDot& d : dots_)
        if (wanted.count(d.node)) {
            rings.append(QPointF(d.intensity, d.attainable));
            if (highlighted_ == adj::kNoNode) highlighted_ = d.node;
        }
    highlight_->replace(rings);  // (one update for a module's dozens of kernels)
}

int RooflineChart::highlightedCount() const { return int(highlight_->count()); }
