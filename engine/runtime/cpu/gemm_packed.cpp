#include "runtime/cpu/gemm_packed.h"

#include "base/parallel.h"
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define ADJ_GEMM_X86 1
#endif

namespace adj::cpu {
namespace {

constexpr std::int64_t KC = 256, MC = 128, NC = 512;
constexpr std::int64_t kMaxMR = 8, kMaxNR = 32;

/// c[MR x NR] (row stride ldc) = (accumulate ? c : 0) + sum_k a[k][i] * b[k][j], on packed panels.
using MicroFn = void (*)(std::int64_t kc, const float* a, const float* b, float* c, std::int64_t ldc, bool accumulate);

struct Micro {
    const char* name;
    std::int64_t mr, nr;
    MicroFn fn;
};

template <int MR, int NR>
void microPortable(std::int64_t kc, const float* a, const float* b, float* c, std::int64_t ldc, bool accumulate) {
    float t[MR][NR] = {};
    for (std::int64_t k = 0; k < kc; ++k) {
        for (int i = 0; i < MR; ++i) {
            const float av = a[i];
            for (int j = 0; j < NR; ++j) t[i][j] += av * b[j];
        }
        a += MR;
        b += NR;
    }
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) c[i * ldc + j] = accumulate ? c[i * ldc + j] + t[i][j] : t[i][j];
}

#ifdef ADJ_GEMM_X86
__attribute__((target("avx2,fma"))) void microAvx2(std::int64_t kc, const float* a, const float* b, float* c, std::int64_t ldc,
                                                   bool accumulate) {
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
        a += 6;
        b += 16;
    }
// (a macro: a lambda would not inherit the function's target attribute)
#define put(p, v) _mm256_storeu_ps(p, accumulate ? _mm256_add_ps(_mm256_loadu_ps(p), v) : v)
    put(c, c00), put(c + 8, c01), c += ldc;
    put(c, c10), put(c + 8, c11), c += ldc;
    put(c, c20), put(c + 8, c21), c += ldc;
    put(c, c30), put(c + 8, c31), c += ldc;
    put(c, c40), put(c + 8, c41), c += ldc;
    put(c, c50), put(c + 8, c51);
#undef put
}

#define ADJ_AVX512_ROW(I)                                   \
    av = _mm512_set1_ps(a[I]);                              \
    c##I##0 = _mm512_fmadd_ps(av, b0, c##I##0);             \
    c##I##1 = _mm512_fmadd_ps(av, b1, c##I##1);

#define ADJ_AVX512_PUT(I)                                   \
    put(c + (I) * ldc, c##I##0), put(c + (I) * ldc + 16, c##I##1);

__attribute__((target("avx512f"))) void microAvx512(std::int64_t kc, const float* a, const float* b, float* c, std::int64_t ldc,
                                                    bool accumulate) {
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
    for (std::int64_t k = 0; k < kc; ++k) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        __m512 av;
        ADJ_AVX512_ROW(0)
        ADJ_AVX512_ROW(1)
        ADJ_AVX512_ROW(2)
        ADJ_AVX512_ROW(3)
        ADJ_AVX512_ROW(4)
        ADJ_AVX512_ROW(5)
        ADJ_AVX512_ROW(6)
        ADJ_AVX512_ROW(7)
        a += 8;
        b += 32;
    }
#define put(p, v) _mm512_storeu_ps(p, accumulate ? _mm512_add_ps(_mm512_loadu_ps(p), v) : v)
    ADJ_AVX512_PUT(0)
    ADJ_AVX512_PUT(1)
    ADJ_AVX512_PUT(2)
    ADJ_AVX512_PUT(3)
    ADJ_AVX512_PUT(4)
    ADJ_AVX512_PUT(5)
    ADJ_AVX512_PUT(6)
    ADJ_AVX512_PUT(7)
#undef put
}
#undef ADJ_AVX512_ROW
#undef ADJ_AVX512_PUT

