// The push constants of every Adjoint compute shader, defined once for C++ and GLSL (DESIGN.md
// convention 7). C++ includes this header inside namespace adj::vk and static_asserts its size;
// GLSL includes it through adj_common.glsl and reads the block as `pc`.
//
// Tensor layouts travel beside the push constants in a small "meta" storage buffer (binding 0):
//   meta[0 .. 7]                      the iteration shape (pc.rank dimensions)
//   meta[8 + k*9]                     operand k's offset (elements, within its binding)
//   meta[8 + k*9 + 1 .. 8 + k*9 + 8]  operand k's strides over the iteration shape
// Operand 0 is the output, operands 1.. are the inputs in binding order (binding 1 + k).
#ifndef ADJ_PUSH_H
#define ADJ_PUSH_H

#ifdef __cplusplus
#define ADJ_PUSH_BEGIN(Name) struct Name {
#define ADJ_PUSH_END(Name) };
#else
#define ADJ_PUSH_BEGIN(Name) layout(push_constant) uniform Name {
#define ADJ_PUSH_END(Name) } pc;
#endif

ADJ_PUSH_BEGIN(AdjPush)
    uint n;       // work items: output elements, rows of a reduction, or batch count of a GEMM
    uint rank;    // dimensions of the iteration shape in meta
    uint split;   // reductions: how many leading dimensions index the output (the rest are reduced)
    uint inner;   // reductions: elements per reduced row; GEMM: K
    uint m;       // GEMM rows; conv/pool: packed sizes (see the shader)
    uint nn;      // GEMM columns
    uint flags;   // shader-specific bits (GEMM: bit 0 = has C)
    uint p0;      // shader-specific integers (conv/pool geometry)
    uint p1;
    uint p2;
    uint p3;
    uint p4;
    uint p5;
    uint p6;
    uint p7;
    uint p8;
    float alpha;  // scale factors and constants (GEMM alpha/beta, mean's 1/K, fill value, epsilon)
    float beta;
    float value;
    uint p9;
    uint p10;
    uint p11;
ADJ_PUSH_END(AdjPush)

#define ADJ_META_RANK 8
#define ADJ_META_OPERAND_WORDS 9
#define ADJ_META_OPERAND(k) (8 + (k) * 9)

#endif
