// Kernels of the derivative ops that backward graphs are made of (family Grad): the two halves of
// a convolution's gradient, and the scatter/gather of max pooling and the spread of average pooling.
#include <cstring>
#include <limits>

#include "runtime/cpu/cpu_kernels.h"
#include "runtime/cpu/kernel_util.h"

namespace adj::cpu {

namespace {

struct ConvGeometry {
    std::int64_t n, c, h, w;       // input
    std::int64_t co, cpg, kh, kw;  // weight: [co, cpg, kh, kw]
    std::int64_t ho, wo;           // output
    std::int64_t sh, sw, pt, pl, dh, dw, group;
};

ConvGeometry geometry(const Node& node, const Shape& x, const Shape& w, const Shape& y) {
    auto strides = node.attrs.getInts(node.op, "strides"), pads = node.attrs.getInts(node.op, "pads"), dil = node.attrs.getInts(node.op, "dilations");
    return {x[0], x[1], x[2], x[3], w[0], w[1], w[2], w[3], y[2], y[3], strides[0], strides[1], pads[0], pads[1], dil[0], dil[1],
            node.attrs.getInt(node.op, "group")};
}

/// Calls tap(output offset oh * wo + ow, input offset ih * w + iw) for every output position whose
/// kernel tap (kh, kw) falls inside the input (not on padding).
template <typename Tap>
inline void forEachInputTap(const ConvGeometry& q, std::int64_t kh, std::int64_t kw, Tap tap) {
    for (std::int64_t oh = 0; oh < q.ho; ++oh) {
        const std::int64_t ih = oh * q.sh - q.pt + kh * q.dh;
        if (ih < 0 || ih >= q.h) continue;
        for (std::int64_t ow = 0; ow < q.wo; ++ow) {
            const std::int64_t iw = ow * q.sw - q.pl + kw * q.dw;
            if (iw < 0 || iw >= q.w) continue;
            tap(oh * q.wo + ow, ih * q.w + iw);
        }
    }
}

// dx[n, ci, ih, iw] += g[n, co, oh, ow] * w[co, ci - group offset, kh, kw]
void convGradInput(KernelCall& call) {
    const Tensor g = call.inputs[0].contiguous(), w = call.inputs[1].contiguous();
    const Shape& xs = call.outTypes[0].shape;
    const ConvGeometry q = geometry(call.node, xs, w.shape(), g.shape());
    Tensor dx = filledOutput(call, 0, xs, 0.f);
    const float* gd = g.data();
    const float* wd = w.data();
    float* xd = dx.data();
    const std::int64_t copg = q.co / q.group;
    // parallel over (n, input channel): each task owns one plane of dx
    detail::parallelFor(q.n * q.c, copg * q.kh * q.kw * q.ho * q.wo, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t nc = begin; nc < end; ++nc) {
            const std::int64_t n = nc / q.c, ci = nc % q.c, grp = ci / q.cpg, cl = ci % q.cpg;
            float* plane = xd + nc * q.h * q.w;
            for (std::int64_t co = grp * copg; co < (grp + 1) * copg; ++co) {
                const float* gp = gd + (n * q.co + co) * q.ho * q.wo;
                for (std::int64_t kh = 0; kh < q.kh; ++kh)
                    for (std::int64_t kw = 0; kw < q.kw; ++kw) {
                        const float wv = wd[((co * q.cpg + cl) * q.kh + kh) * q.kw + kw];
                        forEachInputTap(q, kh, kw, [&](std::int64_t o, std::int64_t i) { plane[i] += gp[o] * wv; });
                    }
            }
        }
    });
    call.outputs = {dx};
}

// dw[co, cl, kh, kw] = sum over n, oh, ow of g[n, co, oh, ow] * x[n, group offset + cl, ih, iw]
void convGradWeight(KernelCall& call) {
    const Tensor x = call.inputs[0].contiguous(), g = call.inputs[1].contiguous();
    const Shape& ws = call.outTypes[0].shape;
    const ConvGeometry q = geometry(call.node, x.shape(), ws, g.shape());
    Tensor dw = filledOutput(call, 0, ws, 0.f);
    const float* gd = g.data();
    const float* xd = x.data();
    float* wd = dw.data();
    const std::int64_t copg = q.co / q.group;
    detail::parallelFor(q.co * q.cpg, q.n * q.kh * q.kw * q.ho * q.wo, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t cc = begin; cc < end; ++cc) {
            const std::int64_t co = cc / q.cpg, cl = cc % q.cpg, ci = (co / copg) * q.cpg + cl;
            for (std::int64_t kh = 0; kh < q.kh; ++kh)
                for (std::int64_t kw = 0; kw < q.kw; ++kw) {
                    double acc = 0;
                    for (std::int64_t n = 0; n < q.n; ++n) {
                        const float* gp = gd + (n * q.co + co) * q.ho * q.wo;
                        const float* xp = xd + (n * q.c + ci) * q.h * q.w;
                        forEachInputTap(q, kh, kw, [&](std::int64_t o, std::int64_t i) { acc += double(gp[o]) * double(xp[i]); });
                    }
                    wd[((co * q.cpg + cl) * q.kh + kh) * q.kw + kw] = float(acc);
                }
        }
    });
    call.outputs = {dw};
}

