// JVP rules, one per op (the op table's forward-mode trait). Tangents carry a leading axis of K
// directions: the tangent of a value of shape S has shape [K, ...S].
#include <cmath>

#include "autodiff/decompositions.h"
#include "autodiff/forward_mode.h"
#include "base/errors.h"
#include "ir/formula.h"

namespace adj {

namespace {

bool isSet(ValueRef v) { return v.node != kNoNode; }

[[noreturn]] void noRule(const Node& n) {
    throw GraphError("op '" + std::string(opName(n.op)) + "' (node '" + n.name + "') has no JVP rule: it cannot be differentiated in forward mode");
}

/// Reshapes tangent t ([K, ...s]) so that its primal part has `rank` dims (ones inserted after K),
/// ready to broadcast against values of that rank.
ValueRef alignRank(GraphBuilder& b, ValueRef t, std::size_t rank) {
    Shape s = b.shape(t);
    if (s.size() - 1 >= rank) return t;
    Shape r{s[0]};
    for (std::size_t i = 0; i < rank - (s.size() - 1); ++i) r.push_back(1);
    r.insert(r.end(), s.begin() + 1, s.end());
    return b.reshape(t, r);
}

/// Aligns, then broadcasts t to [K, ...out].
ValueRef fit(GraphBuilder& b, ValueRef t, const Shape& out) {
    t = alignRank(b, t, out.size());
    Shape full{b.shape(t)[0]};
    full.insert(full.end(), out.begin(), out.end());
    return b.expandTo(t, full);
}

/// Sum of the set terms, fitted to the output shape; unset when none is set.
ValueRef sumTerms(GraphBuilder& b, const std::vector<ValueRef>& terms, const Shape& out) {
    ValueRef acc;
    for (auto t : terms) {
        if (!isSet(t)) continue;
        acc = isSet(acc) ? b.add(acc, alignRank(b, t, out.size())) : alignRank(b, t, out.size());
    }
    return isSet(acc) ? fit(b, acc, out) : acc;
}

std::vector<std::int64_t> shiftedAxes(const Node& n, std::int64_t rank) {
    std::vector<std::int64_t> axes;
    if (n.attrs.has("axes")) {
        for (auto a : n.attrs.getInts(n.op, "axes")) {
            normalizeAxis(a, rank);
            axes.push_back(a + 1);
        }
    } else {
        for (std::int64_t i = 0; i < rank; ++i) axes.push_back(i + 1);
    }
    return axes;
}

Shape withK(std::int64_t k, const Shape& s) {
    Shape r{k};
    r.insert(r.end(), s.begin(), s.end());
    return r;
}

/// For ops whose rules are written for one direction (convolutions, pools): apply `rule` to each
/// direction's slice and stack the results.
template <class Rule>
ValueRef perDirection(GraphBuilder& b, const std::vector<ValueRef>& tangents, std::int64_t k, Rule rule) {
    std::vector<ValueRef> parts;
    for (std::int64_t d = 0; d < k; ++d) {
        std::vector<ValueRef> slice(tangents.size());
        for (std::size_t i = 0; i < tangents.size(); ++i) {
            if (!isSet(tangents[i])) continue;
            Shape s = b.shape(tangents[i]);
            ValueRef t = tangents[i];
            if (k > 1) t = b.op(Op::Slice, {t}, {{"starts", std::vector<std::int64_t>{d}}, {"ends", std::vector<std::int64_t>{d + 1}}, {"axes", std::vector<std::int64_t>{0}}});
            slice[i] = b.reshape(t, Shape(s.begin() + 1, s.end()));
        }
        ValueRef r = rule(slice);
        if (!isSet(r)) return r;
        parts.push_back(b.reshape(r, withK(1, b.shape(r))));
    }
    if (parts.size() == 1) return parts[0];
    return b.op(Op::Concat, parts, {{"axis", std::int64_t(0)}});
}

ValueRef jvpByDecomposition(GraphBuilder& b, const Node& n, const std::vector<ValueRef>& tangents, std::int64_t k) {
    Graph& g = b.graph();
    const NodeId firstNew = g.idBound();
    ValueRef out = decompose(b, n, n.inputs);
    std::vector<NodeId> order;
    for (NodeId id : g.topoOrder())
        if (id >= firstNew) order.push_back(id);
    std::map<ValueRef, ValueRef> seeds;
    for (std::size_t i = 0; i < n.inputs.size(); ++i)
        if (isSet(tangents[i])) seeds[n.inputs[i]] = tangents[i];
    auto all = forwardPropagate(b, order, seeds, k);
    auto it = all.find(out);
    return it == all.end() ? ValueRef{} : it->second;
}

/// JVP of an elementwise op from the derivative formula of its table entry: the sum over the
/// inputs with a tangent of their derivative term (the formula's dk with g = that tangent).
ValueRef elementwiseJvp(GraphBuilder& b, const Node& n, const std::vector<ValueRef>& t, const Shape& os) {
    const Formula& f = opFormula(n.op, FormulaColumn::Derivative);
    if (f.empty()) return {};
    std::map<std::string, ValueRef> names{{"out", ValueRef{n.id, 0}}};
    for (std::size_t k = 0; k < n.inputs.size(); ++k) names[formulaInputName(k)] = n.inputs[k];
    std::vector<ValueRef> terms;
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
        const std::string target = std::string("d") + formulaInputName(k);
        if (!isSet(t[k]) || !f.find(target)) continue;
        names["g"] = alignRank(b, t[k], os.size());
        terms.push_back(buildFormula(b, f, names, &n, {target}).at(target));
    }
    return sumTerms(b, terms, os);
}

}  // namespace

