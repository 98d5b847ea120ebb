#include "cost/cost_model.h"

#include <map>

#include "ir/fused_program.h"

namespace adj {

namespace {
double elems(const Shape& s) { return double(numel(s)); }
}  // namespace

Cost nodeCost(const Graph& g, NodeId id) {
    const Node& n = g.node(id);
    if (n.outputs.empty()) return {};
    const double out = elems(n.outputs[0].shape);
    double in = 0;
    for (const auto& v : n.inputs)
        if (g.hasType(v)) in += elems(g.type(v).shape);
    double outAll = 0;
    for (const auto& t : n.outputs) outAll += elems(t.shape);
    const double f = 4.0;  // bytes per float
    Cost c{0, in * f, outAll * f};
    auto inShape = [&](std::size_t i) { return g.type(n.inputs[i]).shape; };
    switch (n.op) {
        case Op::Input:
        case Op::Parameter:
        case Op::Constant:
            return {};
        case Op::Neg: case Op::Abs: case Op::Relu: case Op::Sign:
        case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Maximum: case Op::Minimum:
        case Op::Greater: case Op::Equal: case Op::Where:
            c.flops = out;
            return c;
        case Op::Fused:
            // every instruction runs over the output; intermediates stay in registers, so only
            // the inputs and the output move through memory
            c.flops = out * double(parseFusedProgram(n.attrs.getString(n.op, "program")).instrs.size());
            return c;
        case Op::Exp: case Op::Log: case Op::Sqrt: case Op::Sin: case Op::Cos: case Op::Tanh: case Op::Sigmoid:
        case Op::Gelu: case Op::Erf: case Op::Pow:
            c.flops = out;  // one (transcendental) operation per element, as is customary
            return c;
        case Op::MatMul: {
            Shape a = inShape(0);
            const double k = double(a.back());
            c.flops = 2.0 * out * k;
            return c;
        }
        case Op::Gemm: {
            Shape a = inShape(0);
            const double k = double(n.attrs.getInt(n.op, "transA") ? a[0] : a[1]);
            c.flops = 2.0 * out * k + (n.inputs.size() == 3 ? out : 0.0);
            return c;
        }
        case Op::Sum: case Op::Mean: case Op::Max:
            c.flops = in;
            return c;
        case Op::Softmax: case Op::LogSoftmax:
            c.flops = 5.0 * out;
            return c;
        case Op::Reshape: case Op::Transpose: case Op::Flatten: case Op::Squeeze: case Op::Unsqueeze:
        case Op::Expand: case Op::Slice: case Op::Split:
            return {};  // views
        case Op::Concat: case Op::Pad:
            return c;  // a copy
        case Op::Conv2d: case Op::Conv2dGradInput: case Op::Conv2dGradWeight: {
            // 2 * (output of the forward conv) * (Cin/group * kh * kw)
            const Shape w = n.op == Op::Conv2dGradWeight ? n.outputs[0].shape : inShape(1);
            const Shape y = n.op == Op::Conv2d ? n.outputs[0].shape : (n.op == Op::Conv2dGradInput ? inShape(0) : inShape(1));
            c.flops = 2.0 * elems(y) * double(w[1] * w[2] * w[3]);
            return c;
        }
        case Op::MaxPool: case Op::AvgPool: case Op::MaxPoolSelect: {
            auto k = n.attrs.getInts(n.op, "kernel");
            c.flops = out * double(k[0] * k[1]);
            return c;
        }
        case Op::MaxPoolGrad: case Op::AvgPoolGrad: {
            auto k = n.attrs.getInts(n.op, "kernel");
            c.flops = elems(n.op == Op::MaxPoolGrad ? inShape(1) : inShape(0)) * double(k[0] * k[1]);
            return c;
        }
        case Op::GlobalAvgPool:
            c.flops = in;
            return c;
        case Op::BatchNorm:
            c.flops = 4.0 * out;
            return c;
        case Op::LayerNorm:
            c.flops = 8.0 * out;
            return c;
    }
    return c;
}

Cost graphCost(const Graph& g) {
    Cost total;
    for (NodeId id : g.liveTopoOrder()) total += nodeCost(g, id);
    return total;
}

double peakMemoryBytes(const Graph& g) {
    const auto order = g.liveTopoOrder();
    std::map<NodeId, int> remaining;
    for (NodeId id : order)
        for (const auto& v : g.node(id).inputs) ++remaining[v.node];
    for (const auto& o : g.outputs()) ++remaining[o.value.node];
    auto bytesOf = [&](NodeId id) {
        const Node& n = g.node(id);
        if (isMovement(n.op) && n.op != Op::Concat && n.op != Op::Pad) return 0.0;
        double b = 0;
        for (const auto& t : n.outputs) b += 4.0 * double(numel(t.shape));
        return b;
    };
    double live = 0, peak = 0;
    for (NodeId id : order) {
        live += bytesOf(id);
        peak = std::max(peak, live);
        for (const auto& v : g.node(id).inputs)
            if (--remaining[v.node] == 0 && !isSource(g.node(v.node).op)) live -= bytesOf(v.node);
    }
    return peak;
}

}  // namespace adj
