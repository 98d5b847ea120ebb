#version 450
// 2-D max and average pooling (NCHW, ONNX attributes) and the derivative ops of their backward
// graphs, one invocation per output element, every operand strided (4 strides each in meta, over
// its own shape). The results match the CPU kernels bit for bit where the CPU sums in float: the
// gradients gather (no atomics) and add their terms in the CPU's scatter order (oh, then ow).
// Variants:
//   MAX_POOL         out [N,C,OH,OW] = max of x (op 1) over each window
//   AVG_POOL         out [N,C,OH,OW] = mean of x (op 1) over each window (pc.countIncludePad)
//   MAX_POOL_SELECT  out [N,C,OH,OW] = y (op 2, [N,C,H,W]) at the argmax of x (op 1) in each window
//   MAX_POOL_GRAD    out [N,C,H,W]   = sum of g (op 2, [N,C,OH,OW]) over the windows whose argmax
//                                      in x (op 1) is this element
//   AVG_POOL_GRAD    out [N,C,H,W]   = sum of g (op 1) / count over the windows that cover it
// Geometry: the push constants, PushPool.
#define ADJ_PUSH_POOL
#include "adj_common.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 1) writeonly buffer Out { float out_[]; };
layout(std430, binding = 2) readonly buffer In0 { float in0[]; };
#if defined(MAX_POOL_SELECT) || defined(MAX_POOL_GRAD)
layout(std430, binding = 3) readonly buffer In1 { float in1[]; };
#endif

uint st(uint k, uint d) { return meta[ADJ_META_OPERAND(k) + 1u + d]; }
uint base(uint k) { return meta[ADJ_META_OPERAND(k)]; }

// Offset of x (op 1) at (n, c, h, w).
uint xAt(uint n, uint c, uint h, uint w) { return base(1u) + n * st(1u, 0u) + c * st(1u, 1u) + h * st(1u, 2u) + w * st(1u, 3u); }

#if defined(MAX_POOL_SELECT) || defined(MAX_POOL_GRAD)
// Row-major position (h * W + w) of the first maximum of window (oh, ow) in plane (n, c) of x, as
// the CPU picks it (a NaN wins and ends its row); -1 when the window lies in the padding.
int argmaxOf(uint n, uint c, int oh, int ow) {
    const int H = int(pc.inH), W = int(pc.inW), KH = int(pc.kernelH), KW = int(pc.kernelW);
    const int SH = int(pc.strideH), SW = int(pc.strideW), PT = int(pc.padTop), PL = int(pc.padLeft);
    float best = uintBitsToFloat(0xff800000u);
    int at = -1;
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = oh * SH - PT + kh;
        if (ih < 0 || ih >= H) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int iw = ow * SW - PL + kw;
            if (iw < 0 || iw >= W) continue;
            const float v = in0[xAt(n, c, uint(ih), uint(iw))];
            if (at < 0 || v > best || isnan(v)) {
                best = v;
                at = ih * W + iw;
                if (isnan(v)) break;
            }
        }
    }
    return at;
}
#endif

void main() {
    const int H = int(pc.inH), W = int(pc.inW), KH = int(pc.kernelH), KW = int(pc.kernelW), OH = int(pc.outH), OW = int(pc.outW);
    const int SH = int(pc.strideH), SW = int(pc.strideW), PT = int(pc.padTop), PL = int(pc.padLeft);
    const int PB = int(pc.padBottom), PR = int(pc.padRight);
    const bool includePad = pc.countIncludePad != 0u;
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        uint r = i;
        const uint d3 = r % meta[3]; r /= meta[3];
        const uint d2 = r % meta[2]; r /= meta[2];
        const uint d1 = r % meta[1]; r /= meta[1];
        const uint d0 = r;
        float acc = 0.0;
#if defined(MAX_POOL) || defined(AVG_POOL)
        // d2 = oh, d3 = ow
        const int hs = int(d2) * SH - PT, ws = int(d3) * SW - PL;
        const int h0 = max(hs, 0), h1 = min(hs + KH, H), w0 = max(ws, 0), w1 = min(ws + KW, W);
#ifdef MAX_POOL
        acc = uintBitsToFloat(0xff800000u);
        for (int h = h0; h < h1; ++h)
            for (int w = w0; w < w1; ++w) {
                const float v = in0[xAt(d0, d1, uint(h), uint(w))];
                if (v > acc || isnan(v)) acc = v;
            }
#else
        for (int h = h0; h < h1; ++h)
            for (int w = w0; w < w1; ++w) acc += in0[xAt(d0, d1, uint(h), uint(w))];
        const int count = includePad ? (min(hs + KH, H + PB) - hs) * (min(ws + KW, W + PR) - ws) : (h1 - h0) * (w1 - w0);
        acc = count > 0 ? acc / float(count) : 0.0;
#endif
#elif defined(MAX_POOL_SELECT)
        // d2 = oh, d3 = ow; y (op 2) has x's shape
        const int at = argmaxOf(d0, d1, int(d2), int(d3));
        if (at >= 0)
            acc = in1[base(2u) + d0 * st(2u, 0u) + d1 * st(2u, 1u) + uint(at / W) * st(2u, 2u) + uint(at % W) * st(2u, 3u)];
#else
        // MAX_POOL_GRAD and AVG_POOL_GRAD: d2 = ih, d3 = iw; the windows (oh, ow) that cover it
        const int ih = int(d2), iw = int(d3);
        const int ohA = max(0, (ih + PT - KH + SH) / SH), ohB = min(OH - 1, (ih + PT) / SH);
        const int owA = max(0, (iw + PL - KW + SW) / SW), owB = min(OW - 1, (iw + PL) / SW);
#ifdef MAX_POOL_GRAD
        const int self = ih * W + iw;
        for (int oh = ohA; oh <= ohB; ++oh)
            for (int ow = owA; ow <= owB; ++ow)
                if (argmaxOf(d0, d1, oh, ow) == self)
                    acc += in1[base(2u) + d0 * st(2u, 0u) + d1 * st(2u, 1u) + uint(oh) * st(2u, 2u) + uint(ow) * st(2u, 3u)];
#else
        for (int oh = ohA; oh <= ohB; ++oh)
            for (int ow = owA; ow <= owB; ++ow) {
                const int hs = oh * SH - PT, ws = ow * SW - PL;
                const int count = includePad ? KH * KW : (min(hs + KH, H) - max(hs, 0)) * (min(ws + KW, W) - max(ws, 0));
                if (count <= 0) continue;
                acc += in0[base(1u) + d0 * st(1u, 0u) + d1 * st(1u, 1u) + uint(oh) * st(1u, 2u) + uint(ow) * st(1u, 3u)] / float(count);
            }
#endif
#endif
        out_[base(0u) + i] = acc;
    }
}
