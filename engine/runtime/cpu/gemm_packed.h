#pragma once
// A packed, cache-blocked single-precision GEMM (the BLIS/GotoBLAS structure): C = op(A) op(B)
// with A [M, K] and B [K, N] given by element strides, so transposed and other strided operands
// are read by the packing routines and never copied first. B is packed into KC x NR column panels
// and A into MR x KC row panels; an MR x NR register-tiled micro-kernel does the arithmetic.
//
// The micro-kernel is chosen at run time (compiled with target attributes, so the build needs no
// -march flag and the engine still runs on older CPUs): AVX-512 (8 x 32) when the CPU has
// avx512f, else AVX2+FMA (6 x 16), else portable C++ (6 x 16). Products with N <= 16 (the MLP's
// 10-class layer and its gradients) use "avx512-narrow" (A read in place, masked stores, no
// packing of A) or the 16-wide kernel, which waste less.
//
// Work is split over (row block, column block) tiles with TBB; small products run serially.
// Deterministic: each element's sum runs over k in the same blocked order whatever the thread
// count.
#include <cstdint>
#include <string>
#include <vector>

namespace adj::cpu {

/// C = A B, row-major with leading dimensions (unit column strides). Overwrites C.
void gemmPacked(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float* C,
                std::int64_t ldc);

/// C = A B where A[i, k] = A[i * rsA + k * csA] and B[k, j] = B[k * rsB + j * csB] (any strides,
/// including transposed views); C is row-major with leading dimension ldc and is overwritten.
/// `parallel` = false keeps the call on the calling thread (for callers that parallelise over
/// many small products themselves).
void gemmStrided(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t rsA, std::int64_t csA, const float* B,
                 std::int64_t rsB, std::int64_t csB, float* C, std::int64_t ldc, bool parallel = true);

/// The micro-kernel gemmPacked uses for wide products on this CPU: "avx512", "avx2+fma" or
/// "portable".
std::string gemmPackedKernelName();

/// Every micro-kernel this CPU can run (for tests: each must give the same answers);
/// "avx512-narrow" accepts N <= 16 only.
std::vector<std::string> gemmAvailableKernels();

/// gemmStrided with one named micro-kernel for every shape (tests); throws std::invalid_argument
/// when the name is unknown or the CPU lacks it.
void gemmStridedWith(const std::string& kernel, std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t rsA,
                     std::int64_t csA, const float* B, std::int64_t rsB, std::int64_t csB, float* C, std::int64_t ldc);

}  // namespace adj::cpu
