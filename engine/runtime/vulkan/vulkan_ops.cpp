// Recording each op: elementwise (built-in variants and generated fusion kernels), reductions,
// softmax, GEMM, convolutions, and movement as views or strided copies (pooling and
// normalization: vulkan_ops_nn.cpp).
#include "runtime/vulkan/vulkan_ops.h"
#include "runtime/vulkan/vulkan_ops_util.h"

#include <algorithm>
#include <numeric>

#include "base/errors.h"

namespace adj::vk {
namespace detail {

[[noreturn]] void fail(const Node& n, const std::string& what) {
    throw Error("node '" + n.name + "' (" + std::string(opName(n.op)) + ") on Vulkan: " + what);
}

std::uint32_t groupsFor(std::int64_t items, std::int64_t perGroup) {
    return std::uint32_t(std::clamp<std::int64_t>((items + perGroup - 1) / perGroup, 1, 65535));
}

std::int64_t axisOf(const Node& n, std::int64_t axis, std::int64_t rank) {
    if (!normalizeAxis(axis, rank)) fail(n, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return axis;
}

Strides broadcastStrides(const Node& n, const DevTensor& t, const Shape& out) {
    Strides s(out.size(), 0);
    const std::size_t r = t.shape.size();
    if (r > out.size()) fail(n, "input " + shapeToString(t.shape) + " does not broadcast to " + shapeToString(out));
    for (std::size_t i = 0; i < r; ++i) {
        const std::size_t d = out.size() - r + i;
        if (t.shape[i] == out[d]) s[d] = out[d] == 1 ? 0 : t.strides[i];
        else if (t.shape[i] == 1) s[d] = 0;
        else fail(n, "input " + shapeToString(t.shape) + " does not broadcast to " + shapeToString(out));
    }
    return s;
}

DevTensor permuted(const DevTensor& t, const std::vector<std::int64_t>& perm) {
    DevTensor v = t;
    for (std::size_t i = 0; i < perm.size(); ++i) {
        v.shape[i] = t.shape[std::size_t(perm[i])];
        v.strides[i] = t.strides[std::size_t(perm[i])];
    }
    return v;
}

}  // namespace detail

namespace {

/// The layout of out = f(ins) with broadcasting (meta words), neighbouring dimensions merged, and
/// the rank of the iteration shape it ends with.
struct StridedLayout {
    std::vector<std::uint32_t> meta;
    std::uint32_t rank = 0;
};

StridedLayout broadcastLayout(const Node& n, const DevTensor& out, const std::vector<DevTensor>& ins) {
    Shape shape = out.shape;
    std::vector<Strides> st{out.strides};
    for (const auto& t : ins) st.push_back(detail::broadcastStrides(n, t, shape));
    std::vector<Strides*> ptrs;
    for (auto& s : st) ptrs.push_back(&s);
    collapseDims(shape, ptrs);
    std::vector<std::pair<std::int64_t, Strides>> ops{{out.offset, st[0]}};
    for (std::size_t i = 0; i < ins.size(); ++i) ops.push_back({ins[i].offset, st[i + 1]});
    return {layoutWords(shape, ops), std::uint32_t(shape.size())};
}

std::vector<const DevTensor*> buffersOf(const DevTensor& out, const std::vector<DevTensor>& ins) {
    std::vector<const DevTensor*> bufs{&out};
    for (const auto& t : ins) bufs.push_back(&t);
    return bufs;
}

}  // namespace

namespace detail {

void runElementwise(OpEnv& env, const Node& n, const Kernel& k, const DevTensor& out, const std::vector<DevTensor>& ins, const EwParams& params) {
    const std::int64_t count = out.numel();
    if (count == 0) return;
    const StridedLayout layout = broadcastLayout(n, out, ins);
    PushElementwise pc{};
    pc.n = std::uint32_t(count);
    pc.rank = layout.rank;
    pc.alpha = params[0];
    pc.beta = params[1];
    pc.gamma = params[2];
    env.rec.dispatch(k, pc, layout.meta, buffersOf(out, ins), groupsFor(count, 256));
}

}  // namespace detail

namespace {

using namespace detail;

/// dst[...] = src[...] over dst's shape (src broadcast to it), both strided.
void copyInto(OpEnv& env, const Node& n, const DevTensor& dst, const DevTensor& src) {
    const Kernel& k = env.pipelines.builtin<PushCopy>("copy", 3);
    const std::int64_t count = dst.numel();
    if (count == 0) return;
    const StridedLayout layout = broadcastLayout(n, dst, {src});
    PushCopy pc{};
    pc.n = std::uint32_t(count);
    pc.rank = layout.rank;
    env.rec.dispatch(k, pc, layout.meta, {&dst, &src}, groupsFor(count, 256));
}

void fillWith(OpEnv& env, const DevTensor& dst, float value) {
    const std::int64_t count = dst.numel();
    if (count == 0) return;
    Shape shape = dst.shape;
    Strides s = dst.strides;
    collapseDims(shape, {&s});
    PushFill pc{};
    pc.n = std::uint32_t(count);
    pc.rank = std::uint32_t(shape.size());
    pc.value = value;
    env.rec.dispatch(env.pipelines.builtin<PushFill>("fill", 2), pc, layoutWords(shape, {{dst.offset, s}}), {&dst}, groupsFor(count, 256));
}

std::vector<DevTensor> elementwise(OpEnv& env, const Node& n, const std::vector<DevTensor>& ins, const Shape& outShape) {
    DevTensor out = env.rec.allocate(outShape);
    if (n.op == Op::Fused) {
        const std::string program = n.attrs.getString(n.op, "program");
        std::string src;
        try {
            src = generateFusedKernelSource(program, int(ins.size()));
        } catch (const Error& e) {
            fail(n, e.what());
        }
        env.generatedSources[n.name] = src;
        const auto& spirv = env.fused.spirv(src, n.name);
        runElementwise(env, n, env.pipelines.generated(sourceHash(src), spirv, std::uint32_t(ins.size() + 2)), out, ins);
    } else {
        // one SPIR-V module per arity; the op is its specialization constant
        const Kernel& k = env.pipelines.builtin<PushElementwise>("ew" + std::to_string(ins.size()), std::uint32_t(ins.size() + 2), {std::uint32_t(n.op)});
        runElementwise(env, n, k, out, ins, ewParams(n.op, n.attrs));
    }
    return {out};
}

/// Sum, Mean, Max over `axes` (the node's attribute; global_avg_pool passes its spatial axes).
std::vector<DevTensor> reduce(OpEnv& env, const Node& n, const DevTensor& x, const Shape& outShape, std::vector<std::int64_t> axes = {}) {
    const std::int64_t rank = std::int64_t(x.shape.size());
    std::vector<bool> reduced(std::size_t(rank), false);
    if (axes.empty() && n.attrs.has("axes")) axes = n.attrs.getInts(n.op, "axes");
    if (axes.empty()) std::fill(reduced.begin(), reduced.end(), true);
    for (std::int64_t a : axes) {
        const std::int64_t ax = axisOf(n, a, rank);
        if (reduced[std::size_t(ax)]) fail(n, "axis " + std::to_string(a) + " is listed twice");
        reduced[std::size_t(ax)] = true;
    }
    std::vector<std::int64_t> perm;
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t d = 0; d < rank; ++d)
        if (!reduced[std::size_t(d)]) perm.push_back(d), outer *= x.shape[std::size_t(d)];
    const std::size_t split = perm.size();
    for (std::int64_t d = 0; d < rank; ++d)
        if (reduced[std::size_t(d)]) perm.push_back(d), inner *= x.shape[std::size_t(d)];
    if (numel(outShape) != outer) fail(n, "output shape " + shapeToString(outShape) + " does not match the reduction of " + shapeToString(x.shape));
    if (n.op == Op::Max && inner == 0 && outer > 0) fail(n, "max over an empty set of elements");
    DevTensor out = env.rec.allocate(outShape);
    if (outer == 0) return {out};
    if (inner == 0) {
        fillWith(env, out, 0.f);
        return {out};
    }
    const DevTensor xp = rank == 0 ? x : permuted(x, perm);
    // output strides over [kept..., reduced...]: contiguous over the kept dims, 0 over the reduced
    Strides os(perm.size(), 0);
    std::int64_t acc = 1;
    for (std::size_t d = split; d-- > 0;) {
        os[d] = acc;
        acc *= xp.shape[d];
    }
    PushReduce pc{};
    pc.n = std::uint32_t(outer);
    pc.rank = std::uint32_t(xp.shape.size());
    pc.keptDims = std::uint32_t(split);
    pc.rowLength = std::uint32_t(inner);
    pc.scale = n.op == Op::Mean || n.op == Op::GlobalAvgPool ? float(1.0 / double(inner)) : 1.f;
    const bool sg = env.caps.subgroupArithmetic;
    const std::string name = n.op == Op::Max ? "reduce_max" : sg ? "reduce_sum_sg" : "reduce_sum";
    env.rec.dispatch(env.pipelines.builtin<PushReduce>(name, 3), pc, layoutWords(xp.shape, {{out.offset, os}, {xp.offset, xp.strides}}), {&out, &x},
                     groupsFor(outer, 1));
    return {out};
}

std::vector<DevTensor> softmax(OpEnv& env, const Node& n, const DevTensor& x) {
    const std::int64_t rank = std::int64_t(x.shape.size());
    if (rank == 0) fail(n, "softmax needs rank >= 1");
    const std::int64_t axis = axisOf(n, n.attrs.getInt(n.op, "axis"), rank);
    DevTensor out = env.rec.allocate(x.shape);
    if (out.numel() == 0) return {out};
    std::vector<std::int64_t> perm;
    for (std::int64_t d = 0; d < rank; ++d)
        if (d != axis) perm.push_back(d);
    perm.push_back(axis);
    const DevTensor xp = permuted(x, perm), op = permuted(out, perm);
    PushReduce pc{};
    pc.n = std::uint32_t(x.numel() / x.shape[std::size_t(axis)]);
    pc.rank = std::uint32_t(rank);
    pc.keptDims = std::uint32_t(rank - 1);
    pc.rowLength = std::uint32_t(x.shape[std::size_t(axis)]);
    std::string name = n.op == Op::LogSoftmax ? "log_softmax" : "softmax";
    if (env.caps.subgroupArithmetic) name += "_sg";
    env.rec.dispatch(env.pipelines.builtin<PushReduce>(name, 3), pc, layoutWords(xp.shape, {{op.offset, op.strides}, {xp.offset, xp.strides}}),
                     {&out, &x}, groupsFor(pc.n, 1));
    return {out};
}

/// out[b] = alpha * A[b] @ B[b] (+ beta * C), A [batch.., M, K], B [batch.., K, N] already
/// broadcast to the batch shape; C (may be null) broadcast to [M, N].
void gemmCore(OpEnv& env, const Node& n, const DevTensor& out, const DevTensor& A, const DevTensor& B, const DevTensor* C,
              std::int64_t M, std::int64_t N, std::int64_t K, float alpha, float beta) {
    const std::size_t br = A.shape.size() - 2;
    Shape batch(A.shape.begin(), A.shape.begin() + std::ptrdiff_t(br));
    Strides so(out.strides.begin(), out.strides.begin() + std::ptrdiff_t(br));
    Strides sa(A.strides.begin(), A.strides.begin() + std::ptrdiff_t(br));
    Strides sb(B.strides.begin(), B.strides.begin() + std::ptrdiff_t(br));
    collapseDims(batch, {&so, &sa, &sb});
    const std::int64_t batches = numel(batch);
    if (batches > 65535) fail(n, "more than 65535 batched matrices");
    if (batch.size() == 1 && batch[0] == 1) batch.clear(), so.clear(), sa.clear(), sb.clear();
    auto mat = [&](Strides s, const DevTensor& t) {
        s.push_back(t.strides[t.strides.size() - 2]);
        s.push_back(t.strides.back());
        return s;
    };
    std::vector<std::pair<std::int64_t, Strides>> ops{{out.offset, mat(so, out)}, {A.offset, mat(sa, A)}, {B.offset, mat(sb, B)}};
    if (C) {
        Strides sc(batch.size(), 0);
        sc.push_back(C->strides[0]);
        sc.push_back(C->strides[1]);
        ops.push_back({C->offset, sc});
    }
    PushGemm pc{};
    pc.n = std::uint32_t(batches);
    pc.rank = std::uint32_t(batch.size());
    pc.rows = std::uint32_t(M);
    pc.cols = std::uint32_t(N);
    pc.inner = std::uint32_t(K);
    pc.hasC = C ? 1u : 0u;
    pc.alpha = alpha;
    pc.beta = beta;
    std::vector<const DevTensor*> bufs{&out, &A, &B};
    if (C) bufs.push_back(C);
    if (M > 65535 * 64 || N > 65535 * 64) fail(n, "matrix too large for one dispatch");
    env.rec.dispatch(env.pipelines.builtin<PushGemm>("gemm", 5), pc, layoutWords(batch, ops), bufs, std::uint32_t((N + 63) / 64),
                     std::uint32_t((M + 63) / 64), std::uint32_t(batches));
}

DevTensor unsqueezed(const DevTensor& t, std::size_t at) {
    DevTensor v = t;
    v.shape.insert(v.shape.begin() + std::ptrdiff_t(at), 1);
    v.strides.insert(v.strides.begin() + std::ptrdiff_t(at), 0);
    return v;
}

DevTensor expandedTo(const Node& n, const DevTensor& t, const Shape& shape) {
    DevTensor v = t;
    v.strides = broadcastStrides(n, t, shape);
    v.shape = shape;
    return v;
}

std::vector<DevTensor> matmul(OpEnv& env, const Node& n, const DevTensor& a, const DevTensor& b, const Shape& outShape) {
    if (a.shape.empty() || b.shape.empty()) fail(n, "operands must have rank >= 1");
    const DevTensor A2 = a.shape.size() == 1 ? unsqueezed(a, 0) : a;
    const DevTensor B2 = b.shape.size() == 1 ? unsqueezed(b, 1) : b;
    const std::int64_t M = A2.shape[A2.shape.size() - 2], K = A2.shape.back(), KB = B2.shape[B2.shape.size() - 2], N = B2.shape.back();
    if (K != KB) fail(n, "inner dimensions differ: " + shapeToString(a.shape) + " x " + shapeToString(b.shape));
    const Shape ba(A2.shape.begin(), A2.shape.end() - 2), bb(B2.shape.begin(), B2.shape.end() - 2);
    Shape batch;
    if (!broadcastShapes(ba, bb, batch)) fail(n, "batch dimensions do not broadcast: " + shapeToString(a.shape) + " x " + shapeToString(b.shape));
    Shape full = batch, sa = batch, sb = batch;
    full.insert(full.end(), {M, N});
    sa.insert(sa.end(), {M, K});
    sb.insert(sb.end(), {K, N});
    if (numel(outShape) != numel(full)) fail(n, "output shape " + shapeToString(outShape) + " does not match " + shapeToString(full));
    DevTensor out = env.rec.allocate(full);
    if (out.numel() > 0) {
        if (K == 0) fillWith(env, out, 0.f);
        else gemmCore(env, n, out, expandedTo(n, A2, sa), expandedTo(n, B2, sb), nullptr, M, N, K, 1.f, 0.f);
    }
    out.shape = outShape;
    out.strides = contiguousStrides(outShape);
    return {out};
}

std::vector<DevTensor> gemm(OpEnv& env, const Node& n, const std::vector<DevTensor>& ins, const Shape& outShape) {
    const float alpha = float(n.attrs.getFloat(n.op, "alpha")), beta = float(n.attrs.getFloat(n.op, "beta"));
    DevTensor A = ins[0], B = ins[1];
    if (A.shape.size() != 2 || B.shape.size() != 2) fail(n, "A and B must be 2-D, got " + shapeToString(A.shape) + " and " + shapeToString(B.shape));
    if (n.attrs.getInt(n.op, "transA") != 0) A = permuted(A, {1, 0});
    if (n.attrs.getInt(n.op, "transB") != 0) B = permuted(B, {1, 0});
    const std::int64_t M = A.shape[0], K = A.shape[1], N = B.shape[1];
    if (B.shape[0] != K) fail(n, "inner dimensions differ: op(A) " + shapeToString(A.shape) + ", op(B) " + shapeToString(B.shape));
    const Shape full{M, N};
    if (outShape != full) fail(n, "output shape " + shapeToString(outShape) + " does not match " + shapeToString(full));
    DevTensor out = env.rec.allocate(full);
    if (out.numel() == 0) return {out};
    DevTensor C;
    const bool hasC = ins.size() > 2 && beta != 0.f;
    if (hasC) C = expandedTo(n, ins[2], full);
    if (K == 0) {
        fillWith(env, out, 0.f);
        if (hasC) {  // out = beta * C through the GEMM epilogue with K = 0
            gemmCore(env, n, out, A, B, &C, M, N, 0, alpha, beta);
        }
        return {out};
    }
    gemmCore(env, n, out, A, B, hasC ? &C : nullptr, M, N, K, alpha, beta);
    return {out};
}

/// A reshape of t to `shape`: a view when t is contiguous, otherwise a contiguous copy first.
DevTensor reshaped(OpEnv& env, const DevTensor& t, const Shape& shape) {
    DevTensor c = contiguousOnDevice(env, t);
    c.shape = shape;
    c.strides = contiguousStrides(shape);
    return c;
}

std::vector<DevTensor> slice(const Node& n, const DevTensor& x, const Shape& outShape) {
    const std::int64_t rank = std::int64_t(x.shape.size());
    const auto starts = n.attrs.getInts(n.op, "starts"), ends = n.attrs.getInts(n.op, "ends");
    const std::size_t count = starts.size();
    if (ends.size() != count) fail(n, "starts and ends have different lengths");
    std::vector<std::int64_t> axes(count), steps(count, 1);
    if (n.attrs.has("axes")) axes = n.attrs.getInts(n.op, "axes");
    else std::iota(axes.begin(), axes.end(), std::int64_t(0));
    if (n.attrs.has("steps")) steps = n.attrs.getInts(n.op, "steps");
    if (axes.size() != count || steps.size() != count) fail(n, "starts, ends, axes and steps have different lengths");
    DevTensor y = x;
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t ax = std::size_t(axisOf(n, axes[i], rank));
        const std::int64_t step = steps[i], dim = x.shape[ax];
        if (step <= 0) fail(n, "steps must be positive");
        std::int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i], end = ends[i] < 0 ? ends[i] + dim : ends[i];
        start = std::clamp<std::int64_t>(start, 0, dim);
        end = std::clamp<std::int64_t>(end, 0, dim);
        const std::int64_t len = end > start ? (end - start + step - 1) / step : 0;
        y.offset += start * y.strides[ax];
        y.shape[ax] = len;
        y.strides[ax] *= step;
    }
    if (y.shape != outShape) fail(n, "output shape " + shapeToString(outShape) + " does not match the slice " + shapeToString(y.shape));
    return {y};
}

