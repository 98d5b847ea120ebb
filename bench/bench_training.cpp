// Training speed against peers, 2 threads each:
//   1. sgemm: the CPU executor's MatMul vs OpenBLAS cblas_sgemm, square sizes;
//   2. one SGD step of a 784-256-10 ReLU MLP, batch 64 (the training-step graph: forward, loss,
//      backward, update) — PyTorch's figure comes from bench/bench_training_torch.py;
//   3. executor overhead per node: a chain of 1,000 neg nodes on a one-element tensor.
// Usage: bench_training [repeats]   (prints Markdown rows and one JSON line per measurement)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <tbb/global_control.h>

#include "io/json_format.h"
#include "bench_util.h"
#include "ir/builder.h"
#include "runtime/cpu/gemm_packed.h"
#include "runtime/executor.h"
#include "train/training_step.h"

extern "C" {
void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
                 float beta, float* C, int ldc);
void openblas_set_num_threads(int);
}

using namespace adj;
using adj::bench::medianMs;
using adj::bench::randomTensor;
using adj::bench::MlpStep;
using adj::bench::mlp784SgdStep;

namespace {

constexpr int kThreads = 2;

}  // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
    tbb::global_control threads(tbb::global_control::max_allowed_parallelism, kThreads);
    openblas_set_num_threads(kThreads);
    auto exec = makeCpuExecutor();

    std::printf("## sgemm, C = A B, square n (2 threads, median of %d; packed micro-kernel: %s)\n\n"
                "| n | executor MatMul ms | packed ms | OpenBLAS ms | GFLOP/s executor | GFLOP/s packed | GFLOP/s OpenBLAS | executor / OpenBLAS | packed / OpenBLAS |\n"
                "|---|---|---|---|---|---|---|---|---|\n",
                repeats, cpu::gemmPackedKernelName().c_str());
    for (std::int64_t n : {128, 256, 512, 1024}) {
        Graph g;
        const NodeId a = g.addInput("a", {n, n}), b = g.addInput("b", {n, n});
        GraphBuilder gb(g);
        g.addOutput("c", gb.matmul({a, 0}, {b, 0}));
        const Tensor A = randomTensor({n, n}, 1), B = randomTensor({n, n}, 2);
        Tensor C = Tensor::zeros({n, n});
        const Bindings bind{{"a", A}, {"b", B}};
        const double ours = medianMs(repeats, [&] { exec->run(g, bind); });
        const double blas = medianMs(repeats, [&] {
            cblas_sgemm(101, 111, 111, int(n), int(n), int(n), 1.0f, A.data(), int(n), B.data(), int(n), 0.0f, C.data(), int(n));
        });
        const double packed = medianMs(repeats, [&] { cpu::gemmPacked(n, n, n, A.data(), n, B.data(), n, C.data(), n); });
        const double flops = 2.0 * double(n) * double(n) * double(n);
        std::printf("| %lld | %.3f | %.3f | %.3f | %.1f | %.1f | %.1f | %.2f | %.2f |\n", (long long)n, ours, packed, blas, flops / ours / 1e6,
                    flops / packed / 1e6, flops / blas / 1e6, ours / blas, packed / blas);
    }

    // one SGD step of 784-256-10, batch 64
    const MlpStep mlp = mlp784SgdStep();
    const train::TrainingStepGraph& step = mlp.step;
    const Bindings& sb = mlp.bindings;
    const double stepMs = medianMs(repeats * 5, [&] { exec->run(step.graph, sb); });
    std::printf("\n## One SGD step, 784-256-10 ReLU MLP, batch 64, cross-entropy (2 threads, median of %d)\n\n", repeats * 5);
    std::printf("| what | ms |\n|---|---|\n| adjoint (training-step graph, %zu nodes, CPU executor) | %.3f |\n", step.graph.nodeCount(), stepMs);

    // executor overhead per node
    Graph chain;
    ValueRef v{chain.addInput("x", {1}), 0};
    {
        GraphBuilder gb(chain);
        for (int i = 0; i < 1000; ++i) v = gb.neg(v);
    }
    chain.addOutput("y", v);
    const Bindings cb{{"x", Tensor::fromVector({1}, {1.0f})}};
    const double chainMs = medianMs(repeats, [&] { exec->run(chain, cb); });
    std::printf("\n## Executor overhead: a chain of 1,000 neg nodes on a 1-element tensor (median of %d)\n\n", repeats);
    std::printf("| what | us per node |\n|---|---|\n| adjoint CPU executor | %.3f |\n", chainMs);  // ms per 1000 nodes = us per node
    std::printf("\n{\"step_ms\": %.4f, \"us_per_node\": %.4f}\n", stepMs, chainMs);
    return 0;
}