/// Products with N <= 16 (a classifier's last layer and its gradients): B (K x N) packed once into
/// K rows of 16 (zero-padded), A read in place, rows [i0, i1) of C written with masked stores.
/// No A packing and no edge buffers: at these sizes those cost more than the arithmetic.
__attribute__((target("avx512f"))) void narrowAvx512(std::int64_t i0, std::int64_t i1, std::int64_t N, std::int64_t K, const float* A,
                                                     std::int64_t rs, std::int64_t cs, const float* bp, float* C, std::int64_t ldc) {
    const __mmask16 mask = __mmask16((1u << N) - 1u);
    std::int64_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps(), c3 = _mm512_setzero_ps();
        __m512 c4 = _mm512_setzero_ps(), c5 = _mm512_setzero_ps(), c6 = _mm512_setzero_ps(), c7 = _mm512_setzero_ps();
        const float* a = A + i * rs;
        for (std::int64_t k = 0; k < K; ++k, a += cs) {
            const __m512 b = _mm512_loadu_ps(bp + k * 16);
            c0 = _mm512_fmadd_ps(_mm512_set1_ps(a[0]), b, c0);
            c1 = _mm512_fmadd_ps(_mm512_set1_ps(a[rs]), b, c1);
            c2 = _mm512_fmadd_ps(_mm512_set1_ps(a[2 * rs]), b, c2);
            c3 = _mm512_fmadd_ps(_mm512_set1_ps(a[3 * rs]), b, c3);
            c4 = _mm512_fmadd_ps(_mm512_set1_ps(a[4 * rs]), b, c4);
            c5 = _mm512_fmadd_ps(_mm512_set1_ps(a[5 * rs]), b, c5);
            c6 = _mm512_fmadd_ps(_mm512_set1_ps(a[6 * rs]), b, c6);
            c7 = _mm512_fmadd_ps(_mm512_set1_ps(a[7 * rs]), b, c7);
        }
        float* c = C + i * ldc;
        _mm512_mask_storeu_ps(c, mask, c0), _mm512_mask_storeu_ps(c + ldc, mask, c1);
        _mm512_mask_storeu_ps(c + 2 * ldc, mask, c2), _mm512_mask_storeu_ps(c + 3 * ldc, mask, c3);
        _mm512_mask_storeu_ps(c + 4 * ldc, mask, c4), _mm512_mask_storeu_ps(c + 5 * ldc, mask, c5);
        _mm512_mask_storeu_ps(c + 6 * ldc, mask, c6), _mm512_mask_storeu_ps(c + 7 * ldc, mask, c7);
    }
    for (; i < i1; ++i) {
        __m512 c0 = _mm512_setzero_ps();
        const float* a = A + i * rs;
        for (std::int64_t k = 0; k < K; ++k) c0 = _mm512_fmadd_ps(_mm512_set1_ps(a[k * cs]), _mm512_loadu_ps(bp + k * 16), c0);
        _mm512_mask_storeu_ps(C + i * ldc, mask, c0);
    }
}
#endif

const Micro kPortable{"portable", 6, 16, microPortable<6, 16>};
#ifdef ADJ_GEMM_X86
const Micro kAvx2{"avx2+fma", 6, 16, microAvx2};
const Micro kAvx512{"avx512", 8, 32, microAvx512};
const Micro kNarrow512{"avx512-narrow", 8, 16, nullptr};  // N <= 16 only: run() calls narrowAvx512
#endif

