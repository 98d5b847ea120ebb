#include "partition_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMouseEvent>
#include <QPushButton>
#include <QPainter>
#include <QSlider>
#include <QSpinBox>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <map>

#include "base/byte_size.h"
#include "base/errors.h"
#include "ir/verifier.h"

namespace {

QString bytesText(double bytes) { return QString::fromStdString(adj::readableBytes(std::int64_t(bytes))); }

QString msText(double seconds) { return QString::number(seconds * 1e3, 'f', 3); }

/// "25 GB/s", "3.1 GB/s", "300 GB/s": decimal units, as links are sold.
QString rateText(double bytesPerSecond) {
    const char* units[] = {"B/s", "KB/s", "MB/s", "GB/s", "TB/s"};
    int u = 0;
    while (bytesPerSecond >= 1000 && u < 4) bytesPerSecond /= 1000, ++u;
    return QStringLiteral("%1 %2").arg(QString::number(bytesPerSecond, 'g', 3), QLatin1String(units[u]));
}

constexpr double kNameWidth = 96;
constexpr double kAxisHeight = 20;

}  // namespace

// ---- PartitionGantt ----

PartitionGantt::PartitionGantt(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("partitionGantt"));
    setMouseTracking(true);
    setMinimumHeight(120);
}

QColor PartitionGantt::phaseColour(adj::parallel::TaskPhase phase) {
    using adj::parallel::TaskPhase;
    switch (phase) {
        case TaskPhase::Forward: return {70, 125, 220};
        case TaskPhase::Backward: return {60, 170, 90};
        case TaskPhase::Update: return {150, 80, 200};
        case TaskPhase::Collective: return {235, 135, 30};
        case TaskPhase::Activation: return {210, 70, 90};
    }
    return Qt::gray;
}

void PartitionGantt::setResult(const adj::parallel::PartitionResult* result) {
    result_ = result;
    linkRows_.clear();
    if (result_) {
        std::vector<std::pair<int, int>> rows;
        for (const adj::parallel::SimTask& t : result_->tasks.tasks())
            if (t.kind == adj::parallel::TaskKind::Transfer && t.bytes > 0) rows.emplace_back(t.link, t.device);
        std::sort(rows.begin(), rows.end());
        rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
        linkRows_ = std::move(rows);
    }
    update();
}

QStringList PartitionGantt::rowNames() const {
    QStringList names;
    if (!result_) return names;
    const adj::parallel::Cluster& c = result_->cluster;
    for (const adj::parallel::ClusterDevice& d : c.devices) names << QString::fromStdString(d.name);
    for (const auto& [link, from] : linkRows_) {
        const adj::parallel::ClusterLink& l = c.links[std::size_t(link)];
        const int to = l.a == from ? l.b : l.a;
        names << QStringLiteral("%1 \u2192 %2").arg(QString::fromStdString(c.devices[std::size_t(from)].name),
                                                    QString::fromStdString(c.devices[std::size_t(to)].name));
    }
    return names;
}

int PartitionGantt::rowOf(const adj::parallel::SimTask& t) const {
    if (t.kind == adj::parallel::TaskKind::Compute) return t.device;
    const auto it = std::find(linkRows_.begin(), linkRows_.end(), std::make_pair(t.link, t.device));
    return it == linkRows_.end() ? -1 : int(result_->cluster.devices.size()) + int(it - linkRows_.begin());
}

QRectF PartitionGantt::plotArea() const { return QRectF(kNameWidth, 4, std::max(10.0, width() - kNameWidth - 8), std::max(10.0, height() - kAxisHeight - 8)); }

