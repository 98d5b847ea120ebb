#include "autodiff/vjp_rules.h"

#include <cmath>

#include "autodiff/decompositions.h"
#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "ir/formula.h"

namespace adj {

namespace {

bool isSet(ValueRef v) { return v.node != kNoNode; }

[[noreturn]] void noRule(const Node& n) {
    throw GraphError("op '" + std::string(opName(n.op)) + "' (node '" + n.name + "') has no VJP rule: it cannot be differentiated");
}

std::vector<std::int64_t> reducedAxes(const Node& n, std::int64_t rank) {
    std::vector<std::int64_t> axes;
    if (n.attrs.has("axes")) {
        axes = n.attrs.getInts(n.op, "axes");
        for (auto& a : axes) normalizeAxis(a, rank);
    } else {
        for (std::int64_t i = 0; i < rank; ++i) axes.push_back(i);
    }
    return axes;
}

/// The adjoint of a reduction's output, reshaped to keep the reduced axes (size 1) and expanded
/// back to the input shape.
ValueRef expandReduced(GraphBuilder& b, const Node& n, ValueRef g, const Shape& inShape) {
    Shape kept = inShape;
    for (auto a : reducedAxes(n, std::int64_t(inShape.size()))) kept[std::size_t(a)] = 1;
    return b.expandTo(b.reshape(g, kept), inShape);
}

/// VJP of a composite op through its decomposition: build the decomposition on the node's inputs,
/// then backpropagate the output adjoint through it.
std::vector<ValueRef> vjpByDecomposition(GraphBuilder& b, const Node& n, ValueRef g) {
    Graph& graph = b.graph();
    const NodeId firstNew = graph.idBound();
    const std::vector<ValueRef> inputs = n.inputs;
    ValueRef out = decompose(b, n, inputs);
    std::vector<NodeId> order;  // the decomposition's nodes; the inputs stay leaves
    for (NodeId id : graph.topoOrder())
        if (id >= firstNew) order.push_back(id);
    std::vector<ValueRef> grads = backpropagate(b, order, {{out, g}}, inputs);
    return grads;
}

/// VJP of an elementwise op from the derivative formula of its table entry: each input's adjoint
/// (da, db, dc given g), summed back over the broadcast; no formula: zero (piecewise constant).
std::vector<ValueRef> elementwiseVjp(GraphBuilder& b, const Node& n, ValueRef g) {
    std::vector<ValueRef> r(n.inputs.size());
    const Formula& f = opFormula(n.op, FormulaColumn::Derivative);
    if (f.empty()) return r;
    std::map<std::string, ValueRef> names{{"out", ValueRef{n.id, 0}}, {"g", g}};
    std::vector<std::string> wanted;
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
        names[formulaInputName(k)] = n.inputs[k];
        if (f.find(std::string("d") + formulaInputName(k))) wanted.push_back(std::string("d") + formulaInputName(k));
    }
    const auto built = buildFormula(b, f, names, &n, wanted);
    for (std::size_t k = 0; k < n.inputs.size(); ++k)
        if (auto it = built.find(std::string("d") + formulaInputName(k)); it != built.end()) r[k] = b.sumTo(it->second, b.shape(n.inputs[k]));
    return r;
}

}  // namespace

