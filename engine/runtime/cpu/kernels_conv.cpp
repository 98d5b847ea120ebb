// Conv2d (NCHW, ONNX attributes): im2col + GEMM per (batch, group), parallel over both and over
// the GEMM's rows.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "runtime/cpu/cpu_kernels.h"
#include "runtime/cpu/kernel_util.h"

namespace adj::cpu {

namespace {

using detail::fail;

std::vector<std::int64_t> intsOfSize(const Node& n, const char* name, std::size_t size) {
    auto v = n.attrs.getInts(n.op, name);
    if (v.size() != size) fail(n, std::string(name) + " must have " + std::to_string(size) + " entries");
    return v;
}

void conv2d(KernelCall& call) {
    const Node& n = call.node;
    const Tensor& x = call.inputs[0];
    const Tensor& w = call.inputs[1];
    if (x.rank() != 4) fail(n, "input must be 4-D [N, C, H, W], got " + shapeToString(x.shape()));
    if (w.rank() != 4) fail(n, "weight must be 4-D [Cout, C/group, kh, kw], got " + shapeToString(w.shape()));
    const auto strides = intsOfSize(n, "strides", 2);
    const auto pads = intsOfSize(n, "pads", 4);
    const auto dil = intsOfSize(n, "dilations", 2);
    const std::int64_t group = n.attrs.getInt(n.op, "group");
    const std::int64_t sh = strides[0], sw = strides[1], dh = dil[0], dw = dil[1];
    const std::int64_t pt = pads[0], pl = pads[1], pb = pads[2], pr = pads[3];
    if (sh <= 0 || sw <= 0) fail(n, "strides must be positive");
    if (dh <= 0 || dw <= 0) fail(n, "dilations must be positive");
    if (pt < 0 || pl < 0 || pb < 0 || pr < 0) fail(n, "pads must not be negative");
    if (group <= 0) fail(n, "group must be positive");
    const std::int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
    const std::int64_t Cout = w.dim(0), Cg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
    if (Cg * group != C)
        fail(n, "weight " + shapeToString(w.shape()) + " with group " + std::to_string(group) + " does not fit " +
                    std::to_string(C) + " input channels");
    if (Cout % group != 0) fail(n, "output channels " + std::to_string(Cout) + " are not divisible by group " + std::to_string(group));
    const std::int64_t effH = H + pt + pb - dh * (kh - 1) - 1, effW = W + pl + pr - dw * (kw - 1) - 1;
    if (effH < 0 || effW < 0) fail(n, "the kernel is larger than the padded input");
    const std::int64_t OH = effH / sh + 1, OW = effW / sw + 1;
    const Shape outShape{N, Cout, OH, OW};
    if (call.outTypes[0].shape != outShape)
        fail(n, "output shape " + shapeToString(call.outTypes[0].shape) + " does not match " + shapeToString(outShape));
    Tensor bias;
    if (detail::hasInput(call, 2)) {
        if (call.inputs[2].numel() != Cout || call.inputs[2].rank() != 1)
            fail(n, "bias of shape " + shapeToString(call.inputs[2].shape()) + " for " + std::to_string(Cout) + " output channels");
        bias = call.inputs[2].contiguous();
    }

    Tensor& out = newOutput(call, 0, outShape);
    if (out.numel() == 0) return;
    const Tensor xc = x.contiguous(), wc = w.contiguous();
    const float* xp = xc.data();
    const float* wp = wc.data();
    const float* bp = bias.defined() ? bias.data() : nullptr;
    float* op = out.data();
    const std::int64_t Coutg = Cout / group, Kdim = Cg * kh * kw, P = OH * OW;
    const bool pointwise = kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && pb == 0 && pr == 0;

    detail::parallelFor(N * group, Coutg * Kdim * P, [&](std::int64_t t0, std::int64_t t1) {
        std::vector<float> col;
        for (std::int64_t t = t0; t < t1; ++t) {
            const std::int64_t b = t / group, g = t % group;
            const float* xg = xp + (b * C + g * Cg) * H * W;
            float* og = op + (b * Cout + g * Coutg) * P;
            const float* wg = wp + g * Coutg * Kdim;
            const float* colp = xg;
            if (!pointwise) {
                col.resize(std::size_t(Kdim * P));
                detail::parallelFor(Kdim, P, [&](std::int64_t r0, std::int64_t r1) {
                    for (std::int64_t row = r0; row < r1; ++row) {
                        const std::int64_t c = row / (kh * kw), ki = (row / kw) % kh, kj = row % kw;
                        const float* plane = xg + c * H * W;
                        float* dst = col.data() + row * P;
                        for (std::int64_t oh = 0; oh < OH; ++oh) {
                            const std::int64_t ih = oh * sh - pt + ki * dh;
                            float* d = dst + oh * OW;
                            if (ih < 0 || ih >= H) {
                                std::fill_n(d, OW, 0.f);
                                continue;
                            }
                            const float* src = plane + ih * W;
                            for (std::int64_t ow = 0; ow < OW; ++ow) {
                                const std::int64_t iw = ow * sw - pl + kj * dw;
                                d[ow] = (iw >= 0 && iw < W) ? src[iw] : 0.f;
                            }
                        }
                    }
                });
                colp = col.data();
            }
            if (Kdim == 0) std::fill_n(og, Coutg * P, 0.f);
            else detail::gemmRowMajor(Coutg, P, Kdim, wg, Kdim, colp, P, og, P);
            if (bp) {
                for (std::int64_t co = 0; co < Coutg; ++co) {
                    const float bv = bp[g * Coutg + co];
                    float* orow = og + co * P;
                    for (std::int64_t p = 0; p < P; ++p) orow[p] += bv;
                }
            }
        }
    });
}

}  // namespace

void convKernel(KernelCall& call) {
    switch (call.node.op) {
    case Op::Conv2d:
        return conv2d(call);
#define ADJ_FAMILY_CASE_Conv(id)
#include "ir/op_family_cases.inc"
        break;
    }
    throw std::logic_error(detail::nodePrefix(call.node) + "not a convolution op");
}

}  // namespace adj::cpu
