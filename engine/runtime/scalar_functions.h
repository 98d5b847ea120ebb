#pragma once
// Scalar functions of the elementwise ops. The GLSL shaders use the same names (adj_exp, ...),
// so that CPU kernels, fused kernels and shaders compute the same thing.
#include <cmath>

namespace adj {

inline float adj_neg(float x) { return -x; }
inline float adj_abs(float x) { return std::fabs(x); }
inline float adj_exp(float x) { return std::exp(x); }
inline float adj_log(float x) { return std::log(x); }
inline float adj_sqrt(float x) { return std::sqrt(x); }
inline float adj_sin(float x) { return std::sin(x); }
inline float adj_cos(float x) { return std::cos(x); }
inline float adj_tanh(float x) { return std::tanh(x); }
inline float adj_sigmoid(float x) { return x >= 0.f ? 1.f / (1.f + std::exp(-x)) : std::exp(x) / (1.f + std::exp(x)); }
inline float adj_relu(float x) { return x > 0.f ? x : 0.f; }
inline float adj_erf(float x) { return std::erf(x); }
inline float adj_gelu(float x) { return 0.5f * x * (1.f + std::erf(x * 0.70710678118654752f)); }

inline float adj_add(float a, float b) { return a + b; }
inline float adj_sub(float a, float b) { return a - b; }
inline float adj_mul(float a, float b) { return a * b; }
inline float adj_div(float a, float b) { return a / b; }
inline float adj_pow(float a, float b) { return std::pow(a, b); }
inline float adj_maximum(float a, float b) { return (a != a || b != b) ? NAN : (a > b ? a : b); }
inline float adj_minimum(float a, float b) { return (a != a || b != b) ? NAN : (a < b ? a : b); }
inline float adj_where(float c, float a, float b) { return c != 0.f ? a : b; }
inline float adj_greater(float a, float b) { return a > b ? 1.f : 0.f; }
inline float adj_equal(float a, float b) { return a == b ? 1.f : 0.f; }
inline float adj_sign(float x) { return x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f); }

}  // namespace adj
