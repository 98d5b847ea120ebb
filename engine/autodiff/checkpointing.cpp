#include "autodiff/checkpointing.h"

#include "autodiff/checkpoint_budget.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "base/errors.h"
#include "cost/cost_model.h"

namespace adj {

std::optional<CheckpointPolicy> parseCheckpointPolicy(std::string_view text, std::string* why) {
    auto fail = [&](const std::string& reason) -> std::optional<CheckpointPolicy> {
        if (why) *why = reason;
        return std::nullopt;
    };
    if (text == "none") return CheckpointPolicy{};
    if (text == "sqrt") return CheckpointPolicy{CheckpointPolicy::Kind::Sqrt, 0};
    if (text.rfind("every:", 0) == 0) {
        const std::string digits(text.substr(6));
        if (digits.empty() || digits.size() > 6 || digits.find_first_not_of("0123456789") != std::string::npos || std::stoi(digits) < 1)
            return fail("every:K needs a whole number K from 1 to 999999, got '" + digits + "'");
        return CheckpointPolicy{CheckpointPolicy::Kind::EveryK, std::stoi(digits)};
    }
    if (text.rfind("budget:", 0) == 0) {
        const std::string digits(text.substr(7));
        if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos || std::stoll(digits) < 1)
            return fail("budget:BYTES needs a whole number of bytes from 1 up, got '" + digits + "'");
        CheckpointPolicy p{CheckpointPolicy::Kind::Budget, 0};
        p.budgetBytes = std::stoll(digits);
        return p;
    }
    return fail("the checkpoint policy must be none, sqrt, every:K or budget:BYTES, got '" + std::string(text) + "'");
}

std::string checkpointPolicyName(const CheckpointPolicy& p) {
    switch (p.kind) {
        case CheckpointPolicy::Kind::None: return "none";
        case CheckpointPolicy::Kind::Sqrt: return "sqrt";
        case CheckpointPolicy::Kind::EveryK: return "every:" + std::to_string(p.k);
        case CheckpointPolicy::Kind::Budget: return "budget:" + std::to_string(p.budgetBytes);
    }
    return "none";
}

std::vector<NodeId> checkpointCandidates(const Graph& g, ValueRef loss) {
    if (!g.contains(loss.node)) throw GraphError("checkpointing: the loss value is not in the graph");
    const std::vector<char> forward = g.dependencies(loss.node);
    std::vector<NodeId> computing;
    for (NodeId id : g.topoOrder())
        if (forward[std::size_t(id)] && !isSource(g.node(id).op) && !returnsView(g.node(id).op)) computing.push_back(id);
    return computing;
}

CheckpointResult applyCheckpointing(Graph& g, ValueRef loss, const CheckpointPolicy& policy, const PlanContext& context) {
    if (!g.contains(loss.node)) throw GraphError("checkpointing: the loss value is not in the graph");
    if (policy.kind == CheckpointPolicy::Kind::None) return {};
    const std::vector<NodeId> computing = checkpointCandidates(g, loss);
    std::vector<char> keep(std::size_t(g.idBound()), 0);
    if (policy.kind == CheckpointPolicy::Kind::Budget) {
        const CheckpointChoice choice = chooseCheckpoints(g, loss, policy.budgetBytes, context);
        if (!choice.fits)
            throw CheckpointBudgetError("checkpoint budget " + std::to_string(policy.budgetBytes) +
                                            " B is below the smallest peak recomputation can plan this graph in: " +
                                            std::to_string(choice.peakBytes) + " B",
                                        choice.peakBytes);
        for (std::size_t i = 0; i < computing.size(); ++i) keep[std::size_t(computing[i])] = choice.keep[i];
        return applyCheckpointSet(g, loss, keep);
    }
    const std::size_t n = computing.size();
    const std::size_t every = policy.kind == CheckpointPolicy::Kind::Sqrt
                                  ? std::max<std::size_t>(1, std::size_t(std::ceil(std::sqrt(double(n)))))
                                  : std::size_t(std::max(1, policy.k));
    for (std::size_t i = 0; i < n; ++i)
        if ((i + 1) % every == 0) keep[std::size_t(computing[i])] = 1;
    return applyCheckpointSet(g, loss, keep);
}

CheckpointResult applyCheckpointSet(Graph& g, ValueRef loss, const std::vector<char>& keepById) {
    if (!g.contains(loss.node)) throw GraphError("checkpointing: the loss value is not in the graph");
    CheckpointResult result;
    const std::vector<NodeId> order = g.topoOrder();
    const std::vector<char> forward = g.dependencies(loss.node);  // the forward pass
    std::vector<char> keep = keepById;
    keep.resize(std::size_t(g.idBound()), 1);
    // copies, made on demand back to checkpoints and sources
    std::map<NodeId, NodeId> copyOf;
    std::function<ValueRef(ValueRef)> recomputed = [&](ValueRef v) -> ValueRef {
        const Node& original = g.node(v.node);
        if (!forward[std::size_t(v.node)] || isSource(original.op) || keep[std::size_t(v.node)]) return v;
        if (auto it = copyOf.find(v.node); it != copyOf.end()) return {it->second, v.port};
        std::vector<ValueRef> inputs;
        for (const auto& in : original.inputs) inputs.push_back(recomputed(in));
        const Node& o = g.node(v.node);  // (re-read: the recursion may have grown the graph)
        const NodeId c = g.addNode(o.op, inputs, o.attrs, g.freshName(o.name + "/recompute"));
        Node& copy = g.node(c);
        const Node& src = g.node(v.node);
        copy.outputs = src.outputs;
        copy.meta["recompute_of"] = src.name;
        copy.meta[Graph::kScheduleKey] = Graph::kScheduleLate;
        if (auto grp = src.meta.find("group"); grp != src.meta.end()) copy.meta["group"] = grp->second;
        copyOf[v.node] = c;
        result.recomputed.push_back(src.name);
        result.recomputeFlops += nodeCost(g, c).flops;
        return {c, v.port};
    };
    // every backward read of a forward value goes to the checkpoint or its copy
    for (NodeId id : order) {
        if (forward[std::size_t(id)]) continue;
        const std::size_t inputs = g.node(id).inputs.size();
        for (std::size_t i = 0; i < inputs; ++i) {
            const ValueRef in = g.node(id).inputs[i];
            if (!g.contains(in.node)) continue;
            const ValueRef to = recomputed(in);
            if (to != in) g.setInput(id, int(i), to);
        }
    }
    // what the backward pass (copies included) still reads of the forward pass
    std::set<std::string> kept;
    for (NodeId id : g.nodeIds()) {
        if (id < NodeId(forward.size()) && forward[std::size_t(id)]) continue;
        for (const auto& in : g.node(id).inputs)
            if (g.contains(in.node) && std::size_t(in.node) < forward.size() && forward[std::size_t(in.node)] && !isSource(g.node(in.node).op))
                kept.insert(g.node(in.node).name);
    }
    result.kept.assign(kept.begin(), kept.end());
    return result;
}

}  // namespace adj
