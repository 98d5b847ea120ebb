#pragma once
// The scalar functions that ops.def's elementwise expressions are written with (f_exp, f_log, ...).
// shaders/adj_math.glsl defines the same functions with the same names for the GPU, so that one
// expression text compiles in C++ (the CPU kernels, the fused-group interpreter, constant folding)
// and in GLSL (the elementwise shader and generated fusion kernels).
//
// exp, tanh and sigmoid are written without branches or library calls (Cephes' single-precision
// algorithms: exp within 1 ulp of the correctly rounded result, tanh 1.5, sigmoid 3, subnormals
// included, with inf, 0, -0 and NaN where libm gives them), so that the compiler vectorizes the kernels' loops over them.
// With libm's scalar calls an elementwise chain was bound by these functions, not by memory, and
// fusing it (which saves memory traffic) hardly paid.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace adj {

inline float f_abs(float x) { return std::fabs(x); }
namespace detail {
/// The largest float whose e^x is finite.
constexpr float kExpMax = 88.72283172607421875f;
/// e^x for x in [-104, kExpMax] (clamped): x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6
/// polynomial, 2^n (n from -150 to 128) as two normal powers of two, so that results near the
/// top stay finite and those below 2^-126 come out subnormal as they should.
inline float expCore(float x) {
    x = x < -104.f ? -104.f : (x > kExpMax ? kExpMax : x);
    // round to nearest by the 1.5 * 2^23 trick (|x log2 e| < 2^22): no library call, so it vectorizes
    const float n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    const float er = p * r * r + r + 1.f;
    // 2^n in two factors (n can be 128 at the top of the range, beyond one float's exponent)
    const std::int32_t half = std::int32_t(n) / 2;
    const std::int32_t bits1 = (half + 127) << 23, bits2 = (std::int32_t(n) - half + 127) << 23;
    float s1, s2;
    std::memcpy(&s1, &bits1, 4);
    std::memcpy(&s2, &bits2, 4);
    return er * s1 * s2;
}
}  // namespace detail

inline float f_exp(float x) {
    const float e = detail::expCore(x);
    return x != x ? x : (x > detail::kExpMax ? INFINITY : (x < -104.f ? 0.f : e));
}
inline float f_log(float x) { return std::log(x); }
inline float f_sqrt(float x) { return std::sqrt(x); }
inline float f_sin(float x) { return std::sin(x); }
inline float f_cos(float x) { return std::cos(x); }
inline float f_asin(float x) { return std::asin(x); }
inline float f_acos(float x) { return std::acos(x); }
inline float f_atan(float x) { return std::atan(x); }
/// tanh: an odd polynomial below |x| = 0.625 (where 1 - 2/(e^2x + 1) would cancel), else that form.
inline float f_tanh(float x) {
    const float ax = std::fabs(x);
    const float z = x * x;
    float p = -5.70498872745E-3f;
    p = p * z + 2.06390887954E-2f;
    p = p * z - 5.37397155531E-2f;
    p = p * z + 1.33314422036E-1f;
    p = p * z - 3.33332819422E-1f;
    const float small = ax + ax * z * p;
    const float large = 1.f - 2.f / (detail::expCore(2.f * (ax > 44.f ? 44.f : ax)) + 1.f);
    return x != x ? x : std::copysign(ax < 0.625f ? small : large, x);
}
/// 1 / (1 + e^-x), from e^-|x| so that nothing overflows.
inline float f_sigmoid(float x) {
    const float e = detail::expCore(-std::fabs(x));
    const float s = 1.f / (1.f + e);
    return x != x ? x : (x >= 0.f ? s : e * s);
}
inline float f_erf(float x) { return std::erf(x); }
inline float f_pow(float a, float b) { return std::pow(a, b); }
/// The larger (smaller) of a and b; NaN when either is NaN.
inline float f_max(float a, float b) { return (a != a || b != b) ? NAN : (a > b ? a : b); }
inline float f_min(float a, float b) { return (a != a || b != b) ? NAN : (a < b ? a : b); }
/// x clamped to [lo, hi]; NaN stays NaN.
inline float f_clamp(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }
/// e^x - 1, accurate near 0: a Taylor polynomial for |x| < 0.5 (its truncation below 2 ulp), e^x - 1
/// beyond (no cancellation there). Branch-free, so loops over it vectorize.
inline float f_expm1(float x) {
    float p = 1.f / 5040.f;
    p = p * x + 1.f / 720.f;
    p = p * x + 1.f / 120.f;
    p = p * x + 1.f / 24.f;
    p = p * x + 1.f / 6.f;
    p = p * x + 0.5f;
    const float small = x + x * x * p;
    return std::fabs(x) < 0.5f ? small : f_exp(x) - 1.f;
}
/// log(1 + x), accurate near 0 (Kahan: scaled by x / ((1 + x) - 1)).
inline float f_log1p(float x) {
    const float u = 1.f + x;
    return u == 1.f ? x : (u == INFINITY ? u : std::log(u) * x / (u - 1.f));
}
inline float f_floor(float x) { return std::floor(x); }
inline float f_ceil(float x) { return std::ceil(x); }
/// Rounds half to even (as ONNX's Round and torch.round): the default rounding mode, which the
/// engine never changes.
inline float f_round(float x) { return std::nearbyint(x); }

// The same functions in double, for f64 values (ir/element_types.h): the library's own, to double
// precision. The expressions of ops.def compile for both (float literals widen exactly).
inline double f_abs(double x) { return std::fabs(x); }
inline double f_exp(double x) { return std::exp(x); }
inline double f_log(double x) { return std::log(x); }
inline double f_sqrt(double x) { return std::sqrt(x); }
inline double f_sin(double x) { return std::sin(x); }
inline double f_cos(double x) { return std::cos(x); }
inline double f_asin(double x) { return std::asin(x); }
inline double f_acos(double x) { return std::acos(x); }
inline double f_atan(double x) { return std::atan(x); }
inline double f_tanh(double x) { return std::tanh(x); }
inline double f_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double f_erf(double x) { return std::erf(x); }
inline double f_pow(double a, double b) { return std::pow(a, b); }
inline double f_max(double a, double b) { return (a != a || b != b) ? double(NAN) : (a > b ? a : b); }
inline double f_min(double a, double b) { return (a != a || b != b) ? double(NAN) : (a < b ? a : b); }
inline double f_clamp(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }
inline double f_expm1(double x) { return std::expm1(x); }
inline double f_log1p(double x) { return std::log1p(x); }
inline double f_floor(double x) { return std::floor(x); }
inline double f_ceil(double x) { return std::ceil(x); }
inline double f_round(double x) { return std::nearbyint(x); }
// An expression mixes a double value with a float literal (f_max(a, 0.f)): neither (float, float)
// nor (double, double) is the better match for (double, float) in C++'s overload rules, so these
// take any mix that holds a double, exactly (a float widens to double without loss).
template <class A, class B>
    requires(std::is_same_v<A, double> != std::is_same_v<B, double>)
inline double f_max(A a, B b) { return f_max(double(a), double(b)); }
template <class A, class B>
    requires(std::is_same_v<A, double> != std::is_same_v<B, double>)
inline double f_min(A a, B b) { return f_min(double(a), double(b)); }
template <class A, class B>
    requires(std::is_same_v<A, double> != std::is_same_v<B, double>)
inline double f_pow(A a, B b) { return f_pow(double(a), double(b)); }

}  // namespace adj
