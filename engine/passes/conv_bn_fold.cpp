#include <cmath>

#include "passes/matchers.h"
#include "passes/passes.h"

namespace adj {

using namespace match;

namespace {

/// The statistics of a batchnorm in inference mode, each a known value (constant or parameter).
struct BatchNormStats {
    Tensor scale, shift, mean, var;  // contiguous, one value per channel
    double eps = 0;
    bool trainable = false;  // some statistic is a parameter
    /// The per-channel factor s = scale / sqrt(var + eps): batchnorm(y) = y * s + (shift - mean * s).
    double factor(std::int64_t c) const { return double(scale.data()[c]) / std::sqrt(double(var.data()[c]) + eps); }
};

std::optional<BatchNormStats> inferenceBatchNorm(const Graph& g, const Node& bn) {
    if (intAttr(bn, "training") != 0) return std::nullopt;
    BatchNormStats st;
    Tensor* stat[4] = {&st.scale, &st.shift, &st.mean, &st.var};
    for (std::size_t i = 0; i < 4; ++i) {
        *stat[i] = knownValue(g, bn.inputs[i + 1]);
        if (!stat[i]->defined()) return std::nullopt;
        st.trainable = st.trainable || isParameter(g, bn.inputs[i + 1]);
    }
    st.eps = floatAttr(bn, "epsilon");
    return st;
}

/// W' and b' of a fold: new parameters named after `base` when anything folded into them was
/// trainable, constants otherwise.
std::pair<ValueRef, ValueRef> foldedWeights(Rewriter& rw, const std::string& base, const Tensor& w, const Tensor& b, bool trainable) {
    Graph& g = rw.graph();
    if (trainable) return {{g.addParameter(g.freshName(base + "_w_folded"), w), 0}, {g.addParameter(g.freshName(base + "_b_folded"), b), 0}};
    return {rw.builder().constant(w, base + "_w_folded"), rw.builder().constant(b, base + "_b_folded")};
}

// ---- conv-batchnorm: batchnorm(conv2d(x, W, b)) -> conv2d(x, W', b') ----

struct ConvBatchNorm {
    const Node* conv = nullptr;
    Tensor w, bias;  // bias undefined when the conv has none
    BatchNormStats stats;
    bool trainable = false;
};

std::optional<ConvBatchNorm> matchConvBatchNorm(const Rewriter& rw, const Node& bn) {
    const Graph& g = rw.graph();
    ConvBatchNorm m;
    m.conv = inputProducer(g, bn, 0, Op::Conv2d);
    if (!m.conv || !hasSingleUse(rw, m.conv->id)) return std::nullopt;  // else the conv's output is needed as it is
    const Node& conv = *m.conv;
    const bool hasBias = conv.inputs.size() > 2;
    m.w = knownValue(g, conv.inputs[1]);
    if (hasBias) m.bias = knownValue(g, conv.inputs[2]);
    if (!m.w.defined() || (hasBias && !m.bias.defined())) return std::nullopt;
    auto stats = inferenceBatchNorm(g, bn);
    if (!stats) return std::nullopt;
    m.stats = std::move(*stats);
    m.trainable = m.stats.trainable || isParameter(g, conv.inputs[1]) || (hasBias && isParameter(g, conv.inputs[2]));
    return m;
}

/// W'[c] = W[c] * s[c], b'[c] = (b[c] - mean[c]) * s[c] + shift[c].
RewriteResult foldConvBatchNorm(Rewriter& rw, const ConvBatchNorm& m) {
    const Node& conv = *m.conv;
    const std::int64_t cout = m.w.shape()[0];
    const std::int64_t per = m.w.numel() / std::max<std::int64_t>(1, cout);
    const float* shift = m.stats.shift.data();
    const float* mean = m.stats.mean.data();
    Tensor nw = m.w.clone();
    Tensor nb = Tensor::empty({cout});
    float* pw = nw.data();
    float* pb = nb.data();
    for (std::int64_t c = 0; c < cout; ++c) {
        const double s = m.stats.factor(c);
        for (std::int64_t k = 0; k < per; ++k) pw[c * per + k] = float(double(pw[c * per + k]) * s);
        const double b0 = m.bias.defined() ? double(m.bias.data()[c]) : 0.0;
        pb[c] = float((b0 - double(mean[c])) * s + double(shift[c]));
    }
    const auto [wv, bv] = foldedWeights(rw, conv.name, nw, nb, m.trainable);
    return replaceBy(rw.builder().op(Op::Conv2d, {conv.inputs[0], wv, bv}, conv.attrs, conv.name + "_bn"));
}

// ---- linear-batchnorm: batchnorm over the features of y = x W (+ b), or gemm(x, W, c) ----

struct LinearBatchNorm {
    const Node* core = nullptr;  // the matmul or gemm
    std::int64_t features = 0;
    bool transA = false, transB = false;
    double alpha = 1.0;
    Tensor w;
    Tensor c;  // the bias before the batchnorm (gemm's c or the add's b); may be undefined
    double cScale = 1.0;
    BatchNormStats stats;
    bool trainable = false;
};

/// A bias of [features] or [1, features] elements.
bool isFeatureBias(const Tensor& c, std::int64_t features) {
    return c.numel() == features && (c.shape().size() == 1 || (c.shape().size() == 2 && c.shape()[0] == 1));
}

std::optional<LinearBatchNorm> matchLinearBatchNorm(const Rewriter& rw, const Node& bn) {
    const Graph& g = rw.graph();
    if (intAttr(bn, "training") != 0) return std::nullopt;
    if (bn.outputs.empty() || bn.outputs[0].shape.size() != 2) return std::nullopt;
    LinearBatchNorm m;
    m.features = bn.outputs[0].shape[1];
    const Node* core = producerOf(g, bn.inputs[0]);
    if (!core || !hasSingleUse(rw, core->id)) return std::nullopt;
    // add(matmul(x, W), b), either way round
    ValueRef addBias{};
    bool hasAdd = false;
    if (core->op == Op::Add) {
        const Node& add = *core;
        for (std::size_t side = 0; side < 2 && !hasAdd; ++side) {
            const Node* lin = producerOf(g, add.inputs[side], Op::MatMul);
            const ValueRef other = add.inputs[1 - side];
            if (lin && hasSingleUse(rw, lin->id) && knownValue(g, other).defined()) {
                core = lin;
                addBias = other;
                hasAdd = true;
            }
        }
        if (!hasAdd) return std::nullopt;
    }
    if (core->op != Op::MatMul && core->op != Op::Gemm) return std::nullopt;
    m.core = core;
    const bool isGemm = core->op == Op::Gemm;
    const bool gemmHasC = isGemm && core->inputs.size() > 2;
    m.transA = isGemm && intAttr(*core, "transA") != 0;
    m.transB = isGemm && intAttr(*core, "transB") != 0;
    m.alpha = isGemm ? floatAttr(*core, "alpha") : 1.0;
    const double beta = isGemm ? floatAttr(*core, "beta") : 1.0;
    m.w = knownValue(g, core->inputs[1]);
    if (!m.w.defined() || m.w.shape().size() != 2 || m.w.shape()[m.transB ? 0 : 1] != m.features) return std::nullopt;
    if (rankOf(g, core->inputs[0]) != 2) return std::nullopt;
    if (gemmHasC) {
        m.c = knownValue(g, core->inputs[2]);
        m.cScale = beta;
        if (!m.c.defined()) return std::nullopt;
    } else if (hasAdd) {
        m.c = knownValue(g, addBias);
    }
    if (m.c.defined() && !isFeatureBias(m.c, m.features)) return std::nullopt;
    auto stats = inferenceBatchNorm(g, bn);
    if (!stats || stats->scale.numel() != m.features) return std::nullopt;
    m.stats = std::move(*stats);
    m.trainable = m.stats.trainable || isParameter(g, core->inputs[1]) || (gemmHasC && isParameter(g, core->inputs[2])) ||
                  (hasAdd && isParameter(g, addBias));
    return m;
}

/// W'[:, f] = alpha * W[:, f] * s[f] (rows when transB), b'[f] = (beta * c[f] - mean[f]) * s[f] + shift[f].
RewriteResult foldLinearBatchNorm(Rewriter& rw, const LinearBatchNorm& m) {
    std::vector<double> s(std::size_t(m.features)), t(std::size_t(m.features));
    for (std::int64_t f = 0; f < m.features; ++f) {
        s[std::size_t(f)] = m.stats.factor(f);
        t[std::size_t(f)] = double(m.stats.shift.data()[f]) - double(m.stats.mean.data()[f]) * s[std::size_t(f)];
    }
    Tensor nw = m.w.clone();
    float* pw = nw.data();
    const std::int64_t rows = nw.shape()[0], cols = nw.shape()[1];
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t k = 0; k < cols; ++k) pw[r * cols + k] = float(double(pw[r * cols + k]) * s[std::size_t(m.transB ? r : k)] * m.alpha);
    Tensor nb = Tensor::empty({m.features});
    for (std::int64_t f = 0; f < m.features; ++f) {
        const double b0 = m.c.defined() ? m.cScale * double(m.c.data()[f]) : 0.0;
        nb.data()[f] = float(b0 * s[std::size_t(f)] + t[std::size_t(f)]);
    }
    const std::string& base = m.core->name;
    const auto [wv, bv] = foldedWeights(rw, base, nw, nb, m.trainable);
    Attributes attrs;
    attrs.set("transA", std::int64_t(m.transA ? 1 : 0));
    attrs.set("transB", std::int64_t(m.transB ? 1 : 0));
    return replaceBy(rw.builder().op(Op::Gemm, {m.core->inputs[0], wv, bv}, attrs, base + "_bn"));
}

}  // namespace

RuleSet convBnFoldRules() {
    RewriteRule conv{"conv-batchnorm", {Op::BatchNorm}, [](Rewriter& rw, NodeId root) -> RewriteResult {
        const auto m = matchConvBatchNorm(rw, rw.graph().node(root));
        if (!m) return kNoMatch;
        return foldConvBatchNorm(rw, *m);
    }};
    RewriteRule linear{"linear-batchnorm", {Op::BatchNorm}, [](Rewriter& rw, NodeId root) -> RewriteResult {
        const auto m = matchLinearBatchNorm(rw, rw.graph().node(root));
        if (!m) return kNoMatch;
        return foldLinearBatchNorm(rw, *m);
    }};
    return RuleSet({conv, linear});
}

}  // namespace adj