ValueRef jvpRule(GraphBuilder& b, const Node& n, const std::vector<ValueRef>& t, int port, std::int64_t k) {
    const std::vector<ValueRef> x = n.inputs;
    const ValueRef out{n.id, 0};
    const Shape os = b.graph().type({n.id, port}).shape;
    auto ts = [&](std::size_t i) { return isSet(t[i]); };
    if (b.graph().type({n.id, port}).dtype != DType::F32) return {};  // integers and bools have no tangent
    if (hasDecomposition(n.op)) return jvpByDecomposition(b, n, t, k);

    switch (n.op) {
        case Op::Input:
        case Op::Parameter:
        case Op::Constant:
            return {};
#include "ir/op_elementwise_cases.inc"
            return elementwiseJvp(b, n, t, os);
        case Op::Fused: noRule(n);  // differentiated through its decomposition (hasDecomposition)

        case Op::MatMul: {
            const Shape sa = b.shape(x[0]), sb = b.shape(x[1]);
            const std::size_t batchRank = std::max(std::max<std::size_t>(sa.size(), 2), std::max<std::size_t>(sb.size(), 2));
            ValueRef ta, tb;
            if (ts(0)) {
                if (sa.size() >= 2) {
                    ta = b.matmul(alignRank(b, t[0], batchRank), x[1]);
                } else {
                    // a vector a: its [K, n] tangent becomes K rows [K, 1..., 1, n] (one row per
                    // direction, batch axes of b broadcast), then the row axis goes again. (Read
                    // as a [K, n] matrix it would only be right for a 2-D b: a batched b would
                    // put its batch axes before K.)
                    const std::int64_t kk = b.shape(t[0])[0];
                    ValueRef rows = alignRank(b, b.reshape(t[0], Shape{kk, 1, sa[0]}), batchRank);
                    ta = b.reshape(b.matmul(rows, x[1]), withK(kk, os));
                }
            }
            if (ts(1)) {
                ValueRef tbv = t[1];
                if (sb.size() == 1) tbv = b.reshape(tbv, Shape{b.shape(tbv)[0], sb[0], 1});  // [K, n, 1]
                tbv = alignRank(b, tbv, batchRank);
                ValueRef a = sa.size() == 1 ? b.reshape(x[0], {1, sa[0]}) : x[0];
                tb = b.reshape(b.matmul(a, tbv), withK(b.shape(tbv)[0], os));
            }
            return sumTerms(b, {ta, tb}, os);
        }
        case Op::Gemm: {
            const bool ta = n.attrs.getInt(n.op, "transA") != 0, tb = n.attrs.getInt(n.op, "transB") != 0;
            const float alpha = float(n.attrs.getFloat(n.op, "alpha")), beta = float(n.attrs.getFloat(n.op, "beta"));
            ValueRef opA = ta ? b.transposeLast2(x[0]) : x[0], opB = tb ? b.transposeLast2(x[1]) : x[1];
            ValueRef p = ts(0) ? b.scale(b.matmul(ta ? b.transposeLast2(t[0]) : t[0], opB), alpha) : ValueRef{};
            ValueRef q = ts(1) ? b.scale(b.matmul(opA, tb ? b.transposeLast2(t[1]) : t[1]), alpha) : ValueRef{};
            ValueRef c = x.size() == 3 && ts(2) ? b.scale(t[2], beta) : ValueRef{};
            return sumTerms(b, {p, q, c}, os);
        }

        case Op::Sum: return b.sum(t[0], shiftedAxes(n, b.rank(x[0])), n.attrs.getInt(n.op, "keepdims") != 0);
        case Op::Mean: return b.mean(t[0], shiftedAxes(n, b.rank(x[0])), n.attrs.getInt(n.op, "keepdims") != 0);
        case Op::Max: {
            auto axes = shiftedAxes(n, b.rank(x[0]));
            std::vector<std::int64_t> primalAxes;
            for (auto a : axes) primalAxes.push_back(a - 1);
            ValueRef outKeep = b.op(Op::Max, {x[0]}, {{"axes", primalAxes}, {"keepdims", std::int64_t(1)}});
            ValueRef mask = b.op(Op::Equal, {x[0], outKeep});
            ValueRef count = b.sum(mask, primalAxes, n.attrs.getInt(n.op, "keepdims") != 0);
            return b.div(b.sum(b.mul(t[0], mask), axes, n.attrs.getInt(n.op, "keepdims") != 0), count);
        }
        case Op::Softmax: {
            std::int64_t axis = n.attrs.getInt(n.op, "axis");
            normalizeAxis(axis, b.rank(x[0]));
            ValueRef ty = b.mul(t[0], out);
            return b.sub(ty, b.mul(out, b.sum(ty, {axis + 1}, true)));
        }
        case Op::LogSoftmax: {
            std::int64_t axis = n.attrs.getInt(n.op, "axis");
            normalizeAxis(axis, b.rank(x[0]));
            return b.sub(t[0], b.sum(b.mul(t[0], b.unary(Op::Exp, out)), {axis + 1}, true));
        }

        case Op::Reshape:
        case Op::Flatten:
        case Op::Squeeze:
        case Op::Unsqueeze:
            return b.reshape(t[0], withK(k, os));
        case Op::Transpose: {
            const auto r = b.rank(x[0]);
            std::vector<std::int64_t> perm{0};
            if (n.attrs.has("perm")) {
                for (auto p : n.attrs.getInts(n.op, "perm")) {
                    normalizeAxis(p, r);
                    perm.push_back(p + 1);
                }
            } else {
                for (std::int64_t i = r; i-- > 0;) perm.push_back(i + 1);
            }
            return b.transpose(t[0], perm);
        }
        case Op::Expand: return fit(b, t[0], os);
        case Op::Slice: {
            Attributes a = n.attrs;
            std::vector<std::int64_t> axes;
            const auto r = b.rank(x[0]);
            if (n.attrs.has("axes")) axes = n.attrs.getInts(n.op, "axes");
            else for (std::size_t i = 0; i < n.attrs.getInts(n.op, "starts").size(); ++i) axes.push_back(std::int64_t(i));
            for (auto& ax : axes) { normalizeAxis(ax, r); ax += 1; }
            a.set("axes", axes);
            return b.op(Op::Slice, {t[0]}, a);
        }
        case Op::Pad: {
            auto pads = n.attrs.getInts(n.op, "pads");
            const std::size_t r = pads.size() / 2;
            std::vector<std::int64_t> p{0};
            p.insert(p.end(), pads.begin(), pads.begin() + std::ptrdiff_t(r));
            p.push_back(0);
            p.insert(p.end(), pads.begin() + std::ptrdiff_t(r), pads.end());
            Attributes a = n.attrs;
            a.set("pads", p);
            a.set("value", 0.0);  // the padding is constant: its tangent is zero, whatever the pad value
            return b.op(Op::Pad, {t[0]}, a);
        }
        case Op::Cast:  // f32 to f32 passes the tangent on; integers and bools have none
            if (b.graph().type(x[0]).dtype == DType::F32 && ts(0)) return t[0];
            return {};
        case Op::ArgMax:
        case Op::ArgMin:
            return {};
        case Op::GatherElements:
        case Op::GatherElementsGrad:  // linear in input 0, whose rank the indices must share: per direction
            if (!ts(0)) return {};
            return perDirection(b, {t[0], ValueRef{}}, k, [&](const std::vector<ValueRef>& s) { return b.op(n.op, {s[0], x[1]}, n.attrs); });
        case Op::Gather:
        case Op::GatherGrad: {  // linear in input 0; the tangents carry a leading axis, so the axis moves by one
            if (!ts(0)) return {};
            std::int64_t axis = n.attrs.getInt(n.op, "axis");
            const Shape dataShape = n.op == Op::Gather ? b.shape(x[0]) : os;
            normalizeAxis(axis, std::int64_t(dataShape.size()));
            Attributes a = n.attrs;
            a.set("axis", axis + 1);
            if (n.op == Op::GatherGrad) a.set("input_shape", std::vector<std::int64_t>(withK(k, os)));
            return b.op(n.op, {t[0], x[1]}, a);
        }
        case Op::Concat: {
            std::int64_t axis = n.attrs.getInt(n.op, "axis");
            normalizeAxis(axis, b.rank(x[0]));
            bool any = false;
            std::vector<ValueRef> parts;
            for (std::size_t i = 0; i < x.size(); ++i) {
                any = any || ts(i);
                parts.push_back(ts(i) ? t[i] : b.zerosLike(withK(k, b.shape(x[i]))));
            }
            if (!any) return {};
            return b.op(Op::Concat, parts, {{"axis", axis + 1}});
        }
        case Op::Split: {
            std::int64_t axis = n.attrs.getInt(n.op, "axis");
            normalizeAxis(axis, b.rank(x[0]));
            auto sizes = n.attrs.getInts(n.op, "sizes");
            std::int64_t start = 0;
            for (int p = 0; p < port; ++p) start += sizes[std::size_t(p)];
            return b.op(Op::Slice, {t[0]}, {{"starts", std::vector<std::int64_t>{start}}, {"ends", std::vector<std::int64_t>{start + sizes[std::size_t(port)]}}, {"axes", std::vector<std::int64_t>{axis + 1}}});
        }

        case Op::Conv2d:
        case Op::Conv2dGradInput:
        case Op::Conv2dGradWeight:
            // bilinear in its first two inputs (plus a bias for conv2d)
            return perDirection(b, t, k, [&](const std::vector<ValueRef>& tt) {
                std::vector<ValueRef> terms;
                if (isSet(tt[0])) terms.push_back(b.op(n.op, {tt[0], x[1]}, n.attrs));
                if (isSet(tt[1])) terms.push_back(b.op(n.op, {x[0], tt[1]}, n.attrs));
                if (x.size() == 3 && isSet(tt[2])) terms.push_back(b.reshape(tt[2], {b.shape(x[2])[0], 1, 1}));
                ValueRef acc;
                for (auto v : terms) acc = isSet(acc) ? b.add(acc, v) : v;
                return isSet(acc) ? b.expandTo(acc, os) : acc;
            });
        case Op::MaxPool:
            return perDirection(b, t, k, [&](const std::vector<ValueRef>& tt) { return b.op(Op::MaxPoolSelect, {x[0], tt[0]}, n.attrs); });
        case Op::MaxPoolGrad:
        case Op::MaxPoolSelect:
            if (!ts(1)) return {};
            return perDirection(b, t, k, [&](const std::vector<ValueRef>& tt) { return b.op(n.op, {x[0], tt[1]}, n.attrs); });
        case Op::AvgPool:
        case Op::AvgPoolGrad:
            return perDirection(b, t, k, [&](const std::vector<ValueRef>& tt) { return b.op(n.op, {tt[0]}, n.attrs); });
        case Op::GlobalAvgPool: {
            std::vector<std::int64_t> axes;
            for (std::int64_t a = 2; a < b.rank(x[0]); ++a) axes.push_back(a + 1);
            return b.mean(t[0], axes, true);
        }
        case Op::BatchNorm:
        case Op::LayerNorm:
            noRule(n);
    }
    noRule(n);
}

}  // namespace adj
