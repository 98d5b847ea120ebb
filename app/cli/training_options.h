#pragma once
// What `train` and `export --train` read alike: the data source (--dataset, --data/--labels,
// --csv), the loss, the optimizer and its learning rate, steps, batch and seed, with train's
// defaults (docs/TRAINING.md).
#include <vector>

#include "args.h"
#include "train/datasets.h"
#include "train/trainer.h"

namespace adj::cli {

/// The options above, for an Args specification.
std::vector<OptionSpec> trainingOptionSpecs();

/// Optimizer, learning rate, steps, batch and seed (the loss is chosen with the data). Throws
/// UsageError for a malformed value.
train::TrainerConfig trainerConfigFromArgs(const Args& args);

/// The data source the options name (exactly one). Throws UsageError or BadInput.
train::Dataset trainingDataFromArgs(const Args& args);

/// --loss, or cross-entropy for class labels and mean squared error for real-valued targets.
/// Throws UsageError for an unknown loss, BadInput for cross-entropy on real-valued targets.
train::LossKind trainingLossFromArgs(const Args& args, const train::Dataset& data);

}  // namespace adj::cli