bool cpuHas(const Micro& m) {
#ifdef ADJ_GEMM_X86
    __builtin_cpu_init();
    if (&m == &kAvx512 || &m == &kNarrow512) return __builtin_cpu_supports("avx512f");
    if (&m == &kAvx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return &m == &kPortable;
}

std::vector<const Micro*> available() {
    std::vector<const Micro*> r;
#ifdef ADJ_GEMM_X86
    if (cpuHas(kAvx512)) r.push_back(&kAvx512);
    if (cpuHas(kNarrow512)) r.push_back(&kNarrow512);
    if (cpuHas(kAvx2)) r.push_back(&kAvx2);
#endif
    r.push_back(&kPortable);
    return r;
}

/// The kernels used by default: the widest for wide products, a 16-wide one for N <= 16.
struct Choice {
    const Micro* wide;
    const Micro* narrow;
};

const Choice& choice() {
    static const Choice c = [] {
        const auto av = available();
        const Micro* narrow = av.front();
        for (const Micro* m : av)
            if (m->nr == 16) {  // the first 16-wide: avx512-narrow, else avx2+fma, else portable
                narrow = m;
                break;
            }
        return Choice{av.front(), narrow};
    }();
    return c;
}

/// Packs op(A) rows [0, mc) x k [0, kc) into MR-row panels, k-major, zero-padded.
void packA(std::int64_t mr, std::int64_t mc, std::int64_t kc, const float* A, std::int64_t rs, std::int64_t cs, float* out) {
    for (std::int64_t i0 = 0; i0 < mc; i0 += mr) {
        const std::int64_t m = std::min(mr, mc - i0);
        const float* a = A + i0 * rs;
        if (rs == 1 && m == mr) {
            for (std::int64_t k = 0; k < kc; ++k, out += mr) std::memcpy(out, a + k * cs, std::size_t(mr) * sizeof(float));
            continue;
        }
        if (cs == 1) {
            // row-major A: read each row once, contiguously
            for (std::int64_t i = 0; i < m; ++i) {
                const float* __restrict row = a + i * rs;
                float* __restrict o = out + i;
                for (std::int64_t k = 0; k < kc; ++k) o[k * mr] = row[k];
            }
            for (std::int64_t i = m; i < mr; ++i)
                for (std::int64_t k = 0; k < kc; ++k) out[k * mr + i] = 0.f;
            out += kc * mr;
            continue;
        }
        for (std::int64_t k = 0; k < kc; ++k, out += mr) {
            for (std::int64_t i = 0; i < m; ++i) out[i] = a[i * rs + k * cs];
            for (std::int64_t i = m; i < mr; ++i) out[i] = 0.f;
        }
    }
}

/// Packs op(B) k [0, kc) x cols [0, nc) into NR-column panels, k-major, zero-padded.
void packB(std::int64_t nr, std::int64_t kc, std::int64_t nc, const float* B, std::int64_t rs, std::int64_t cs, float* out) {
    for (std::int64_t j0 = 0; j0 < nc; j0 += nr) {
        const std::int64_t n = std::min(nr, nc - j0);
        const float* b = B + j0 * cs;
        if (cs == 1 && n == nr) {
            for (std::int64_t k = 0; k < kc; ++k, out += nr) std::memcpy(out, b + k * rs, std::size_t(nr) * sizeof(float));
            continue;
        }
        if (cs == 1) {
            for (std::int64_t k = 0; k < kc; ++k, out += nr) {
                std::memcpy(out, b + k * rs, std::size_t(n) * sizeof(float));
                std::fill(out + n, out + nr, 0.f);
            }
            continue;
        }
        for (std::int64_t k = 0; k < kc; ++k, out += nr) {
            for (std::int64_t j = 0; j < n; ++j) out[j] = b[k * rs + j * cs];
            for (std::int64_t j = n; j < nr; ++j) out[j] = 0.f;
        }
    }
}

struct Operands {
    const float* A;
    std::int64_t rsA, csA;
    const float* B;
    std::int64_t rsB, csB;
    float* C;
    std::int64_t ldc, K;
};

/// C[0..mc, 0..nc) = A[0..mc, :] B[:, 0..nc), all K, with thread-local packing buffers.
void tile(const Micro& mk, std::int64_t mc, std::int64_t nc, const Operands& o) {
    const std::int64_t MR = mk.mr, NR = mk.nr;
    thread_local std::vector<float> pa, pb;
    const std::size_t needA = std::size_t(((mc + MR - 1) / MR) * MR * KC), needB = std::size_t(((nc + NR - 1) / NR) * NR * KC);
    if (pa.size() < needA) pa.resize(needA);
    if (pb.size() < needB) pb.resize(needB);
    alignas(64) float edge[kMaxMR * kMaxNR];
    for (std::int64_t k0 = 0; k0 < o.K; k0 += KC) {
        const std::int64_t kc = std::min(KC, o.K - k0);
        const bool acc = k0 > 0;
        packA(MR, mc, kc, o.A + k0 * o.csA, o.rsA, o.csA, pa.data());
        packB(NR, kc, nc, o.B + k0 * o.rsB, o.rsB, o.csB, pb.data());
        for (std::int64_t j0 = 0; j0 < nc; j0 += NR) {
            const std::int64_t nr = std::min(NR, nc - j0);
            const float* bp = pb.data() + (j0 / NR) * NR * kc;
            for (std::int64_t i0 = 0; i0 < mc; i0 += MR) {
                const std::int64_t mr = std::min(MR, mc - i0);
                const float* ap = pa.data() + (i0 / MR) * MR * kc;
                float* c = o.C + i0 * o.ldc + j0;
                if (mr == MR && nr == NR) {
                    mk.fn(kc, ap, bp, c, o.ldc, acc);
                    continue;
                }
                mk.fn(kc, ap, bp, edge, NR, false);
                for (std::int64_t i = 0; i < mr; ++i) {
                    float* ci = c + i * o.ldc;
                    const float* s = edge + i * NR;
                    if (acc)
                        for (std::int64_t j = 0; j < nr; ++j) ci[j] += s[j];
                    else
                        std::copy_n(s, nr, ci);
                }
            }
        }
    }
}

void run(const Micro& mk, std::int64_t M, std::int64_t N, std::int64_t K, const Operands& o, bool parallel) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (std::int64_t i = 0; i < M; ++i) std::fill_n(o.C + i * o.ldc, N, 0.f);
        return;
    }
    const std::int64_t threads = parallel ? std::int64_t(tbb::this_task_arena::max_concurrency()) : 1;
