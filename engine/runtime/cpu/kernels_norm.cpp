// BatchNorm (inference with running statistics, or training with batch statistics over every
// axis but 1, biased variance) and LayerNorm (over axes [axis, rank), biased variance).
#include <cmath>
#include <stdexcept>
#include <vector>

#include "runtime/cpu/cpu_kernels.h"
#include "runtime/cpu/kernel_util.h"

namespace adj::cpu {

namespace {

using detail::fail;

Tensor channelVector(const KernelCall& call, std::size_t i, std::int64_t C, const char* what) {
    const Tensor& t = call.inputs[i];
    if (t.numel() != C || t.rank() != 1)
        fail(call.node, std::string(what) + " of shape " + shapeToString(t.shape()) + " for " + std::to_string(C) + " channels");
    return t.contiguous();
}

void batchNorm(KernelCall& call) {
    const Node& n = call.node;
    const Tensor& x = call.inputs[0];
    if (x.rank() < 2) fail(n, "input must have rank >= 2 [N, C, ...], got " + shapeToString(x.shape()));
    if (call.outTypes[0].shape != x.shape())
        fail(n, "output shape " + shapeToString(call.outTypes[0].shape) + " differs from the input shape " + shapeToString(x.shape()));
    const double eps = n.attrs.getFloat(n.op, "epsilon");
    const bool training = n.attrs.getInt(n.op, "training") != 0;
    const std::int64_t B = x.dim(0), C = x.dim(1);
    const std::int64_t S = (B * C) == 0 ? 0 : x.numel() / (B * C);
    const Tensor scale = channelVector(call, 1, C, "scale");
    const Tensor bias = channelVector(call, 2, C, "bias");

    newOutput(call, 0, x.shape());
    if (x.numel() == 0) return;
    const Tensor xc = x.contiguous();
    const float* xp = xc.data();
    float* yp = call.outputs[0].data();

    const std::size_t channels = std::size_t(C);
    std::vector<double> mean(channels), var(channels);
    if (training) {
        const double count = double(B * S);
        detail::parallelFor(C, B * S * 2, [&](std::int64_t c0, std::int64_t c1) {
            for (std::int64_t c = c0; c < c1; ++c) {
                double s = 0;
                for (std::int64_t b = 0; b < B; ++b) {
                    const float* p = xp + (b * C + c) * S;
                    for (std::int64_t i = 0; i < S; ++i) s += p[i];
                }
                const double m = s / count;
                double q = 0;
                for (std::int64_t b = 0; b < B; ++b) {
                    const float* p = xp + (b * C + c) * S;
                    for (std::int64_t i = 0; i < S; ++i) {
                        const double d = p[i] - m;
                        q += d * d;
                    }
                }
                mean[std::size_t(c)] = m;
                var[std::size_t(c)] = q / count;
            }
        });
    } else {
        const Tensor rm = channelVector(call, 3, C, "mean");
        const Tensor rv = channelVector(call, 4, C, "var");
        for (std::int64_t c = 0; c < C; ++c) {
            mean[std::size_t(c)] = rm.data()[c];
            var[std::size_t(c)] = rv.data()[c];
        }
    }
    std::vector<float> a(channels), b(channels);
    for (std::int64_t c = 0; c < C; ++c) {
        const double inv = 1.0 / std::sqrt(var[std::size_t(c)] + eps);
        a[std::size_t(c)] = float(inv * scale.data()[c]);
        b[std::size_t(c)] = float(bias.data()[c] - mean[std::size_t(c)] * inv * scale.data()[c]);
    }
    detail::parallelFor(B * C, S, [&](std::int64_t p0, std::int64_t p1) {
        for (std::int64_t p = p0; p < p1; ++p) {
            const float av = a[std::size_t(p % C)], bv = b[std::size_t(p % C)];
            const float* src = xp + p * S;
            float* dst = yp + p * S;
            for (std::int64_t i = 0; i < S; ++i) dst[i] = src[i] * av + bv;
        }
    });
}

void layerNorm(KernelCall& call) {
    const Node& n = call.node;
    const Tensor& x = call.inputs[0];
    const std::int64_t rank = x.rank();
    const std::int64_t axis = detail::axisOrFail(n, n.attrs.getInt(n.op, "axis"), rank);
    const double eps = n.attrs.getFloat(n.op, "epsilon");
    if (call.outTypes[0].shape != x.shape())
        fail(n, "output shape " + shapeToString(call.outTypes[0].shape) + " differs from the input shape " + shapeToString(x.shape()));
    const Shape normShape(x.shape().begin() + axis, x.shape().end());
    const std::int64_t D = numel(normShape);
    const std::int64_t O = D == 0 ? 0 : x.numel() / D;
    auto affine = [&](std::size_t i, const char* what) {
        if (!detail::hasInput(call, i)) return Tensor();
        const Tensor& t = call.inputs[i];
        try {
            return t.expand(normShape).contiguous();
        } catch (const std::invalid_argument&) {
            fail(n, std::string(what) + " of shape " + shapeToString(t.shape()) + " does not fit the normalized shape " +
                        shapeToString(normShape));
        }
    };
    const Tensor scale = affine(1, "scale");
    const Tensor bias = affine(2, "bias");

    newOutput(call, 0, x.shape());
    if (x.numel() == 0) return;
    const Tensor xc = x.contiguous();
    const float* xp = xc.data();
    float* yp = call.outputs[0].data();
    const float* sp = scale.defined() ? scale.data() : nullptr;
    const float* bp = bias.defined() ? bias.data() : nullptr;
    detail::parallelFor(O, D * 3, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const float* src = xp + r * D;
            float* dst = yp + r * D;
            double s = 0;
            for (std::int64_t i = 0; i < D; ++i) s += src[i];
            const double m = s / double(D);
            double q = 0;
            for (std::int64_t i = 0; i < D; ++i) {
                const double d = src[i] - m;
                q += d * d;
            }
            const float inv = float(1.0 / std::sqrt(q / double(D) + eps));
            const float mf = float(m);
            for (std::int64_t i = 0; i < D; ++i) {
                float v = (src[i] - mf) * inv;
                if (sp) v *= sp[i];
                if (bp) v += bp[i];
                dst[i] = v;
            }
        }
    });
}

}  // namespace

void normKernel(KernelCall& call) {
    switch (call.node.op) {
    case Op::BatchNorm:
        return batchNorm(call);
    case Op::LayerNorm:
        return layerNorm(call);
#define ADJ_FAMILY_CASE_Norm(id)
#include "ir/op_family_cases.inc"
        break;
    }
    throw std::logic_error(detail::nodePrefix(call.node) + "not a normalization op");
}

}  // namespace adj::cpu