std::vector<DevTensor> concat(OpEnv& env, const Node& n, const std::vector<DevTensor>& ins, const Shape& outShape) {
    const std::int64_t rank = std::int64_t(ins[0].shape.size());
    const std::size_t ax = std::size_t(axisOf(n, n.attrs.getInt(n.op, "axis"), rank));
    DevTensor out = env.rec.allocate(outShape);
    std::int64_t pos = 0;
    for (const DevTensor& t : ins) {
        if (std::int64_t(t.shape.size()) != rank) fail(n, "inputs have different ranks");
        DevTensor dst = out;
        dst.offset += pos * out.strides[ax];
        dst.shape[ax] = t.shape[ax];
        if (dst.shape != t.shape || pos + t.shape[ax] > outShape[ax]) fail(n, "input " + shapeToString(t.shape) + " does not fit the concatenation " + shapeToString(outShape));
        copyInto(env, n, dst, t);
        pos += t.shape[ax];
    }
    return {out};
}

std::vector<DevTensor> split(const Node& n, const DevTensor& x, const std::vector<ValueType>& outTypes) {
    const std::size_t ax = std::size_t(axisOf(n, n.attrs.getInt(n.op, "axis"), std::int64_t(x.shape.size())));
    const auto sizes = n.attrs.getInts(n.op, "sizes");
    if (sizes.size() != outTypes.size()) fail(n, std::to_string(sizes.size()) + " sizes for " + std::to_string(outTypes.size()) + " outputs");
    std::vector<DevTensor> outs;
    std::int64_t pos = 0;
    for (std::int64_t s : sizes) {
        if (s < 0 || pos + s > x.shape[ax]) fail(n, "split sizes do not fit axis " + std::to_string(ax));
        DevTensor part = x;
        part.offset += pos * x.strides[ax];
        part.shape[ax] = s;
        outs.push_back(part);
        pos += s;
    }
    return outs;
}

