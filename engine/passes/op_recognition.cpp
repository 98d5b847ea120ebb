// Op recognition: subgraphs that exporters write in place of an op become that op again, so that
// later passes and the kernels see one node (GELU from its erf formula; layer normalization from
// its moments, as PyTorch writes it before opset 17, and its scale and shift; MobileNetV3's
// hard-sigmoid and hard-swish as hand-written code has them).
#include <algorithm>
#include <cmath>

#include "passes/matchers.h"
#include "passes/passes.h"

namespace adj {

using namespace match;

namespace {

/// The value of a constant of one element, or NaN for anything else.
double scalarConstant(const Graph& g, ValueRef v) {
    const Node* p = producerOf(g, v, Op::Constant);
    if (!p || !p->value.defined() || p->value.numel() != 1 || p->value.dtype() != DType::F32) return std::nan("");
    return double(p->value.contiguous().data()[0]);
}

/// True when `v` is a one-element constant within float32 rounding of `x`.
bool isScalarNear(const Graph& g, ValueRef v, double x) {
    const double c = scalarConstant(g, v);
    return std::abs(c - x) <= 1e-6 * std::abs(x);
}

/// The other input of a binary node, given one of them; an unset ref when `one` is neither.
ValueRef otherInput(const Node& n, ValueRef one) {
    if (n.inputs.size() != 2) return {};
    if (n.inputs[0] == one) return n.inputs[1];
    if (n.inputs[1] == one) return n.inputs[0];
    return {};
}

/// The factors of a product written as nested binary muls: the root's two inputs, and the inputs
/// of an inner mul that is used only by the product (at most one level deep). Empty when the root
/// is not a mul.
std::vector<ValueRef> productFactors(const Rewriter& rw, const Node& root) {
    const Graph& g = rw.graph();
    if (root.op != Op::Mul) return {};
    std::vector<ValueRef> out;
    for (ValueRef in : root.inputs) {
        const Node* inner = producerOf(g, in, Op::Mul);
        if (inner && hasSingleUse(rw, inner->id)) out.insert(out.end(), inner->inputs.begin(), inner->inputs.end());
        else out.push_back(in);
    }
    return out;
}

/// erf(x / sqrt 2) or erf(x * (1 / sqrt 2)): sets `x`.
bool isErfOfScaled(const Graph& g, ValueRef v, ValueRef& x) {
    const Node* erf = producerOf(g, v, Op::Erf);
    if (!erf) return false;
    const Node* scale = producerOf(g, erf->inputs[0]);
    if (!scale) return false;
    if (scale->op == Op::Div && isScalarNear(g, scale->inputs[1], std::sqrt(2.0))) x = scale->inputs[0];
    else if (scale->op == Op::Mul && isScalarNear(g, scale->inputs[1], std::sqrt(0.5))) x = scale->inputs[0];
    else if (scale->op == Op::Mul && isScalarNear(g, scale->inputs[0], std::sqrt(0.5))) x = scale->inputs[1];
    else return false;
    return true;
}

/// 1 + erf(x / sqrt 2), either order: sets `x`.
bool isOnePlusErf(const Graph& g, ValueRef v, ValueRef& x) {
    const Node* add = producerOf(g, v, Op::Add);
    if (!add) return false;
    for (int k = 0; k < 2; ++k)
        if (isScalarNear(g, add->inputs[std::size_t(1 - k)], 1.0) && isErfOfScaled(g, add->inputs[std::size_t(k)], x)) return true;
    return false;
}

/// x * (1 + erf(x / sqrt 2)) * 0.5, the factors in any order and grouping -> gelu(x).
RewriteRule geluFromErf() {
    return {"gelu-from-erf", {Op::Mul}, [](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const std::vector<ValueRef> f = productFactors(rw, g.node(root));
        if (f.size() != 3) return kNoMatch;
        for (std::size_t half = 0; half < 3; ++half) {
            if (!isScalarNear(g, f[half], 0.5)) continue;
            for (std::size_t e = 0; e < 3; ++e) {
                ValueRef x;
                if (e == half || !isOnePlusErf(g, f[e], x)) continue;
                if (f[3 - half - e] != x) continue;
                return replaceIfSameType(g, root, rw.builder().op(Op::Gelu, {x}, {}, g.node(root).name + "_gelu"));
            }
        }
        return kNoMatch;
    }};
}

/// The first normalized axis when `axes` are the trailing axes of a rank-`rank` value (negative
/// ones counted from the end), else -1.
std::int64_t trailingAxesStart(std::vector<std::int64_t> axes, std::size_t rank) {
    if (axes.empty()) return -1;
    for (auto& a : axes) a = a < 0 ? a + std::int64_t(rank) : a;
    std::sort(axes.begin(), axes.end());
    for (std::size_t i = 0; i < axes.size(); ++i)
        if (axes[i] != std::int64_t(rank - axes.size() + i)) return -1;
    return axes.front();
}

/// mean(v, axes, keepdims=1) over trailing axes: the first one, else -1.
std::int64_t keptMeanStart(const Graph& g, const Node* mean) {
    if (!mean || mean->op != Op::Mean || intAttr(*mean, "keepdims") != 1 || !mean->attrs.has("axes")) return -1;
    return trailingAxesStart(mean->attrs.getInts(Op::Mean, "axes"), rankOf(g, mean->inputs[0]));
}

/// d^2 as pow(d, 2) or d * d.
bool isSquareOf(const Graph& g, ValueRef v, ValueRef d) {
    const Node* p = producerOf(g, v);
    if (!p) return false;
    if (p->op == Op::Pow) return p->inputs[0] == d && isScalarNear(g, p->inputs[1], 2.0);
    return p->op == Op::Mul && p->inputs[0] == d && p->inputs[1] == d;
}

/// (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) over trailing axes -> layernorm(x).
RewriteRule layerNormFromMoments() {
    return {"layernorm-from-moments", {Op::Div}, [](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const Node& div = g.node(root);
        const Node* sub = producerOf(g, div.inputs[0], Op::Sub);
        const Node* sqrt = producerOf(g, div.inputs[1], Op::Sqrt);
        if (!sub || !sqrt) return kNoMatch;
        const ValueRef x = sub->inputs[0];
        const Node* mean = producerOf(g, sub->inputs[1]);
        const std::int64_t axis = keptMeanStart(g, mean);
        if (axis < 0 || mean->inputs[0] != x) return kNoMatch;
        const Node* add = producerOf(g, sqrt->inputs[0], Op::Add);
        if (!add) return kNoMatch;
        for (int k = 0; k < 2; ++k) {
            const double eps = scalarConstant(g, add->inputs[std::size_t(1 - k)]);
            const Node* var = producerOf(g, add->inputs[std::size_t(k)]);
            if (!(eps >= 0) || keptMeanStart(g, var) != axis || !isSquareOf(g, var->inputs[0], div.inputs[0])) continue;
            return replaceIfSameType(g, root, rw.builder().op(Op::LayerNorm, {x}, {{"axis", axis}, {"epsilon", eps}}, g.node(root).name + "_layernorm"));
        }
        return kNoMatch;
    }};
}

/// A layernorm of `inputs` inputs that only `op` reads, and the other operand of that op when it is
/// a source of the normalized shape: layernorm(x) * scale -> layernorm(x, scale) and
/// layernorm(x, scale) + shift -> layernorm(x, scale, shift).
RewriteRule layerNormAffine(const std::string& name, Op op, std::size_t inputs) {
    return {name, {op}, [=](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const Node& n = g.node(root);
        for (const ValueRef in : n.inputs) {
            const Node* ln = producerOf(g, in, Op::LayerNorm);
            if (!ln || ln->inputs.size() != inputs || !hasSingleUse(rw, ln->id)) continue;
            const ValueRef p = otherInput(n, in);
            if (p.node == kNoNode || p == in || !isSourceValue(g, p)) continue;
            const Shape& xs = shapeOf(g, ln->inputs[0]);
            const std::int64_t axis = intAttr(*ln, "axis") < 0 ? intAttr(*ln, "axis") + std::int64_t(xs.size()) : intAttr(*ln, "axis");
            if (shapeOf(g, p) != Shape(xs.begin() + axis, xs.end())) continue;
            std::vector<ValueRef> args = ln->inputs;
            args.push_back(p);
            return replaceIfSameType(g, root, rw.builder().op(Op::LayerNorm, args, ln->attrs, ln->name));
        }
        return kNoMatch;
    }};
}

// ---- MobileNetV3's activations: relu6(x + 3) / 6 and x * relu6(x + 3) / 6 ----

/// The operand of a binary node `n` of `op` whose other operand is a scalar constant near `c`
/// (either side when `commutes`); an unset ref otherwise.
ValueRef operandBeside(const Graph& g, const Node* n, Op op, double c, bool commutes) {
    if (!n || n->op != op || n->inputs.size() != 2) return {};
    if (isScalarNear(g, n->inputs[1], c)) return n->inputs[0];
    if (commutes && isScalarNear(g, n->inputs[0], c)) return n->inputs[1];
    return {};
}

/// t where v is relu6(t) as exporters write it: minimum(maximum(t, 0), 6), minimum(relu t, 6), or
/// PyTorch's Clip(Relu t, 0, 6) (minimum(maximum(relu t, 0), 6)); an unset ref otherwise.
ValueRef relu6Operand(const Graph& g, ValueRef v) {
    ValueRef t = operandBeside(g, producerOf(g, v), Op::Minimum, 6.0, true);
    if (t.node == kNoNode) return {};
    if (ValueRef inner = operandBeside(g, producerOf(g, t), Op::Maximum, 0.0, true); inner.node != kNoNode) t = inner;
    else if (!producerOf(g, t, Op::Relu)) return {};
    if (const Node* relu = producerOf(g, t, Op::Relu)) t = relu->inputs[0];
    return t;
}

/// x where v is relu6(x + 3).
ValueRef relu6OfXPlus3(const Graph& g, ValueRef v) {
    const ValueRef sum = relu6Operand(g, v);
    return sum.node == kNoNode ? ValueRef{} : operandBeside(g, producerOf(g, sum), Op::Add, 3.0, true);
}

/// v / 6 or v * (1/6): v; an unset ref otherwise.
ValueRef sixthOf(const Graph& g, const Node& n) {
    if (n.op == Op::Div) return operandBeside(g, &n, Op::Div, 6.0, false);
    return operandBeside(g, &n, Op::Mul, 1.0 / 6.0, true);
}

/// relu6(x + 3) / 6 -> hard_sigmoid(x) with alpha 1/6, beta 1/2 (torch's hardsigmoid).
RewriteRule hardSigmoidFromRelu6() {
    return {"hard-sigmoid-from-relu6", {Op::Div, Op::Mul}, [](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const ValueRef r = sixthOf(g, g.node(root));
        const ValueRef x = r.node == kNoNode ? r : relu6OfXPlus3(g, r);
        if (x.node == kNoNode) return kNoMatch;
        return replaceIfSameType(g, root, rw.builder().op(Op::HardSigmoid, {x}, {{"alpha", 1.0 / 6.0}, {"beta", 0.5}}, g.node(root).name + "_hard_sigmoid"));
    }};
}

/// x * relu6(x + 3) / 6 (the product first) and x * hard_sigmoid(x) with alpha 1/6, beta 1/2,
/// either order -> hard_swish(x).
RewriteRule hardSwishFromParts() {
    return {"hard-swish-from-parts", {Op::Div, Op::Mul}, [](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const Node& n = g.node(root);
        auto hardSwishOf = [&](ValueRef x) { return replaceIfSameType(g, root, rw.builder().op(Op::HardSwish, {x}, {}, n.name + "_hard_swish")); };
        if (const ValueRef prod = sixthOf(g, n); prod.node != kNoNode) {  // (x * relu6(x + 3)) / 6
            const Node* mul = producerOf(g, prod, Op::Mul);
            if (!mul) return kNoMatch;
            for (int k = 0; k < 2; ++k)
                if (relu6OfXPlus3(g, mul->inputs[std::size_t(k)]) == mul->inputs[std::size_t(1 - k)]) return hardSwishOf(mul->inputs[std::size_t(1 - k)]);
            return kNoMatch;
        }
        if (n.op != Op::Mul) return kNoMatch;
        for (int k = 0; k < 2; ++k) {  // x * hard_sigmoid(x)
            const Node* hs = producerOf(g, n.inputs[std::size_t(k)], Op::HardSigmoid);
            if (hs && hs->inputs[0] == n.inputs[std::size_t(1 - k)] && std::abs(floatAttr(*hs, "alpha") - 1.0 / 6.0) <= 1e-6 &&
                std::abs(floatAttr(*hs, "beta") - 0.5) <= 1e-6)
                return hardSwishOf(hs->inputs[0]);
        }
        return kNoMatch;
    }};
}

}  // namespace

RuleSet opRecognitionRules() {
    return RuleSet({geluFromErf(), layerNormFromMoments(), layerNormAffine("layernorm-scale", Op::Mul, 1),
                    layerNormAffine("layernorm-shift", Op::Add, 2), hardSwishFromParts(), hardSigmoidFromRelu6()});
}

}  // namespace adj