#ifdef ADJ_GEMM_X86
    if (&mk == &kNarrow512) {
        thread_local std::vector<float> pb;
        if (pb.size() < std::size_t(K * 16)) pb.resize(std::size_t(K * 16));
        if (o.csB == 1) {  // rows of B are contiguous: copy them (the strided loop costs microseconds here)
            for (std::int64_t k = 0; k < K; ++k) {
                float* dst = pb.data() + k * 16;
                std::copy_n(o.B + k * o.rsB, N, dst);
                std::fill(dst + N, dst + 16, 0.f);
            }
        } else {
            for (std::int64_t k = 0; k < K; ++k)
                for (std::int64_t j = 0; j < 16; ++j) pb[std::size_t(k * 16 + j)] = j < N ? o.B[k * o.rsB + j * o.csB] : 0.f;
        }
        const float* bp = pb.data();
        const std::int64_t blocks = (M + 7) / 8;
        if (threads == 1 || M * K * 16 < 4 * 64 * 64 * 64) return narrowAvx512(0, M, N, K, o.A, o.rsA, o.csA, bp, o.C, o.ldc);
        adj::parallelEach(std::int64_t(0), blocks, [&](std::int64_t b) {
            narrowAvx512(b * 8, std::min(M, b * 8 + 8), N, K, o.A, o.rsA, o.csA, bp, o.C, o.ldc);
        });
        return;
    }
#endif
    const bool small = M * N * K < 64 * 64 * 64;
    // Row blocks no taller than MC; narrower column blocks when there are too few tiles to keep
    // every thread busy.
    const std::int64_t wanted = (small || threads == 1) ? 1 : 2 * threads;
    const std::int64_t mBlocks = (M + MC - 1) / MC;
    const std::int64_t mc = ((M + mBlocks - 1) / mBlocks + mk.mr - 1) / mk.mr * mk.mr;
    std::int64_t nc = std::min(NC, (N + mk.nr - 1) / mk.nr * mk.nr);
    if (mBlocks * ((N + nc - 1) / nc) < wanted) {
        const std::int64_t perRow = (wanted + mBlocks - 1) / mBlocks;
        nc = std::max(mk.nr, ((N + perRow - 1) / perRow + mk.nr - 1) / mk.nr * mk.nr);
    }
    const std::int64_t nBlocks = (N + nc - 1) / nc;
    auto body = [&](std::int64_t t) {
        const std::int64_t ib = t / nBlocks, jb = t % nBlocks;
        const std::int64_t i0 = ib * mc, j0 = jb * nc;
        if (i0 >= M) return;
        Operands sub = o;
        sub.A += i0 * o.rsA;
        sub.B += j0 * o.csB;
        sub.C += i0 * o.ldc + j0;
        tile(mk, std::min(mc, M - i0), std::min(nc, N - j0), sub);
    };
    const std::int64_t tasks = mBlocks * nBlocks;
    if (tasks == 1 || wanted == 1) {
        for (std::int64_t t = 0; t < tasks; ++t) body(t);
        return;
    }
    adj::parallelEach(std::int64_t(0), tasks, body);
}

}  // namespace

std::string gemmPackedKernelName() { return choice().wide->name; }

std::vector<std::string> gemmAvailableKernels() {
    std::vector<std::string> r;
    for (const Micro* m : available()) r.push_back(m->name);
    return r;
}

void gemmStrided(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t rsA, std::int64_t csA, const float* B,
                 std::int64_t rsB, std::int64_t csB, float* C, std::int64_t ldc, bool parallel) {
    const Choice& c = choice();
    run(N <= 16 ? *c.narrow : *c.wide, M, N, K, Operands{A, rsA, csA, B, rsB, csB, C, ldc, K}, parallel);
}

void gemmPacked(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float* C,
                std::int64_t ldc) {
    gemmStrided(M, N, K, A, lda, 1, B, ldb, 1, C, ldc);
}

void gemmStridedWith(const std::string& kernel, std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t rsA,
                     std::int64_t csA, const float* B, std::int64_t rsB, std::int64_t csB, float* C, std::int64_t ldc) {
    for (const Micro* m : available())
        if (kernel == m->name) {
            if (m->fn == nullptr && N > 16) throw std::invalid_argument("GEMM micro-kernel '" + kernel + "' is for N <= 16 only");
            return run(*m, M, N, K, Operands{A, rsA, csA, B, rsB, csB, C, ldc, K}, true);
        }
    throw std::invalid_argument("GEMM micro-kernel '" + kernel + "' is unknown or not supported by this CPU");
}

}  // namespace adj::cpu
