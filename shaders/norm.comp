#version 450
// Normalizations, one workgroup per row (mean, then the mean of squared deviations: biased
// variance, as the CPU kernels). Push constants: PushNorm. Variants:
//   LAYERNORM        the iteration shape is x's shape; the first pc.keptDims dimensions index the
//                    rows, the rest (pc.rowLength elements) are normalized. out (op 0) = (x (op 1)
//                    - mean) / sqrt(var + pc.epsilon), times scale (op 2, pc.hasScale) plus bias
//                    (op 3, pc.hasBias), both broadcast over the rows (stride 0).
//   BATCHNORM_STATS  the iteration shape is x permuted to [C, N, spatial...] (pc.keptDims = 1);
//                    per channel c it writes out[c] = scale / sqrt(var + eps) and out[C + c] =
//                    bias - mean * out[c] (C = pc.n), so that y = x * out[c] + out[C + c]. With
//                    pc.training the statistics are the batch's, otherwise the running mean
//                    (op 4) and var (op 5). scale (op 2) and bias (op 3) are [C] vectors.
#define ADJ_PUSH_NORM
#include "adj_common.glsl"

#define WG 128
layout(local_size_x = WG) in;
layout(std430, binding = 1) writeonly buffer Out { float out_[]; };
layout(std430, binding = 2) readonly buffer In0 { float in0[]; };
layout(std430, binding = 3) readonly buffer In1 { float in1[]; };
layout(std430, binding = 4) readonly buffer In2 { float in2[]; };
#ifdef BATCHNORM_STATS
layout(std430, binding = 5) readonly buffer In3 { float in3[]; };
layout(std430, binding = 6) readonly buffer In4 { float in4[]; };
#endif

#include "adj_reduce.glsl"

// Offset of operand k at element j of the normalized part of a row.
uint inRow(uint k, uint j) { return adj_offset_range(k, j, pc.keptDims, pc.rank); }

void main() {
    const uint t = gl_LocalInvocationID.x;
    const float count = float(pc.rowLength);
    for (uint row = gl_WorkGroupID.x; row < pc.n; row += gl_NumWorkGroups.x) {
        const uint xBase = meta[ADJ_META_OPERAND(1)] + adj_offset_range(1u, row, 0u, pc.keptDims);
#ifdef BATCHNORM_STATS
        float mean, var;
        if (pc.training != 0u) {
            float s = 0.0;
            for (uint j = t; j < pc.rowLength; j += WG) s += in0[xBase + inRow(1u, j)];
            mean = reduceSum(s) / count;
            float q = 0.0;
            for (uint j = t; j < pc.rowLength; j += WG) {
                const float d = in0[xBase + inRow(1u, j)] - mean;
                q += d * d;
            }
            var = reduceSum(q) / count;
        } else {
            mean = in3[meta[ADJ_META_OPERAND(4)] + row * meta[ADJ_META_OPERAND(4) + 1u]];
            var = in4[meta[ADJ_META_OPERAND(5)] + row * meta[ADJ_META_OPERAND(5) + 1u]];
        }
        if (t == 0u) {
            const float inv = 1.0 / sqrt(var + pc.epsilon);
            const float scale = in1[meta[ADJ_META_OPERAND(2)] + row * meta[ADJ_META_OPERAND(2) + 1u]];
            const float bias = in2[meta[ADJ_META_OPERAND(3)] + row * meta[ADJ_META_OPERAND(3) + 1u]];
            out_[meta[ADJ_META_OPERAND(0)] + row] = inv * scale;
            out_[meta[ADJ_META_OPERAND(0)] + pc.n + row] = bias - mean * inv * scale;
        }
#else
        const uint outBase = meta[ADJ_META_OPERAND(0)] + adj_offset_range(0u, row, 0u, pc.keptDims);
        float s = 0.0;
        for (uint j = t; j < pc.rowLength; j += WG) s += in0[xBase + inRow(1u, j)];
        const float mean = reduceSum(s) / count;
        float q = 0.0;
        for (uint j = t; j < pc.rowLength; j += WG) {
            const float d = in0[xBase + inRow(1u, j)] - mean;
            q += d * d;
        }
        const float inv = 1.0 / sqrt(reduceSum(q) / count + pc.epsilon);
        const bool hasScale = pc.hasScale != 0u, hasBias = pc.hasBias != 0u;
        for (uint j = t; j < pc.rowLength; j += WG) {
            float v = (in0[xBase + inRow(1u, j)] - mean) * inv;
            if (hasScale) v *= in1[meta[ADJ_META_OPERAND(2)] + inRow(2u, j)];
            if (hasBias) v += in2[meta[ADJ_META_OPERAND(3)] + inRow(3u, j)];
            out_[outBase + inRow(0u, j)] = v;
        }
#endif
    }
}
