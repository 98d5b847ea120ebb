#version 450
// Strided copy (operand 1 into operand 0 over the iteration shape): contiguous(), concat, pad,
// expand and every movement op that cannot stay a view (push constants: PushCopy). Variant FILL
// writes pc.value instead (PushFill).
#ifdef FILL
#define ADJ_PUSH_FILL
#else
#define ADJ_PUSH_COPY
#endif
#include "adj_common.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 1) writeonly buffer Out { float out_[]; };
#ifndef FILL
layout(std430, binding = 2) readonly buffer In0 { float in0[]; };
#endif

void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
#ifdef FILL
        out_[adj_offset(0u, i)] = pc.value;
#else
        out_[adj_offset(0u, i)] = in0[adj_offset(1u, i)];
#endif
    }
}