std::vector<DevTensor> pad(OpEnv& env, const Node& n, const DevTensor& x, const Shape& outShape) {
    const auto pads = n.attrs.getInts(n.op, "pads");
    if (pads.size() != 2 * x.shape.size()) fail(n, "pads must have 2 entries per dimension");
    DevTensor out = env.rec.allocate(outShape);
    fillWith(env, out, float(n.attrs.getFloat(n.op, "value")));
    DevTensor view = out;
    for (std::size_t a = 0; a < x.shape.size(); ++a) {
        if (pads[a] < 0 || pads[a + x.shape.size()] < 0) fail(n, "negative pads are not supported");
        view.offset += pads[a] * out.strides[a];
        view.shape[a] = x.shape[a];
    }
    if (x.numel() > 0) copyInto(env, n, view, x);
    return {out};
}

/// conv2d and its two derivative ops: direct kernels, one invocation per output element.
std::vector<DevTensor> conv(OpEnv& env, const Node& n, const std::vector<DevTensor>& ins, const Shape& outShape) {
    auto ints = [&](const char* name) {
        auto v = n.attrs.getInts(n.op, name);
        return v;
    };
    const auto strides = ints("strides"), pads = ints("pads"), dil = ints("dilations");
    const std::int64_t group = n.attrs.getInt(n.op, "group");
    if (strides.size() != 2 || pads.size() != 4 || dil.size() != 2) fail(n, "strides, pads and dilations must have 2, 4 and 2 entries");
    if (strides[0] <= 0 || strides[1] <= 0 || dil[0] <= 0 || dil[1] <= 0 || group <= 0) fail(n, "strides, dilations and group must be positive");
    for (std::int64_t p : pads)
        if (p < 0) fail(n, "pads must not be negative");
    Shape x, w, y;  // input, weight and output shapes of the forward convolution
    const DevTensor *op1 = &ins[0], *op2 = &ins[1], *bias = nullptr;
    std::string shader;
    if (n.op == Op::Conv2d) {
        x = ins[0].shape, w = ins[1].shape, y = outShape, shader = "conv2d";
        if (ins.size() > 2) bias = &ins[2];
    } else if (n.op == Op::Conv2dGradInput) {
        y = ins[0].shape, w = ins[1].shape, x = outShape, shader = "conv2d_grad_input";
    } else {
        x = ins[0].shape, y = ins[1].shape, w = outShape, shader = "conv2d_grad_weight";
    }
    if (x.size() != 4 || w.size() != 4 || y.size() != 4) fail(n, "input, weight and output must be 4-D (NCHW)");
    if (x[1] % group != 0 || w[0] % group != 0 || w[1] * group != x[1]) fail(n, "channels do not fit group " + std::to_string(group));
    for (const DevTensor* t : {op1, op2})
        if (t->shape.size() != 4) fail(n, "operands must be 4-D");
    DevTensor out = env.rec.allocate(outShape);
    if (out.numel() == 0) return {out};
    PushConv pc{};
    pc.n = std::uint32_t(out.numel());
    pc.rank = 4;
    pc.batch = std::uint32_t(x[0]);
    pc.inChannels = std::uint32_t(x[1]), pc.inH = std::uint32_t(x[2]), pc.inW = std::uint32_t(x[3]);
    pc.outChannels = std::uint32_t(w[0]), pc.kernelH = std::uint32_t(w[2]), pc.kernelW = std::uint32_t(w[3]);
    pc.outH = std::uint32_t(y[2]), pc.outW = std::uint32_t(y[3]);
    pc.strideH = std::uint32_t(strides[0]), pc.strideW = std::uint32_t(strides[1]);
    pc.padTop = std::uint32_t(pads[0]), pc.padLeft = std::uint32_t(pads[1]);
    pc.dilationH = std::uint32_t(dil[0]), pc.dilationW = std::uint32_t(dil[1]);
    pc.groups = std::uint32_t(group);
    std::vector<std::pair<std::int64_t, Strides>> ops{{out.offset, out.strides}, {op1->offset, op1->strides}, {op2->offset, op2->strides}};
    std::vector<const DevTensor*> bufs{&out, op1, op2};
    if (bias) {
        if (bias->shape.size() != 1 || bias->shape[0] != w[0]) fail(n, "bias must be [" + std::to_string(w[0]) + "]");
        pc.hasBias = 1;
        ops.push_back({bias->offset, bias->strides});
        bufs.push_back(bias);
    }
    env.rec.dispatch(env.pipelines.builtin<PushConv>(shader, 5), pc, layoutWords(outShape, ops), bufs, groupsFor(out.numel(), 256));
    return {out};
}

