#version 450
// One elementwise op over strided inputs with NumPy broadcasting (stride 0): out[i] = FN(in...).
// Variants by defines: FN (an adj_* scalar function) and ARITY (1, 2 or 3).
#include "adj_common.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 1) writeonly buffer Out { float out_[]; };
layout(std430, binding = 2) readonly buffer In0 { float in0[]; };
#if ARITY >= 2
layout(std430, binding = 3) readonly buffer In1 { float in1[]; };
#endif
#if ARITY >= 3
layout(std430, binding = 4) readonly buffer In2 { float in2[]; };
#endif

void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        float a = in0[adj_offset(1u, i)];
#if ARITY == 1
        float r = FN(a);
#elif ARITY == 2
        float r = FN(a, in1[adj_offset(2u, i)]);
#else
        float r = FN(a, in1[adj_offset(2u, i)], in2[adj_offset(3u, i)]);
#endif
        out_[adj_offset(0u, i)] = r;
    }
}
