#include "passes/passes.h"

namespace adj {

namespace {

using Result = std::optional<std::vector<ValueRef>>;

const Node* singleUseTranspose(Rewriter& rw, ValueRef v) {
    const Graph& g = rw.graph();
    if (!g.contains(v.node)) return nullptr;
    const Node& t = g.node(v.node);
    if (t.op != Op::Transpose || rw.useCount(t.id) != 1) return nullptr;
    return &t;
}

std::vector<std::int64_t> permOf(const Graph& g, const Node& t) {
    if (t.attrs.has("perm")) return t.attrs.getInts(t.op, "perm");
    std::vector<std::int64_t> p;
    for (auto i = std::int64_t(g.type(t.inputs[0]).shape.size()); i-- > 0;) p.push_back(i);
    return p;
}

}  // namespace

RuleSet transposeSinkingRules() {
    std::vector<Op> ew;
    for (const auto& info : allOps())
        if (isElementwise(info.op) && info.op != Op::Fused && (isUnary(info.op) || isBinary(info.op))) ew.push_back(info.op);
    RewriteRule sink{"sink-transpose", ew, [](Rewriter& rw, NodeId id) -> Result {
        Graph& g = rw.graph();
        const Node& n = g.node(id);
        if (n.inputs.size() == 1) {
            const Node* t = singleUseTranspose(rw, n.inputs[0]);
            if (!t) return std::nullopt;
            ValueRef u = rw.builder().op(n.op, {t->inputs[0]}, n.attrs, n.name + "_sunk");
            return std::vector<ValueRef>{rw.builder().op(Op::Transpose, {u}, {{"perm", permOf(g, *t)}}, t->name + "_sunk")};
        }
        const Node* ta = singleUseTranspose(rw, n.inputs[0]);
        const Node* tb = singleUseTranspose(rw, n.inputs[1]);
        const Shape os = n.outputs[0].shape;
        std::vector<ValueRef> ins;
        const Node* t = nullptr;
        if (ta && tb && permOf(g, *ta) == permOf(g, *tb) && g.type(ta->inputs[0]).shape == g.type(tb->inputs[0]).shape) {
            ins = {ta->inputs[0], tb->inputs[0]};
            t = ta;
        } else {
            for (int side = 0; side < 2 && !t; ++side) {
                const Node* ts = side == 0 ? ta : tb;
                const ValueRef other = n.inputs[std::size_t(1 - side)];
                if (!ts || numel(g.type(other).shape) != 1 || g.type(other).shape.size() > os.size()) continue;
                if (g.type({ts->id, 0}).shape != os) continue;
                ins = side == 0 ? std::vector<ValueRef>{ts->inputs[0], other} : std::vector<ValueRef>{other, ts->inputs[0]};
                t = ts;
            }
        }
        if (!t) return std::nullopt;
        ValueRef u = rw.builder().op(n.op, ins, n.attrs, n.name + "_sunk");
        return std::vector<ValueRef>{rw.builder().op(Op::Transpose, {u}, {{"perm", permOf(g, *t)}}, t->name + "_sunk")};
    }};
    return RuleSet({sink}) + transposeCompositionRules();
}

}  // namespace adj
