#include "training_controller.h"

#include <oneapi/tbb/task_arena.h>

#include <QAbstractItemView>
#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QEvent>
#include <QPointer>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "heatmap.h"
#include "thread_hand_off.h"
#include "runtime/fallback_executor.h"
#include "runtime/vulkan/vulkan_executor.h"
#include "train/trainer.h"

struct TrainingController::Shared {
    std::atomic<bool> cancel{false};
    std::atomic<bool> paused{false};
    std::atomic<bool> running{false};
    std::atomic<int> stepsPerSecond{0};  // at most, 0: as fast as it goes
    std::atomic<int> singleSteps{0};     // steps a paused run may still take (Step)
    std::mutex mutex;
    // Guarded by mutex: the latest state (whole curves; poll() thins them), the last error, and
    // whether anything changed since the last poll.
    TrainingSnapshot latest;
    QString error;
    bool changed = false;
};

namespace {

std::vector<QPointF> thin(const std::vector<QPointF>& all, std::size_t most) {
    if (all.size() <= most) return all;
    std::vector<QPointF> out;
    out.reserve(most + 1);
    const double stride = double(all.size()) / double(most);
    for (std::size_t i = 0; i < most; ++i) out.push_back(all[std::size_t(double(i) * stride)]);
    out.push_back(all.back());
    return out;
}

// The grid over the 2-D feature domain, row-major from the top (largest y) down.
adj::Tensor gridPoints(const QRectF& domain, int n) {
    std::vector<float> v;
    v.reserve(std::size_t(n * n * 2));
    for (int r = 0; r < n; ++r)
        for (int c = 0; c < n; ++c) {
            v.push_back(float(domain.left() + (c + 0.5) / n * domain.width()));
            v.push_back(float(domain.bottom() - (r + 0.5) / n * domain.height()));
        }
    return adj::Tensor::fromVector({std::int64_t(n) * n, 2}, v);
}

QImage boundaryImage(const adj::Tensor& logits, int n) {
    const adj::Tensor t = logits.contiguous();
    const std::int64_t k = t.shape().back();
    const float* d = t.data();
    QImage image(n, n, QImage::Format_RGB32);
    for (int i = 0; i < n * n; ++i) {
        int cls = 0;
        double confidence = 0;
        if (k == 1) {
            const double p = 1 / (1 + std::exp(-double(d[i])));
            cls = p > 0.5;
            confidence = std::fabs(p - 0.5) * 2;
        } else {
            const float* row = d + std::int64_t(i) * k;
            cls = int(std::max_element(row, row + k) - row);
            double sum = 0;
            for (std::int64_t j = 0; j < k; ++j) sum += std::exp(double(row[j] - row[cls]));
            confidence = (1 / sum - 1.0 / double(k)) / (1 - 1.0 / double(k));
        }
        const QColor c = classColour(cls);
        const double a = 0.15 + 0.55 * std::clamp(confidence, 0.0, 1.0);
        image.setPixel(i % n, i / n, qRgb(int(255 + (c.red() - 255) * a), int(255 + (c.green() - 255) * a), int(255 + (c.blue() - 255) * a)));
    }
    return image;
}

void runTraining(const std::shared_ptr<TrainingController::Shared>& shared, const adj::Graph& model, const TrainingSettings& s);

// Live adjoints: the loss graph's backward graph run on a fixed batch of held-out rows with the
// current parameters, every value kept, read back per forward value of the model.
class AdjointProbe {
public:
    AdjointProbe(const adj::Graph& model, const adj::train::Dataset& data, adj::train::LossKind loss) : model_(model) {
        const std::int64_t rows = std::min<std::int64_t>(64, data.validation.size());
        std::vector<std::int64_t> index(static_cast<std::size_t>(rows));
        for (std::int64_t i = 0; i < rows; ++i) index[std::size_t(i)] = i;
        const adj::Graph lossGraph = adj::train::buildLossGraph(model, loss, rows);
        backward_ = adj::buildBackward(lossGraph, "loss");
        bindings_[model.node(model.inputNodes().front()).name] = adj::train::gatherRows(data.validation.x, index);
        const std::int64_t width = model.type(model.outputs().front().value).shape.back();
        if (!data.isClassification()) {
            bindings_["targets"] = adj::train::gatherRows(data.validation.targets, index);
        } else {
            std::vector<int> labels(data.validation.labels.begin(), data.validation.labels.begin() + rows);
            if (width == 1) {
                std::vector<float> v(labels.begin(), labels.end());
                bindings_["targets"] = adj::Tensor::fromVector({rows, 1}, v);
            } else {
                bindings_["targets"] = adj::train::oneHot(labels, int(width));
            }
        }
    }
    void run(adj::Executor& exec, const std::map<std::string, adj::Tensor>& params, std::map<adj::ValueRef, double>& magnitudes,
             std::map<adj::NodeId, adj::Tensor>& values) {
        adj::Bindings b = bindings_;
        for (const auto& [name, value] : params) b[name] = value;
        adj::RunOptions options;
        options.keepAllValues = true;
        const adj::RunResult r = exec.run(backward_.graph, b, options);
        const adj::Graph& g = backward_.graph;
        for (const auto& [adjoint, of] : backward_.adjointOf) {
            auto id = model_.findNode(g.node(of.node).name);
            auto it = r.values.find(adj::ValueRef{adjoint, 0});
            if (!id || it == r.values.end()) continue;
            const adj::Tensor t = it->second.contiguous();
            double sum = 0;
            for (std::int64_t i = 0; i < t.numel(); ++i) sum += std::fabs(double(t.data()[i]));
            magnitudes[adj::ValueRef{*id, of.port}] = t.numel() ? sum / double(t.numel()) : 0.0;
        }
        for (adj::NodeId id : model_.nodeIds()) {
            auto fid = g.findNode(model_.node(id).name);
            if (!fid) continue;
            auto it = r.values.find(adj::ValueRef{*fid, 0});
            if (it != r.values.end()) values[id] = it->second;
            else if (g.node(*fid).value.defined()) values[id] = g.node(*fid).value;
        }
        for (const auto& [name, value] : params)
            if (auto id = model_.findNode(name)) values[*id] = value;
    }

private:
    const adj::Graph& model_;
    adj::BackwardGraph backward_;
    adj::Bindings bindings_;
};

}  // namespace

