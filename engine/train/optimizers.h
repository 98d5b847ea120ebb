#pragma once
// Update rules as graph nodes ("the update rule θ ← θ − η∇L is part of the graph"). Each rule adds,
// for one parameter, the nodes computing its new value and its new optimizer state from the
// gradient, the current state, and two scalar graph inputs: the learning rate and the step count
// t (1 for the first update; Adam's bias correction reads it). Hyperparameters other than the
// learning rate are constants in the graph. Conventions are PyTorch's (torch.optim 1.13):
//   sgd:       g' = g + wd*θ;  θ ← θ − η g'
//   momentum:  g' = g + wd*θ;  v ← μ v + g';  θ ← θ − η v
//   adam:      g' = g + wd*θ;  m ← β1 m + (1−β1) g';  v ← β2 v + (1−β2) g'²;
//              θ ← θ − (η / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + ε)
#include <optional>
#include <string>
#include <vector>

#include "ir/builder.h"

namespace adj::train {

enum class OptimizerKind { Sgd, Momentum, Adam };

struct OptimizerConfig {
    OptimizerKind kind = OptimizerKind::Adam;
    float learningRate = 0.01f;
    float momentum = 0.9f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float epsilon = 1e-8f;
    float weightDecay = 0.0f;
};

/// "sgd", "momentum", "adam".
std::string optimizerName(OptimizerKind kind);
std::optional<OptimizerKind> parseOptimizerKind(const std::string& name);
/// The state each parameter carries: none, {"velocity"}, or {"m", "v"}. Initial state is zeros of
/// the parameter's shape.
std::vector<std::string> optimizerStateSlots(OptimizerKind kind);

struct UpdateInputs {
    ValueRef param;
    ValueRef grad;
    /// One value per optimizerStateSlots entry.
    std::vector<ValueRef> state;
    /// Scalars.
    ValueRef learningRate;
    ValueRef step;
};

struct UpdateOutputs {
    ValueRef newParam;
    std::vector<ValueRef> newState;
};

/// Adds the update of one parameter. Node names start with b.prefix().
UpdateOutputs addUpdate(GraphBuilder& b, const OptimizerConfig& config, const UpdateInputs& in);

}  // namespace adj::train
