#include "memory_limit.h"

#include <algorithm>

#include "passes/checkpoint_budget.h"
#include "base/byte_size.h"
#include "common.h"
#include "runtime/memory_plan.h"

namespace adj::cli {

std::optional<CheckpointPolicy> checkpointPolicyArgument(const Args& args, bool fileOtherwise, std::optional<std::string>* file) {
    std::optional<CheckpointPolicy> policy;
    for (const std::string& value : args.values("--checkpoint")) {
        std::string why;
        if (auto p = parseCheckpointPolicy(value, &why)) {
            if (policy) throw UsageError("--checkpoint names two recomputation policies: give one");
            policy = p;
            continue;
        }
        const bool policyLike = value.rfind("every:", 0) == 0 || value.rfind("budget:", 0) == 0;
        if (!fileOtherwise || policyLike) throw UsageError("--checkpoint: " + why);
        if (file && *file) throw UsageError("--checkpoint names two files: give one (and a policy, if any, as the other)");
        if (file) *file = value;
    }
    return policy;
}

namespace {

std::optional<std::int64_t> plannedPeak(const Graph& g, const std::map<std::string, Shape>& shapes, ScheduleOrder order,
                                        const std::vector<std::string>& donated) {
    try {
        return planMemory(g, shapes, order, donated).plannedPeakBytes();
    } catch (const Error&) {
        return std::nullopt;
    }
}

std::string bytesText(std::int64_t bytes) {
    return std::to_string(bytes) + " B" + (bytes >= 1024 ? " (" + readableBytes(bytes) + ")" : "");
}

}  // namespace

MemoryFit fitMemoryLimit(const Args& args, Graph& graph, std::optional<ValueRef> loss, const std::optional<CheckpointPolicy>& requested,
                         const Bindings& bindings, const std::string& what, const std::vector<std::string>& donated) {
    std::optional<long long> limit;
    if (args.has("--memory-limit")) {
        limit = args.integer("--memory-limit");
        if (!limit || *limit <= 0) throw UsageError("--memory-limit must be a positive number of bytes");
    }
    const std::map<std::string, Shape> shapes = shapesOf(bindings);
    MemoryFit fit;
    if (requested && requested->kind != CheckpointPolicy::Kind::None && !loss)
        throw UsageError("--checkpoint needs a backward pass to recompute for");
    auto applyPolicy = [&](Graph& g, const CheckpointPolicy& policy, ScheduleOrder order) {
        if (!loss || policy.kind == CheckpointPolicy::Kind::None) return std::size_t(0);
        return applyCheckpointing(g, *loss, policy, {shapes, order, donated}).recomputed.size();
    };

    if (!limit || requested) {
        const CheckpointPolicy policy = requested.value_or(CheckpointPolicy{});
        std::int64_t smallest = -1;
        std::string smallestOrder;
        for (ScheduleOrder order : {ScheduleOrder::Topological, ScheduleOrder::MinPeak}) {
            Graph g = graph;
            std::size_t recomputed = 0;
            try {
                recomputed = applyPolicy(g, policy, order);
            } catch (const CheckpointBudgetError& e) {
                if (smallest < 0 || e.smallestPeakBytes < smallest) smallest = e.smallestPeakBytes, smallestOrder = std::string(scheduleOrderName(order));
                continue;
            } catch (const Error&) {
                return fit;  // the run names the shape problem
            }
            const auto peak = plannedPeak(g, shapes, order, donated);
            if (!peak || !limit || *peak <= *limit) {
                graph = std::move(g);
                fit.order = order;
                fit.checkpoint = policy;
                fit.recomputed = recomputed;
                fit.plannedPeak = peak.value_or(0);
                return fit;
            }
            if (smallest < 0 || *peak < smallest) smallest = *peak, smallestOrder = std::string(scheduleOrderName(order));
        }
        if (!limit)  // a budget that fits in no order
            throw BadInput(what + ": --checkpoint " + checkpointPolicyName(policy) + " is below the smallest peak recomputation can plan: " +
                           bytesText(smallest) + " (" + smallestOrder + " order)");
        throw BadInput(what + ": --memory-limit " + std::to_string(*limit) + " B is below the smallest peak it can be planned in with --checkpoint " +
                       checkpointPolicyName(policy) + ": " + bytesText(smallest) + " (" + smallestOrder +
                       " order; without --checkpoint, Adjoint chooses what to recompute). adjoint-cli memory shows the plan");
    }

    // a limit and no policy: the order first, then recomputation
    std::int64_t smallest = -1;
    std::string how;
    for (ScheduleOrder order : {ScheduleOrder::Topological, ScheduleOrder::MinPeak}) {
        const auto peak = plannedPeak(graph, shapes, order, donated);
        if (!peak) return fit;
        if (*peak <= *limit) {
            fit.order = order;
            fit.plannedPeak = *peak;
            return fit;
        }
        if (smallest < 0 || *peak < smallest) smallest = *peak, how = std::string(scheduleOrderName(order)) + " order";
    }
    if (loss) {
        for (ScheduleOrder order : {ScheduleOrder::Topological, ScheduleOrder::MinPeak}) {
            const CheckpointChoice choice = chooseCheckpoints(graph, *loss, *limit, {shapes, order, donated});
            if (choice.fits) {
                CheckpointPolicy policy{CheckpointPolicy::Kind::Budget, 0};
                policy.budgetBytes = *limit;
                const std::vector<NodeId> candidates = checkpointCandidates(graph, *loss);
                std::vector<char> keep(std::size_t(graph.idBound()), 0);
                for (std::size_t i = 0; i < candidates.size(); ++i) keep[std::size_t(candidates[i])] = choice.keep[i];
                fit.recomputed = applyCheckpointSet(graph, *loss, keep).recomputed.size();
                fit.order = order;
                fit.checkpoint = policy;
                fit.plannedPeak = choice.peakBytes;
                return fit;
            }
            if (choice.peakBytes < smallest)
                smallest = choice.peakBytes, how = std::string(scheduleOrderName(order)) + " order, recomputing activations";
        }
    }
    throw BadInput(what + ": --memory-limit " + std::to_string(*limit) + " B is below the smallest peak it can be planned in: " +
                   bytesText(smallest) + " (" + how + "). adjoint-cli memory shows the plan");
}

}  // namespace adj::cli