TrainingController::TrainingController(QObject* parent) : QObject(parent) {
    timer_.setInterval(kRefreshIntervalMs);
    connect(&timer_, &QTimer::timeout, this, &TrainingController::poll);
}

TrainingController::~TrainingController() {
    stop();
    // A thread still loading a Vulkan driver when the program exits deadlocks the exit (the
    // driver's dlopen holds the loader lock that exit handlers need): wait for it.
    if (deviceProbe_.joinable()) deviceProbe_.join();
}

void TrainingController::setModel(const adj::Graph& model) { model_ = std::make_unique<adj::Graph>(model); }

bool TrainingController::isRunning() const { return shared_ && shared_->running; }

bool TrainingController::isPaused() const { return shared_ && shared_->paused; }

void TrainingController::attach(TrainingDashboard* dashboard) {
    connect(dashboard, &TrainingDashboard::startRequested, this, [this](const TrainingSettings& settings) { start(settings); });
    connect(dashboard, &TrainingDashboard::pauseRequested, this, &TrainingController::setPaused);
    connect(dashboard, &TrainingDashboard::stopRequested, this, &TrainingController::stop);
    connect(dashboard, &TrainingDashboard::resetRequested, this, &TrainingController::reset);
    connect(dashboard, &TrainingDashboard::speedRequested, this, &TrainingController::setStepsPerSecond);
    connect(dashboard, &TrainingDashboard::stepRequested, this, [this, dashboard] {
        if (isRunning()) stepOnce();
        else {  // no run yet: start one, paused, and take its first step
            start(dashboard->settings(), true);
            stepOnce();
        }
    });
    connect(this, &TrainingController::snapshotReady, dashboard, &TrainingDashboard::showSnapshot);
    connect(this, &TrainingController::failed, dashboard, &TrainingDashboard::showError);
    // Whether a Vulkan device is usable is known only by trying (off the GUI thread), and only
    // once the user can see the choice.
    dashboard->setBackendAvailable(QStringLiteral("Vulkan"), false, tr("Looking for a Vulkan device…"));
    probeTarget_ = dashboard;
    dashboard->installEventFilter(this);
    dashboard->backendChoice()->view()->installEventFilter(this);
    if (dashboard->isVisible()) startDeviceProbe();
}