/// The Reduce family: sum, mean and max reduce axes; softmax and log_softmax one axis.
std::vector<DevTensor> recordReduce(OpEnv& env, const Node& n, const DevTensor& x, const Shape& outShape) {
    switch (n.op) {
        case Op::Sum: case Op::Mean: case Op::Max:
            return reduce(env, n, x, outShape);
        case Op::Softmax: case Op::LogSoftmax:
            return softmax(env, n, x);
#define ADJ_FAMILY_CASE_Reduce(id)
#include "ir/op_family_cases.inc"
            break;
    }
    fail(n, "not a reduction");
}

/// The View family: views of input 0, as on the CPU (no dispatch unless a reshape needs a copy).
std::vector<DevTensor> recordView(OpEnv& env, const Node& n, const std::vector<DevTensor>& ins, const std::vector<ValueType>& outTypes) {
    const Shape& outShape = outTypes.at(0).shape;
    switch (n.op) {
        case Op::Reshape: case Op::Flatten: case Op::Squeeze: case Op::Unsqueeze:
            if (numel(outShape) != ins[0].numel()) fail(n, "cannot reshape " + shapeToString(ins[0].shape) + " to " + shapeToString(outShape));
            return {reshaped(env, ins[0], outShape)};
        case Op::Transpose: {
            std::vector<std::int64_t> perm;
            if (n.attrs.has("perm")) perm = n.attrs.getInts(n.op, "perm");
            else for (std::int64_t d = std::int64_t(ins[0].shape.size()); d-- > 0;) perm.push_back(d);
            if (perm.size() != ins[0].shape.size()) fail(n, "perm has the wrong length");
            for (auto& p : perm) p = axisOf(n, p, std::int64_t(perm.size()));
            DevTensor v = permuted(ins[0], perm);
            if (v.shape != outShape) fail(n, "output shape " + shapeToString(outShape) + " does not match " + shapeToString(v.shape));
            return {v};
        }
        case Op::Expand:
            return {expandedTo(n, ins[0], outShape)};
        case Op::Slice:
            return slice(n, ins[0], outShape);
        case Op::Split:
            return split(n, ins[0], outTypes);
#define ADJ_FAMILY_CASE_View(id)
#include "ir/op_family_cases.inc"
            break;
    }
    fail(n, "not a view");
}

}  // namespace

