#include "memory_limit.h"

#include <algorithm>

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
    if (requested && requested->kind != CheckpointPolicy::Kind::None && !loss)
        throw UsageError("--checkpoint needs a backward pass to recompute for");

    // A policy in the topological order, else the min-peak one: the first whose planned peak is
    // within the limit (any, without a limit); `smallest` and `how` keep the lowest peak seen.
    std::int64_t smallest = -1;
    std::string how;
    auto tryPolicy = [&](const CheckpointPolicy& policy) -> std::optional<MemoryFit> {
        for (ScheduleOrder order : {ScheduleOrder::Topological, ScheduleOrder::MinPeak}) {
            Graph g = graph;
            MemoryFit fit;
            fit.order = order;
            fit.checkpoint = policy;
            const std::string where = std::string(scheduleOrderName(order)) + " order" +
                                      (policy.kind == CheckpointPolicy::Kind::None ? "" : ", recomputing activations");
            try {
                if (loss && policy.kind != CheckpointPolicy::Kind::None)
                    fit.recomputed = applyCheckpointing(g, *loss, policy, {shapes, order, donated}).recomputed.size();
            } catch (const CheckpointBudgetError& e) {
                if (smallest < 0 || e.smallestPeakBytes < smallest) smallest = e.smallestPeakBytes, how = where;
                continue;
            } catch (const Error&) {
                return MemoryFit{};  // the run names the shape problem
            }
            const auto peak = plannedPeak(g, shapes, order, donated);
            if (!peak || !limit || *peak <= *limit) {
                graph = std::move(g);
                fit.plannedPeak = peak.value_or(0);
                return fit;
            }
            if (smallest < 0 || *peak < smallest) smallest = *peak, how = where;
        }
        return std::nullopt;
    };

    if (!limit || requested) {
        const CheckpointPolicy policy = requested.value_or(CheckpointPolicy{});
        if (auto fit = tryPolicy(policy)) return *fit;
        if (!limit)  // a budget that fits in no order
            throw BadInput(what + ": --checkpoint " + checkpointPolicyName(policy) + " is below the smallest peak recomputation can plan: " +
                           bytesText(smallest) + " (" + how + ")");
        throw BadInput(what + ": --memory-limit " + std::to_string(*limit) + " B is below the smallest peak it can be planned in with --checkpoint " +
                       checkpointPolicyName(policy) + ": " + bytesText(smallest) + " (" + how +
                       "; without --checkpoint, Adjoint chooses what to recompute). adjoint-cli memory shows the plan");
    }
    // a limit and no policy: the order first, then recomputation within the limit
    if (auto fit = tryPolicy(CheckpointPolicy{})) return *fit;
    if (loss) {
        CheckpointPolicy budget{CheckpointPolicy::Kind::Budget, 0};
        budget.budgetBytes = *limit;
        if (auto fit = tryPolicy(budget)) return *fit;
    }
    throw BadInput(what + ": --memory-limit " + std::to_string(*limit) + " B is below the smallest peak it can be planned in: " +
                   bytesText(smallest) + " (" + how + "). adjoint-cli memory shows the plan");
}

}  // namespace adj::cli