bool TrainingController::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::Show && !probeStarted_) startDeviceProbe();
    return QObject::eventFilter(watched, event);
}

QString deviceDescription(const adj::Executor& exec) {
    if (const auto* fallback = dynamic_cast<const adj::FallbackExecutor*>(&exec)) return deviceDescription(fallback->current());
    const QString name = QString::fromStdString(exec.deviceName());
    if (const auto* vk = dynamic_cast<const adj::VulkanExecutor*>(&exec); vk && vk->isSoftwareDevice())
        return QObject::tr("%1 (a software driver: Vulkan runs on the CPU here)").arg(name);
    return name;
}

void TrainingController::startDeviceProbe() {
    if (probeStarted_ || !probeTarget_) return;
    probeStarted_ = true;
    QPointer<TrainingDashboard> target(probeTarget_);
    if (deviceProbe_.joinable()) deviceProbe_.join();
    deviceProbe_ = std::thread([target] {
        QString reason;
        bool ok = true;
        try {
            const auto exec = adj::makeVulkanExecutor();
            reason = deviceDescription(*exec);
        } catch (const std::exception& e) {
            ok = false;
            reason = QObject::tr("No usable Vulkan device: %1").arg(QString::fromUtf8(e.what()));
        }
        invokeHandedOff(qApp, [target, ok, reason] {
            if (target) target->setBackendAvailable(QStringLiteral("Vulkan"), ok, reason);
        });
    });
}

void TrainingController::start(const TrainingSettings& settings, bool paused) {
    stop();
    if (!model_) {
        Q_EMIT failed(tr("no model: open a graph with one input [N, features] and one output [N, classes]"));
        return;
    }
    if (settings.backend != QStringLiteral("CPU") && settings.backend != QStringLiteral("Vulkan")) {
        Q_EMIT failed(tr("unknown backend '%1'").arg(settings.backend));
        return;
    }
    shared_ = std::make_shared<Shared>();
    shared_->stepsPerSecond = settings.stepsPerSecond;
    shared_->paused = paused;
    shared_->running = true;
    shared_->latest.totalSteps = settings.steps;
    worker_ = std::thread([shared = shared_, model = *model_, settings] { runTraining(shared, model, settings); });
    timer_.start();
    // Show the new run at once (Stop enabled), not at the first poll: the previous run's last
    // snapshot said "stopped", and a click on Stop in between would otherwise be lost.
    {
        std::lock_guard lock(shared_->mutex);
        shared_->changed = true;
    }
    poll();
}

void TrainingController::setStepsPerSecond(int stepsPerSecond) {
    if (shared_) shared_->stepsPerSecond = std::max(0, stepsPerSecond);
}

void TrainingController::stepOnce() {
    if (shared_) ++shared_->singleSteps;
}

void TrainingController::setPaused(bool paused) {
    if (shared_) shared_->paused = paused;
}

void TrainingController::join() {
    if (worker_.joinable()) worker_.join();
}

void TrainingController::stop() {
    if (!shared_) return;
    shared_->cancel = true;
    join();
    poll();
}

void TrainingController::reset() {
    stop();
    shared_.reset();
    timer_.stop();
    Q_EMIT snapshotReady(TrainingSnapshot{});
}

