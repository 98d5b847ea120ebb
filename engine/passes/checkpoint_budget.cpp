#include "passes/checkpoint_budget.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "cost/cost_model.h"
#include "runtime/memory_plan.h"

namespace adj {

namespace {

/// Rewrites a copy of the graph with a set of checkpoints and plans it.
class SetEvaluator {
public:
    SetEvaluator(const Graph& g, ValueRef loss, const PlanContext& context)
        : g_(g), loss_(loss), context_(context), candidates_(checkpointCandidates(g, loss)) {}

    const std::vector<NodeId>& candidates() const { return candidates_; }
    int evaluated() const { return evaluated_; }

    CheckpointChoice operator()(const std::vector<char>& keep, std::int64_t budget) {
        CheckpointChoice c;
        c.keep = keep;
        Graph copy = g_;
        std::vector<char> byId(std::size_t(g_.idBound()), 0);  // views: recomputed (free)
        for (std::size_t i = 0; i < candidates_.size(); ++i) byId[std::size_t(candidates_[i])] = keep[i];
        const CheckpointResult r = applyCheckpointSet(copy, loss_, byId);
        c.peakBytes = planMemory(copy, context_.inputShapes, context_.order, context_.donated).plannedPeakBytes();
        c.recomputeFlops = r.recomputeFlops;
        c.fits = c.peakBytes <= budget;
        ++evaluated_;
        return c;
    }

private:
    const Graph& g_;
    ValueRef loss_;
    const PlanContext& context_;
    std::vector<NodeId> candidates_;
    int evaluated_ = 0;
};

/// Fitting beats not fitting; among fitting sets the fewer FLOPs (then the lower peak), among the
/// others the lower peak (then the fewer FLOPs).
bool better(const CheckpointChoice& a, const CheckpointChoice& b) {
    if (a.fits != b.fits) return a.fits;
    if (a.fits) return a.recomputeFlops != b.recomputeFlops ? a.recomputeFlops < b.recomputeFlops : a.peakBytes < b.peakBytes;
    return a.peakBytes != b.peakBytes ? a.peakBytes < b.peakBytes : a.recomputeFlops < b.recomputeFlops;
}

std::vector<char> everyKth(std::size_t n, std::size_t k) {
    std::vector<char> keep(n, 0);
    for (std::size_t i = 0; i < n; ++i) keep[i] = (i + 1) % k == 0;
    return keep;
}

std::int64_t outputBytes(const Graph& g, NodeId id) {
    std::int64_t bytes = 0;
    const Node& n = g.node(id);
    for (int port = 0; port < int(n.outputs.size()); ++port) {
        const ValueRef v{id, port};
        if (!g.hasType(v)) continue;
        const ValueType& t = g.type(v);
        bytes += numel(t.shape) * std::int64_t(dtypeSize(t.dtype));
    }
    return bytes;
}

}  // namespace

CheckpointChoice chooseCheckpoints(const Graph& g, ValueRef loss, std::int64_t budgetBytes, const PlanContext& context) {
    if (checkpointCandidates(g, loss).size() <= std::size_t(kExactCandidates)) return chooseCheckpointsExact(g, loss, budgetBytes, context);
    return chooseCheckpointsHeuristic(g, loss, budgetBytes, context);
}

CheckpointChoice chooseCheckpointsExact(const Graph& g, ValueRef loss, std::int64_t budgetBytes, const PlanContext& context) {
    SetEvaluator evaluate(g, loss, context);
    const std::size_t n = evaluate.candidates().size();
    if (n > 20) throw GraphError("checkpointing: the exact budget search takes at most 20 candidates, the graph has " + std::to_string(n));
    CheckpointChoice best;
    bool any = false;
    for (std::uint32_t mask = 0; mask < (std::uint32_t(1) << n); ++mask) {
        std::vector<char> keep(n, 0);
        for (std::size_t i = 0; i < n; ++i) keep[i] = (mask >> i) & 1u;
        CheckpointChoice c = evaluate(keep, budgetBytes);
        if (!any || better(c, best)) best = std::move(c);
        any = true;
    }
    best.exact = true;
    best.evaluated = evaluate.evaluated();
    return best;
}

CheckpointChoice chooseCheckpointsHeuristic(const Graph& g, ValueRef loss, std::int64_t budgetBytes, const PlanContext& context) {
    SetEvaluator evaluate(g, loss, context);
    const std::vector<NodeId>& candidates = evaluate.candidates();
    const std::size_t n = candidates.size();
    // the family
    std::vector<std::vector<char>> family;
    family.emplace_back(n, 1);  // no recomputation
    std::set<std::size_t> ks;
    for (std::size_t k = 2; k <= std::min<std::size_t>(n, 64); ++k) ks.insert(k);
    for (std::size_t k = 128; k <= n; k *= 2) ks.insert(k);
    ks.insert(std::max<std::size_t>(1, std::size_t(std::ceil(std::sqrt(double(n))))));  // Chen's sqrt(n)
    ks.insert(n + 1);  // recompute everything
    for (std::size_t k : ks) family.push_back(everyKth(n, k));
    std::vector<std::int64_t> bytes(n);
    for (std::size_t i = 0; i < n; ++i) bytes[i] = outputBytes(g, candidates[i]);
    std::vector<std::int64_t> sizes(bytes.begin(), bytes.end());
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    const std::size_t thresholds = std::min<std::size_t>(sizes.size(), 16);
    for (std::size_t j = 0; j + 1 < thresholds; ++j) {  // (the largest size keeps everything: already in)
        const std::int64_t t = sizes[j * sizes.size() / thresholds];
        std::vector<char> keep(n, 0);
        for (std::size_t i = 0; i < n; ++i) keep[i] = bytes[i] <= t;
        family.push_back(std::move(keep));
    }
    std::vector<CheckpointChoice> planned;
    for (const auto& keep : family) planned.push_back(evaluate(keep, budgetBytes));
    std::stable_sort(planned.begin(), planned.end(), better);
    CheckpointChoice best = planned.front();
    // greedy, from each of the kRefined cheapest sets that fit: keep what costs most to recompute
    // wherever the peak still fits
    std::vector<double> flops(n, 0);
    for (std::size_t i = 0; i < n; ++i) flops[i] = nodeCost(g, candidates[i]).flops;
    constexpr std::size_t kRefined = 3;
    for (std::size_t start = 0; start < std::min(kRefined, planned.size()) && planned[start].fits; ++start) {
        CheckpointChoice current = planned[start];
        std::vector<std::size_t> recomputed;
        for (std::size_t i = 0; i < n; ++i)
            if (!current.keep[i]) recomputed.push_back(i);
        std::stable_sort(recomputed.begin(), recomputed.end(), [&](std::size_t a, std::size_t b) { return flops[a] > flops[b]; });
        const std::size_t tries = std::min<std::size_t>(recomputed.size(), 256);
        for (std::size_t t = 0; t < tries; ++t) {
            std::vector<char> keep = current.keep;
            keep[recomputed[t]] = 1;
            CheckpointChoice c = evaluate(keep, budgetBytes);
            if (c.fits && better(c, current)) current = std::move(c);
        }
        if (better(current, best)) best = std::move(current);
    }
    best.exact = false;
    best.evaluated = evaluate.evaluated();
    return best;
}

}  // namespace adj
