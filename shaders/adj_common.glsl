// Shared by every Adjoint compute shader and by the generated fusion kernels: the push constants,
// the layout buffer (meta), strided indexing, and the scalar functions of the elementwise ops with
// the names of engine/runtime/scalar_functions.h.
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

float adj_neg(float x) { return -x; }
float adj_abs(float x) { return abs(x); }
float adj_exp(float x) { return exp(x); }
float adj_log(float x) { return x < 0.0 ? uintBitsToFloat(0x7fc00000u) : (x == 0.0 ? uintBitsToFloat(0xff800000u) : log(x)); }
float adj_sqrt(float x) { return x < 0.0 ? uintBitsToFloat(0x7fc00000u) : sqrt(x); }
float adj_sin(float x) { return sin(x); }
float adj_cos(float x) { return cos(x); }
float adj_tanh(float x) {
    if (isnan(x)) return x;
    if (abs(x) > 9.0) return sign(x);
    if (abs(x) < 0.004) return x * (1.0 - x * x / 3.0);
    float e = exp(2.0 * x);
    return (e - 1.0) / (e + 1.0);
}
float adj_sigmoid(float x) { return x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }
float adj_relu(float x) { return x > 0.0 ? x : 0.0; }
// erf by Abramowitz and Stegun 7.1.26 refined: absolute error below 1.5e-7.
float adj_erf(float x) {
    float ax = abs(x);
    float t = 1.0 / (1.0 + 0.3275911 * ax);
    float y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-ax * ax);
    return x < 0.0 ? -y : y;
}
float adj_gelu(float x) { return 0.5 * x * (1.0 + adj_erf(x * 0.70710678118654752)); }

float adj_add(float a, float b) { return a + b; }
float adj_sub(float a, float b) { return a - b; }
float adj_mul(float a, float b) { return a * b; }
float adj_div(float a, float b) { return a / b; }
float adj_pow(float a, float b) {
    if (b == 0.0) return 1.0;
    if (a == 0.0) return b > 0.0 ? 0.0 : uintBitsToFloat(0x7f800000u);
    if (a > 0.0) return exp2(b * log2(a));
    if (fract(b) != 0.0) return uintBitsToFloat(0x7fc00000u);
    float r = exp2(b * log2(-a));
    return mod(abs(b), 2.0) == 1.0 ? -r : r;
}
float adj_maximum(float a, float b) { return (isnan(a) || isnan(b)) ? uintBitsToFloat(0x7fc00000u) : (a > b ? a : b); }
float adj_minimum(float a, float b) { return (isnan(a) || isnan(b)) ? uintBitsToFloat(0x7fc00000u) : (a < b ? a : b); }
float adj_where(float c, float a, float b) { return c != 0.0 ? a : b; }
float adj_greater(float a, float b) { return a > b ? 1.0 : 0.0; }
float adj_equal(float a, float b) { return a == b ? 1.0 : 0.0; }
float adj_sign(float x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }
// not an op of the table: batchnorm's per-channel affine step, y = x * a + b
float adj_muladd(float x, float a, float b) { return x * a + b; }

#endif
