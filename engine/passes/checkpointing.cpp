#include "passes/checkpointing.h"

#include "passes/checkpoint_budget.h"

#include <algorithm>
#include <cmath>
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

CheckpointResult applyCheckpointing(Graph& g, ValueRef loss, const CheckpointPolicy& policy, const PlanContext& context, Rewriter* recorder) {
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
        return applyCheckpointSet(g, loss, keep, recorder);
    }
    const std::size_t n = computing.size();
    const std::size_t every = policy.kind == CheckpointPolicy::Kind::Sqrt
                                  ? std::max<std::size_t>(1, std::size_t(std::ceil(std::sqrt(double(n)))))
                                  : std::size_t(std::max(1, policy.k));
    for (std::size_t i = 0; i < n; ++i)
        if ((i + 1) % every == 0) keep[std::size_t(computing[i])] = 1;
    return applyCheckpointSet(g, loss, keep, recorder);
}

CheckpointResult applyCheckpointSet(Graph& g, ValueRef loss, const std::vector<char>& keepById, Rewriter* recorder) {
    if (!g.contains(loss.node)) throw GraphError("checkpointing: the loss value is not in the graph");
    CheckpointResult result;
    const std::vector<NodeId> order = g.topoOrder();
    const std::vector<char> forward = g.dependencies(loss.node);  // the forward pass
    const std::size_t bound = std::size_t(g.idBound());
    std::vector<char> keep = keepById;
    keep.resize(bound, 1);
    auto needsCopy = [&](NodeId id) {
        return forward[std::size_t(id)] && !keep[std::size_t(id)] && !isSource(g.node(id).op);
    };
    // 1. the copies the backward reads need, back to checkpoints and sources, inputs first
    std::vector<char> planned(bound, 0);
    std::vector<NodeId> copyOrder;
    auto plan = [&](NodeId root) {
        if (planned[std::size_t(root)]) return;
        planned[std::size_t(root)] = 1;
        std::vector<std::pair<NodeId, std::size_t>> stack{{root, 0}};  // (node, next input)
        while (!stack.empty()) {
            const NodeId id = stack.back().first;
            const std::size_t i = stack.back().second++;
            const Node& n = g.node(id);
            if (i < n.inputs.size()) {
                const NodeId in = n.inputs[i].node;
                if (g.contains(in) && needsCopy(in) && !planned[std::size_t(in)]) {
                    planned[std::size_t(in)] = 1;
                    stack.emplace_back(in, 0);
                }
                continue;
            }
            copyOrder.push_back(id);
            stack.pop_back();
        }
    };
    std::map<NodeId, std::vector<std::pair<NodeId, int>>> readers;  // forward node -> backward (user, input)
    for (NodeId id : order) {
        if (forward[std::size_t(id)]) continue;
        const std::vector<ValueRef>& inputs = g.node(id).inputs;
        for (std::size_t i = 0; i < inputs.size(); ++i)
            if (g.contains(inputs[i].node) && needsCopy(inputs[i].node)) {
                plan(inputs[i].node);
                readers[inputs[i].node].emplace_back(id, int(i));
            }
    }
    // 2. each copy, then the backward reads it serves (one rewrite step each when recorded)
    std::vector<NodeId> copyOf(bound, kNoNode);
    for (NodeId id : copyOrder) {
        const NodeId mark = g.idBound();
        std::vector<ValueRef> inputs;
        for (const ValueRef& in : g.node(id).inputs)
            inputs.push_back(g.contains(in.node) && copyOf[std::size_t(in.node)] != kNoNode ? ValueRef{copyOf[std::size_t(in.node)], in.port} : in);
        const Node& o = g.node(id);
        const NodeId c = g.addNode(o.op, inputs, o.attrs, g.freshName(o.name + "/recompute"));
        Node& copy = g.node(c);
        const Node& src = g.node(id);
        copy.outputs = src.outputs;
        copy.meta["recompute_of"] = src.name;
        copy.meta[Graph::kScheduleKey] = Graph::kScheduleLate;
        if (auto grp = src.meta.find("group"); grp != src.meta.end()) copy.meta["group"] = grp->second;
        copyOf[std::size_t(id)] = c;
        result.recomputed.push_back(src.name);
        result.recomputeFlops += nodeCost(g, c).flops;
        std::vector<InputRetarget> changes;
        if (auto r = readers.find(id); r != readers.end())
            for (const auto& [user, index] : r->second) changes.push_back({user, index, {c, g.node(user).inputs[std::size_t(index)].port}});
        if (recorder) {
            recorder->retarget("recompute", id, changes, mark);
        } else {
            for (const InputRetarget& change : changes) g.setInput(change.user, change.input, change.value);
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

std::optional<ValueRef> findDifferentiatedLoss(const Graph& g) {
    auto differentiated = [&](ValueRef v) {
        if (!g.contains(v.node) || !g.hasType(v) || numel(g.type(v).shape) != 1) return false;
        const std::vector<char> forward = g.dependencies(v.node);
        for (NodeId id : g.nodeIds()) {
            if (forward[std::size_t(id)] || g.node(id).meta.count("recompute_of")) continue;
            for (const ValueRef& in : g.node(id).inputs)
                if (g.contains(in.node) && forward[std::size_t(in.node)] && !isSource(g.node(in.node).op)) return true;
        }
        return false;
    };
    // a backward graph: its seed names the value it differentiates (reverse_mode.h)
    for (NodeId id : g.nodeIds())
        if (auto s = g.node(id).meta.find("seed_of"); s != g.node(id).meta.end())
            if (auto v = g.findValue(s->second); v && differentiated(*v)) return *v;
    // a training step: its loss is an output
    for (const auto& o : g.outputs())
        if (differentiated(o.value)) return o.value;
    return std::nullopt;
}

void runCheckpointPass(Rewriter& rewriter) {
    Graph& g = rewriter.graph();
    const auto loss = findDifferentiatedLoss(g);
    if (!loss) return;
    // once: a graph that already holds recomputations is left as it is
    for (NodeId id : g.nodeIds())
        if (g.node(id).meta.count("recompute_of")) return;
    applyCheckpointing(g, *loss, {CheckpointPolicy::Kind::Sqrt, 0}, {}, &rewriter);
}

}  // namespace adj