QRectF PartitionGantt::taskRect(std::size_t i) const {
    if (!result_ || i >= result_->tasks.tasks().size() || result_->stepSeconds <= 0) return {};
    const adj::parallel::SimTask& t = result_->tasks.tasks()[i];
    const adj::parallel::TaskSpan& s = result_->sim.spans[i];
    const int row = rowOf(t);
    if (row < 0 || s.end <= s.start) return {};
    const QRectF area = plotArea();
    const int rows = rowNames().size();
    const double rowHeight = std::min(30.0, area.height() / std::max(1, rows));
    const double scale = area.width() / result_->stepSeconds;
    const double x0 = area.left() + s.start * scale, x1 = area.left() + s.end * scale;
    return QRectF(x0, area.top() + row * rowHeight + 2, std::max(1.0, x1 - x0), rowHeight - 4);
}

int PartitionGantt::taskAt(const QPointF& p) const {
    if (!result_) return -1;
    for (std::size_t i = 0; i < result_->tasks.tasks().size(); ++i)
        if (taskRect(i).contains(p)) return int(i);
    return -1;
}

void PartitionGantt::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), palette().base());
    if (!result_ || result_->stepSeconds <= 0) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(rect(), Qt::AlignCenter, tr("No step simulated yet"));
        return;
    }
    const QRectF area = plotArea();
    const QStringList rows = rowNames();
    const double rowHeight = std::min(30.0, area.height() / std::max<qsizetype>(1, rows.size()));
    painter.setPen(palette().color(QPalette::Text));
    for (int r = 0; r < rows.size(); ++r) {
        const QRectF label(2, area.top() + r * rowHeight, kNameWidth - 6, rowHeight);
        painter.drawText(label, Qt::AlignVCenter | Qt::AlignRight, rows[r]);
        if (r % 2) painter.fillRect(QRectF(area.left(), label.top(), area.width(), rowHeight), palette().alternateBase());
    }
    const QFontMetricsF metrics(font());
    for (std::size_t i = 0; i < result_->tasks.tasks().size(); ++i) {
        const QRectF box = taskRect(i);
        if (box.isEmpty()) continue;
        const adj::parallel::SimTask& t = result_->tasks.tasks()[i];
        const QColor colour = phaseColour(t.phase);
        painter.fillRect(box, colour);
        painter.setPen(colour.darker(140));
        painter.drawRect(box);
        const QString text = QString::fromStdString(t.label);
        if (metrics.horizontalAdvance(text) + 4 < box.width()) {
            painter.setPen(Qt::white);
            painter.drawText(box, Qt::AlignCenter, text);
        }
    }
    // the time axis
    painter.setPen(palette().color(QPalette::Text));
    const double bottom = area.top() + rows.size() * rowHeight + 2;
    painter.drawLine(QPointF(area.left(), bottom), QPointF(area.right(), bottom));
    for (int k = 0; k <= 5; ++k) {
        const double x = area.left() + area.width() * k / 5;
        painter.drawLine(QPointF(x, bottom), QPointF(x, bottom + 4));
        const QString tick = tr("%1 ms").arg(msText(result_->stepSeconds * k / 5));
        const double w = metrics.horizontalAdvance(tick);
        const double left = std::max(area.left() - kNameWidth / 2, std::min(x - w / 2, double(width()) - w - 2));
        painter.drawText(QPointF(left, bottom + 4 + metrics.ascent()), tick);
    }
}

void PartitionGantt::mouseMoveEvent(QMouseEvent* e) {
    const int i = taskAt(e->position());
    if (i < 0) {
        QToolTip::hideText();
        return;
    }
    const adj::parallel::SimTask& t = result_->tasks.tasks()[std::size_t(i)];
    const adj::parallel::TaskSpan& s = result_->sim.spans[std::size_t(i)];
    QString text = tr("%1 (%2)\n%3 to %4 ms").arg(QString::fromStdString(t.label), QLatin1String(adj::parallel::taskPhaseName(t.phase)),
                                                  msText(s.start), msText(s.end));
    if (t.kind == adj::parallel::TaskKind::Transfer) text += tr("\n%1").arg(bytesText(t.bytes));
    QToolTip::showText(e->globalPosition().toPoint(), text, this);
}

// ---- PartitionView ----

