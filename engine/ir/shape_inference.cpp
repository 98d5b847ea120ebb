#include "ir/shape_inference.h"

#include "ir/element_types.h"

#include <algorithm>
#include <limits>

#include "base/errors.h"
#include "ir/fused_program.h"

namespace adj {
namespace {

[[noreturn]] void fail(const Node& n, const std::string& msg) {
    throw GraphError("node '" + n.name + "' (" + std::string(opName(n.op)) + "): " + msg);
}

void checkSane(const Node& n, const Shape& s) {
    if (!shapeIsSane(s)) fail(n, "output shape " + shapeToString(s) + " is negative or too large");
}

Shape broadcastAll(const Node& n, const std::vector<ValueType>& in) {
    Shape out = in.at(0).shape;
    for (std::size_t i = 1; i < in.size(); ++i) {
        Shape next;
        if (!broadcastShapes(out, in[i].shape, next)) {
            std::string msg = "shapes do not broadcast:";
            for (std::size_t k = 0; k < in.size(); ++k) msg += " " + shapeToString(in[k].shape);
            fail(n, msg);
        }
        out = next;
    }
    return out;
}

std::vector<std::int64_t> normalizedAxes(const Node& n, std::vector<std::int64_t> axes, std::int64_t rank, const char* what) {
    for (auto& a : axes)
        if (!normalizeAxis(a, rank)) fail(n, std::string(what) + " axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    std::vector<std::int64_t> sorted = axes;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) fail(n, std::string(what) + " axes repeat");
    return axes;
}

std::int64_t axisAttr(const Node& n, const char* name, std::int64_t rank) {
    std::int64_t a = n.attrs.getInt(n.op, name);
    if (!normalizeAxis(a, rank)) fail(n, std::string(name) + " " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    return a;
}

Shape matmulShape(const Node& n, Shape a, Shape b) {
    if (a.empty() || b.empty()) fail(n, "matmul operands must have rank >= 1");
    bool va = a.size() == 1, vb = b.size() == 1;
    if (va) a.insert(a.begin(), 1);
    if (vb) b.push_back(1);
    std::int64_t m = a[a.size() - 2], k = a.back(), k2 = b[b.size() - 2], nn = b.back();
    if (k != k2) fail(n, "inner dimensions do not match: " + shapeToString(a) + " @ " + shapeToString(b));
    Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2), batch;
    if (!broadcastShapes(ba, bb, batch)) fail(n, "batch dimensions do not broadcast: " + shapeToString(a) + " @ " + shapeToString(b));
    Shape out = batch;
    if (!va) out.push_back(m);
    if (!vb) out.push_back(nn);
    return out;
}

Shape reduceShape(const Node& n, const Shape& in) {
    const auto rank = std::int64_t(in.size());
    std::vector<std::int64_t> axes;
    if (n.attrs.has("axes")) axes = normalizedAxes(n, n.attrs.getInts(n.op, "axes"), rank, "reduction");
    else
        for (std::int64_t i = 0; i < rank; ++i) axes.push_back(i);
    bool keep = n.attrs.getInt(n.op, "keepdims") != 0;
    Shape out;
    for (std::int64_t i = 0; i < rank; ++i) {
        bool reduced = std::find(axes.begin(), axes.end(), i) != axes.end();
        if (!reduced) out.push_back(in[std::size_t(i)]);
        else if (keep) out.push_back(1);
        if (reduced && n.op == Op::Max && in[std::size_t(i)] == 0) fail(n, "max over an empty axis");
    }
    return out;
}

Shape reshapeShape(const Node& n, const Shape& in) {
    auto target = n.attrs.getInts(n.op, "shape");
    if (target.size() > std::size_t(kMaxRank)) fail(n, "target shape has more than " + std::to_string(kMaxRank) + " dimensions");
    Shape out(target.size());
    std::int64_t known = 1;
    int inferAt = -1;
    for (std::size_t i = 0; i < target.size(); ++i) {
        std::int64_t d = target[i];
        if (d == 0) {  // ONNX: copy the input dimension
            if (i >= in.size()) fail(n, "shape entry 0 at position " + std::to_string(i) + " has no input dimension to copy");
            d = in[i];
        }
        if (d == -1) {
            if (inferAt >= 0) fail(n, "shape has more than one -1");
            inferAt = int(i);
            continue;
        }
        if (d < 0 || d > kMaxElements) fail(n, "shape entry " + std::to_string(d) + " is invalid");
        out[i] = d;
        if (d != 0 && known > kMaxElements / d) fail(n, "target shape is too large");
        known *= d;
    }
    const std::int64_t total = numel(in);
    if (inferAt >= 0) {
        if (known == 0 || total % known != 0) fail(n, "cannot reshape " + shapeToString(in) + " to " + attrValueToString(target));
        out[std::size_t(inferAt)] = total / known;
    } else if (known != total) {
        fail(n, "cannot reshape " + shapeToString(in) + " (" + std::to_string(total) + " elements) to " + shapeToString(out));
    }
    return out;
}

/// The data a gather reads: input 0's shape, or, for its adjoint, the declared input_shape.
Shape gatheredShape(const Node& n, const std::vector<ValueType>& in, bool forward) {
    if (forward) return in[0].shape;
    auto declared = n.attrs.getInts(n.op, "input_shape");
    Shape data(declared.begin(), declared.end());
    if (!shapeIsSane(data)) fail(n, "input_shape " + shapeToString(data) + " is invalid");
    return data;
}

Shape convLikeSpatial(const Node& n, const Shape& x, std::int64_t kh, std::int64_t kw, const std::vector<std::int64_t>& strides,
                      const std::vector<std::int64_t>& pads, const std::vector<std::int64_t>& dil) {
    if (strides.size() != 2 || dil.size() != 2) fail(n, "strides and dilations need 2 values");
    if (pads.size() != 4) fail(n, "pads need 4 values [top, left, bottom, right]");
    for (auto s : strides)
        if (s <= 0 || s > 1 << 20) fail(n, "strides must be positive");
    for (auto d : dil)
        if (d <= 0 || d > 1 << 20) fail(n, "dilations must be positive");
    for (auto p : pads)
        if (p < 0 || p > 1 << 20) fail(n, "pads must be non-negative");
    if (kh <= 0 || kw <= 0 || kh > 1 << 20 || kw > 1 << 20) fail(n, "kernel size must be positive");
    std::int64_t h = x[2] + pads[0] + pads[2] - dil[0] * (kh - 1) - 1;
    std::int64_t w = x[3] + pads[1] + pads[3] - dil[1] * (kw - 1) - 1;
    if (h < 0 || w < 0) fail(n, "kernel " + std::to_string(kh) + "x" + std::to_string(kw) + " is larger than the padded input " + shapeToString(x));
    return {x[0], x[1], h / strides[0] + 1, w / strides[1] + 1};
}

std::vector<ValueType> infer(const Node& n, const std::vector<ValueType>& in) {
    auto one = [](Shape s) { return std::vector<ValueType>{ValueType{std::move(s), DType::F32}}; };
    const Op op = n.op;
    switch (op) {
        case Op::Input:
            return {ValueType{n.declaredShape, n.declaredDType}};
        case Op::Parameter:
        case Op::Constant:
            if (!n.value.defined()) fail(n, "has no value");
            return {ValueType{n.value.shape(), n.value.dtype()}};

#include "ir/op_elementwise_cases.inc"
            return one(broadcastAll(n, in));
        case Op::Fused:
            try {
                parseFusedProgram(n.attrs.getString(op, "program"), int(in.size()));
            } catch (const GraphError& e) {
                fail(n, e.what());
            }
            return one(broadcastAll(n, in));

        case Op::MatMul:
            return one(matmulShape(n, in[0].shape, in[1].shape));
        case Op::Gemm: {
            const Shape& a = in[0].shape;
            const Shape& b = in[1].shape;
            if (a.size() != 2 || b.size() != 2) fail(n, "gemm operands must be 2-D, got " + shapeToString(a) + " and " + shapeToString(b));
            bool ta = n.attrs.getInt(op, "transA") != 0, tb = n.attrs.getInt(op, "transB") != 0;
            std::int64_t m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
            std::int64_t k2 = tb ? b[1] : b[0], nn = tb ? b[0] : b[1];
            if (k != k2) fail(n, "inner dimensions do not match: " + shapeToString(a) + (ta ? "ᵀ" : "") + " @ " + shapeToString(b) + (tb ? "ᵀ" : ""));
            Shape out{m, nn}, tmp;
            if (in.size() == 3 && (!broadcastShapes(out, in[2].shape, tmp) || tmp != out))
                fail(n, "bias " + shapeToString(in[2].shape) + " does not broadcast to " + shapeToString(out));
            return one(out);
        }

        case Op::Sum: case Op::Mean: case Op::Max:
            return one(reduceShape(n, in[0].shape));
        case Op::Softmax: case Op::LogSoftmax:
            if (in[0].shape.empty()) fail(n, "input must have rank >= 1");
            axisAttr(n, "axis", std::int64_t(in[0].shape.size()));
            return one(in[0].shape);

        case Op::Reshape:
            return one(reshapeShape(n, in[0].shape));
        case Op::Transpose: {
            const Shape& s = in[0].shape;
            std::vector<std::int64_t> perm;
            if (n.attrs.has("perm")) perm = n.attrs.getInts(op, "perm");
            else
                for (std::size_t i = s.size(); i-- > 0;) perm.push_back(std::int64_t(i));
            if (perm.size() != s.size()) fail(n, "perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(s.size()));
            perm = normalizedAxes(n, perm, std::int64_t(s.size()), "perm");
            Shape out;
            for (auto p : perm) out.push_back(s[std::size_t(p)]);
            return one(out);
        }
        case Op::Flatten: {
            const Shape& s = in[0].shape;
            // ONNX: axis in [-r, r]; a negative axis counts from the end (adds r)
            std::int64_t axis = n.attrs.getInt(op, "axis");
            const auto r = std::int64_t(s.size());
            if (axis < -r || axis > r) fail(n, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
            if (axis < 0) axis += r;
            std::int64_t a = 1, b = 1;
            for (std::int64_t i = 0; i < std::int64_t(s.size()); ++i) (i < axis ? a : b) *= s[std::size_t(i)];
            return one({a, b});
        }
        case Op::Squeeze: {
            const Shape& s = in[0].shape;
            Shape out;
            if (n.attrs.has("axes")) {
                auto axes = normalizedAxes(n, n.attrs.getInts(op, "axes"), std::int64_t(s.size()), "squeeze");
                for (auto a : axes)
                    if (s[std::size_t(a)] != 1) fail(n, "cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(s[std::size_t(a)]));
                for (std::int64_t i = 0; i < std::int64_t(s.size()); ++i)
                    if (std::find(axes.begin(), axes.end(), i) == axes.end()) out.push_back(s[std::size_t(i)]);
            } else {
                for (auto d : s)
                    if (d != 1) out.push_back(d);
            }
            return one(out);
        }
        case Op::Unsqueeze: {
            const Shape& s = in[0].shape;
            auto axesRaw = n.attrs.getInts(op, "axes");
            const auto outRank = std::int64_t(s.size() + axesRaw.size());
            if (outRank > kMaxRank) fail(n, "result has more than " + std::to_string(kMaxRank) + " dimensions");
            auto axes = normalizedAxes(n, axesRaw, outRank, "unsqueeze");
            Shape out;
            std::size_t k = 0;
            for (std::int64_t i = 0; i < outRank; ++i) {
                if (std::find(axes.begin(), axes.end(), i) != axes.end()) out.push_back(1);
                else out.push_back(s[k++]);
            }
            return one(out);
        }
        case Op::Expand: {
            Shape target = n.attrs.getInts(op, "shape"), out;
            if (!shapeIsSane(target)) fail(n, "target shape " + shapeToString(target) + " is invalid");
            if (!broadcastShapes(in[0].shape, target, out)) fail(n, "cannot expand " + shapeToString(in[0].shape) + " to " + shapeToString(target));
            return one(out);
        }
        case Op::Slice: {
            Shape s = in[0].shape;
            auto starts = n.attrs.getInts(op, "starts"), ends = n.attrs.getInts(op, "ends");
            std::vector<std::int64_t> axes, steps;
            if (n.attrs.has("axes")) axes = n.attrs.getInts(op, "axes");
            else
                for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(std::int64_t(i));
            if (n.attrs.has("steps")) steps = n.attrs.getInts(op, "steps");
            else steps.assign(starts.size(), 1);
            if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
                fail(n, "starts, ends, axes and steps must have the same length");
            axes = normalizedAxes(n, axes, std::int64_t(s.size()), "slice");
            for (std::size_t i = 0; i < starts.size(); ++i) {
                if (steps[i] <= 0) fail(n, "slice steps must be positive (got " + std::to_string(steps[i]) + ")");
                const std::int64_t d = s[std::size_t(axes[i])];
                auto clampIdx = [d](std::int64_t v) {
                    if (v < 0) v = std::max<std::int64_t>(v, -d) + d;
                    return std::min(v, d);
                };
                std::int64_t b = clampIdx(starts[i]), e = clampIdx(ends[i]);
                s[std::size_t(axes[i])] = e > b ? (e - b + steps[i] - 1) / steps[i] : 0;
            }
            return one(s);
        }
        case Op::Concat: {
            const Shape& s0 = in[0].shape;
            if (s0.empty()) fail(n, "cannot concatenate scalars");
            std::int64_t axis = axisAttr(n, "axis", std::int64_t(s0.size()));
            Shape out = s0;
            out[std::size_t(axis)] = 0;
            for (std::size_t i = 0; i < in.size(); ++i) {
                const Shape& s = in[i].shape;
                bool ok = s.size() == s0.size();
                for (std::size_t d = 0; ok && d < s.size(); ++d)
                    if (std::int64_t(d) != axis && s[d] != s0[d]) ok = false;
                if (!ok) fail(n, "input " + std::to_string(i) + " has shape " + shapeToString(s) + ", which does not match " + shapeToString(s0) + " outside axis " + std::to_string(axis));
                out[std::size_t(axis)] += s[std::size_t(axis)];
            }
            return one(out);
        }
        case Op::Split: {
            const Shape& s = in[0].shape;
            if (s.empty()) fail(n, "cannot split a scalar");
            std::int64_t axis = axisAttr(n, "axis", std::int64_t(s.size()));
            auto sizes = n.attrs.getInts(op, "sizes");
            if (sizes.empty()) fail(n, "sizes must not be empty");
            std::int64_t total = 0;
            std::vector<ValueType> outs;
            for (auto sz : sizes) {
                if (sz < 0 || sz > kMaxElements) fail(n, "split size " + std::to_string(sz) + " is invalid");
                total += sz;
                Shape o = s;
                o[std::size_t(axis)] = sz;
                outs.push_back({o, DType::F32});
            }
            if (total != s[std::size_t(axis)]) fail(n, "split sizes add up to " + std::to_string(total) + " but axis " + std::to_string(axis) + " has " + std::to_string(s[std::size_t(axis)]));
            return outs;
        }

        case Op::Conv2d: {
            const Shape& x = in[0].shape;
            const Shape& w = in[1].shape;
            if (x.size() != 4) fail(n, "input must be 4-D NCHW, got " + shapeToString(x));
            if (w.size() != 4) fail(n, "weight must be 4-D [Cout, Cin/group, kh, kw], got " + shapeToString(w));
            std::int64_t g = n.attrs.getInt(op, "group");
            if (g <= 0 || x[1] % g != 0 || w[0] % g != 0) fail(n, "group " + std::to_string(g) + " must divide input channels " + std::to_string(x[1]) + " and output channels " + std::to_string(w[0]));
            if (w[1] * g != x[1]) fail(n, "weight " + shapeToString(w) + " expects " + std::to_string(w[1] * g) + " input channels but the input " + shapeToString(x) + " has " + std::to_string(x[1]));
            if (in.size() == 3 && in[2].shape != Shape{w[0]}) fail(n, "bias must have shape [" + std::to_string(w[0]) + "], got " + shapeToString(in[2].shape));
            Shape o = convLikeSpatial(n, x, w[2], w[3], n.attrs.getInts(op, "strides"), n.attrs.getInts(op, "pads"), n.attrs.getInts(op, "dilations"));
            o[1] = w[0];
            return one(o);
        }
        case Op::Pad: {
            const Shape& s = in[0].shape;
            auto pads = n.attrs.getInts(op, "pads");
            if (pads.size() != 2 * s.size()) fail(n, "pads needs " + std::to_string(2 * s.size()) + " values (begin and end per axis), got " + std::to_string(pads.size()));
            Shape out = s;
            for (std::size_t a = 0; a < s.size(); ++a) {
                if (pads[a] < 0 || pads[s.size() + a] < 0 || pads[a] > kMaxElements || pads[s.size() + a] > kMaxElements) fail(n, "pads must be non-negative");
                out[a] += pads[a] + pads[s.size() + a];
            }
            return one(out);
        }
        case Op::Cast:
            return one(in[0].shape);
        case Op::ArgMax: case Op::ArgMin: {
            const Shape& x = in[0].shape;
            if (x.empty()) fail(n, "needs an input of rank 1 or more");
            const std::int64_t axis = axisAttr(n, "axis", std::int64_t(x.size()));
            if (x[std::size_t(axis)] == 0) fail(n, "the axis is empty");
            Shape o = x;
            if (n.attrs.getInt(op, "keepdims") != 0) o[std::size_t(axis)] = 1;
            else o.erase(o.begin() + axis);
            return {ValueType{o, DType::I64}};
        }
        case Op::Gather: case Op::GatherGrad: {
            // gather: data [d0.., dk, ..] and indices I -> [d0.., I.., ..] (dk replaced by I's axes);
            // gather_grad: that output's adjoint and the same indices -> input_shape
            const bool forward = op == Op::Gather;
            const Shape data = gatheredShape(n, in, forward);
            if (data.empty()) fail(n, "cannot gather from a scalar");
            const std::int64_t axis = axisAttr(n, "axis", std::int64_t(data.size()));
            Shape o(data.begin(), data.begin() + axis);
            o.insert(o.end(), in[1].shape.begin(), in[1].shape.end());
            o.insert(o.end(), data.begin() + axis + 1, data.end());
            if (forward) return one(o);
            if (in[0].shape != o) fail(n, "adjoint has shape " + shapeToString(in[0].shape) + " but the gather's output is " + shapeToString(o));
            return one(data);
        }
        case Op::GatherElements: case Op::GatherElementsGrad: {
            // data and indices of one rank, the indices no longer than the data off the axis;
            // the output has the indices' shape (gather_elements_grad: input_shape)
            const bool forward = op == Op::GatherElements;
            const Shape data = gatheredShape(n, in, forward);
            const Shape& idx = in[1].shape;
            if (data.empty()) fail(n, "cannot gather from a scalar");
            if (idx.size() != data.size()) fail(n, "the indices " + shapeToString(idx) + " must have the data's rank (" + shapeToString(data) + ")");
            const std::int64_t axis = axisAttr(n, "axis", std::int64_t(data.size()));
            for (std::size_t d = 0; d < data.size(); ++d)
                if (std::int64_t(d) != axis && idx[d] > data[d])
                    fail(n, "the indices " + shapeToString(idx) + " are longer than the data " + shapeToString(data) + " on axis " + std::to_string(d));
            if (forward) return one(idx);
            if (in[0].shape != idx) fail(n, "adjoint has shape " + shapeToString(in[0].shape) + " but the indices " + shapeToString(idx));
            return one(data);
        }
        case Op::Conv2dGradInput: case Op::Conv2dGradWeight: {
            // (g, w) -> dx of shape input_shape, or (x, g) -> dw of shape weight_shape
            const bool wantInput = op == Op::Conv2dGradInput;
            auto declared = n.attrs.getInts(op, wantInput ? "input_shape" : "weight_shape");
            Shape x = wantInput ? Shape(declared.begin(), declared.end()) : in[0].shape;
            Shape w = wantInput ? in[1].shape : Shape(declared.begin(), declared.end());
            const Shape& g = wantInput ? in[0].shape : in[1].shape;
            if (x.size() != 4 || w.size() != 4 || g.size() != 4) fail(n, "input, weight and adjoint must be 4-D");
            // the batch is the adjoint's (input_shape's first entry is its example size), so that a
            // transposed convolution keeps a dynamic batch
            if (wantInput) x[0] = g[0];
            if (!shapeIsSane(x) || !shapeIsSane(w)) fail(n, "declared shape is invalid");
            std::int64_t grp = n.attrs.getInt(op, "group");
            if (grp <= 0 || w[0] % grp != 0 || w[1] * grp != x[1]) fail(n, "weight " + shapeToString(w) + " and input " + shapeToString(x) + " do not match for group " + std::to_string(grp));
            Shape o = convLikeSpatial(n, x, w[2], w[3], n.attrs.getInts(op, "strides"), n.attrs.getInts(op, "pads"), n.attrs.getInts(op, "dilations"));
            o[1] = w[0];
            if (o != g) fail(n, "adjoint has shape " + shapeToString(g) + " but the convolution's output is " + shapeToString(o));
            return one(wantInput ? x : w);
        }
        case Op::MaxPoolGrad: case Op::MaxPoolSelect: case Op::AvgPoolGrad: {
            Shape x;
            if (op == Op::AvgPoolGrad) {
                auto declared = n.attrs.getInts(op, "input_shape");
                x.assign(declared.begin(), declared.end());
            } else {
                x = in[0].shape;
            }
            if (x.size() != 4 || !shapeIsSane(x)) fail(n, "input must be 4-D NCHW, got " + shapeToString(x));
            auto k = n.attrs.getInts(op, "kernel");
            if (k.size() != 2) fail(n, "kernel needs 2 values");
            std::vector<std::int64_t> strides = n.attrs.has("strides") ? n.attrs.getInts(op, "strides") : std::vector<std::int64_t>{1, 1};
            Shape pooled = convLikeSpatial(n, x, k[0], k[1], strides, n.attrs.getInts(op, "pads"), {1, 1});
            const Shape& other = op == Op::AvgPoolGrad ? in[0].shape : in[1].shape;
            if (op == Op::MaxPoolSelect) {
                if (other != x) fail(n, "the selected tensor " + shapeToString(other) + " must have the input's shape " + shapeToString(x));
                return one(pooled);
            }
            if (other != pooled) fail(n, "adjoint has shape " + shapeToString(other) + " but the pool's output is " + shapeToString(pooled));
            return one(x);
        }
        case Op::BatchNorm: {
            const Shape& x = in[0].shape;
            if (x.size() < 2) fail(n, "input must have a channel axis (rank >= 2), got " + shapeToString(x));
            for (std::size_t i = 1; i < 5; ++i)
                if (in[i].shape != Shape{x[1]}) fail(n, "input " + std::to_string(i) + " must have shape [" + std::to_string(x[1]) + "], got " + shapeToString(in[i].shape));
            return one(x);
        }
        case Op::LayerNorm: {
            const Shape& x = in[0].shape;
            if (x.empty()) fail(n, "input must have rank >= 1");
            std::int64_t axis = axisAttr(n, "axis", std::int64_t(x.size()));
            Shape norm(x.begin() + axis, x.end());
            for (std::size_t i = 1; i < in.size(); ++i)
                if (in[i].shape != norm) fail(n, "input " + std::to_string(i) + " must have shape " + shapeToString(norm) + ", got " + shapeToString(in[i].shape));
            return one(x);
        }
        case Op::MaxPool: case Op::AvgPool: {
            const Shape& x = in[0].shape;
            if (x.size() != 4) fail(n, "input must be 4-D NCHW, got " + shapeToString(x));
            auto k = n.attrs.getInts(op, "kernel");
            if (k.size() != 2) fail(n, "kernel needs 2 values");
            std::vector<std::int64_t> strides = n.attrs.has("strides") ? n.attrs.getInts(op, "strides") : std::vector<std::int64_t>{1, 1};
            return one(convLikeSpatial(n, x, k[0], k[1], strides, n.attrs.getInts(op, "pads"), {1, 1}));
        }
        case Op::GlobalAvgPool: {
            const Shape& x = in[0].shape;
            if (x.size() < 3) fail(n, "input must be N, C and spatial dimensions, got " + shapeToString(x));
            Shape o(x.size(), 1);
            o[0] = x[0];
            o[1] = x[1];
            return one(o);
        }
    }
    fail(n, "no shape rule");
}

}  // namespace

std::vector<ValueType> inferNodeTypes(const Node& node, const std::vector<ValueType>& inputs) {
    const OpInfo& info = opInfo(node.op);
    const int k = int(inputs.size());
    if (k < info.minInputs || (info.maxInputs >= 0 && k > info.maxInputs)) {
        std::string want = info.minInputs == info.maxInputs ? std::to_string(info.minInputs)
                           : info.maxInputs < 0        ? "at least " + std::to_string(info.minInputs)
                                                       : std::to_string(info.minInputs) + " to " + std::to_string(info.maxInputs);
        fail(node, "takes " + want + " inputs, got " + std::to_string(k));
    }
    std::vector<DType> types;  // (ir/element_types.h: which ops take which element types)
    for (const ValueType& t : inputs) types.push_back(t.dtype);
    std::vector<ValueType> out;
    try {
        const std::vector<DType> outTypes = outputElementTypes(node, types);
        out = infer(node, inputs);
        for (std::size_t p = 0; p < out.size() && p < outTypes.size(); ++p) out[p].dtype = outTypes[p];
    } catch (const std::invalid_argument& e) {  // attribute missing or of the wrong type, or an element type the op does not take
        fail(node, e.what());
    } catch (const std::out_of_range& e) {
        fail(node, e.what());
    }
    for (const auto& t : out) checkSane(node, t.shape);
    return out;
}

}  // namespace adj
