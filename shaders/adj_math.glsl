// The scalar functions that engine/ir/ops.def's elementwise expressions are written with, for the
// GPU: the twins of engine/runtime/scalar_math.h, with the same names and meaning (NaN and the
// infinities where the C++ versions give them). Included by the generated adj_elementwise.glsl.
#ifndef ADJ_MATH_GLSL
#define ADJ_MATH_GLSL

float f_abs(float x) { return abs(x); }
float f_exp(float x) { return exp(x); }
float f_log(float x) { return x < 0.0 ? uintBitsToFloat(0x7fc00000u) : (x == 0.0 ? uintBitsToFloat(0xff800000u) : log(x)); }
float f_sqrt(float x) { return x < 0.0 ? uintBitsToFloat(0x7fc00000u) : sqrt(x); }
float f_sin(float x) { return sin(x); }
float f_cos(float x) { return cos(x); }
// asin, acos and atan by Cephes' single-precision polynomials (within 2 ulp), since GLSL's
// built-ins are allowed far less precision (lavapipe's are off in the fourth digit)
float adj_asin_core(float a) {  // asin(a) for 0 <= a <= 1
    float z, s;
    if (a > 0.5) { z = 0.5 * (1.0 - a); s = sqrt(z); } else { z = a * a; s = a; }
    float p = ((((4.2163199048e-2 * z + 2.4181311049e-2) * z + 4.5470025998e-2) * z + 7.4953002686e-2) * z + 1.6666752422e-1) * z * s + s;
    return a > 0.5 ? 1.5707963267948966 - 2.0 * p : p;
}
float f_asin(float x) {
    if (abs(x) > 1.0) return uintBitsToFloat(0x7fc00000u);  // NaN
    return sign(x) * adj_asin_core(abs(x));
}
float f_acos(float x) {
    if (abs(x) > 1.0) return uintBitsToFloat(0x7fc00000u);
    if (x < -0.5) return 3.14159265358979 - 2.0 * adj_asin_core(sqrt(0.5 * (1.0 + x)));
    if (x > 0.5) return 2.0 * adj_asin_core(sqrt(0.5 * (1.0 - x)));
    return 1.5707963267948966 - f_asin(x);
}
float f_atan(float x) {
    float a = abs(x), y0 = 0.0;
    if (a > 2.414213562373095) { y0 = 1.5707963267948966; a = -1.0 / a; }
    else if (a > 0.4142135623730950) { y0 = 0.7853981633974483; a = (a - 1.0) / (a + 1.0); }
    float z = a * a;
    float y = (((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * a + a;
    return sign(x) * (y0 + y);
}
float f_tanh(float x) {
    if (isnan(x)) return x;
    if (abs(x) > 9.0) return sign(x);
    if (abs(x) < 0.004) return x * (1.0 - x * x / 3.0);
    float e = exp(2.0 * x);
    return (e - 1.0) / (e + 1.0);
}
float f_sigmoid(float x) { return x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }
// erf by Abramowitz and Stegun 7.1.26 refined: absolute error below 1.5e-7.
float f_erf(float x) {
    float ax = abs(x);
    float t = 1.0 / (1.0 + 0.3275911 * ax);
    float y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-ax * ax);
    return x < 0.0 ? -y : y;
}

float f_pow(float a, float b) {
    if (b == 0.0) return 1.0;
    if (a == 0.0) return b > 0.0 ? 0.0 : uintBitsToFloat(0x7f800000u);
    if (a > 0.0) return exp2(b * log2(a));
    if (fract(b) != 0.0) return uintBitsToFloat(0x7fc00000u);
    float r = exp2(b * log2(-a));
    return mod(abs(b), 2.0) == 1.0 ? -r : r;
}
float f_max(float a, float b) { return (isnan(a) || isnan(b)) ? uintBitsToFloat(0x7fc00000u) : (a > b ? a : b); }
float f_min(float a, float b) { return (isnan(a) || isnan(b)) ? uintBitsToFloat(0x7fc00000u) : (a < b ? a : b); }
float f_clamp(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }
// e^x - 1, accurate near 0: a Taylor polynomial for |x| < 0.5, e^x - 1 beyond.
float f_expm1(float x) {
    float p = 1.0 / 5040.0;
    p = p * x + 1.0 / 720.0;
    p = p * x + 1.0 / 120.0;
    p = p * x + 1.0 / 24.0;
    p = p * x + 1.0 / 6.0;
    p = p * x + 0.5;
    return abs(x) < 0.5 ? x + x * x * p : exp(x) - 1.0;
}
// log(1 + x), accurate near 0 (scaled by x / ((1 + x) - 1)).
float f_log1p(float x) {
    float u = 1.0 + x;
    return u == 1.0 ? x : (isinf(u) ? u : f_log(u) * x / (u - 1.0));
}
float f_floor(float x) { return floor(x); }
float f_ceil(float x) { return ceil(x); }
// half to even, as the C++ twin (and ONNX's Round)
float f_round(float x) { return roundEven(x); }

#endif
