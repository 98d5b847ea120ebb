// Elementwise fusion on the CPU executor: 8-op chains over 16M floats, unfused (8 kernels, each
// reading and writing the whole tensor) vs fused (one kernel, intermediates in cache-sized
// tiles), on 2 TBB threads. Goal: fused >= 3x faster.
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "ir/builder.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"
#include "runtime/executor.h"

using namespace adj;

int main(int argc, char** argv) {
    const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : (std::int64_t(1) << 24);
    const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, std::size_t(threads));
    auto exec = makeCpuExecutor();
    std::vector<float> data(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) data[std::size_t(i)] = float(i % 1000) / 500.f - 1.f;
    const Bindings bind{{"x", Tensor::fromVector({n}, data)}};
    auto time = [&](const Graph& graph) {
        std::vector<double> ms;
        for (int rep = 0; rep < 5; ++rep) {
            const auto t0 = std::chrono::steady_clock::now();
            exec->run(graph, bind);
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        return ms[ms.size() / 2];
    };
    // Two chains of 8 ops: one of cheap arithmetic (memory-bound: the lecture's case, where fusion
    // removes 7 of 8 round trips through memory), one with two transcendental functions (tanh and
    // sigmoid cost tens of FLOPs each, so the kernel does more arithmetic per byte).
    auto measure = [&](const char* title, bool transcendental) {
        Graph g;
        g.name = "chain8";
        const ValueRef x{g.addInput("x", {n}), 0};
        GraphBuilder b(g);
        ValueRef v = b.mul(x, b.constant(2.f, "two"));
        v = transcendental ? b.unary(Op::Tanh, v) : b.add(v, b.constant(3.f, "three"));
        v = b.add(v, b.constant(1.f, "one"));
        v = b.mul(v, b.constant(0.5f, "half"));
        v = transcendental ? b.unary(Op::Sigmoid, v) : b.unary(Op::Neg, v);
        v = b.sub(v, x);
        v = b.unary(Op::Abs, v);
        v = b.unary(Op::Sqrt, v);
        g.addOutput("y", v);
        verifyOrThrow(g);
        Graph fused = g;
        OptimizeOptions o;
        o.passes = {"fusion"};
        OptimizeResult r = optimizeGraph(fused, o);
        const double unfused = time(g), fusedMs = time(fused);
        std::printf("%s: %lld floats, %d threads: kernels %lld -> %lld, bytes %.0f MB -> %.0f MB, FLOPs %.0f M\n", title, (long long)n, threads,
                    (long long)r.before.kernels, (long long)r.after.kernels, r.before.bytes / 1e6, r.after.bytes / 1e6, r.before.flops / 1e6);
        std::printf("  unfused %.1f ms, fused %.1f ms: %.2fx faster (median of 5)\n", unfused, fusedMs, unfused / fusedMs);
    };
    measure("mul, add, add, mul, neg, sub, abs, sqrt", false);
    measure("mul, tanh, add, mul, sigmoid, sub, abs, sqrt", true);
    return 0;
}
