// Shared by every Adjoint compute shader and by the generated fusion kernels: the push constants,
// the layout buffer (meta) and strided indexing. The includer defines its push-constant family
// first (ADJ_PUSH_CONV, ...: adj_push.h); every family's block starts with n and rank, which the
// helpers below read. The scalar functions are in adj_math.glsl, the elementwise ops' functions in
// the generated adj_elementwise.glsl.
#ifndef ADJ_COMMON_GLSL
#define ADJ_COMMON_GLSL

#include "adj_push.h"

layout(std430, binding = 0) readonly buffer AdjMeta { uint meta[]; };

// Offset (elements) of operand k at row-major linear index i of the iteration shape's dimensions
// [d0, d1): the caller passes i already restricted to that range.
uint adj_offset_range(uint k, uint i, uint d0, uint d1) {
    uint base = ADJ_META_OPERAND(k);
    uint off = 0u;
    for (uint d = d1; d > d0; --d) {
        uint s = meta[d - 1u];
        off += (i % s) * meta[base + d];
        i /= s;
    }
    return off;
}

// Offset of operand k at linear index i of the whole iteration shape, including its base offset.
uint adj_offset(uint k, uint i) {
    if (pc.rank == 1u) return meta[ADJ_META_OPERAND(k)] + i * meta[ADJ_META_OPERAND(k) + 1u];
    return meta[ADJ_META_OPERAND(k)] + adj_offset_range(k, i, 0u, pc.rank);
}

// not an op of the table: batchnorm's per-channel affine step, y = x * a + b
float adj_muladd(float x, float a, float b) { return x * a + b; }

#endif