bool vulkanSupports(Op op) {
    switch (opInfo(op).family) {
        case OpFamily::Source: case OpFamily::Elementwise: case OpFamily::Fused: case OpFamily::MatMul: case OpFamily::Reduce:
        case OpFamily::View: case OpFamily::Copy: case OpFamily::Conv: case OpFamily::Pool: case OpFamily::Norm: case OpFamily::Grad:
            return true;
        case OpFamily::Index:  // no integer buffers on the device yet
            return false;
    }
    return false;
}

DevTensor contiguousOnDevice(OpEnv& env, const DevTensor& t) {
    if (t.isContiguous()) return t;
    DevTensor c = env.rec.allocate(t.shape);
    Node dummy;
    dummy.name = "contiguous copy";
    copyInto(env, dummy, c, t);
    return c;
}

std::vector<DevTensor> recordOp(OpEnv& env, const Node& n, const std::vector<DevTensor>& ins, const std::vector<ValueType>& outTypes) {
    if (!vulkanSupports(n.op)) fail(n, "the Vulkan backend has no shader for this op yet (run it with --backend cpu)");
    const Shape& outShape = outTypes.at(0).shape;
    switch (opInfo(n.op).family) {
        case OpFamily::Source:
            fail(n, "source nodes are bound, not recorded");
        case OpFamily::Elementwise:
        case OpFamily::Fused:
            return elementwise(env, n, ins, outShape);
        case OpFamily::MatMul:
            return n.op == Op::Gemm ? gemm(env, n, ins, outShape) : matmul(env, n, ins[0], ins[1], outShape);
        case OpFamily::Reduce:
            return recordReduce(env, n, ins[0], outShape);
        case OpFamily::View:
            return recordView(env, n, ins, outTypes);
        case OpFamily::Copy:
            return n.op == Op::Pad ? pad(env, n, ins[0], outShape) : concat(env, n, ins, outShape);
        case OpFamily::Conv:
            return conv(env, n, ins, outShape);
        case OpFamily::Pool:
            if (n.op == Op::GlobalAvgPool) {
                if (ins[0].shape.size() != 4) fail(n, "input must be 4-D (NCHW), got " + shapeToString(ins[0].shape));
                return reduce(env, n, ins[0], outShape, {2, 3});
            }
            return recordPool(env, n, ins, outShape);
        case OpFamily::Norm:
            return recordNorm(env, n, ins, outShape);
        case OpFamily::Grad:
            if (n.op == Op::Conv2dGradInput || n.op == Op::Conv2dGradWeight) return conv(env, n, ins, outShape);
            return recordPool(env, n, ins, outShape);
        case OpFamily::Index:
            break;
    }
    fail(n, "the Vulkan backend has no shader for this op yet (run it with --backend cpu)");
}

}  // namespace adj::vk