void TrainingController::poll() {
    if (!shared_) return;
    TrainingSnapshot s;
    QString error;
    {
        std::lock_guard lock(shared_->mutex);
        if (!shared_->changed && shared_->running) return;
        shared_->changed = false;
        s = shared_->latest;
        s.loss = thin(s.loss, 400);
        s.accuracy = thin(s.accuracy, 400);
        error = shared_->error;
        shared_->error.clear();
    }
    s.running = shared_->running;
    s.paused = shared_->paused;
    if (!s.running) {
        timer_.stop();
        join();
    }
    Q_EMIT snapshotReady(s);
    if (!error.isEmpty()) Q_EMIT failed(error);
    if (!s.running) Q_EMIT finished();
}

namespace {

void runTraining(const std::shared_ptr<TrainingController::Shared>& shared, const adj::Graph& model, const TrainingSettings& s) {
    auto setStatus = [&](const QString& status, const QString& error = {}) {
        std::lock_guard lock(shared->mutex);
        shared->latest.status = status;
        if (!error.isEmpty()) shared->error = error;
        shared->changed = true;
    };
    const int threads = std::max(1, int(std::thread::hardware_concurrency()) - 1);
    tbb::task_arena arena(threads);
    arena.execute([&] {
        try {
            adj::train::Dataset data = adj::train::makeDataset(s.dataset.toStdString());
            adj::train::TrainerConfig config;
            auto loss = adj::train::parseLossKind(s.loss.toStdString());
            if (!loss) throw adj::Error("unknown loss '" + s.loss.toStdString() + "'");
            auto optimizer = adj::train::parseOptimizerKind(s.optimizer.toStdString());
            if (!optimizer) throw adj::Error("unknown optimizer '" + s.optimizer.toStdString() + "'");
            config.loss = *loss;
            config.optimizer.kind = *optimizer;
            config.optimizer.learningRate = float(s.learningRate);
            config.steps = s.steps;
            config.batchSize = s.batchSize;
            // A device that fails mid-run: the CPU runs the failed step again and goes on, and the
            // status says why (the note comes on this thread, inside a step).
            QString trainingStatus, fellBack;
            const adj::train::Trainer* running = nullptr;
            std::unique_ptr<adj::Executor> exec = adj::makeCpuExecutor();
            if (s.backend == QStringLiteral("Vulkan"))
                exec = std::make_unique<adj::FallbackExecutor>(adj::makeVulkanExecutor(), std::move(exec), [&](const std::string& why) {
                    fellBack = QObject::tr("on the CPU from step %1: %2").arg(running ? running->step() + 1 : 0).arg(QString::fromStdString(why));
                    trainingStatus = QObject::tr("Training %1 %2").arg(s.dataset, fellBack);
                    setStatus(trainingStatus);
                });
            adj::train::Trainer trainer(model, data, config, *exec);
            running = &trainer;

            // The decision boundary: the model on a grid over the (padded) data, for 2-D data.
            const bool twoD = data.featureCount() == 2 && data.isClassification();
            adj::Graph grid;
            adj::Tensor gridX;
            std::string inputName;
            const int n = TrainingController::kBoundaryGrid;
            if (twoD) {
                const adj::Tensor x = data.train.x.contiguous();
                const float* d = x.data();
                double x0 = 1e30, x1 = -1e30, y0 = 1e30, y1 = -1e30;
                for (std::int64_t i = 0; i < data.train.size(); ++i) {
                    x0 = std::min(x0, double(d[2 * i])), x1 = std::max(x1, double(d[2 * i]));
                    y0 = std::min(y0, double(d[2 * i + 1])), y1 = std::max(y1, double(d[2 * i + 1]));
                }
                const double px = (x1 - x0) * 0.08, py = (y1 - y0) * 0.08;
                const QRectF domain(x0 - px, y0 - py, x1 - x0 + 2 * px, y1 - y0 + 2 * py);
                grid = adj::train::specializeBatch(model, std::int64_t(n) * n);
                inputName = model.node(model.inputNodes().front()).name;
                gridX = gridPoints(domain, n);
                const adj::Tensor vx = data.validation.x.contiguous();
                std::vector<QPointF> points;
                std::vector<int> classes;
                for (std::int64_t i = 0; i < std::min<std::int64_t>(data.validation.size(), 400); ++i) {
                    points.emplace_back(vx.data()[2 * i], vx.data()[2 * i + 1]);
                    classes.push_back(data.validation.labels[std::size_t(i)]);
                }
                std::lock_guard lock(shared->mutex);
                shared->latest.domain = domain;
                shared->latest.points = std::move(points);
                shared->latest.classes = std::move(classes);
            }
            AdjointProbe probe(model, data, config.loss);
            qint64 lastProbe = -1000000;
            trainingStatus = QObject::tr("Training %1 on %2").arg(s.dataset, deviceDescription(*exec));
            setStatus(trainingStatus);

            QElapsedTimer clock, rate;
            clock.start();
            rate.start();
            std::int64_t rateSteps = 0;
            qint64 lastBoundary = -1000000;
            bool pauseShown = false;  // the status says "Paused at step N" once no step is in flight
            QElapsedTimer pace;  // the speed limit: each step waits for its turn
            pace.start();
            double due = 0;       // ms on `pace` when the next step may run
            while (!shared->cancel && trainer.step() < config.steps) {
                const bool single = shared->paused && shared->singleSteps > 0;
                if (shared->paused && !single) {
                    if (!pauseShown) setStatus(QObject::tr("Paused at step %1").arg(trainer.step()));
                    pauseShown = true;
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    continue;
                }
                if (single) {
                    --shared->singleSteps;
                    pauseShown = false;  // shows "Paused at step N+1" after it
                } else if (const int rate = shared->stepsPerSecond; rate > 0) {
                    const double now = double(pace.nsecsElapsed()) / 1e6;
                    if (now < due) {  // (in short naps: Stop and Pause stay quick)
                        std::this_thread::sleep_for(std::chrono::microseconds(std::int64_t(std::min(20.0, due - now) * 1000)));
                        continue;
                    }
                    due = std::max(due, now - 1000.0 / rate) + 1000.0 / rate;
                }
                if (pauseShown) setStatus(trainingStatus);
                pauseShown = false;
                const adj::train::StepReport r = trainer.runStep();
                ++rateSteps;
                QImage image;
                if (twoD && clock.elapsed() - lastBoundary >= TrainingController::kBoundaryIntervalMs) {
                    lastBoundary = clock.elapsed();
                    adj::Bindings b;
                    for (const auto& [name, value] : trainer.parameters()) b[name] = value;
                    b[inputName] = gridX;
                    image = boundaryImage(exec->run(grid, b).outputs.front(), n);
                }
                std::map<adj::ValueRef, double> magnitudes;
                std::map<adj::NodeId, adj::Tensor> values;
                const bool probed = clock.elapsed() - lastProbe >= TrainingController::kProbeIntervalMs;
                if (probed) {
                    lastProbe = clock.elapsed();
                    probe.run(*exec, trainer.parameters(), magnitudes, values);
                }
                std::lock_guard lock(shared->mutex);
                if (probed) {
                    shared->latest.adjointMagnitudes = std::move(magnitudes);
                    shared->latest.values = std::move(values);
                    ++shared->latest.probeVersion;
                }
                shared->latest.loss.emplace_back(double(r.step), r.loss);
                if (!std::isnan(r.accuracy)) shared->latest.accuracy.emplace_back(double(r.step), r.accuracy);
                shared->latest.step = r.step;
                if (rate.elapsed() >= 250) {
                    shared->latest.stepsPerSecond = double(rateSteps) * 1000.0 / double(rate.elapsed());
                    rate.restart();
                    rateSteps = 0;
                }
                if (!image.isNull()) {
                    shared->latest.boundary = image;
                    ++shared->latest.boundaryVersion;
                }
                shared->changed = true;
            }
            QString end = shared->cancel ? QObject::tr("Stopped at step %1").arg(trainer.step())
                                         : QObject::tr("Finished %1 steps").arg(trainer.step());
            if (!fellBack.isEmpty()) end += QStringLiteral(" (") + fellBack + QStringLiteral(")");
            setStatus(end);
        } catch (const std::exception& e) {
            setStatus(QObject::tr("Failed"), QString::fromUtf8(e.what()));
        }
    });
    shared->running = false;
}

}  // namespace
