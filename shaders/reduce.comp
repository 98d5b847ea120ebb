#version 450
// Reductions over rows (push constants: PushReduce): the iteration shape is [kept dims..., reduced
// dims...] (pc.keptDims kept dims); one workgroup per output element reduces pc.rowLength elements.
// Variants: MAX (else sum, scaled by pc.scale: 1 for sum, 1/K for mean); SUBGROUP uses subgroup
// arithmetic for the sum where the device has it. SOFTMAX / LOG_SOFTMAX: the reduced row is one
// axis, written back whole.
#define ADJ_PUSH_REDUCE
#include "adj_common.glsl"
#define WG 128
layout(local_size_x = WG) in;
layout(std430, binding = 1) buffer Out { float out_[]; };
layout(std430, binding = 2) readonly buffer In0 { float in0[]; };

#include "adj_reduce.glsl"

void main() {
    const uint t = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < pc.n; row += gl_NumWorkGroups.x) {
        uint inBase = meta[ADJ_META_OPERAND(1)] + adj_offset_range(1u, row, 0u, pc.keptDims);
        uint outBase = meta[ADJ_META_OPERAND(0)] + adj_offset_range(0u, row, 0u, pc.keptDims);
#if defined(SOFTMAX) || defined(LOG_SOFTMAX)
        // one reduced axis: its strides are the last of each operand
        uint sIn = meta[ADJ_META_OPERAND(1) + pc.rank], sOut = meta[ADJ_META_OPERAND(0) + pc.rank];
        float m = uintBitsToFloat(0xff800000u);
        for (uint j = t; j < pc.rowLength; j += WG) m = combineMax(m, in0[inBase + j * sIn]);
        m = reduceMax(m);
        float s = 0.0;
        for (uint j = t; j < pc.rowLength; j += WG) s += exp(in0[inBase + j * sIn] - m);
        s = reduceSum(s);
#ifdef LOG_SOFTMAX
        float ls = log(s);
        for (uint j = t; j < pc.rowLength; j += WG) out_[outBase + j * sOut] = in0[inBase + j * sIn] - m - ls;
#else
        float inv = 1.0 / s;
        for (uint j = t; j < pc.rowLength; j += WG) out_[outBase + j * sOut] = exp(in0[inBase + j * sIn] - m) * inv;
#endif
#else
#ifdef MAX
        float acc = uintBitsToFloat(0xff800000u);
        for (uint j = t; j < pc.rowLength; j += WG) acc = combineMax(acc, in0[inBase + adj_offset_range(1u, j, pc.keptDims, pc.rank)]);
        acc = reduceMax(acc);
#else
        float acc = 0.0;
        for (uint j = t; j < pc.rowLength; j += WG) acc += in0[inBase + adj_offset_range(1u, j, pc.keptDims, pc.rank)];
        acc = reduceSum(acc) * pc.scale;
#endif
        if (t == 0u) out_[outBase] = acc;
#endif
    }
}
