// MaxPool / AvgPool (NCHW, ONNX attributes, read through the input's strides) and
// GlobalAvgPool (mean over every axis after the channel axis).
#include <algorithm>
#include <limits>
#include <stdexcept>

#include "runtime/cpu/cpu_kernels.h"
#include "runtime/cpu/kernel_util.h"

namespace adj::cpu {

namespace {

using detail::fail;

void pool2d(KernelCall& call, bool isMax) {
    const Node& n = call.node;
    const Tensor& x = call.inputs[0];
    if (x.rank() != 4) fail(n, "input must be 4-D [N, C, H, W], got " + shapeToString(x.shape()));
    const auto kernel = n.attrs.getInts(n.op, "kernel");
    const auto strides = n.attrs.has("strides") ? n.attrs.getInts(n.op, "strides") : std::vector<std::int64_t>{1, 1};
    const auto pads = n.attrs.getInts(n.op, "pads");
    if (kernel.size() != 2) fail(n, "kernel must have 2 entries");
    if (strides.size() != 2) fail(n, "strides must have 2 entries");
    if (pads.size() != 4) fail(n, "pads must have 4 entries");
    const std::int64_t kh = kernel[0], kw = kernel[1], sh = strides[0], sw = strides[1];
    const std::int64_t pt = pads[0], pl = pads[1], pb = pads[2], pr = pads[3];
    if (kh <= 0 || kw <= 0) fail(n, "kernel sizes must be positive");
    if (sh <= 0 || sw <= 0) fail(n, "strides must be positive");
    if (pt < 0 || pl < 0 || pb < 0 || pr < 0) fail(n, "pads must not be negative");
    const bool includePad = !isMax && n.attrs.getInt(n.op, "count_include_pad") != 0;
    const std::int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
    const std::int64_t effH = H + pt + pb - kh, effW = W + pl + pr - kw;
    if (effH < 0 || effW < 0) fail(n, "the kernel is larger than the padded input");
    const std::int64_t OH = effH / sh + 1, OW = effW / sw + 1;
    const Shape outShape{N, C, OH, OW};
    if (call.outTypes[0].shape != outShape)
        fail(n, "output shape " + shapeToString(call.outTypes[0].shape) + " does not match " + shapeToString(outShape));

    Tensor& out = newOutput(call, 0, outShape);
    if (out.numel() == 0) return;
    const float* xp = x.data();
    float* op = out.data();
    const Strides& st = x.strides();
    const std::int64_t s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];

    detail::parallelFor(N * C, OH * OW * kh * kw, [&](std::int64_t p0, std::int64_t p1) {
        for (std::int64_t p = p0; p < p1; ++p) {
            const float* plane = xp + (p / C) * s0 + (p % C) * s1;
            float* dst = op + p * OH * OW;
            for (std::int64_t oh = 0; oh < OH; ++oh) {
                const std::int64_t hs = oh * sh - pt;
                const std::int64_t h0 = std::max<std::int64_t>(hs, 0), h1 = std::min(hs + kh, H);
                for (std::int64_t ow = 0; ow < OW; ++ow) {
                    const std::int64_t ws = ow * sw - pl;
                    const std::int64_t w0 = std::max<std::int64_t>(ws, 0), w1 = std::min(ws + kw, W);
                    if (isMax) {
                        float m = -std::numeric_limits<float>::infinity();
                        for (std::int64_t h = h0; h < h1; ++h)
                            for (std::int64_t w = w0; w < w1; ++w) {
                                const float v = plane[h * s2 + w * s3];
                                if (v > m || v != v) m = v;
                            }
                        dst[oh * OW + ow] = m;
                    } else {
                        float s = 0.f;
                        for (std::int64_t h = h0; h < h1; ++h)
                            for (std::int64_t w = w0; w < w1; ++w) s += plane[h * s2 + w * s3];
                        std::int64_t count;
                        if (includePad) {
                            // PyTorch: the window clipped to the padded input.
                            count = (std::min(hs + kh, H + pb) - hs) * (std::min(ws + kw, W + pr) - ws);
                        } else {
                            count = (h1 - h0) * (w1 - w0);
                        }
                        dst[oh * OW + ow] = count > 0 ? s / float(count) : 0.f;
                    }
                }
            }
        }
    });
}

void globalAvgPool(KernelCall& call) {
    const Node& n = call.node;
    const Tensor& x = call.inputs[0];
    if (x.rank() < 3) fail(n, "input must have rank >= 3 [N, C, ...], got " + shapeToString(x.shape()));
    const std::int64_t planes = x.dim(0) * x.dim(1);
    Shape expected(std::size_t(x.rank()), 1);
    expected[0] = x.dim(0);
    expected[1] = x.dim(1);
    if (call.outTypes[0].shape != expected)
        fail(n, "output shape " + shapeToString(call.outTypes[0].shape) + " does not match " + shapeToString(expected));
    const std::int64_t S = planes == 0 ? 0 : x.numel() / planes;
    newOutput(call, 0, expected);
    if (planes == 0) return;
    float* op = call.outputs[0].data();
    if (S == 0) {
        std::fill_n(op, planes, std::numeric_limits<float>::quiet_NaN());
        return;
    }
    const Tensor xc = x.contiguous();
    const float* xp = xc.data();
    detail::parallelFor(planes, S, [&](std::int64_t p0, std::int64_t p1) {
        for (std::int64_t p = p0; p < p1; ++p) {
            const float* src = xp + p * S;
            double s = 0;
            for (std::int64_t i = 0; i < S; ++i) s += src[i];
            op[p] = float(s / double(S));
        }
    });
}

}  // namespace

void poolKernel(KernelCall& call) {
    switch (call.node.op) {
    case Op::MaxPool:
        return pool2d(call, true);
    case Op::AvgPool:
        return pool2d(call, false);
    case Op::GlobalAvgPool:
        return globalAvgPool(call);
#define ADJ_FAMILY_CASE_Pool(id)
#include "ir/op_family_cases.inc"
        break;
    }
    throw std::logic_error(detail::nodePrefix(call.node) + "not a pooling op");
}

}  // namespace adj::cpu
