// adjoint-cli train: trains a model graph (one input, one output) on a dataset with a loss and an
// update rule added as graph nodes (engine/train); docs/TRAINING.md describes it.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>

#include "base/errors.h"
#include "commands.h"
#include "io/json_format.h"
#include "memory_limit.h"
#include "base/median.h"
#include "train/checkpoint.h"
#include "train/datasets.h"
#include "train/trainer.h"
#include "training_options.h"

namespace adj::cli {

namespace {

/// Logged steps: the first, every 10th and the last.
bool isLoggedStep(std::int64_t step, std::int64_t last) { return step == 1 || step % 10 == 0 || step == last; }
/// Periodic checkpoints with --checkpoint (and one at the end).
constexpr std::int64_t kCheckpointEvery = 500;

nlohmann::json numberOrNull(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

int cmdTrain(const std::vector<std::string>& argv, Context& ctx) {
    std::vector<OptionSpec> specs = trainingOptionSpecs();
    specs.insert(specs.end(), {{"--backend"}, {"--fallback", false}, {"--checkpoint", true, true}, {"--resume"}, {"--save-step-graph"},
                               {"--memory-limit"}, {"--json", false}});
    Args args(argv, specs);
    const std::string path = graphArgument(args, "train");
    const bool json = args.has("--json");
    std::optional<std::string> checkpointPath;  // --checkpoint FILE (a policy goes to recomputation)
    const std::optional<CheckpointPolicy> recompute = checkpointPolicyArgument(args, true, &checkpointPath);

    train::TrainerConfig config = trainerConfigFromArgs(args);
    Graph model = loadCheckedGraph(path);
    train::Dataset data = trainingDataFromArgs(args);
    config.loss = trainingLossFromArgs(args, data);
    auto exec = makeBackend(args, ctx.err);

    std::unique_ptr<train::Trainer> trainer;
    try {
        trainer = std::make_unique<train::Trainer>(model, std::move(data), config, *exec);
    } catch (const Error& e) {
        throw BadInput(path + ": " + e.what());
    }
    MemoryFit fit;
    {
        const train::TrainingStepGraph& step = trainer->stepGraph();
        Graph g = step.graph;
        std::optional<ValueRef> loss;
        for (const auto& o : g.outputs())
            if (o.name == step.lossOutput) loss = o.value;
        std::vector<std::string> donated = step.parameters;  // as the Trainer donates them
        for (const auto& slots : step.stateInputs) donated.insert(donated.end(), slots.begin(), slots.end());
        fit = fitMemoryLimit(args, g, loss, recompute, {}, path, donated);
        checkMemoryFits(g, {}, path);
        if (fit.recomputed > 0) trainer->replaceStepGraph(std::move(g));
        trainer->setSchedule(fit.order);
    }
    if (auto f = args.value("--save-step-graph")) {
        try {
            saveGraphJson(trainer->stepGraph().graph, *f);
        } catch (const Error& e) {
            throw BadInput(e.what());
        }
    }
    if (auto r = args.value("--resume")) {
        try {
            trainer->restore(train::loadCheckpoint(*r));
        } catch (const Error& e) {
            const std::string msg = e.what();
            throw BadInput(msg.rfind(*r, 0) == 0 ? msg : *r + ": " + msg);
        }
    }
    auto saveCheckpoint = [&] {
        if (!checkpointPath) return;
        try {
            train::saveCheckpoint(*checkpointPath, trainer->checkpoint());
        } catch (const Error& e) {
            throw BadInput(e.what());
        }
    };

    std::vector<double> stepMs;
    std::int64_t peakBytes = 0, arenaBytes = 0;
    try {
        trainer->train([&](const train::StepReport& r) {
            stepMs.push_back(r.ms);
            peakBytes = std::max(peakBytes, r.peakBytes);
            arenaBytes = std::max(arenaBytes, r.arenaBytes);
            if (isLoggedStep(r.step, config.steps)) {
                if (json) {
                    ctx.out << nlohmann::json{{"step", r.step}, {"loss", r.loss}, {"accuracy", numberOrNull(r.accuracy)}, {"ms", r.ms}}.dump() << "\n";
                } else {
                    ctx.out << "step " << r.step << "  loss " << formatNumber(r.loss);
                    if (std::isfinite(r.accuracy)) ctx.out << "  accuracy " << formatNumber(r.accuracy);
                    ctx.out << "  " << formatNumber(r.ms) << " ms\n";
                }
                ctx.out.flush();
            }
            if (r.step % kCheckpointEvery == 0 && r.step != config.steps) saveCheckpoint();
        });
    } catch (const train::TrainingError& e) {
        throw BadInput(path + ": " + e.what());
    }
    saveCheckpoint();

    const train::Evaluation tr = trainer->evaluate(trainer->dataset().train);
    const train::Evaluation va = trainer->evaluate(trainer->dataset().validation);
    const double median = adj::median(stepMs);
    if (json) {
        nlohmann::json j{{"summary", true},
                         {"steps", trainer->step()},
                         {"loss", tr.loss},
                         {"accuracy", numberOrNull(tr.accuracy)},
                         {"val_loss", va.loss},
                         {"val_accuracy", numberOrNull(va.accuracy)},
                         {"ms_per_step", median},
                         {"peak_bytes", peakBytes > 0 ? nlohmann::json(peakBytes) : nlohmann::json(nullptr)},
                         {"arena_bytes", arenaBytes},
                         {"planned_peak_bytes", fit.plannedPeak},
                         {"order", std::string(scheduleOrderName(trainer->config().schedule))},
                         {"checkpoint", checkpointPolicyName(fit.checkpoint)},
                         {"recomputed", fit.recomputed},
                         {"dataset", trainer->dataset().name},
                         {"optimizer", train::optimizerName(config.optimizer.kind)},
                         {"loss_kind", train::lossName(config.loss)},
                         {"backend", exec->name()},
                         {"device", exec->deviceName()}};
        ctx.out << j.dump() << "\n";
    } else {
        ctx.out << "trained " << trainer->step() << " steps on " << trainer->dataset().name << " (" << exec->deviceName() << "): loss "
                << formatNumber(tr.loss);
        if (std::isfinite(tr.accuracy)) ctx.out << ", accuracy " << formatNumber(tr.accuracy) << ", validation accuracy " << formatNumber(va.accuracy);
        else ctx.out << ", validation loss " << formatNumber(va.loss);
        ctx.out << ", " << formatNumber(median) << " ms/step (median)\n";
    }
    return kOk;
}

}  // namespace adj::cli