std::vector<ValueRef> vjpRule(GraphBuilder& b, const Node& n, const std::vector<ValueRef>& outGrads) {
    const ValueRef g = outGrads.empty() ? ValueRef{} : outGrads[0];
    const std::vector<ValueRef> x = n.inputs;
    auto shapeOf = [&](std::size_t i) { return b.shape(x[i]); };
    const ValueRef out{n.id, 0};
    // gradients flow through float values only: an integer or bool result has no adjoint to pass on
    if (n.numOutputs() >= 1 && b.graph().type(out).dtype != DType::F32) return std::vector<ValueRef>(x.size());
    if (hasDecomposition(n.op)) return vjpByDecomposition(b, n, g);

    switch (n.op) {
        case Op::Input:
        case Op::Parameter:
        case Op::Constant:
            return {};

#include "ir/op_elementwise_cases.inc"
            return elementwiseVjp(b, n, g);
        case Op::Fused:
            noRule(n);  // differentiated through its decomposition (hasDecomposition)

        case Op::MatMul: {
            Shape sa = shapeOf(0), sb = shapeOf(1);
            ValueRef a = x[0], bb = x[1], gg = g;
            // promote vectors to matrices as matmul does, then undo at the end
            if (sa.size() == 1) a = b.reshape(a, {1, sa[0]});
            if (sb.size() == 1) bb = b.reshape(bb, {sb[0], 1});
            Shape ga = b.shape(a), gb = b.shape(bb);
            Shape gs = b.shape(gg);
            if (sa.size() == 1 && sb.size() == 1) gg = b.reshape(gg, {1, 1});
            else if (sa.size() == 1) { Shape s = gs; s.insert(s.end() - 1, 1); gg = b.reshape(gg, s); }
            else if (sb.size() == 1) { Shape s = gs; s.push_back(1); gg = b.reshape(gg, s); }
            ValueRef da = b.matmul(gg, b.transposeLast2(bb));
            ValueRef db = b.matmul(b.transposeLast2(a), gg);
            da = b.reshape(b.sumTo(da, ga), sa);
            db = b.reshape(b.sumTo(db, gb), sb);
            return {da, db};
        }
        case Op::Gemm: {
            const bool ta = n.attrs.getInt(n.op, "transA") != 0, tb = n.attrs.getInt(n.op, "transB") != 0;
            const double alpha = n.attrs.getFloat(n.op, "alpha"), beta = n.attrs.getFloat(n.op, "beta");
            auto gemm = [&](ValueRef p, ValueRef q, bool tp, bool tq) {
                Attributes at{{"transA", std::int64_t(tp)}, {"transB", std::int64_t(tq)}};
                if (alpha != 1.0) at.set("alpha", alpha);
                return b.op(Op::Gemm, {p, q}, at);
            };
            ValueRef da, db;
            if (!ta && !tb) { da = gemm(g, x[1], false, true); db = gemm(x[0], g, true, false); }
            else if (!ta && tb) { da = gemm(g, x[1], false, false); db = gemm(g, x[0], true, false); }
            else if (ta && !tb) { da = gemm(x[1], g, false, true); db = gemm(x[0], g, false, false); }
            else { da = gemm(x[1], g, true, true); db = gemm(g, x[0], true, true); }
            std::vector<ValueRef> r{da, db};
            if (x.size() == 3) r.push_back(b.sumTo(b.scale(g, float(beta)), shapeOf(2)));
            return r;
        }

        case Op::Sum: return {expandReduced(b, n, g, shapeOf(0))};
        case Op::Mean: {
            const Shape s = shapeOf(0);
            std::int64_t count = 1;
            for (auto a : reducedAxes(n, std::int64_t(s.size()))) count *= s[std::size_t(a)];
            return {b.scale(expandReduced(b, n, g, s), 1.f / float(count))};
        }
        case Op::Max: {
            const Shape s = shapeOf(0);
            ValueRef outE = expandReduced(b, n, out, s);
            ValueRef mask = b.op(Op::Equal, {x[0], outE});
            // ties share the adjoint evenly
            ValueRef count = expandReduced(b, n, b.op(Op::Sum, {mask}, n.attrs), s);
            return {b.div(b.mul(expandReduced(b, n, g, s), mask), count)};
        }
        case Op::Softmax: {
            std::int64_t axis = n.attrs.getInt(n.op, "axis");
            ValueRef gy = b.mul(g, out);
            return {b.sub(gy, b.mul(out, b.sum(gy, {axis}, true)))};
        }
        case Op::LogSoftmax: {
            std::int64_t axis = n.attrs.getInt(n.op, "axis");
            return {b.sub(g, b.mul(b.unary(Op::Exp, out), b.sum(g, {axis}, true)))};
        }

        case Op::Reshape:
        case Op::Flatten:
        case Op::Squeeze:
        case Op::Unsqueeze:
            return {b.reshape(g, shapeOf(0))};
        case Op::Transpose: {
            const auto r = std::int64_t(shapeOf(0).size());
            std::vector<std::int64_t> perm;
            if (n.attrs.has("perm")) perm = n.attrs.getInts(n.op, "perm");
            else
                for (std::int64_t i = r; i-- > 0;) perm.push_back(i);
            std::vector<std::int64_t> inv(perm.size());
            for (std::size_t i = 0; i < perm.size(); ++i) {
                std::int64_t p = perm[i];
                normalizeAxis(p, r);
                inv[std::size_t(p)] = std::int64_t(i);
            }
            return {b.transpose(g, inv)};
        }
        case Op::Expand: return {b.sumTo(g, shapeOf(0))};
        case Op::Slice: {
            // scatter the adjoint back into zeros: per sliced axis, interleave zeros for the step
            // (concat + reshape), then pad to the input extent
            const Shape in = shapeOf(0);
            auto starts = n.attrs.getInts(n.op, "starts"), ends = n.attrs.getInts(n.op, "ends");
            std::vector<std::int64_t> axes, steps;
            if (n.attrs.has("axes")) axes = n.attrs.getInts(n.op, "axes");
            else for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(std::int64_t(i));
            if (n.attrs.has("steps")) steps = n.attrs.getInts(n.op, "steps");
            else steps.assign(starts.size(), 1);
            ValueRef cur = g;
            for (std::size_t i = 0; i < axes.size(); ++i) {
                std::int64_t axis = axes[i];
                normalizeAxis(axis, std::int64_t(in.size()));
                const std::int64_t d = in[std::size_t(axis)];
                auto clampIdx = [d](std::int64_t v) { if (v < 0) v = std::max<std::int64_t>(v, -d) + d; return std::min(v, d); };
                const std::int64_t begin = clampIdx(starts[i]), step = steps[i];
                Shape cs = b.shape(cur);
                const std::int64_t len = cs[std::size_t(axis)];
                std::int64_t covered = len;
                if (step > 1 && len > 0) {
                    Shape withStep = cs;
                    withStep.insert(withStep.begin() + axis + 1, 1);
                    ValueRef col = b.reshape(cur, withStep);
                    Shape zerosShape = withStep;
                    zerosShape[std::size_t(axis) + 1] = step - 1;
                    ValueRef inter = b.op(Op::Concat, {col, b.zerosLike(zerosShape)}, {{"axis", axis + 1}});
                    Shape merged = cs;
                    merged[std::size_t(axis)] = len * step;
                    cur = b.reshape(inter, merged);
                    covered = len * step;
                }
                std::int64_t after = d - begin - covered;
                if (after < 0) {  // the interleaved tail runs past the input: cut it
                    Attributes sl{{"starts", std::vector<std::int64_t>{0}}, {"ends", std::vector<std::int64_t>{d - begin}}, {"axes", std::vector<std::int64_t>{axis}}};
                    cur = b.op(Op::Slice, {cur}, sl);
                    after = 0;
                }
                if (begin > 0 || after > 0) {
                    std::vector<std::int64_t> pads(in.size() * 2, 0);
                    pads[std::size_t(axis)] = begin;
                    pads[in.size() + std::size_t(axis)] = after;
                    cur = b.op(Op::Pad, {cur}, {{"pads", pads}});
                }
            }
            return {cur};
        }
        case Op::Pad: {
            const Shape in = shapeOf(0);
            auto pads = n.attrs.getInts(n.op, "pads");
            std::vector<std::int64_t> starts, ends, axes;
            for (std::size_t a = 0; a < in.size(); ++a) {
                starts.push_back(pads[a]);
                ends.push_back(pads[a] + in[a]);
                axes.push_back(std::int64_t(a));
            }
            return {b.op(Op::Slice, {g}, {{"starts", starts}, {"ends", ends}, {"axes", axes}})};
        }
        case Op::Concat: {
            std::int64_t axis = n.attrs.getInt(n.op, "axis");
            normalizeAxis(axis, std::int64_t(shapeOf(0).size()));
            std::vector<ValueRef> r;
            std::int64_t at = 0;
            for (std::size_t i = 0; i < x.size(); ++i) {
                std::int64_t len = shapeOf(i)[std::size_t(axis)];
                r.push_back(b.op(Op::Slice, {g}, {{"starts", std::vector<std::int64_t>{at}}, {"ends", std::vector<std::int64_t>{at + len}}, {"axes", std::vector<std::int64_t>{axis}}}));
                at += len;
            }
            return r;
        }
        case Op::Split: {
            std::int64_t axis = n.attrs.getInt(n.op, "axis");
            std::vector<ValueRef> parts;
            for (std::size_t p = 0; p < outGrads.size(); ++p)
                parts.push_back(isSet(outGrads[p]) ? outGrads[p] : b.zerosLike(b.graph().type({n.id, int(p)}).shape));
            if (parts.size() == 1) return {parts[0]};
            return {b.op(Op::Concat, parts, {{"axis", axis}})};
        }

        case Op::Cast:  // f32 to f32 passes the adjoint on; integers and bools have none
            if (b.graph().type(x[0]).dtype == DType::F32) return {g};
            return {ValueRef{}};
        case Op::ArgMax:   // piecewise constant, and integer
        case Op::ArgMin:
            return {ValueRef{}};
        case Op::Gather: {  // the indices get no adjoint: they are integers
            Attributes a = n.attrs;
            const Shape xs = shapeOf(0);
            a.set("input_shape", std::vector<std::int64_t>(xs.begin(), xs.end()));
            return {b.op(Op::GatherGrad, {g, x[1]}, a), ValueRef{}};
        }
        case Op::GatherElements: {  // the indices get no adjoint
            Attributes a = n.attrs;
            const Shape xs = shapeOf(0);
            a.set("input_shape", std::vector<std::int64_t>(xs.begin(), xs.end()));
            return {b.op(Op::GatherElementsGrad, {g, x[1]}, a), ValueRef{}};
        }
        case Op::GatherElementsGrad: {
            Attributes a = n.attrs;
            a.erase("input_shape");
            return {b.op(Op::GatherElements, {g, x[1]}, a), ValueRef{}};
        }
        case Op::GatherGrad: {  // linear in the adjoint it scatters
            Attributes a = n.attrs;
            a.erase("input_shape");
            return {b.op(Op::Gather, {g, x[1]}, a), ValueRef{}};
        }
        case Op::Conv2d: {
            Attributes conv = n.attrs;
            Attributes gi = conv, gw = conv;
            const Shape xs = shapeOf(0), ws = shapeOf(1);
            gi.set("input_shape", std::vector<std::int64_t>(xs.begin(), xs.end()));
            gw.set("weight_shape", std::vector<std::int64_t>(ws.begin(), ws.end()));
            std::vector<ValueRef> r{b.op(Op::Conv2dGradInput, {g, x[1]}, gi), b.op(Op::Conv2dGradWeight, {x[0], g}, gw)};
            if (x.size() == 3) r.push_back(b.sum(g, {0, 2, 3}, false));
            return r;
        }
        case Op::Conv2dGradInput: {
            // dx = convT(g, w) is bilinear: <gg, convT(g, w)> = <conv(gg, w), g>
            Attributes conv = n.attrs;
            conv.erase("input_shape");
            Attributes gw = conv;
            const Shape ws = shapeOf(1);
            gw.set("weight_shape", std::vector<std::int64_t>(ws.begin(), ws.end()));
            return {b.op(Op::Conv2d, {g, x[1]}, conv), b.op(Op::Conv2dGradWeight, {g, x[0]}, gw)};
        }
        case Op::Conv2dGradWeight: {
            // dw = gw(x, g): <gg, gw(x, g)> = <conv(x, gg), g>
            Attributes conv = n.attrs;
            conv.erase("weight_shape");
            Attributes gi = conv;
            const Shape xs = shapeOf(0);
            gi.set("input_shape", std::vector<std::int64_t>(xs.begin(), xs.end()));
            return {b.op(Op::Conv2dGradInput, {x[1], g}, gi), b.op(Op::Conv2d, {x[0], g}, conv)};
        }
        case Op::MaxPool:
            return {b.op(Op::MaxPoolGrad, {x[0], g}, n.attrs)};
        case Op::MaxPoolGrad:
            return {ValueRef{}, b.op(Op::MaxPoolSelect, {x[0], g}, n.attrs)};
        case Op::MaxPoolSelect:
            return {ValueRef{}, b.op(Op::MaxPoolGrad, {x[0], g}, n.attrs)};
        case Op::AvgPool: {
            Attributes a = n.attrs;
            const Shape xs = shapeOf(0);
            a.set("input_shape", std::vector<std::int64_t>(xs.begin(), xs.end()));
            return {b.op(Op::AvgPoolGrad, {g}, a)};
        }
        case Op::AvgPoolGrad: {
            Attributes a = n.attrs;
            a.erase("input_shape");
            return {b.op(Op::AvgPool, {g}, a)};
        }
        case Op::GlobalAvgPool: {
            const Shape xs = shapeOf(0);
            std::int64_t hw = 1;
            for (std::size_t i = 2; i < xs.size(); ++i) hw *= xs[i];
            return {b.scale(b.expandTo(g, xs), 1.f / float(hw))};
        }
        case Op::BatchNorm:
        case Op::LayerNorm:
            noRule(n);  // differentiated through their decompositions (hasDecomposition)
    }
    noRule(n);
}

}  // namespace adj