struct PoolGeometry {
    std::int64_t planes, h, w, ho, wo, kh, kw, sh, sw, pt, pl;
};

PoolGeometry poolGeometry(const Node& node, const Shape& x, const Shape& y) {
    auto k = node.attrs.getInts(node.op, "kernel");
    auto strides = node.attrs.has("strides") ? node.attrs.getInts(node.op, "strides") : std::vector<std::int64_t>{1, 1};
    auto pads = node.attrs.getInts(node.op, "pads");
    return {x[0] * x[1], x[2], x[3], y[2], y[3], k[0], k[1], strides[0], strides[1], pads[0], pads[1]};
}

/// Offset (within the plane) of the first maximum of each window, as max_pool picks it.
template <class F>
void forEachArgmax(const PoolGeometry& q, const float* plane, F&& f) {
    for (std::int64_t oh = 0; oh < q.ho; ++oh)
        for (std::int64_t ow = 0; ow < q.wo; ++ow) {
            float best = -std::numeric_limits<float>::infinity();
            std::int64_t at = -1;
            for (std::int64_t kh = 0; kh < q.kh; ++kh) {
                const std::int64_t ih = oh * q.sh - q.pt + kh;
                if (ih < 0 || ih >= q.h) continue;
                for (std::int64_t kw = 0; kw < q.kw; ++kw) {
                    const std::int64_t iw = ow * q.sw - q.pl + kw;
                    if (iw < 0 || iw >= q.w) continue;
                    const float v = plane[ih * q.w + iw];
                    if (at < 0 || v > best || v != v) {
                        best = v;
                        at = ih * q.w + iw;
                        if (v != v) break;
                    }
                }
            }
            f(oh * q.wo + ow, at);
        }
}

void maxPoolGradOrSelect(KernelCall& call) {
    const bool select = call.node.op == Op::MaxPoolSelect;
    const Tensor x = call.inputs[0].contiguous(), other = call.inputs[1].contiguous();
    const Shape& pooled = select ? call.outTypes[0].shape : other.shape();
    const PoolGeometry q = poolGeometry(call.node, x.shape(), pooled);
    Tensor out = select ? newOutput(call, 0, call.outTypes[0].shape) : filledOutput(call, 0, x.shape(), 0.f);
    const float* xd = x.data();
    const float* od = other.data();
    float* rd = out.data();
    detail::parallelFor(q.planes, q.ho * q.wo * q.kh * q.kw, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t p = begin; p < end; ++p) {
            const float* plane = xd + p * q.h * q.w;
            forEachArgmax(q, plane, [&](std::int64_t o, std::int64_t at) {
                if (select) rd[p * q.ho * q.wo + o] = at >= 0 ? od[p * q.h * q.w + at] : 0.f;
                else if (at >= 0) rd[p * q.h * q.w + at] += od[p * q.ho * q.wo + o];
            });
        }
    });
    call.outputs = {out};
}

void avgPoolGrad(KernelCall& call) {
    const Tensor g = call.inputs[0].contiguous();
    const Shape& xs = call.outTypes[0].shape;
    const PoolGeometry q = poolGeometry(call.node, xs, g.shape());
    const bool includePad = call.node.attrs.getInt(call.node.op, "count_include_pad") != 0;
    Tensor dx = filledOutput(call, 0, xs, 0.f);
    const float* gd = g.data();
    float* xd = dx.data();
    detail::parallelFor(q.planes, q.ho * q.wo * q.kh * q.kw, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t p = begin; p < end; ++p)
            for (std::int64_t oh = 0; oh < q.ho; ++oh)
                for (std::int64_t ow = 0; ow < q.wo; ++ow) {
                    const std::int64_t h0 = oh * q.sh - q.pt, w0 = ow * q.sw - q.pl;
                    const std::int64_t ha = std::max<std::int64_t>(h0, 0), hb = std::min(h0 + q.kh, q.h);
                    const std::int64_t wa = std::max<std::int64_t>(w0, 0), wb = std::min(w0 + q.kw, q.w);
                    const std::int64_t count = includePad ? q.kh * q.kw : (hb - ha) * (wb - wa);
                    if (count <= 0) continue;
                    const float share = gd[(p * q.ho + oh) * q.wo + ow] / float(count);
                    for (std::int64_t ih = ha; ih < hb; ++ih)
                        for (std::int64_t iw = wa; iw < wb; ++iw) xd[(p * q.h + ih) * q.w + iw] += share;
                }
    });
    call.outputs = {dx};
}

}  // namespace

void derivativeKernel(KernelCall& call) {
    switch (call.node.op) {
        case Op::Conv2dGradInput: return convGradInput(call);
        case Op::Conv2dGradWeight: return convGradWeight(call);
        case Op::MaxPoolGrad:
        case Op::MaxPoolSelect: return maxPoolGradOrSelect(call);
        case Op::AvgPoolGrad: return avgPoolGrad(call);
#define ADJ_FAMILY_CASE_Grad(id)
#include "ir/op_family_cases.inc"
            break;
    }
    detail::fail(call.node, "not a derivative op");
}

}  // namespace adj::cpu
