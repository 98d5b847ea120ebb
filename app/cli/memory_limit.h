#pragma once
// --checkpoint POLICY and --memory-limit BYTES (grad, train): running a graph within a memory
// limit (the lecture's runtime scheduling), first by the order of its nodes, then by recomputing
// activations (passes/checkpointing.h, passes/checkpoint_budget.h).
#include <cstdint>
#include <optional>
#include <string>

#include "args.h"
#include "passes/checkpointing.h"
#include "ir/graph.h"
#include "runtime/executor.h"

namespace adj::cli {

/// The --checkpoint values that name a recomputation policy (none, sqrt, every:K, budget:BYTES).
/// grad: every value must (UsageError otherwise). train (`fileOtherwise`): any other value is the
/// file training state is saved to, returned in *file; the option may be given twice, once for
/// each.
std::optional<CheckpointPolicy> checkpointPolicyArgument(const Args& args, bool fileOtherwise = false, std::optional<std::string>* file = nullptr);

struct MemoryFit {
    ScheduleOrder order = ScheduleOrder::Topological;
    /// The recomputation applied: the one asked for, or budget:LIMIT when the limit chose it.
    CheckpointPolicy checkpoint;
    std::size_t recomputed = 0;
    /// The planned peak in that order (0 when the planner could not shape the graph).
    std::int64_t plannedPeak = 0;
};

/// Rewrites `graph` (a forward and backward pass whose loss is `loss`, or a graph without one:
/// nullopt) with the recomputation asked for, and chooses the order to run it in:
/// - without --memory-limit: the policy asked for (none by default), the topological order;
/// - with --memory-limit and a policy asked for: that policy, in the topological order if it plans
///   within the limit, else the min-peak one;
/// - with --memory-limit alone: the topological order, else the min-peak one, else (when there is
///   a loss) the budget policy at the limit in either order: the fewest FLOPs recomputed that fit.
/// BadInput naming the smallest peak it can plan when nothing fits. A graph the planner cannot
/// shape runs as it is (the run names the problem). `donated`: the inputs the run will donate
/// (RunOptions::donatedInputs; train: parameters and optimizer state), planned as it runs.
MemoryFit fitMemoryLimit(const Args& args, Graph& graph, std::optional<ValueRef> loss, const std::optional<CheckpointPolicy>& requested,
                         const Bindings& bindings, const std::string& what, const std::vector<std::string>& donated = {});

}  // namespace adj::cli