PartitionView::PartitionView(QWidget* parent)
    : QWidget(parent),
      compute_([this](PartitionPicture&& p) { apply(std::move(p)); },
               [this](const QString& message) {
                   picture_ = {};
                   gantt_->setResult(nullptr);
                   table_->setRowCount(0);
                   summary_->setText(tr("Cannot simulate the step: %1").arg(message));
                   Q_EMIT failed(message);
                   Q_EMIT pictureChanged();
               }) {
    setObjectName(QStringLiteral("partitionView"));
    cluster_ = new QComboBox;
    cluster_->setObjectName(QStringLiteral("partitionCluster"));
    for (const std::string& name : adj::parallel::clusterPresetNames()) {
        // (local measures this machine: built on a worker, only when chosen)
        const QString description = name == "local" ? tr("this machine: one device per thread, node times measured on one thread")
                                                    : QString::fromStdString(adj::parallel::clusterPreset(name)->description);
        cluster_->addItem(QString::fromStdString(name), QString::fromStdString(name));
        cluster_->setItemData(cluster_->count() - 1, description, Qt::ToolTipRole);
    }
    strategy_ = new QComboBox;
    strategy_->setObjectName(QStringLiteral("partitionStrategy"));
    const std::pair<const char*, QString> strategies[] = {{"auto", tr("compare all")},
                                                          {"dp", tr("data parallel")},
                                                          {"pp", tr("pipeline parallel")},
                                                          {"tp", tr("tensor parallel")},
                                                          {"placement", tr("placement by hand")}};
    for (const auto& [key, text] : strategies) strategy_->addItem(text, QString::fromLatin1(key));
    devices_ = new QSpinBox;
    devices_->setRange(0, 1024);
    devices_->setSpecialValueText(tr("all"));
    devices_->setToolTip(tr("How many of the cluster's devices to use"));
    microbatches_ = new QSpinBox;
    microbatches_->setRange(1, 256);
    microbatches_->setValue(4);
    microbatches_->setToolTip(tr("Micro-batches of a pipeline step"));
    batch_ = new QSpinBox;
    batch_->setRange(0, 1 << 20);
    batch_->setSpecialValueText(tr("model's"));
    batch_->setToolTip(tr("Rows in one training step, over all devices"));
    bandwidth_ = new QSlider(Qt::Horizontal);
    bandwidth_->setObjectName(QStringLiteral("partitionBandwidth"));
    bandwidth_->setRange(-6, 6);
    bandwidth_->setValue(0);
    bandwidth_->setPageStep(1);
    bandwidth_->setTickPosition(QSlider::TicksBelow);
    bandwidth_->setToolTip(tr("Every link's bandwidth, from 1/64 to 64 times the cluster's"));
    bandwidthLabel_ = new QLabel;
    bandwidthLabel_->setMinimumWidth(170);

    auto* settings = new QHBoxLayout;
    settings->addWidget(new QLabel(tr("Cluster")));
    settings->addWidget(cluster_);
    settings->addWidget(new QLabel(tr("Strategy")));
    settings->addWidget(strategy_);
    settings->addWidget(new QLabel(tr("Devices")));
    settings->addWidget(devices_);
    settings->addWidget(new QLabel(tr("Micro-batches")));
    settings->addWidget(microbatches_);
    settings->addWidget(new QLabel(tr("Batch")));
    settings->addWidget(batch_);
    settings->addStretch();
    placeOn_ = new QComboBox;
    placeOn_->setObjectName(QStringLiteral("partitionPlaceOn"));
    place_ = new QPushButton(tr("Place selection"));
    place_->setToolTip(tr("Put the nodes selected on the canvas on this device (placement by hand)"));
    unplace_ = new QPushButton(tr("Unplace"));
    unplace_->setToolTip(tr("Take the selected nodes' placement away"));
    connect(place_, &QPushButton::clicked, this, [this] {
        if (placeOn_->currentIndex() >= 0) Q_EMIT placeRequested(placeOn_->currentText());
    });
    connect(unplace_, &QPushButton::clicked, this, [this] { Q_EMIT placeRequested(QString()); });
    auto* links = new QHBoxLayout;
    links->addWidget(new QLabel(tr("Link bandwidth")));
    links->addWidget(bandwidth_, 1);
    links->addWidget(bandwidthLabel_);
    links->addSpacing(12);
    links->addWidget(placeOn_);
    links->addWidget(place_);
    links->addWidget(unplace_);

    table_ = new QTableWidget(0, 4);
    table_->setObjectName(QStringLiteral("partitionTable"));
    table_->setHorizontalHeaderLabels({tr("Strategy"), tr("Step (ms)"), tr("Memory"), tr("How")});
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->hide();
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setMaximumHeight(150);
    summary_ = new QLabel;
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    gantt_ = new PartitionGantt;

    auto* top = new QHBoxLayout;
    top->addWidget(table_, 3);
    top->addWidget(summary_, 2);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(settings);
    layout->addLayout(links);
    layout->addLayout(top);
    layout->addWidget(gantt_, 1);

    for (QComboBox* box : {cluster_, strategy_}) connect(box, &QComboBox::currentIndexChanged, this, &PartitionView::rerun);
    for (QSpinBox* box : {devices_, microbatches_, batch_}) connect(box, &QSpinBox::valueChanged, this, &PartitionView::rerun);
    connect(bandwidth_, &QSlider::valueChanged, this, &PartitionView::rerun);
    connect(table_, &QTableWidget::cellClicked, this, [this](int row, int) { showResult(row); });
    rerun();
}

