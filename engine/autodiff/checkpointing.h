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
//   (Chen's sqrt(n) policy). Sources are never recomputed.
// - Each backward read of a forward value that is not a checkpoint (nor a source) is rewired to a
//   copy of the value's node, whose inputs are copied the same way back to checkpoints and
//   sources; one copy per forward node, shared by every backward reader. Copies carry the meta
//   "recompute_of" (the node they copy) and "schedule": "late", so that the topological order
//   runs each just before the first node that needs it (Graph::topoOrder): the dropped forward
//   values die during the forward pass, and the copies live only as long as the backward pass
//   needs them.
// - The copies compute the same ops on the same values, so the gradients are bit-identical.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace adj {

struct CheckpointPolicy {
    enum class Kind { None, EveryK, Sqrt } kind = Kind::None;
    /// EveryK: keep every k-th forward node's values.
    int k = 0;
};

/// "none", "sqrt" or "every:K" (K >= 1); nullopt with the reason in `why` otherwise.
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

/// Rewrites `g` in place as described above. `loss` is the forward output the backward pass
/// differentiates. Policy None changes nothing. Throws GraphError when `loss` is not in the graph.
CheckpointResult applyCheckpointing(Graph& g, ValueRef loss, const CheckpointPolicy& policy);

}  // namespace adj
