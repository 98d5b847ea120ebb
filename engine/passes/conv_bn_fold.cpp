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
    return RuleSet({fold});
}

}  // namespace adj