double PartitionView::bandwidthFactor() const { return std::ldexp(1.0, bandwidth_->value()); }

void PartitionView::setCluster(const QString& preset) { cluster_->setCurrentIndex(std::max(0, cluster_->findData(preset))); }

void PartitionView::setStrategy(const QString& name) { strategy_->setCurrentIndex(std::max(0, strategy_->findData(name))); }

void PartitionView::setMicrobatches(int m) { microbatches_->setValue(m); }

void PartitionView::setBandwidthStep(int position) { bandwidth_->setValue(position); }

void PartitionView::rerun() {
    const int step = bandwidth_->value();
    const QString factor = step >= 0 ? QStringLiteral("\u00d7%1").arg(1 << step) : QStringLiteral("\u00d71/%1").arg(1 << -step);
    const std::string name = cluster_->currentData().toString().toStdString();
    if (name == "local") {
        bandwidthLabel_->setText(tr("%1 the measured copies").arg(factor));
    } else if (const auto preset = adj::parallel::clusterPreset(name); preset && !preset->links.empty()) {
        bandwidthLabel_->setText(tr("%1 each way (%2)").arg(rateText(preset->links.front().bandwidth * bandwidthFactor()), factor));
    }
    if (graph_) request(graph_);
}

std::function<PartitionPicture()> PartitionView::computation(std::shared_ptr<const adj::Graph> graph) const {
    const std::string cluster = cluster_->currentData().toString().toStdString();
    const std::string strategy = strategy_->currentData().toString().toStdString();
    adj::parallel::PartitionOptions options;
    options.devices = devices_->value();
    options.microbatches = microbatches_->value();
    options.batch = batch_->value();
    const double factor = bandwidthFactor();
    return [graph, cluster, strategy, options, factor]() mutable {
        {
            adj::Graph checked = *graph;  // the verifier's complaint first, naming the node
            adj::verifyOrThrow(checked);
        }
        PartitionPicture p;
        const adj::parallel::Cluster base = adj::parallel::clusterFromArgument(cluster);
        const adj::parallel::Cluster scaled = base.withLinkBandwidthScaled(factor);
        if (options.devices > int(base.devices.size())) options.devices = int(base.devices.size());
        p.clusterText = QString::fromStdString(base.name + (base.description.empty() ? "" : ": " + base.description));
        if (strategy == "auto") {
            p.results = adj::parallel::compareStrategies(*graph, scaled, options);
        } else {
            options.kind = *adj::parallel::strategyFromName(strategy);
            p.results.push_back(adj::parallel::simulatePartition(*graph, scaled, options));
        }
        return p;
    };
}

