// sgemm against OpenBLAS, 2 threads each: square n and the shapes of
// a 784-256-10 MLP at batch 64, forward and backward (the backward pass multiplies by transposes).
// Peer and ours run interleaved (peer, ours, peer, ours, ...) so that load from other processes
// hits both alike; the table gives the median and the best of each, and the speed ratio
// OpenBLAS time / our time (>= 1 means at least as fast as OpenBLAS).
//
//   build/bench/bench_gemm [repeats]   (default 15)
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/cpu/gemm_packed.h"

extern "C" {
void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
                 float beta, float* C, int ldc);
void openblas_set_num_threads(int);
}

namespace {

constexpr int kThreads = 2;
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

struct Case {
    std::string name;
    int M, N, K;
    bool transA, transB;
};

double ms(const std::chrono::steady_clock::time_point& t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
    tbb::global_control threads(tbb::global_control::max_allowed_parallelism, kThreads);
    openblas_set_num_threads(kThreads);

    const std::vector<Case> cases{
        {"n = 256", 256, 256, 256, false, false},
        {"n = 512", 512, 512, 512, false, false},
        {"n = 1024", 1024, 1024, 1024, false, false},
        {"n = 2048", 2048, 2048, 2048, false, false},
        {"fwd X W1: 64x784 . 784x256", 64, 256, 784, false, false},
        {"fwd H W2: 64x256 . 256x10", 64, 10, 256, false, false},
        {"bwd X^T dH: (64x784)^T . 64x256", 784, 256, 64, true, false},
        {"bwd H^T dY: (64x256)^T . 64x10", 256, 10, 64, true, false},
        {"bwd dY W2^T: 64x10 . (256x10)^T", 64, 256, 10, false, true},
        {"bwd dH W1^T: 64x256 . (784x256)^T", 64, 784, 256, false, true},
    };
    std::printf("## sgemm vs OpenBLAS (2 threads each, %d interleaved repeats; micro-kernel: %s)\n\n", repeats,
                adj::cpu::gemmPackedKernelName().c_str());
    std::printf("| product | OpenBLAS ms (median / best) | adjoint ms (median / best) | GFLOP/s adjoint (best) | speed vs OpenBLAS (median, best) |\n"
                "|---|---|---|---|---|\n");
    for (const Case& c : cases) {
        // A is stored [M, K] or, for A^T, [K, M]; B is [K, N] or, for B^T, [N, K]
        const int lda = c.transA ? c.M : c.K, ldb = c.transB ? c.K : c.N;
        std::vector<float> A(std::size_t(c.M) * std::size_t(c.K)), B(std::size_t(c.K) * std::size_t(c.N)), C(std::size_t(c.M) * std::size_t(c.N));
        for (std::size_t i = 0; i < A.size(); ++i) A[i] = float(std::sin(double(i) * 0.37));
        for (std::size_t i = 0; i < B.size(); ++i) B[i] = float(std::cos(double(i) * 0.11));
        const std::int64_t rsA = c.transA ? 1 : lda, csA = c.transA ? lda : 1, rsB = c.transB ? 1 : ldb, csB = c.transB ? ldb : 1;
        auto blas = [&] {
            cblas_sgemm(kRowMajor, c.transA ? kTrans : kNoTrans, c.transB ? kTrans : kNoTrans, c.M, c.N, c.K, 1.0f, A.data(), lda, B.data(), ldb,
                        0.0f, C.data(), c.N);
        };
        auto ours = [&] { adj::cpu::gemmStrided(c.M, c.N, c.K, A.data(), rsA, csA, B.data(), rsB, csB, C.data(), c.N); };
        // small products are timed in batches so that the clock's resolution does not matter
        const double flops = 2.0 * c.M * c.N * c.K;
        const int inner = std::max(1, int(2e8 / flops));
        blas();
        ours();
        std::vector<double> tb, to;
        for (int r = 0; r < repeats; ++r) {
            auto t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < inner; ++i) blas();
            tb.push_back(ms(t0) / inner);
            t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < inner; ++i) ours();
            to.push_back(ms(t0) / inner);
        }
        std::sort(tb.begin(), tb.end());
        std::sort(to.begin(), to.end());
        const double mb = tb[tb.size() / 2], mo = to[to.size() / 2];
        std::printf("| %s | %.4f / %.4f | %.4f / %.4f | %.1f | %.2f, %.2f |\n", c.name.c_str(), mb, tb.front(), mo, to.front(),
                    flops / to.front() / 1e6, mb / mo, tb.front() / to.front());
        std::fflush(stdout);
    }
    return 0;
}
