#pragma once
// TrainingController runs a Trainer (engine/train/trainer.h) on a worker thread for the training
// dashboard. The worker records every step and, every kBoundaryIntervalMs, evaluates the model on
// a grid over a 2-D dataset (the decision boundary). The GUI thread never waits for it: a timer
// takes a snapshot of what is new kRefreshIntervalMs apart (about 20 a second) and emits it, so
// the event loop gets at most that many small updates however fast training runs. Engine
// kernels of the run use one thread fewer than the machine has, leaving a core to the GUI.
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <memory>
#include <thread>

#include "ir/graph.h"
#include "runtime/executor.h"
#include "training_dashboard.h"

/// The device an executor runs on, as the dashboard names it: a software Vulkan driver (lavapipe,
/// "llvmpipe") is said to be one.
QString deviceDescription(const adj::Executor& exec);

class TrainingController : public QObject {
    Q_OBJECT
public:
    static constexpr int kRefreshIntervalMs = 50;
    static constexpr int kBoundaryIntervalMs = 70;
    static constexpr int kBoundaryGrid = 48;
    /// How often the worker runs the backward graph on a probe batch for live adjoints.
    static constexpr int kProbeIntervalMs = 250;

    explicit TrainingController(QObject* parent = nullptr);
    ~TrainingController() override;

    /// The model to train (copied): one input [N, features], one output [N, K].
    void setModel(const adj::Graph& model);
    bool hasModel() const { return model_ != nullptr; }
    bool isRunning() const;
    bool isPaused() const;
    /// Starts a run (stopping any other; `paused`: it waits for Step or Pause's release); problems (a model that does not fit the dataset, an
    /// unknown loss) come back through failed() once the worker has checked them.
    void start(const TrainingSettings& settings, bool paused = false);
    /// Wires a dashboard's requests to this controller and its snapshots to the dashboard.
    /// The Vulkan device probe (loading a driver can take seconds) starts only when the dashboard
    /// is first shown or its backend list is opened, never at program start.
    void attach(TrainingDashboard* dashboard);
    /// Whether the Vulkan device probe has been started (for tests).
    bool deviceProbeStarted() const { return probeStarted_; }

public Q_SLOTS:
    void setPaused(bool paused);
    /// At most this many steps a second from now on (0: as fast as it goes); a run's own
    /// starting speed is TrainingSettings::stepsPerSecond.
    void setStepsPerSecond(int stepsPerSecond);
    /// One more step of a paused run.
    void stepOnce();
    /// Stops the run and waits for the worker (at most one step).
    void stop();
    /// Stops and forgets the run's curves.
    void reset();

Q_SIGNALS:
    void snapshotReady(const TrainingSnapshot& snapshot);
    void failed(const QString& message);
    void finished();

public:
    /// The state the worker shares with the GUI thread (defined in the .cpp).
    struct Shared;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void startDeviceProbe();
    void poll();
    void join();

    std::unique_ptr<adj::Graph> model_;
    std::shared_ptr<Shared> shared_;
    std::thread worker_;
    /// Finds out whether a Vulkan device is usable (attach()); joined before destruction.
    std::thread deviceProbe_;
    QPointer<TrainingDashboard> probeTarget_;
    bool probeStarted_ = false;
    QTimer timer_;
};