void PartitionView::request(std::shared_ptr<const adj::Graph> graph, const QString& strategy) {
    {
        QSignalBlocker quiet(strategy_);
        strategy_->setCurrentIndex(std::max(0, strategy_->findData(strategy)));
    }
    request(std::move(graph));
}

void PartitionView::request(std::shared_ptr<const adj::Graph> graph) {
    graph_ = graph;
    compute_.start(computation(std::move(graph)));
}

bool PartitionView::requestNow(std::shared_ptr<const adj::Graph> graph, QString* error) {
    graph_ = graph;
    return compute_.runNow(computation(std::move(graph)), error);
}

void PartitionView::apply(PartitionPicture&& p) {
    picture_ = std::move(p);
    if (const adj::parallel::PartitionResult* r = picture_.result()) {
        QStringList names;
        for (const adj::parallel::ClusterDevice& d : r->cluster.devices) names << QString::fromStdString(d.name);
        QStringList now;
        for (int i = 0; i < placeOn_->count(); ++i) now << placeOn_->itemText(i);
        if (names != now) {
            const QString keep = placeOn_->currentText();
            placeOn_->clear();
            placeOn_->addItems(names);
            placeOn_->setCurrentIndex(std::max(0, int(names.indexOf(keep))));
        }
    }
    {
        QSignalBlocker block(table_);
        table_->setRowCount(int(picture_.results.size()));
        for (int r = 0; r < int(picture_.results.size()); ++r) {
            const adj::parallel::PartitionResult& result = picture_.results[std::size_t(r)];
            double peak = 0;
            for (const adj::parallel::DeviceUse& d : result.devices) peak = std::max(peak, d.peakBytes);
            const QString cells[] = {QString::fromStdString(result.key), msText(result.stepSeconds),
                                     result.fits() ? bytesText(peak) : tr("does not fit: %1").arg(QString::fromStdString(result.overflow)),
                                     QString::fromStdString(result.description)};
            for (int c = 0; c < 4; ++c) {
                auto* item = new QTableWidgetItem(cells[c]);
                if (r == 0) {
                    QFont bold = item->font();
                    bold.setBold(true);
                    item->setFont(bold);
                }
                if (c == 1) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
                table_->setItem(r, c, item);
            }
        }
        table_->resizeColumnsToContents();
    }
    showResult(0);
}

void PartitionView::showResult(int row) {
    if (row < 0 || row >= int(picture_.results.size())) {
        gantt_->setResult(nullptr);
        summary_->clear();
        Q_EMIT pictureChanged();
        return;
    }
    picture_.shown = row;
    table_->selectRow(row);
    gantt_->setResult(picture_.result());
    summary_->setText(summaryText());
    Q_EMIT pictureChanged();
}

QString PartitionView::summaryText() const {
    const adj::parallel::PartitionResult* r = picture_.result();
    if (!r) return {};
    QString s = tr("<b>%1</b>: %2 ms a step<br>%3").arg(QString::fromStdString(r->key), msText(r->stepSeconds), QString::fromStdString(r->description).toHtmlEscaped());
    for (const adj::parallel::DeviceUse& d : r->devices)
        s += tr("<br>%1: busy %2% of the step, %3 of %4").arg(QString::fromStdString(d.name).toHtmlEscaped())
                 .arg(r->stepSeconds > 0 ? int(std::lround(100 * d.busySeconds / r->stepSeconds)) : 0)
                 .arg(bytesText(d.peakBytes), bytesText(d.memoryBytes));
    for (const adj::parallel::LinkUse& l : r->links)
        if (l.bytes > 0)
            s += tr("<br>%1 \u2194 %2: %3 a step").arg(QString::fromStdString(l.a).toHtmlEscaped(), QString::fromStdString(l.b).toHtmlEscaped(),
                                                      bytesText(l.bytes));
    if (!r->fits()) s += tr("<br><b>Does not fit</b>: %1").arg(QString::fromStdString(r->overflow).toHtmlEscaped());
    return s;
}
