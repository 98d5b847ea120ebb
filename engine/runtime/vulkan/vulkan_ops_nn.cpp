// Recording pooling (forward and the derivative ops of its backward graph) and normalization.
#include <cstdint>
#include <string>

#include "runtime/vulkan/vulkan_ops_util.h"

namespace adj::vk {
namespace {

using namespace detail;

std::vector<std::int64_t> intsOr(const Node& n, const char* name, std::vector<std::int64_t> otherwise) {
    return n.attrs.has(name) ? n.attrs.getInts(n.op, name) : otherwise;
}

std::uint32_t count32(const Node& n, std::int64_t v) {
    if (v < 0 || v > std::int64_t(UINT32_MAX)) fail(n, "too many elements for one dispatch (" + std::to_string(v) + ")");
    return std::uint32_t(v);
}

/// Strides of `t` over `iter` when t is one channel vector [C] read along dimension `dim`.
Strides alongDim(const DevTensor& t, std::size_t rank, std::size_t dim) {
    Strides s(rank, 0);
    s[dim] = t.strides[0];
    return s;
}

}  // namespace

std::vector<DevTensor> recordPool(OpEnv& env, const Node& n, const std::vector<DevTensor>& ins, const Shape& outShape) {
    const auto kernel = n.attrs.getInts(n.op, "kernel");
    const auto strides = intsOr(n, "strides", {1, 1});
    const auto pads = n.attrs.getInts(n.op, "pads");
    if (kernel.size() != 2 || strides.size() != 2 || pads.size() != 4) fail(n, "kernel, strides and pads must have 2, 2 and 4 entries");
    if (kernel[0] <= 0 || kernel[1] <= 0) fail(n, "kernel sizes must be positive");
    if (strides[0] <= 0 || strides[1] <= 0) fail(n, "strides must be positive");
    for (std::int64_t p : pads)
        if (p < 0) fail(n, "pads must not be negative");
    Shape x, y;  // input and output of the pooling the op belongs to
    const DevTensor* second = nullptr;
    std::string shader;
    switch (n.op) {
        case Op::MaxPool: x = ins[0].shape, y = outShape, shader = "max_pool"; break;
        case Op::AvgPool: x = ins[0].shape, y = outShape, shader = "avg_pool"; break;
        case Op::MaxPoolSelect:
            x = ins[0].shape, y = outShape, second = &ins[1], shader = "max_pool_select";
            if (ins[1].shape != x) fail(n, "the selected tensor " + shapeToString(ins[1].shape) + " differs from the input shape " + shapeToString(x));
            break;
        case Op::MaxPoolGrad:
            x = ins[0].shape, y = ins[1].shape, second = &ins[1], shader = "max_pool_grad";
            if (outShape != x) fail(n, "output shape " + shapeToString(outShape) + " differs from the input shape " + shapeToString(x));
            break;
        case Op::AvgPoolGrad: y = ins[0].shape, x = outShape, shader = "avg_pool_grad"; break;
        case Op::GlobalAvgPool: case Op::Conv2dGradInput: case Op::Conv2dGradWeight:  // other shaders (vulkan_ops.cpp)
#define ADJ_FAMILY_CASE_Pool(id)
#define ADJ_FAMILY_CASE_Grad(id)
#include "ir/op_family_cases.inc"
            fail(n, "not a pooling op");
    }
    if (x.size() != 4 || y.size() != 4) fail(n, "input and output must be 4-D [N, C, H, W], got " + shapeToString(x) + " and " + shapeToString(y));
    const std::int64_t effH = x[2] + pads[0] + pads[2] - kernel[0], effW = x[3] + pads[1] + pads[3] - kernel[1];
    if (effH < 0 || effW < 0) fail(n, "the kernel is larger than the padded input");
    const Shape expect{x[0], x[1], effH / strides[0] + 1, effW / strides[1] + 1};
    if (y != expect) fail(n, "pooled shape " + shapeToString(y) + " does not match " + shapeToString(expect) + " for input " + shapeToString(x));
    DevTensor out = env.rec.allocate(outShape);
    if (out.numel() == 0) return {out};
    PushPool pc{};
    pc.n = count32(n, out.numel());
    pc.rank = 4;
    pc.inH = std::uint32_t(x[2]), pc.inW = std::uint32_t(x[3]);
    pc.outH = std::uint32_t(y[2]), pc.outW = std::uint32_t(y[3]);
    pc.kernelH = std::uint32_t(kernel[0]), pc.kernelW = std::uint32_t(kernel[1]);
    pc.strideH = std::uint32_t(strides[0]), pc.strideW = std::uint32_t(strides[1]);
    pc.padTop = std::uint32_t(pads[0]), pc.padLeft = std::uint32_t(pads[1]);
    pc.padBottom = std::uint32_t(pads[2]), pc.padRight = std::uint32_t(pads[3]);
    if ((n.op == Op::AvgPool || n.op == Op::AvgPoolGrad) && n.attrs.getInt(n.op, "count_include_pad") != 0) pc.countIncludePad = 1;
    std::vector<std::pair<std::int64_t, Strides>> ops{{out.offset, out.strides}, {ins[0].offset, ins[0].strides}};
    std::vector<const DevTensor*> bufs{&out, &ins[0]};
    if (second) {
        ops.push_back({second->offset, second->strides});
        bufs.push_back(second);
    }
    env.rec.dispatch(env.pipelines.builtin<PushPool>(shader, second ? 4 : 3), pc, layoutWords(outShape, ops), bufs, groupsFor(out.numel(), 256));
    return {out};
}

std::vector<DevTensor> recordNorm(OpEnv& env, const Node& n, const std::vector<DevTensor>& ins, const Shape& outShape) {
    const DevTensor& x = ins[0];
    const std::size_t rank = x.shape.size();
    if (outShape != x.shape) fail(n, "output shape " + shapeToString(outShape) + " differs from the input shape " + shapeToString(x.shape));
    const float eps = float(n.attrs.getFloat(n.op, "epsilon"));
    const std::string sg = env.caps.subgroupArithmetic ? "_sg" : "";
    DevTensor out = env.rec.allocate(outShape);
    PushNorm pc{};
    pc.epsilon = eps;
    if (n.op == Op::LayerNorm) {
        const std::size_t axis = std::size_t(axisOf(n, n.attrs.getInt(n.op, "axis"), std::int64_t(rank)));
        const Shape normShape(x.shape.begin() + std::ptrdiff_t(axis), x.shape.end());
        // scale and bias broadcast to the normalized shape, and repeat over the rows (stride 0)
        auto affine = [&](std::size_t i, const char* what) {
            Strides s(rank, 0);
            if (i >= ins.size()) return s;
            const DevTensor& t = ins[i];
            if (t.shape.size() > normShape.size()) fail(n, std::string(what) + " of shape " + shapeToString(t.shape) + " does not fit the normalized shape " + shapeToString(normShape));
            for (std::size_t k = 0; k < t.shape.size(); ++k) {
                const std::size_t d = rank - t.shape.size() + k;
                if (t.shape[k] == x.shape[d]) s[d] = x.shape[d] == 1 ? 0 : t.strides[k];
                else if (t.shape[k] != 1) fail(n, std::string(what) + " of shape " + shapeToString(t.shape) + " does not fit the normalized shape " + shapeToString(normShape));
            }
            return s;
        };
        const Strides ss = affine(1, "scale"), bs = affine(2, "bias");
        if (out.numel() == 0) return {out};
        const std::int64_t D = numel(normShape);
        pc.n = count32(n, out.numel() / D);
        pc.rank = std::uint32_t(rank);
        pc.keptDims = std::uint32_t(axis);
        pc.rowLength = count32(n, D);
        pc.hasScale = ins.size() > 1 ? 1u : 0u;
        pc.hasBias = ins.size() > 2 ? 1u : 0u;
        const DevTensor& scale = ins.size() > 1 ? ins[1] : x;
        const DevTensor& bias = ins.size() > 2 ? ins[2] : x;
        const auto meta = layoutWords(x.shape, {{out.offset, out.strides}, {x.offset, x.strides}, {scale.offset, ss}, {bias.offset, bs}});
        env.rec.dispatch(env.pipelines.builtin<PushNorm>("layernorm" + sg, 5), pc, meta, {&out, &x, &scale, &bias}, groupsFor(pc.n, 1));
        return {out};
    }
    // batchnorm
    if (rank < 2) fail(n, "input must have rank >= 2 [N, C, ...], got " + shapeToString(x.shape));
    const std::int64_t C = x.shape[1];
    const bool training = n.attrs.getInt(n.op, "training") != 0;
    const char* names[] = {"", "scale", "bias", "mean", "var"};
    for (std::size_t i = 1; i < 5; ++i) {
        if (training && i >= 3) break;  // the running statistics are not read
        if (ins[i].shape != Shape{C}) fail(n, std::string(names[i]) + " of shape " + shapeToString(ins[i].shape) + " for " + std::to_string(C) + " channels");
    }
    if (out.numel() == 0) return {out};
    DevTensor stats = env.rec.allocate({2, C});
    std::vector<std::int64_t> perm{1, 0};
    for (std::size_t d = 2; d < rank; ++d) perm.push_back(std::int64_t(d));
    const DevTensor xp = permuted(x, perm);
    pc.n = count32(n, C);
    pc.rank = std::uint32_t(rank);
    pc.keptDims = 1;
    pc.rowLength = count32(n, x.numel() / C);
    pc.training = training ? 1u : 0u;
    std::vector<std::pair<std::int64_t, Strides>> ops{{stats.offset, Strides(rank, 0)}, {xp.offset, xp.strides}};
    std::vector<const DevTensor*> bufs{&stats, &x};
    for (std::size_t i = 1; i < 5; ++i) {
        const DevTensor& t = ins[i].shape.size() == 1 ? ins[i] : x;  // training: unread, any buffer
        ops.push_back({t.offset, alongDim(t, rank, 0)});
        bufs.push_back(&t);
    }
    env.rec.dispatch(env.pipelines.builtin<PushNorm>("batchnorm_stats" + sg, 7), pc, layoutWords(xp.shape, ops), bufs, groupsFor(C, 1));
    // y = x * a[c] + b[c], a and b read as [1, C, 1, ...] views of the statistics
    Shape channel(rank, 1);
    channel[1] = C;
    Strides cs(rank, 0);
    cs[1] = 1;
    const DevTensor a{stats.buf, channel, cs, stats.offset}, b{stats.buf, channel, cs, stats.offset + C};
    runElementwise(env, n, env.pipelines.builtin<PushElementwise>("ew_muladd", 5), out, {x, a, b});
    return {out};
}

}  // namespace adj::vk
