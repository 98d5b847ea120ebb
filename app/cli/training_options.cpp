#include "training_options.h"

#include <cmath>

#include "base/errors.h"
#include "commands.h"

namespace adj::cli {

namespace {

std::int64_t positiveInteger(const Args& args, const std::string& name, std::int64_t fallback) {
    const auto v = args.integer(name);
    if (!v) return fallback;
    if (*v < 1) throw UsageError(name + " must be at least 1, got " + std::to_string(*v));
    return *v;
}

}  // namespace

std::vector<OptionSpec> trainingOptionSpecs() {
    return {{"--dataset"}, {"--data"}, {"--labels"}, {"--csv"}, {"--loss"}, {"--steps"}, {"--batch"}, {"--optimizer"}, {"--lr"}, {"--seed"}};
}

train::TrainerConfig trainerConfigFromArgs(const Args& args) {
    train::TrainerConfig config;
    if (auto o = args.value("--optimizer")) {
        auto k = train::parseOptimizerKind(*o);
        if (!k) throw UsageError("--optimizer must be sgd, momentum or adam, got '" + *o + "'");
        config.optimizer.kind = *k;
    }
    config.optimizer.learningRate = config.optimizer.kind == train::OptimizerKind::Adam ? 0.01f : 0.1f;
    if (auto lr = args.number("--lr")) {
        if (!(*lr > 0) || !std::isfinite(*lr)) throw UsageError("--lr must be a positive number");
        config.optimizer.learningRate = float(*lr);
    }
    config.steps = positiveInteger(args, "--steps", 1000);
    config.batchSize = positiveInteger(args, "--batch", 64);
    if (auto s = args.integer("--seed")) {
        if (*s < 0) throw UsageError("--seed must be a non-negative integer");
        config.seed = std::uint64_t(*s);
    }
    return config;
}

train::Dataset trainingDataFromArgs(const Args& args) {
    const int sources = int(args.has("--dataset")) + int(args.has("--data")) + int(args.has("--csv"));
    if (sources != 1) throw UsageError("train needs exactly one of --dataset NAME, --data X.npy --labels Y.npy, --csv FILE");
    if (args.has("--data") != args.has("--labels")) throw UsageError("--data X.npy and --labels Y.npy go together");
    try {
        if (auto name = args.value("--dataset")) return train::makeDataset(*name);
        if (auto csv = args.value("--csv")) return train::loadCsvDataset(*csv);
        return train::loadNpyDataset(*args.value("--data"), *args.value("--labels"));
    } catch (const Error& e) {
        throw BadInput(e.what());
    }
}

train::LossKind trainingLossFromArgs(const Args& args, const train::Dataset& data) {
    train::LossKind loss = data.isClassification() ? train::LossKind::CrossEntropy : train::LossKind::MeanSquaredError;
    if (auto l = args.value("--loss")) {
        auto k = train::parseLossKind(*l);
        if (!k) throw UsageError("--loss must be cross-entropy or mse, got '" + *l + "'");
        loss = *k;
    }
    if (loss == train::LossKind::CrossEntropy && !data.isClassification())
        throw BadInput("dataset '" + data.name + "' has real-valued targets: cross-entropy needs class labels (use --loss mse)");
    return loss;
}

}  // namespace adj::cli
