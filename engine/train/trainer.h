#pragma once
// The training loop: runs the training-step graph (training_step.h) on batches from the shuffler,
// feeding parameters and optimizer state back, and reports progress for a GUI or the CLI.
//
// - Deterministic by seed: the data come from fixed generators, the batches from BatchSampler
//   seeded with TrainerConfig::seed, and the step graph runs on the chosen executor.
// - Cancellable: train() checks an std::atomic<bool> before every step.
// - NaN/Inf: every step runs with RunOptions::checkFinite, so the first node that produces a
//   non-finite value stops training with a TrainingError naming the node and the step.
// - Checkpoints: checkpoint() / restore() capture everything needed to continue bit-identically.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/errors.h"
#include "runtime/executor.h"
#include "train/batches.h"
#include "train/checkpoint.h"
#include "train/datasets.h"
#include "train/losses.h"
#include "train/optimizers.h"
#include "train/training_step.h"

namespace adj::train {

/// Training stopped on a non-finite value (or another failure of a step); the message names the
/// step and the node.
class TrainingError : public Error {
public:
    using Error::Error;
};

struct TrainerConfig {
    LossKind loss = LossKind::CrossEntropy;
    OptimizerConfig optimizer;
    /// Total updates (a resumed run continues up to this count).
    std::int64_t steps = 1000;
    std::int64_t batchSize = 64;
    std::uint64_t seed = 0;
    bool checkFinite = true;
    /// The order the step graph's nodes run in (RunOptions::schedule).
    ScheduleOrder schedule = ScheduleOrder::Topological;
};

struct StepReport {
    /// 1 for the first update.
    std::int64_t step = 0;
    /// Loss on this step's batch (before the update).
    double loss = 0;
    /// Accuracy on this step's batch; NaN for regression.
    double accuracy = std::numeric_limits<double>::quiet_NaN();
    /// Wall time of the step (data, graph run, feeding back).
    double ms = 0;
    /// The step graph's run: measured peak of live bytes and the memory plan's arena
    /// (RunResult::peakLiveBytes, arenaBytes; 0 where the executor does not report them).
    std::int64_t peakBytes = 0;
    std::int64_t arenaBytes = 0;
};

struct Evaluation {
    double loss = 0;
    /// NaN for regression.
    double accuracy = std::numeric_limits<double>::quiet_NaN();
};

class Trainer {
public:
    /// Checks the model against the data (one input, one output, feature count, class count vs
    /// output width) and builds the step graph; throws adj::Error naming the problem.
    Trainer(const Graph& model, Dataset data, TrainerConfig config, Executor& executor);

    const TrainingStepGraph& stepGraph() const { return step_; }
    const Dataset& dataset() const { return data_; }
    const TrainerConfig& config() const { return config_; }
    /// A rewrite of stepGraph().graph that keeps its inputs and outputs (recomputation,
    /// passes/checkpointing.h) for the next steps; throws adj::Error when an input or output
    /// differs.
    void replaceStepGraph(Graph graph);
    /// The order the next steps run their nodes in (a memory limit chosen after the step graph).
    void setSchedule(ScheduleOrder order) { config_.schedule = order; }
    /// Updates done so far.
    std::int64_t step() const { return stepCount_; }

    /// One update. Throws TrainingError on a non-finite value.
    StepReport runStep();
    /// Steps until config().steps (or until *cancel becomes true), calling `progress` after each
    /// step. Returns the number of steps run by this call.
    std::int64_t train(const std::function<void(const StepReport&)>& progress = {}, const std::atomic<bool>* cancel = nullptr);

    /// Loss and accuracy over a whole split with the current parameters.
    Evaluation evaluate(const DataSplit& split);

    /// Current parameter values by name (the model's parameter names).
    const std::map<std::string, Tensor>& parameters() const { return params_; }
    /// The model graph with the current parameter values.
    Graph trainedModel() const;

    Checkpoint checkpoint() const;
    /// Continues from a checkpoint; throws adj::Error when it does not fit (other optimizer, loss,
    /// batch size, parameter names or shapes, data size).
    void restore(const Checkpoint& c);

private:
    Tensor targetsFor(const DataSplit& split, const std::vector<std::int64_t>* rows) const;
    Graph model_;
    Dataset data_;
    TrainerConfig config_;
    Executor& exec_;
    TrainingStepGraph step_;
    BatchSampler sampler_;
    std::int64_t stepCount_ = 0;
    int outputWidth_ = 0;
    std::map<std::string, Tensor> params_;
    std::map<std::string, Tensor> state_;
    std::map<std::int64_t, Graph> evalGraphs_;
};

}  // namespace adj::train
