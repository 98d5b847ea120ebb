#include <cmath>

#include "passes/passes.h"

namespace adj {

namespace {

using Result = std::optional<std::vector<ValueRef>>;

/// The value of a constant or parameter input, or an undefined tensor.
Tensor sourceValue(const Graph& g, ValueRef v) {
    if (!g.contains(v.node)) return {};
    const Node& n = g.node(v.node);
    if ((n.op != Op::Constant && n.op != Op::Parameter) || !n.value.defined()) return {};
    return n.value.contiguous();
}

bool isParameter(const Graph& g, ValueRef v) { return g.contains(v.node) && g.node(v.node).op == Op::Parameter; }

/// A batchnorm's per-channel scale s = scale / sqrt(var + eps) and shift t = shift - mean * s, so
/// that batchnorm(y) = y * s + t; nothing when a statistic is not a known value.
struct BnAffine {
    std::vector<double> s, t;
    bool trainable = false;  // some statistic is a parameter
};
std::optional<BnAffine> bnAffine(const Graph& g, const Node& bn) {
    Tensor stat[4];
    BnAffine a;
    for (int i = 0; i < 4; ++i) {
        stat[i] = sourceValue(g, bn.inputs[std::size_t(i + 1)]);
        if (!stat[i].defined()) return std::nullopt;
        a.trainable = a.trainable || isParameter(g, bn.inputs[std::size_t(i + 1)]);
    }
    const double eps = bn.attrs.getFloat(bn.op, "epsilon");
    const std::int64_t c = stat[0].numel();
    a.s.resize(std::size_t(c));
    a.t.resize(std::size_t(c));
    for (std::int64_t k = 0; k < c; ++k) {
        a.s[std::size_t(k)] = double(stat[0].data()[k]) / std::sqrt(double(stat[3].data()[k]) + eps);
        a.t[std::size_t(k)] = double(stat[1].data()[k]) - double(stat[2].data()[k]) * a.s[std::size_t(k)];
    }
    return a;
}

}  // namespace

RuleSet convBnFoldRules() {
    RewriteRule fold{"conv-batchnorm", {Op::BatchNorm}, [](Rewriter& rw, NodeId id) -> Result {
        Graph& g = rw.graph();
        const Node& bn = g.node(id);
        if (bn.attrs.getInt(bn.op, "training") != 0) return std::nullopt;
        const NodeId convId = bn.inputs[0].node;
        if (!g.contains(convId) || g.node(convId).op != Op::Conv2d) return std::nullopt;
        const Node& conv = g.node(convId);
        if (rw.useCount(convId) != 1) return std::nullopt;  // the conv's output is needed as it is
        Tensor w = sourceValue(g, conv.inputs[1]);
        Tensor bias = conv.inputs.size() > 2 ? sourceValue(g, conv.inputs[2]) : Tensor();
        if (!w.defined() || (conv.inputs.size() > 2 && !bias.defined())) return std::nullopt;
        Tensor stat[4];
        for (int i = 0; i < 4; ++i) {
            stat[i] = sourceValue(g, bn.inputs[std::size_t(i + 1)]);
            if (!stat[i].defined()) return std::nullopt;
        }
        const std::int64_t cout = w.shape()[0];
        const std::int64_t per = w.numel() / std::max<std::int64_t>(1, cout);
        const double eps = bn.attrs.getFloat(bn.op, "epsilon");
        const float* scale = stat[0].data();
        const float* beta = stat[1].data();
        const float* mean = stat[2].data();
        const float* var = stat[3].data();
        Tensor nw = w.clone();
        Tensor nb = Tensor::empty({cout});
        float* pw = nw.data();
        float* pb = nb.data();
        for (std::int64_t c = 0; c < cout; ++c) {
            const double s = double(scale[c]) / std::sqrt(double(var[c]) + eps);
            for (std::int64_t k = 0; k < per; ++k) pw[c * per + k] = float(double(pw[c * per + k]) * s);
            const double b0 = bias.defined() ? double(bias.data()[c]) : 0.0;
            pb[c] = float((b0 - double(mean[c])) * s + double(beta[c]));
        }
        // parameters stay parameters (trainable, named after the conv), constants stay constants
        bool trainable = isParameter(g, conv.inputs[1]) || (conv.inputs.size() > 2 && isParameter(g, conv.inputs[2]));
        for (int i = 1; i < 5; ++i) trainable = trainable || isParameter(g, bn.inputs[std::size_t(i)]);
        ValueRef wv, bv;
        if (trainable) {
            wv = {g.addParameter(g.freshName(conv.name + "_w_folded"), nw), 0};
            bv = {g.addParameter(g.freshName(conv.name + "_b_folded"), nb), 0};
        } else {
            wv = rw.builder().constant(nw, conv.name + "_w_folded");
            bv = rw.builder().constant(nb, conv.name + "_b_folded");
        }
        ValueRef y = rw.builder().op(Op::Conv2d, {conv.inputs[0], wv, bv}, conv.attrs, conv.name + "_bn");
        return std::vector<ValueRef>{y};
    }};
    // batchnorm over the features of a linear layer: y = x W (+ b), or gemm(x, W, c) with transB,
    // possibly followed by add(y, b); the scale goes into W's columns and the shift into the bias.
    RewriteRule linear{"linear-batchnorm", {Op::BatchNorm}, [](Rewriter& rw, NodeId id) -> Result {
        Graph& g = rw.graph();
        const Node& bn = g.node(id);
        if (bn.attrs.getInt(bn.op, "training") != 0) return std::nullopt;
        if (bn.outputs.empty() || bn.outputs[0].shape.size() != 2) return std::nullopt;
        const std::int64_t features = bn.outputs[0].shape[1];
        NodeId coreId = bn.inputs[0].node;
        ValueRef addBias{};  // the b of add(matmul(x, W), b)
        bool hasAdd = false;
        if (!g.contains(coreId) || rw.useCount(coreId) != 1) return std::nullopt;
        if (g.node(coreId).op == Op::Add) {
            const Node& add = g.node(coreId);
            for (int side = 0; side < 2 && !hasAdd; ++side) {
                const ValueRef lin = add.inputs[std::size_t(side)], other = add.inputs[std::size_t(1 - side)];
                if (g.contains(lin.node) && g.node(lin.node).op == Op::MatMul && rw.useCount(lin.node) == 1 &&
                    sourceValue(g, other).defined()) {
                    coreId = lin.node;
                    addBias = other;
                    hasAdd = true;
                }
            }
            if (!hasAdd) return std::nullopt;
        }
        const Node& core = g.node(coreId);
        if (core.op != Op::MatMul && core.op != Op::Gemm) return std::nullopt;
        const bool transA = core.op == Op::Gemm && core.attrs.getInt(core.op, "transA") != 0;
        const bool transB = core.op == Op::Gemm && core.attrs.getInt(core.op, "transB") != 0;
        const double alpha = core.op == Op::Gemm ? core.attrs.getFloat(core.op, "alpha") : 1.0;
        const double beta = core.op == Op::Gemm ? core.attrs.getFloat(core.op, "beta") : 1.0;
        Tensor w = sourceValue(g, core.inputs[1]);
        if (!w.defined() || w.shape().size() != 2 || w.shape()[transB ? 0 : 1] != features) return std::nullopt;
        if (g.type(core.inputs[0]).shape.size() != 2) return std::nullopt;
        // the bias before the batchnorm: gemm's c or the add's b, of [features] or [1, features] elements
        Tensor c;
        double cScale = 1.0;
        if (core.op == Op::Gemm && core.inputs.size() > 2) {
            c = sourceValue(g, core.inputs[2]);
            cScale = beta;
            if (!c.defined()) return std::nullopt;
        } else if (hasAdd) {
            c = sourceValue(g, addBias);
        }
        if (c.defined() && !(c.numel() == features && (c.shape().size() == 1 || (c.shape().size() == 2 && c.shape()[0] == 1))))
            return std::nullopt;
        auto aff = bnAffine(g, bn);
        if (!aff || std::int64_t(aff->s.size()) != features) return std::nullopt;

        Tensor nw = w.clone();
        float* pw = nw.data();
        const std::int64_t rows = nw.shape()[0], cols = nw.shape()[1];
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t k = 0; k < cols; ++k) {
                const double s = aff->s[std::size_t(transB ? r : k)];
                pw[r * cols + k] = float(double(pw[r * cols + k]) * s * alpha);
            }
        Tensor nb = Tensor::empty({features});
        for (std::int64_t f = 0; f < features; ++f) {
            const double b0 = c.defined() ? cScale * double(c.data()[f]) : 0.0;
            nb.data()[f] = float(b0 * aff->s[std::size_t(f)] + aff->t[std::size_t(f)]);
        }
        bool trainable = aff->trainable || isParameter(g, core.inputs[1]);
        if (core.op == Op::Gemm && core.inputs.size() > 2) trainable = trainable || isParameter(g, core.inputs[2]);
        if (hasAdd) trainable = trainable || isParameter(g, addBias);
        const std::string base = core.name;
        ValueRef wv, bv;
        if (trainable) {
            wv = {g.addParameter(g.freshName(base + "_w_folded"), nw), 0};
            bv = {g.addParameter(g.freshName(base + "_b_folded"), nb), 0};
        } else {
            wv = rw.builder().constant(nw, base + "_w_folded");
            bv = rw.builder().constant(nb, base + "_b_folded");
        }
        Attributes attrs;
        attrs.set("transA", std::int64_t(transA ? 1 : 0));
        attrs.set("transB", std::int64_t(transB ? 1 : 0));
        ValueRef y = rw.builder().op(Op::Gemm, {core.inputs[0], wv, bv}, attrs, base + "_bn");
        return std::vector<ValueRef>{y};
    }};
    return RuleSet({fold, linear});
}

}  // namespace adj
