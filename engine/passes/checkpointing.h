#pragma once
// Recomputation as a rewrite (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost"):
// in a graph that holds a forward pass and its backward pass (buildBackward's graph, a training
// step), the backward pass keeps only some forward values, the checkpoints, and computes the others
// again from them when it needs them, trading FLOPs for memory.
//
// - The forward pass is what the loss depends on; every other node that reads a forward value is
//   backward (gradients, optimizer updates).
// - A policy picks the checkpoints among the forward nodes that compute a buffer (views are free
//   to recompute), in topological order: every k-th, or the ends of sqrt(n) equal segments
//   (Chen's sqrt(n) policy), or the set that fits a byte budget with the fewest FLOPs recomputed
//   (passes/checkpoint_budget.h). Sources are never recomputed.
// - Each backward read of a forward value that is not a checkpoint (nor a source) is rewired to a
//   copy of the value's node, whose inputs are copied the same way back to checkpoints and
//   sources; one copy per forward node, shared by every backward reader. Copies carry the meta
//   "recompute_of" (the node they copy) and "schedule": "late", so that the topological order
//   runs each just before the first node that needs it (Graph::topoOrder): the dropped forward
//   values die during the forward pass, and the copies live only as long as the backward pass
//   needs them.
// - The copies compute the same ops on the same values, so the gradients are bit-identical.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/errors.h"
#include "ir/graph.h"
#include "passes/rewriter.h"
#include "runtime/memory_schedule.h"

namespace adj {

struct CheckpointPolicy {
    enum class Kind { None, EveryK, Sqrt, Budget } kind = Kind::None;
    /// EveryK: keep every k-th forward node's values.
    int k = 0;
    /// Budget: the planned peak (runtime/memory_plan.h, arena plus outputs) the graph must fit in.
    std::int64_t budgetBytes = 0;
};

/// "none", "sqrt", "every:K" (K >= 1) or "budget:BYTES" (BYTES >= 1); nullopt with the reason in
/// `why` otherwise.
std::optional<CheckpointPolicy> parseCheckpointPolicy(std::string_view text, std::string* why = nullptr);
std::string checkpointPolicyName(const CheckpointPolicy& policy);

struct CheckpointResult {
    /// Forward nodes whose values the backward pass reads as they are (checkpoints it needs).
    std::vector<std::string> kept;
    /// Forward nodes the backward pass computes again (each once).
    std::vector<std::string> recomputed;
    /// The FLOPs of the copies (the cost model's count).
    double recomputeFlops = 0;
};

/// How the budget policy plans the graphs it compares: the input shapes (as planMemory takes
/// them), the execution order and the donated inputs.
struct PlanContext {
    std::map<std::string, Shape> inputShapes;
    ScheduleOrder order = ScheduleOrder::Topological;
    /// Inputs the run donates (RunOptions::donatedInputs), as the planner takes them.
    std::vector<std::string> donated;
};

/// The budget is below the smallest peak the budget policy can plan the graph in (named in the
/// message and in smallestPeakBytes).
class CheckpointBudgetError : public Error {
public:
    CheckpointBudgetError(const std::string& what, std::int64_t smallest) : Error(what), smallestPeakBytes(smallest) {}
    std::int64_t smallestPeakBytes = 0;
};

/// Rewrites `g` in place as described above. `loss` is the forward output the backward pass
/// differentiates. Policy None changes nothing. Throws GraphError when `loss` is not in the graph,
/// CheckpointBudgetError when no set of checkpoints fits a Budget policy's bytes.
CheckpointResult applyCheckpointing(Graph& g, ValueRef loss, const CheckpointPolicy& policy, const PlanContext& context = {},
                                    Rewriter* recorder = nullptr);

/// The nodes a policy chooses checkpoints among: the forward nodes (what `loss` depends on) that
/// compute a buffer of their own (no sources, no views), in topological order.
std::vector<NodeId> checkpointCandidates(const Graph& g, ValueRef loss);

/// The rewrite with the checkpoints given: `keep` by node id (1: the backward pass reads the
/// value as it is; 0: it computes it again). Nodes past keep's end count as kept. With a
/// `recorder` (a Rewriter on `g`), each copy and the backward reads it takes over are one rewrite
/// step (rule "recompute", rooted at the node copied), so that a trace replays the rewrite.
CheckpointResult applyCheckpointSet(Graph& g, ValueRef loss, const std::vector<char>& keep, Rewriter* recorder = nullptr);

/// The scalar value a backward pass in the graph differentiates: the value its seed names (meta
/// "seed_of", buildBackward's graphs), else the first scalar graph output that some node outside
/// its forward pass reads (a training step's loss); nullopt when the graph has no backward pass.
std::optional<ValueRef> findDifferentiatedLoss(const Graph& g);

/// The pass "checkpoint" (passes/pipeline.h): sqrt(n) recomputation of the backward pass of
/// findDifferentiatedLoss's output, each copy a step of the trace; nothing without a backward pass.
void runCheckpointPass(Rewriter& rewriter);

}  // namespace adj
