#include "runtime/cpu/gemm_packed.h"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define ADJ_GEMM_X86 1
#endif

namespace adj::cpu {
namespace {

constexpr std::int64_t MR = 6, NR = 16;
constexpr std::int64_t KC = 256, MC = 72, NC = 512;

/// Packs rows [0, mc) x cols [0, kc) of A into MR-row panels, k-major, zero-padded.
void packA(std::int64_t mc, std::int64_t kc, const float* A, std::int64_t lda, float* out) {
    for (std::int64_t i0 = 0; i0 < mc; i0 += MR) {
        const std::int64_t mr = std::min(MR, mc - i0);
        for (std::int64_t k = 0; k < kc; ++k) {
            for (std::int64_t i = 0; i < mr; ++i) out[i] = A[(i0 + i) * lda + k];
            for (std::int64_t i = mr; i < MR; ++i) out[i] = 0.f;
            out += MR;
        }
    }
}

/// Packs rows [0, kc) x cols [0, nc) of B into NR-column panels, k-major, zero-padded.
void packB(std::int64_t kc, std::int64_t nc, const float* B, std::int64_t ldb, float* out) {
    for (std::int64_t j0 = 0; j0 < nc; j0 += NR) {
        const std::int64_t nr = std::min(NR, nc - j0);
        for (std::int64_t k = 0; k < kc; ++k) {
            const float* b = B + k * ldb + j0;
            std::memcpy(out, b, std::size_t(nr) * sizeof(float));
            for (std::int64_t j = nr; j < NR; ++j) out[j] = 0.f;
            out += NR;
        }
    }
}

/// acc[MR][NR] = sum_k a[k][i] * b[k][j]  (overwrites acc)
void microPortable(std::int64_t kc, const float* a, const float* b, float* acc) {
    float c[MR][NR] = {};
    for (std::int64_t k = 0; k < kc; ++k) {
        for (std::int64_t i = 0; i < MR; ++i) {
            const float av = a[i];
            for (std::int64_t j = 0; j < NR; ++j) c[i][j] += av * b[j];
        }
        a += MR;
        b += NR;
    }
    std::memcpy(acc, c, sizeof c);
}

#ifdef ADJ_GEMM_X86
__attribute__((target("avx2,fma"))) void microAvx2(std::int64_t kc, const float* a, const float* b, float* acc) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (std::int64_t k = 0; k < kc; ++k) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 av = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(av, b0, c00), c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(av, b0, c10), c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(av, b0, c20), c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(av, b0, c30), c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(av, b0, c40), c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(av, b0, c50), c51 = _mm256_fmadd_ps(av, b1, c51);
        a += MR;
        b += NR;
    }
    _mm256_storeu_ps(acc + 0, c00), _mm256_storeu_ps(acc + 8, c01);
    _mm256_storeu_ps(acc + 16, c10), _mm256_storeu_ps(acc + 24, c11);
    _mm256_storeu_ps(acc + 32, c20), _mm256_storeu_ps(acc + 40, c21);
    _mm256_storeu_ps(acc + 48, c30), _mm256_storeu_ps(acc + 56, c31);
    _mm256_storeu_ps(acc + 64, c40), _mm256_storeu_ps(acc + 72, c41);
    _mm256_storeu_ps(acc + 80, c50), _mm256_storeu_ps(acc + 88, c51);
}
#endif

using MicroKernel = void (*)(std::int64_t, const float*, const float*, float*);

MicroKernel chooseKernel() {
#ifdef ADJ_GEMM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return microAvx2;
#endif
    return microPortable;
}

MicroKernel kernel() {
    static const MicroKernel k = chooseKernel();
    return k;
}

/// C[ic.., jc..] (mc x nc) = A[ic.., :] B[:, jc..], all K, with thread-local packing buffers.
void tile(std::int64_t mc, std::int64_t nc, std::int64_t K, const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float* C,
          std::int64_t ldc, MicroKernel micro) {
    thread_local std::vector<float> pa, pb;
    pa.resize(std::size_t(((mc + MR - 1) / MR) * MR * KC));
    pb.resize(std::size_t(((nc + NR - 1) / NR) * NR * KC));  // nc <= NC
    alignas(64) float acc[MR * NR];
    for (std::int64_t i = 0; i < mc; ++i) std::fill_n(C + i * ldc, nc, 0.f);
    for (std::int64_t k0 = 0; k0 < K; k0 += KC) {
        const std::int64_t kc = std::min(KC, K - k0);
        packA(mc, kc, A + k0, lda, pa.data());
        packB(kc, nc, B + k0 * ldb, ldb, pb.data());
        for (std::int64_t j0 = 0; j0 < nc; j0 += NR) {
            const std::int64_t nr = std::min(NR, nc - j0);
            const float* bp = pb.data() + (j0 / NR) * NR * kc;
            for (std::int64_t i0 = 0; i0 < mc; i0 += MR) {
                const std::int64_t mr = std::min(MR, mc - i0);
                micro(kc, pa.data() + (i0 / MR) * MR * kc, bp, acc);
                for (std::int64_t i = 0; i < mr; ++i) {
                    float* c = C + (i0 + i) * ldc + j0;
                    const float* s = acc + i * NR;
                    for (std::int64_t j = 0; j < nr; ++j) c[j] += s[j];
                }
            }
        }
    }
}

}  // namespace

std::string gemmPackedKernelName() { return kernel() == microPortable ? "portable" : "avx2+fma"; }

void gemmPacked(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float* C,
                std::int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (std::int64_t i = 0; i < M; ++i) std::fill_n(C + i * ldc, N, 0.f);
        return;
    }
    const MicroKernel micro = kernel();
    const std::int64_t mBlocks = (M + MC - 1) / MC;
    // narrower column blocks when there are too few tiles to keep every thread busy
    const std::int64_t wanted = 2 * std::int64_t(tbb::this_task_arena::max_concurrency());
    std::int64_t nc = NC;
    if (mBlocks * ((N + nc - 1) / nc) < wanted) {
        const std::int64_t perRow = (wanted + mBlocks - 1) / mBlocks;
        nc = std::max(NR, ((N + perRow - 1) / perRow + NR - 1) / NR * NR);
    }
    const std::int64_t nBlocks = (N + nc - 1) / nc;
    auto run = [&](std::int64_t t) {
        const std::int64_t ib = t / nBlocks, jb = t % nBlocks;
        const std::int64_t i0 = ib * MC, j0 = jb * nc;
        tile(std::min(MC, M - i0), std::min(nc, N - j0), K, A + i0 * lda, lda, B + j0, ldb, C + i0 * ldc + j0, ldc, micro);
    };
    const std::int64_t tasks = mBlocks * nBlocks;
    if (tasks == 1 || M * N * K < 32 * 32 * 32) {
        for (std::int64_t t = 0; t < tasks; ++t) run(t);
        return;
    }
    tbb::parallel_for(std::int64_t(0), tasks, [&](std::int64_t t) { run(t); });
}

}  // namespace adj::cpu
