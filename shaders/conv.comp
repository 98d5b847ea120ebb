#version 450
// Direct 2-D convolution (NCHW, ONNX attributes) and its two derivative ops, one invocation per
// output element, every operand strided (4 strides each in meta). Variants:
//   CONV_FORWARD      out [N,Co,OH,OW] = x (op 1) * w (op 2) (+ bias, op 3, when pc.hasBias)
//   CONV_GRAD_INPUT   out [N,C,H,W] from g (op 1, [N,Co,OH,OW]) and w (op 2)
//   CONV_GRAD_WEIGHT  out [Co,C/group,KH,KW] from x (op 1) and g (op 2)
// Geometry: the push constants, PushConv.
#define ADJ_PUSH_CONV
#include "adj_common.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 1) writeonly buffer Out { float out_[]; };
layout(std430, binding = 2) readonly buffer In0 { float in0[]; };
layout(std430, binding = 3) readonly buffer In1 { float in1[]; };
layout(std430, binding = 4) readonly buffer In2 { float in2[]; };

uint st(uint k, uint d) { return meta[ADJ_META_OPERAND(k) + 1u + d]; }
uint base(uint k) { return meta[ADJ_META_OPERAND(k)]; }

void main() {
    const uint C = pc.inChannels, H = pc.inH, W = pc.inW, CO = pc.outChannels, KH = pc.kernelH, KW = pc.kernelW, OH = pc.outH, OW = pc.outW;
    const int SH = int(pc.strideH), SW = int(pc.strideW), PT = int(pc.padTop), PL = int(pc.padLeft);
    const int DH = int(pc.dilationH), DW = int(pc.dilationW);
    const uint G = pc.groups, NB = pc.batch;
    const uint CPG = C / G, COPG = CO / G;
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        uint r = i;
        const uint d3 = r % meta[3]; r /= meta[3];
        const uint d2 = r % meta[2]; r /= meta[2];
        const uint d1 = r % meta[1]; r /= meta[1];
        const uint d0 = r;
        float acc = 0.0;
#if defined(CONV_FORWARD)
        // d0 = n, d1 = co, d2 = oh, d3 = ow
        const uint grp = d1 / COPG;
        for (uint cl = 0u; cl < CPG; ++cl) {
            const uint ci = grp * CPG + cl;
            for (uint kh = 0u; kh < KH; ++kh) {
                const int ih = int(d2) * SH - PT + int(kh) * DH;
                if (ih < 0 || ih >= int(H)) continue;
                for (uint kw = 0u; kw < KW; ++kw) {
                    const int iw = int(d3) * SW - PL + int(kw) * DW;
                    if (iw < 0 || iw >= int(W)) continue;
                    acc += in0[base(1u) + d0 * st(1u, 0u) + ci * st(1u, 1u) + uint(ih) * st(1u, 2u) + uint(iw) * st(1u, 3u)] *
                           in1[base(2u) + d1 * st(2u, 0u) + cl * st(2u, 1u) + kh * st(2u, 2u) + kw * st(2u, 3u)];
                }
            }
        }
        if (pc.hasBias != 0u) acc += in2[base(3u) + d1 * st(3u, 0u)];
#elif defined(CONV_GRAD_INPUT)
        // d0 = n, d1 = c, d2 = ih, d3 = iw; g is op 1, w is op 2
        const uint grp = d1 / CPG, cl = d1 % CPG;
        for (uint co = grp * COPG; co < (grp + 1u) * COPG; ++co)
            for (uint kh = 0u; kh < KH; ++kh) {
                const int th = int(d2) + PT - int(kh) * DH;
                if (th < 0 || th % SH != 0 || th / SH >= int(OH)) continue;
                const uint oh = uint(th / SH);
                for (uint kw = 0u; kw < KW; ++kw) {
                    const int tw = int(d3) + PL - int(kw) * DW;
                    if (tw < 0 || tw % SW != 0 || tw / SW >= int(OW)) continue;
                    const uint ow = uint(tw / SW);
                    acc += in0[base(1u) + d0 * st(1u, 0u) + co * st(1u, 1u) + oh * st(1u, 2u) + ow * st(1u, 3u)] *
                           in1[base(2u) + co * st(2u, 0u) + cl * st(2u, 1u) + kh * st(2u, 2u) + kw * st(2u, 3u)];
                }
            }
#else
        // CONV_GRAD_WEIGHT: d0 = co, d1 = cl, d2 = kh, d3 = kw; x is op 1, g is op 2
        const uint ci = (d0 / COPG) * CPG + d1;
        for (uint n = 0u; n < NB; ++n)
            for (uint oh = 0u; oh < OH; ++oh) {
                const int ih = int(oh) * SH - PT + int(d2) * DH;
                if (ih < 0 || ih >= int(H)) continue;
                for (uint ow = 0u; ow < OW; ++ow) {
                    const int iw = int(ow) * SW - PL + int(d3) * DW;
                    if (iw < 0 || iw >= int(W)) continue;
                    acc += in1[base(2u) + n * st(2u, 0u) + d0 * st(2u, 1u) + oh * st(2u, 2u) + ow * st(2u, 3u)] *
                           in0[base(1u) + n * st(1u, 0u) + ci * st(1u, 1u) + uint(ih) * st(1u, 2u) + uint(iw) * st(1u, 3u)];
                }
            }
#endif
        out_[base(0u) + i] = acc;
    }
}
