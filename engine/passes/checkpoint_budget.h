#pragma once
// The budget policy of recomputation (passes/checkpointing.h): among the sets of checkpoints,
// the one whose graph plans within a byte budget (the planned peak, runtime/memory_plan.h) with
// the fewest FLOPs computed again (the cost model's count of the copies).
//
// - Exact on small graphs: with at most kExactCandidates candidates (checkpointCandidates), every
//   subset is rewritten and planned; the cheapest that fits wins (ties: the lower peak). This is
//   the optimum over checkpoint sets for the rewrite and the order given.
// - A heuristic on larger ones: a family of sets, each rewritten and planned: keep everything
//   (no recomputation), every k-th candidate for k = 2..64 and then doubling up to n (the
//   sqrt(n) policy's set among them), and the candidates whose values are at most t bytes for
//   each distinct size t. The cheapest set that fits is then improved greedily: the candidates
//   it recomputes, costliest first, are kept one at a time wherever the peak still fits. Since
//   the sqrt(n) set is in the family and the greedy step only lowers the cost, the result never
//   recomputes more than sqrt(n) does when sqrt(n)'s peak fits the budget.
// - When nothing fits, the answer is the set with the smallest peak found (fits = false): that
//   peak is the smallest feasible one, exactly on small graphs, as far as the search sees on
//   large ones.
#include <cstdint>
#include <vector>

#include "passes/checkpointing.h"

namespace adj {

inline constexpr int kExactCandidates = 12;

struct CheckpointChoice {
    /// By index into checkpointCandidates(g, loss): 1 for a checkpoint (kept), 0 for recomputed.
    std::vector<char> keep;
    /// The planned peak of the rewritten graph and the FLOPs of its copies.
    std::int64_t peakBytes = 0;
    double recomputeFlops = 0;
    /// Whether peakBytes is within the budget.
    bool fits = false;
    /// Whether the search tried every subset.
    bool exact = false;
    /// How many sets were rewritten and planned.
    int evaluated = 0;
};

/// Exact when the graph has at most kExactCandidates candidates, else the heuristic.
CheckpointChoice chooseCheckpoints(const Graph& g, ValueRef loss, std::int64_t budgetBytes, const PlanContext& context = {});
/// Every subset (throws GraphError past 20 candidates).
CheckpointChoice chooseCheckpointsExact(const Graph& g, ValueRef loss, std::int64_t budgetBytes, const PlanContext& context = {});
CheckpointChoice chooseCheckpointsHeuristic(const Graph& g, ValueRef loss, std::int64_t budgetBytes, const PlanContext& context = {});

}  // namespace adj
