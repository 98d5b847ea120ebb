#pragma once
// Where the bytes go, for adjoint-cli memory and the GUI's memory view: the memory plan
// (runtime/memory_plan.h) of a graph's forward pass, of its backward graph, or of its training
// step, after a checkpoint policy (passes/checkpointing.h) and in a schedule order
// (runtime/memory_schedule.h), with the live bytes per step, the peak and the activations the
// backward pass keeps.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "passes/checkpointing.h"
#include "ir/graph.h"
#include "runtime/memory_plan.h"
#include "train/losses.h"
#include "train/optimizers.h"

namespace adj::train {

enum class MemoryPass { Forward, Backward, TrainingStep };

struct MemoryRequest {
    MemoryPass pass = MemoryPass::Forward;
    /// Backward: the scalar output to differentiate; empty: the first scalar output.
    std::string of;
    /// Backward: keep the forward graph's outputs (the loss among them) as outputs of the backward
    /// graph, so that optimizing it keeps the loss (the rewrite timeline's backward graph).
    bool keepForwardOutputs = false;
    /// TrainingStep: the loss, optimizer and batch of the step graph.
    LossKind loss = LossKind::CrossEntropy;
    OptimizerConfig optimizer;
    std::int64_t batchSize = 64;
    CheckpointPolicy checkpoint;
    ScheduleOrder order = ScheduleOrder::Topological;
};

struct MemoryReport {
    /// "forward", "backward of loss", "training step (cross-entropy, adam, batch 64)".
    std::string mode;
    /// The graph planned: the input graph, its backward graph or its step graph, checkpointed.
    Graph graph;
    MemoryPlan plan;
    /// By schedule step: the bytes of the buffers live then (plan.liveBytesByStep()).
    std::vector<std::int64_t> live;
    /// The step with the most live bytes (the first such).
    int peakStep = 0;
    /// By node id of `graph`: the forward pass (what the loss depends on); empty for Forward.
    std::vector<char> forward;
    /// The buffers the backward pass keeps of the forward pass, by index into plan.values
    /// (savedActivationBuffers; empty for Forward), and their bytes.
    std::vector<char> savedBuffers;
    std::int64_t activationBytes = 0;
    CheckpointResult recompute;

    bool isForward(NodeId id) const { return id >= 0 && std::size_t(id) < forward.size() && forward[std::size_t(id)]; }
};

/// What a request plans before recomputation: the graph itself (Forward), its backward graph
/// (Backward) or its training step (TrainingStep), with the loss a backward pass differentiates
/// (none for Forward) and the mode in words ("backward of loss"). Throws adj::Error as
/// memoryReport does. The rewrite timeline's "backward graph" comes from here too.
struct PassGraph {
    Graph graph;
    std::optional<ValueRef> loss;
    std::string mode;
    /// TrainingStep: the parameter and optimizer-state inputs, donated as the Trainer donates them
    /// (RunOptions::donatedInputs: the updates are written over them).
    std::vector<std::string> donated;
};
PassGraph passGraph(const Graph& graph, const MemoryRequest& request);

/// The report for `graph` (shapes as declared). Throws adj::Error naming the problem: no scalar
/// output to differentiate, a model that does not train (checkModelGraph), a shape problem.
MemoryReport memoryReport(const Graph& graph, const MemoryRequest& request);

}  // namespace adj::train
