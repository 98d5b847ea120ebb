#include "training_dashboard.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QValueAxis>
#include <QVBoxLayout>
#include <algorithm>

#include "chart_palette.h"
#include "heatmap.h"

namespace {
QChartView* makeChart(const QString& title, QLineSeries* series, QValueAxis* x, QValueAxis* y, QColor colour, QWidget* parent) {
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->legend()->hide();
    series->setPen(QPen(colour, 2));
    series->setUseOpenGL(false);
    chart->addSeries(series);
    x->setTitleText(QObject::tr("step"));
    x->setLabelFormat(QStringLiteral("%d"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
    chart->setMargins(QMargins(4, 4, 4, 4));
    auto* view = new QChartView(chart, parent);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(180);
    chartFollowsPalette(view);
    return view;
}
}  // namespace

TrainingDashboard::TrainingDashboard(QWidget* parent)
    : QWidget(parent), dataset_(new QComboBox(this)), lossKind_(new QComboBox(this)), optimizer_(new QComboBox(this)),
      lr_(new QDoubleSpinBox(this)), batch_(new QSpinBox(this)), steps_(new QSpinBox(this)), backend_(new QComboBox(this)),
      start_(new QPushButton(tr("Start"), this)), step_(new QPushButton(tr("Step"), this)), speed_(new QComboBox(this)), pause_(new QPushButton(tr("Pause"), this)), stop_(new QPushButton(tr("Stop"), this)),
      reset_(new QPushButton(tr("Reset"), this)), status_(new QLabel(this)), loss_(new QLineSeries), accuracy_(new QLineSeries),
      lossX_(new QValueAxis), lossY_(new QValueAxis), accX_(new QValueAxis), boundary_(new HeatmapWidget(this)),
      tensor_(new HeatmapWidget(this)) {
    setObjectName(QStringLiteral("trainingDashboard"));
    dataset_->addItems({QStringLiteral("spirals"), QStringLiteral("moons"), QStringLiteral("circles"), QStringLiteral("xor"),
                        QStringLiteral("blobs"), QStringLiteral("sine"), QStringLiteral("digits")});
    lossKind_->addItems({QStringLiteral("cross-entropy"), QStringLiteral("mse"), QStringLiteral("binary-cross-entropy")});
    optimizer_->addItems({QStringLiteral("adam"), QStringLiteral("momentum"), QStringLiteral("sgd")});
    lr_->setDecimals(4);
    lr_->setRange(0.0001, 10);
    lr_->setSingleStep(0.001);
    lr_->setValue(0.01);
    batch_->setRange(1, 4096);
    batch_->setValue(64);
    steps_->setRange(1, 1000000);
    steps_->setValue(3000);
    backend_->addItems({QStringLiteral("CPU"), QStringLiteral("Vulkan")});
    for (int rate : {0, 1000, 100, 20, 5, 1})
        speed_->addItem(rate ? tr("%n step(s) a second", nullptr, rate) : tr("As fast as it goes"), rate);
    speed_->setToolTip(tr("Slow training down to watch it: the curves, the boundary and the adjoints on the canvas "
                          "change step by step"));
    step_->setToolTip(tr("One training step (pauses a running run first; starts a paused one if none runs)"));
    pause_->setCheckable(true);

    auto* form = new QFormLayout;
    form->addRow(tr("Dataset"), dataset_);
    form->addRow(tr("Loss"), lossKind_);
    form->addRow(tr("Optimizer"), optimizer_);
    form->addRow(tr("Learning rate"), lr_);
    form->addRow(tr("Batch"), batch_);
    form->addRow(tr("Steps"), steps_);
    form->addRow(tr("Backend"), backend_);
    form->addRow(tr("Speed"), speed_);
    auto* buttons = new QGridLayout;
    buttons->addWidget(start_, 0, 0);
    buttons->addWidget(pause_, 0, 1);
    buttons->addWidget(step_, 0, 2);
    buttons->addWidget(stop_, 1, 0);
    buttons->addWidget(reset_, 1, 1);
    auto* controls = new QVBoxLayout;
    controls->addLayout(form);
    controls->addLayout(buttons);
    status_->setWordWrap(true);
    status_->setMinimumWidth(200);
    controls->addWidget(status_);
    tensor_->setTitle(tr("Hover a node: its values"));
    tensor_->setMinimumSize(150, 150);
    tensor_->setToolTip(tr("The values of the node under the mouse on the canvas, red positive, blue negative"));
    controls->addWidget(tensor_, 1);

    auto* accY = new QValueAxis;
    accY->setRange(0, 1);
    lossView_ = makeChart(tr("Loss"), loss_, lossX_, lossY_, QColor(200, 50, 50), this);
    accuracyView_ = makeChart(tr("Batch accuracy"), accuracy_, accX_, accY, QColor(40, 110, 220), this);
    lossY_->setRange(0, 1);
    boundary_->setTitle(tr("Decision boundary"));

    auto* charts = new QVBoxLayout;
    charts->addWidget(lossView_, 1);
    charts->addWidget(accuracyView_, 1);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(controls);
    layout->addLayout(charts, 2);
    layout->addWidget(boundary_, 2);

    connect(start_, &QPushButton::clicked, this, [this] {
        if (pause_->isChecked()) {  // a new run starts running
            const QSignalBlocker block(pause_);
            pause_->setChecked(false);
        }
        Q_EMIT startRequested(settings());
    });
    connect(pause_, &QPushButton::toggled, this, [this](bool on) { Q_EMIT pauseRequested(on); });
    connect(stop_, &QPushButton::clicked, this, [this] { Q_EMIT stopRequested(); });
    connect(speed_, &QComboBox::currentIndexChanged, this, [this] { Q_EMIT speedRequested(speed_->currentData().toInt()); });
    connect(step_, &QPushButton::clicked, this, [this] {
        if (!pause_->isChecked()) pause_->setChecked(true);  // (pauseRequested)
        Q_EMIT stepRequested();
    });
    connect(reset_, &QPushButton::clicked, this, [this] {
        Q_EMIT resetRequested();  // first: stopping sends the run's last snapshot
        clearCurves();
    });
    status_->setText(tr("Choose a dataset and press Start. The model is the document's graph."));
}

TrainingSettings TrainingDashboard::settings() const {
    TrainingSettings s;
    s.dataset = dataset_->currentText();
    s.loss = lossKind_->currentText();
    s.optimizer = optimizer_->currentText();
    s.learningRate = lr_->value();
    s.batchSize = batch_->value();
    s.steps = steps_->value();
    s.backend = backend_->currentText();
    s.stepsPerSecond = speed_->currentData().toInt();
    return s;
}

void TrainingDashboard::setSettings(const TrainingSettings& s) {
    dataset_->setCurrentText(s.dataset);
    lossKind_->setCurrentText(s.loss);
    optimizer_->setCurrentText(s.optimizer);
    lr_->setValue(s.learningRate);
    batch_->setValue(s.batchSize);
    steps_->setValue(s.steps);
    backend_->setCurrentText(s.backend);
    if (const int i = speed_->findData(s.stepsPerSecond); i >= 0) speed_->setCurrentIndex(i);
}

void TrainingDashboard::setBackendAvailable(const QString& backend, bool available, const QString& reason) {
    auto* model = qobject_cast<QStandardItemModel*>(backend_->model());
    const int row = backend_->findText(backend);
    if (!model || row < 0) return;
    QStandardItem* item = model->item(row);
    item->setEnabled(available);
    item->setToolTip(reason);
    if (!available && backend_->currentIndex() == row) backend_->setCurrentIndex(0);
}

void TrainingDashboard::showTensor(const QString& title, const adj::Tensor& tensor) {
    tensor_->setTitle(title);
    const QImage image = tensorHeatmap(tensor);
    tensor_->setImage(image, QRectF(0, 0, image.width(), image.height()));
}

void TrainingDashboard::clearCurves() {
    loss_->clear();
    accuracy_->clear();
    boundary_->clear();
    boundaryVersion_ = -1;
}

void TrainingDashboard::showError(const QString& message) {
    status_->setText(tr("<b>Error:</b> %1").arg(message.toHtmlEscaped()));
    start_->setEnabled(true);
}

void TrainingDashboard::showSnapshot(const TrainingSnapshot& s) {
    ++updates_;
    loss_->replace(QList<QPointF>(s.loss.begin(), s.loss.end()));
    accuracy_->replace(QList<QPointF>(s.accuracy.begin(), s.accuracy.end()));
    const double maxX = std::max<double>(10, double(s.step));
    lossX_->setRange(0, maxX);
    accX_->setRange(0, maxX);
    double top = 0;
    for (const QPointF& p : s.loss) top = std::max(top, p.y());
    lossY_->setRange(0, top > 0 ? top * 1.05 : 1);
    if (s.boundaryVersion != boundaryVersion_ && !s.boundary.isNull()) {
        boundaryVersion_ = s.boundaryVersion;
        ++boundaryUpdates_;
        boundary_->setImage(s.boundary, s.domain);
        if (boundary_->pointCount() != int(s.points.size())) boundary_->setPoints(s.points, s.classes);
    }
    const double lastLoss = s.loss.empty() ? 0 : s.loss.back().y();
    const double lastAcc = s.accuracy.empty() ? 0 : s.accuracy.back().y();
    status_->setText(tr("%1<br>step %2 / %3 · %4 steps/s<br>loss %5 · batch accuracy %6 %")
                         .arg(s.status.toHtmlEscaped())
                         .arg(s.step)
                         .arg(s.totalSteps)
                         .arg(s.stepsPerSecond, 0, 'f', 0)
                         .arg(lastLoss, 0, 'g', 4)
                         .arg(lastAcc * 100, 0, 'f', 1));
    start_->setEnabled(!s.running);
    pause_->setEnabled(s.running);
    stop_->setEnabled(s.running);
    // Pause shows the run's own state (a run started by Step is paused from its first snapshot;
    // a finished or stopped one is not)
    if (pause_->isChecked() != (s.running && s.paused)) {
        const QSignalBlocker block(pause_);
        pause_->setChecked(s.running && s.paused);
    }
}
