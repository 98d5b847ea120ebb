#pragma once
// A packed, cache-blocked single-precision GEMM (the BLIS/GotoBLAS structure): C = A B for
// row-major A [M, K], B [K, N], C [M, N] with leading dimensions. B is packed into KC x 16 column
// panels and A into 6 x KC row panels; a 6x16 register-tiled micro-kernel does the arithmetic. The
// micro-kernel is chosen at run time: AVX2+FMA when the CPU has them (compiled with a target
// attribute, so the build needs no -march flag), else portable C++. Work is split over
// (row block, column block) tiles with TBB. Deterministic: each element's sum runs over k in the
// same blocked order whatever the thread count.
#include <cstdint>
#include <string>

namespace adj::cpu {

void gemmPacked(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float* C,
                std::int64_t ldc);

/// "avx2+fma" or "portable": the micro-kernel gemmPacked uses on this CPU.
std::string gemmPackedKernelName();

}  // namespace adj::cpu
