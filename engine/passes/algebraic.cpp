#include "passes/passes.h"

namespace adj {

namespace {

using Result = std::optional<std::vector<ValueRef>>;

/// True when `v` is a constant whose every element equals `x`.
bool isConstantEqual(const Graph& g, ValueRef v, float x) {
    if (!g.contains(v.node)) return false;
    const Node& n = g.node(v.node);
    if (n.op != Op::Constant || !n.value.defined() || n.value.numel() > 4096) return false;
    for (float e : n.value.toVector())
        if (e != x) return false;
    return true;
}

/// `keep` when it already has the node's output type (the constant broadcasts nothing).
Result forwardIfSameType(const Graph& g, NodeId id, ValueRef keep) {
    if (!(g.type(keep) == g.type({id, 0}))) return std::nullopt;
    return std::vector<ValueRef>{keep};
}

std::vector<std::int64_t> permOf(const Graph& g, const Node& n) {
    if (n.attrs.has("perm")) return n.attrs.getInts(n.op, "perm");
    const auto r = std::int64_t(g.type(n.inputs[0]).shape.size());
    std::vector<std::int64_t> p;
    for (std::int64_t i = r; i-- > 0;) p.push_back(i);
    return p;
}

/// The producer of input `i` when it is a node of `op`.
const Node* producer(const Graph& g, const Node& n, std::size_t i, Op op) {
    if (n.inputs.size() <= i || !g.contains(n.inputs[i].node)) return nullptr;
    const Node& p = g.node(n.inputs[i].node);
    return p.op == op ? &p : nullptr;
}

RewriteRule identityOperand(const std::string& name, Op op, float neutral, bool leftToo) {
    return {name, {op}, [=](Rewriter& rw, NodeId id) -> Result {
        const Graph& g = rw.graph();
        const Node& n = g.node(id);
        if (isConstantEqual(g, n.inputs[1], neutral)) return forwardIfSameType(g, id, n.inputs[0]);
        if (leftToo && isConstantEqual(g, n.inputs[0], neutral)) return forwardIfSameType(g, id, n.inputs[1]);
        return std::nullopt;
    }};
}

RewriteRule inversePair(const std::string& name, Op outer, Op inner) {
    return {name, {outer}, [=](Rewriter& rw, NodeId id) -> Result {
        const Graph& g = rw.graph();
        const Node* p = producer(g, g.node(id), 0, inner);
        if (!p) return std::nullopt;
        return forwardIfSameType(g, id, p->inputs[0]);
    }};
}

}  // namespace

/// transpose(transpose x) -> transpose with the composed perm, or x when it is the identity;
/// an identity transpose -> x. Shared with transpose sinking.
RuleSet transposeCompositionRules() {
    RewriteRule compose{"transpose-transpose", {Op::Transpose}, [](Rewriter& rw, NodeId id) -> Result {
        Graph& g = rw.graph();
        const Node& n = g.node(id);
        const std::vector<std::int64_t> outer = permOf(g, n);
        bool identity = true;
        for (std::size_t i = 0; i < outer.size(); ++i) identity = identity && outer[i] == std::int64_t(i);
        if (identity) return std::vector<ValueRef>{n.inputs[0]};
        const Node* p = producer(g, n, 0, Op::Transpose);
        if (!p) return std::nullopt;
        const std::vector<std::int64_t> inner = permOf(g, *p);
        std::vector<std::int64_t> perm(outer.size());
        for (std::size_t i = 0; i < outer.size(); ++i) perm[i] = inner[std::size_t(outer[i])];
        return std::vector<ValueRef>{rw.builder().transpose(p->inputs[0], perm)};
    }};
    compose.name = "transpose-transpose";
    return RuleSet({compose});
}

RuleSet algebraicRules() {
    std::vector<RewriteRule> rules{
        identityOperand("mul-one", Op::Mul, 1.f, true),
        identityOperand("add-zero", Op::Add, 0.f, true),
        identityOperand("sub-zero", Op::Sub, 0.f, false),
        identityOperand("div-one", Op::Div, 1.f, false),
        inversePair("neg-neg", Op::Neg, Op::Neg),
        inversePair("exp-log", Op::Exp, Op::Log),
        inversePair("log-exp", Op::Log, Op::Exp),
        {"reshape-chain", {Op::Reshape}, [](Rewriter& rw, NodeId id) -> Result {
             Graph& g = rw.graph();
             const Node& n = g.node(id);
             if (g.type(n.inputs[0]) == g.type({id, 0})) return std::vector<ValueRef>{n.inputs[0]};
             const Node* p = producer(g, n, 0, Op::Reshape);
             if (!p) return std::nullopt;
             return std::vector<ValueRef>{rw.builder().reshape(p->inputs[0], g.type({id, 0}).shape)};
         }},
    };
    return RuleSet(std::move(rules)) + transposeCompositionRules();
}

}  // namespace adj
