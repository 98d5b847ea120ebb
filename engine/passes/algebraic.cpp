#include "passes/matchers.h"
#include "passes/passes.h"

namespace adj {

using namespace match;

namespace {

/// op(x, c) -> x where the constant c is `neutral` everywhere (and, when `leftToo`, op(c, x) -> x),
/// unless c broadcasts x to a larger shape.
RewriteRule neutralOperand(const std::string& name, Op op, float neutral, bool leftToo) {
    return {name, {op}, [=](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const Node& n = g.node(root);
        if (isConstantFilledWith(g, n.inputs[1], neutral)) return replaceIfSameType(g, root, n.inputs[0]);
        if (leftToo && isConstantFilledWith(g, n.inputs[0], neutral)) return replaceIfSameType(g, root, n.inputs[1]);
        return kNoMatch;
    }};
}

/// outer(inner(x)) -> x; with `onlyNonNegative`, only where x cannot be negative (the identity
/// holds there alone: exp(log x) is NaN for x < 0, and 0 for x = 0).
RewriteRule inversePair(const std::string& name, Op outer, Op inner, bool onlyNonNegative = false) {
    return {name, {outer}, [=](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const Node* in = inputProducer(g, g.node(root), 0, inner);
        if (!in) return kNoMatch;
        if (onlyNonNegative && !isKnownNonNegative(g, in->inputs[0])) return kNoMatch;
        return replaceIfSameType(g, root, in->inputs[0]);
    }};
}

/// reshape(reshape x) -> reshape x; a reshape to the shape it already has -> x.
RewriteRule reshapeChain() {
    return {"reshape-chain", {Op::Reshape}, [](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const Node& n = g.node(root);
        if (sameType(g, n.inputs[0], {root, 0})) return replaceBy(n.inputs[0]);
        const Node* inner = inputProducer(g, n, 0, Op::Reshape);
        if (!inner) return kNoMatch;
        return replaceBy(rw.builder().reshape(inner->inputs[0], outputShape(g, root)));
    }};
}

}  // namespace

/// transpose(transpose x) -> transpose with the composed perm, or x when it is the identity;
/// an identity transpose -> x. Shared with transpose sinking.
RuleSet transposeCompositionRules() {
    RewriteRule compose{"transpose-transpose", {Op::Transpose}, [](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const Node& n = g.node(root);
        const std::vector<std::int64_t> outer = transposePerm(g, n);
        if (isIdentityPerm(outer)) return replaceBy(n.inputs[0]);
        const Node* in = inputProducer(g, n, 0, Op::Transpose);
        if (!in) return kNoMatch;
        const std::vector<std::int64_t> inner = transposePerm(g, *in);
        std::vector<std::int64_t> perm(outer.size());
        for (std::size_t i = 0; i < outer.size(); ++i) perm[i] = inner[std::size_t(outer[i])];
        return replaceBy(rw.builder().transpose(in->inputs[0], perm));
    }};
    return RuleSet({compose});
}

RuleSet algebraicRules() {
    std::vector<RewriteRule> rules{
        neutralOperand("mul-one", Op::Mul, 1.f, true),
        neutralOperand("add-zero", Op::Add, 0.f, true),
        neutralOperand("sub-zero", Op::Sub, 0.f, false),
        neutralOperand("div-one", Op::Div, 1.f, false),
        inversePair("neg-neg", Op::Neg, Op::Neg),
        inversePair("exp-log", Op::Exp, Op::Log, true),
        inversePair("log-exp", Op::Log, Op::Exp),
        reshapeChain(),
    };
    return RuleSet(std::move(rules)) + transposeCompositionRules();
}

}  // namespace adj
