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
    double in = 0, inBytes = 0;
    for (const auto& v : n.inputs)
        if (g.hasType(v)) {
            in += elems(g.type(v).shape);
            inBytes += elems(g.type(v).shape) * double(dtypeSize(g.type(v).dtype));
        }
    double outAll = 0;
    for (const auto& t : n.outputs) outAll += elems(t.shape);
    const double f = 4.0;  // bytes per float (every op's outputs are f32)
    Cost c{0, inBytes, outAll * f};
    auto inShape = [&](std::size_t i) { return g.type(n.inputs[i]).shape; };
    if (opInfo(n.op).family == OpFamily::Index && n.inputs.size() == 2 && g.hasType(n.inputs[0]) && g.hasType(n.inputs[1])) {
        // a gather reads only the slices it picks (an embedding table is mostly not read), and
        // eight bytes per index; its adjoint reads the adjoint and adds each element once
        const double indexBytes = elems(inShape(1)) * double(dtypeSize(g.type(n.inputs[1]).dtype));
        if (n.op == Op::Gather || n.op == Op::GatherElements) return Cost{0, out * f + indexBytes, out * f};
        const double g0 = elems(inShape(0));
        return Cost{g0, g0 * f + indexBytes, out * f};
    }
    switch (opInfo(n.op).cost) {
        case CostKind::None:
            return {};
        case CostKind::Copy:
            return c;
        case CostKind::PerOutput:
            c.flops = out * opInfo(n.op).flopsPerElement;
            return c;
        case CostKind::PerInput:
            c.flops = in * opInfo(n.op).flopsPerElement;
            return c;
        case CostKind::Fused: {
            // every instruction runs over the output, costing what its op costs; intermediates stay
            // in registers, so only the inputs and the output move through memory
            double perElement = 0;
            for (const auto& ins : parseFusedProgram(n.attrs.getString(n.op, "program")).instrs) perElement += opInfo(ins.op).flopsPerElement;
            c.flops = out * perElement;
            return c;
        }
        case CostKind::MatMul: {
            const double k = double(inShape(0).back());
            c.flops = 2.0 * out * k;
            return c;
        }
        case CostKind::Gemm: {
            Shape a = inShape(0);
            const double k = double(n.attrs.getInt(n.op, "transA") ? a[0] : a[1]);
            c.flops = 2.0 * out * k + (n.inputs.size() == 3 ? out : 0.0);
            return c;
        }
        case CostKind::Conv: {
            // 2 * (output of the forward conv) * (Cin/group * kh * kw)
            const Shape w = n.op == Op::Conv2dGradWeight ? n.outputs[0].shape : inShape(1);
            const Shape y = n.op == Op::Conv2d ? n.outputs[0].shape : (n.op == Op::Conv2dGradInput ? inShape(0) : inShape(1));
            c.flops = 2.0 * elems(y) * double(w[1] * w[2] * w[3]);
            return c;
        }
        case CostKind::Pool: {
            auto k = n.attrs.getInts(n.op, "kernel");
            c.flops = out * double(k[0] * k[1]);
            return c;
        }
        case CostKind::PoolGrad: {
            // the pooled tensor (the adjoint of the pool's output): max_pool_grad's input 1, avg_pool_grad's input 0
            auto k = n.attrs.getInts(n.op, "kernel");
            c.flops = elems(n.op == Op::MaxPoolGrad ? inShape(1) : inShape(0)) * double(k[0] * k[1]);
            return c;
        }
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
        if (returnsView(n.op)) return 0.0;
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
