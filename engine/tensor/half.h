#pragma once
// The 16-bit float types as stored: IEEE half precision (f16: 1 sign, 5 exponent, 10 fraction
// bits) and bfloat16 (bf16: the top 16 bits of a float32). Converting to float is exact;
// converting from float rounds to nearest, ties to even (as ONNX Runtime, PyTorch and NumPy do),
// with overflow to infinity, subnormals kept and NaN staying NaN.
#include <bit>
#include <cstdint>

namespace adj {

struct Half {
    std::uint16_t bits = 0;
};
struct BFloat16 {
    std::uint16_t bits = 0;
};

inline float toFloat(BFloat16 h) { return std::bit_cast<float>(std::uint32_t(h.bits) << 16); }

inline BFloat16 toBFloat16(float f) {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return BFloat16{std::uint16_t((u >> 16) | 0x40u)};  // NaN (quiet)
    const std::uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
    return BFloat16{std::uint16_t((u + rounding) >> 16)};
}

inline float toFloat(Half h) {
    const std::uint32_t sign = std::uint32_t(h.bits & 0x8000u) << 16;
    const std::uint32_t exp = (h.bits >> 10) & 0x1fu, frac = h.bits & 0x3ffu;
    if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (frac << 13));  // inf, NaN
    if (exp == 0) {
        // zero or subnormal: frac * 2^-24, exact in float
        const float v = float(frac) * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (frac << 13));
}

inline Half toHalf(float f) {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    const std::uint16_t sign = std::uint16_t((u >> 16) & 0x8000u);
    const std::uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return Half{std::uint16_t(sign | 0x7e00u)};     // NaN
    if (a >= 0x477ff000u) return Half{std::uint16_t(sign | 0x7c00u)};    // rounds beyond 65504: inf
    if (a < 0x38800000u) {
        // below the smallest normal half (2^-14): a subnormal, in units of 2^-24, rounded to even
        const float v = std::bit_cast<float>(a) * 16777216.f;  // exact: a power-of-two scaling
        const auto q = std::uint32_t(v);
        const float rest = v - float(q);
        const std::uint32_t r = q + ((rest > 0.5f || (rest == 0.5f && (q & 1u))) ? 1u : 0u);
        return Half{std::uint16_t(sign | r)};  // r = 1024 is the smallest normal, as it should be
    }
    // normal: drop 13 fraction bits, rounding to nearest even; a carry moves into the exponent
    const std::uint32_t rebased = a - (112u << 23);
    const std::uint32_t r = (rebased + 0xfffu + ((rebased >> 13) & 1u)) >> 13;
    return Half{std::uint16_t(sign | r)};
}

}  // namespace adj
