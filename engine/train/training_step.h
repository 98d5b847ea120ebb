#pragma once
// The training-step graph: forward + loss + backward (buildBackward) + update, as one Graph that a
// person can see, save as JSON and export.
//
// Parameters stay the step graph's Parameter nodes (with the model's initial values); the training
// loop feeds the current values back by binding them by name (the executor accepts a binding for
// a parameter), and reads the new values from the "new.<param>" outputs. So the saved step graph
// is also a runnable graph on its own: with only the batch, lr, step and state bound it performs
// the first update from the model's initial parameters.
//
// Inputs:  <features> (the model's input, batch dimension fixed to the batch size), "targets"
//          (prediction-shaped floats), "lr" and "step" (scalars; step t = 1 for the first update),
//          and "state.<param>.<slot>" (optimizer state, optimizerStateSlots order).
// Outputs: "loss", <prediction> (the model's output), "new.<param>" for each parameter, then
//          "new.state.<param>.<slot>" for each parameter and slot.
#include <string>
#include <vector>

#include "ir/graph.h"
#include "train/losses.h"
#include "train/optimizers.h"

namespace adj::train {

struct TrainingStepGraph {
    Graph graph;
    std::string featureInput;
    std::string targetInput;
    std::string learningRateInput = "lr";
    std::string stepInput = "step";
    std::string lossOutput = "loss";
    std::string predictionOutput;
    std::vector<std::string> parameters;
    /// Per parameter, the state input names (one per slot).
    std::vector<std::vector<std::string>> stateInputs;
    std::vector<std::string> newParameterOutputs;
    std::vector<std::vector<std::string>> newStateOutputs;
};

/// Checks that `model` has exactly one input (features, [N, ...]) and one output (predictions,
/// [N, K]); throws adj::Error naming the problem otherwise.
void checkModelGraph(const Graph& model);

/// A copy of `model` with the input's first dimension made symbolic ("N") and then fixed to
/// `batchSize` rows (shape inference rerun).
Graph specializeBatch(const Graph& model, std::int64_t batchSize);

/// The forward graph with the loss: the specialized model plus a "targets" input and the loss
/// nodes (prefix "loss."); outputs "loss" and the prediction.
Graph buildLossGraph(const Graph& model, LossKind loss, std::int64_t batchSize);

/// The whole step. Throws GraphError when the model does not differentiate (an op without a VJP
/// rule) or the loss does not fit the output.
TrainingStepGraph buildTrainingStep(const Graph& model, LossKind loss, const OptimizerConfig& optimizer, std::int64_t batchSize);

}  // namespace adj::train
