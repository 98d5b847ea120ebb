#version 450
// One elementwise op over strided inputs with NumPy broadcasting (stride 0): out[i] = op(in...).
// Variants by defines: ARITY (1, 2 or 3); the op is the specialization constant ADJ_OP (Op's
// value in engine/ir/ops.def), so one SPIR-V module per arity serves every op of the table and each
// pipeline keeps only its op's case of ew_apply. A variant with FN defined calls that function
// instead (batchnorm's affine step, not an op of the table). Push constants: PushElementwise.
#define ADJ_PUSH_ELEMENTWISE
#include "adj_common.glsl"
#include "adj_elementwise.glsl"

layout(constant_id = 0) const uint ADJ_OP = 0u;

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
#if ARITY >= 2
        float b = in1[adj_offset(2u, i)];
#else
        float b = 0.0;
#endif
#if ARITY >= 3
        float c = in2[adj_offset(3u, i)];
#else
        float c = 0.0;
#endif
#ifdef FN
        float r = FN(a, b, c);
#else
        float r = ew_apply(ADJ_OP, a, b, c, pc.alpha, pc.beta, pc.gamma);
#endif
        out_[adj_offset(0u, i)] = r;
    }
}
