#include <optional>

#include "passes/matchers.h"
#include "passes/passes.h"

namespace adj {

using namespace match;

namespace {

/// The transpose producing `v` when `v` is its only use (so moving it changes nothing else).
const Node* singleUseTranspose(const Rewriter& rw, ValueRef v) {
    const Node* t = producerOf(rw.graph(), v, Op::Transpose);
    return t && hasSingleUse(rw, t->id) ? t : nullptr;
}

/// A transpose that can move past the root: the root rebuilt on `inputs`, then `transpose`.
struct SinkableTranspose {
    const Node* transpose = nullptr;
    std::vector<ValueRef> inputs;
};

/// u(T x) -> inputs (x).
std::optional<SinkableTranspose> matchUnary(const Rewriter& rw, const Node& n) {
    const Node* t = singleUseTranspose(rw, n.inputs[0]);
    if (!t) return std::nullopt;
    return SinkableTranspose{t, {t->inputs[0]}};
}

/// op(T a, T b) -> (a, b) with equal perms and shapes; op(T a, s) -> (a, s) and op(s, T a) ->
/// (s, a) with a one-element s that does not broadcast T a.
std::optional<SinkableTranspose> matchBinary(const Rewriter& rw, const Node& n) {
    const Graph& g = rw.graph();
    const Node* ta = singleUseTranspose(rw, n.inputs[0]);
    const Node* tb = singleUseTranspose(rw, n.inputs[1]);
    if (ta && tb && transposePerm(g, *ta) == transposePerm(g, *tb) && shapeOf(g, ta->inputs[0]) == shapeOf(g, tb->inputs[0]))
        return SinkableTranspose{ta, {ta->inputs[0], tb->inputs[0]}};
    const Shape& os = n.outputs[0].shape;
    for (std::size_t side = 0; side < 2; ++side) {
        const Node* t = side == 0 ? ta : tb;
        const ValueRef other = n.inputs[1 - side];
        if (!t || numel(shapeOf(g, other)) != 1 || rankOf(g, other) > os.size()) continue;
        if (outputShape(g, t->id) != os) continue;
        return SinkableTranspose{t, side == 0 ? std::vector<ValueRef>{t->inputs[0], other} : std::vector<ValueRef>{other, t->inputs[0]}};
    }
    return std::nullopt;
}

}  // namespace

RuleSet transposeSinkingRules() {
    std::vector<Op> ew;
    for (const auto& info : allOps())
        if (isElementwise(info.op) && info.op != Op::Fused && (isUnary(info.op) || isBinary(info.op))) ew.push_back(info.op);
    // u(T x) -> T u(x); op(T a, T b) -> T op(a, b); op(T a, s) -> T op(a, s)
    RewriteRule sink{"sink-transpose", ew, [](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const Node& n = g.node(root);
        const auto m = n.inputs.size() == 1 ? matchUnary(rw, n) : matchBinary(rw, n);
        if (!m) return kNoMatch;
        const Node& t = *m->transpose;
        ValueRef u = rw.builder().op(n.op, m->inputs, n.attrs, n.name + "_sunk");
        return replaceBy(rw.builder().op(Op::Transpose, {u}, {{"perm", transposePerm(g, t)}}, t.name + "_sunk"));
    }};
    return RuleSet({sink}) + transposeCompositionRules();
}

}  // namespace adj
