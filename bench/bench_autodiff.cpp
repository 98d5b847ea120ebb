// The lecture's trade-off, measured: the size of each example's backward graph against its forward
// graph, and for a scalar function of n inputs the time of the full gradient by reverse mode,
// forward mode (n passes), vectorized forward mode and central differences, each as a ratio to one
// forward pass measured in the same run.
//
//   build/bench/bench_autodiff [n] [repeats]      (defaults: 1000, 20)
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "autodiff/forward_mode.h"
#include "autodiff/numeric.h"
#include "autodiff/reverse_mode.h"
#include "io/json_format.h"
#include "bench_util.h"
#include "ir/builder.h"
#include "ir/verifier.h"
#include "runtime/executor.h"

using namespace adj;
using adj::bench::medianMs;

namespace {

/// Makes a scalar output: the output itself if it has one element, else sum(output).
std::string scalarOutput(Graph& g) {
    for (const auto& o : g.outputs())
        if (numel(g.type(o.value).shape) == 1) return o.name;
    GraphBuilder b(g);
    ValueRef s = b.op(Op::Sum, {g.outputs()[0].value});
    g.addOutput("bench_loss", s);
    return "bench_loss";
}

}  // namespace

int main(int argc, char** argv) {
    const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 1000;
    const int repeats = argc > 2 ? std::atoi(argv[2]) : 20;
    tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 2);
    auto exec = makeCpuExecutor();

    std::printf("## Backward graph size (nodes added by reverse mode / forward nodes)\n\n");
    std::printf("| example | forward nodes | backward nodes | ratio |\n|---|---|---|---|\n");
    const std::string dir = std::string(ADJOINT_SOURCE_DIR) + "/resources/examples";
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ".json") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        Graph g = loadGraphJson(f);
        verifyOrThrow(g);
        const std::string of = scalarOutput(g);
        verifyOrThrow(g);
        BackwardGraph bw = buildBackward(g, of);
        const std::size_t fwd = bw.forwardNodes.size(), back = bw.graph.nodeCount() - fwd;
        std::printf("| %s | %zu | %zu | %.2f |\n", std::filesystem::path(f).stem().c_str(), fwd, back, double(back) / double(fwd));
    }

    // f(x) = sum(exp(sin(x)) * x), x in R^n
    Graph g;
    NodeId x = g.addInput("x", {n});
    GraphBuilder b(g);
    ValueRef y = b.op(Op::Sum, {b.mul(b.unary(Op::Exp, b.unary(Op::Sin, {x, 0})), {x, 0})});
    g.addOutput("f", y);
    verifyOrThrow(g);
    std::vector<float> xs(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) xs[std::size_t(i)] = float(std::sin(0.37 * double(i)));
    Bindings bind{{"x", Tensor::fromVector({n}, xs)}};

    BackwardGraph bw = buildBackward(g, "f");
    JvpGraph one = buildJvp(g, {"f"}, {"x"}, 1);
    Bindings oneBind = bind;
    oneBind[one.tangentInputs[0]] = Tensor::zeros({1, n});

    const double fwd = medianMs(repeats, [&] { exec->run(g, bind); });
    const double rev = medianMs(repeats, [&] { exec->run(bw.graph, bind); });
    const double jvp1 = medianMs(repeats, [&] { exec->run(one.graph, oneBind); });
    // vectorized: the JVP graph is built once (as a user re-running it would), then run
    auto runVectorized = [&](std::int64_t k) {
        JvpGraph jg = buildJvp(g, {"f"}, {"x"}, k);
        Bindings bk = bind;
        Tensor eye = Tensor::zeros({k, n});
        for (std::int64_t d = 0; d < k; ++d) eye.data()[d * n + d] = 1.f;
        bk[jg.tangentInputs[0]] = eye;
        const std::int64_t chunks = (n + k - 1) / k;
        return medianMs(std::max(5, repeats), [&] {
            for (std::int64_t c = 0; c < chunks; ++c) exec->run(jg.graph, bk);
        });
    };
    const double vec = runVectorized(n);
    const double chunk = runVectorized(64);
    std::int64_t numEvaluations = 0;
    const double num = medianMs(1, [&] { numEvaluations = numericGradient(g, "f", {"x"}, bind, *exec).evaluations; });
    std::string load = "?";
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
        char buf[64] = {};
        if (std::fgets(buf, sizeof buf, f)) load = std::string(buf).substr(0, std::string(buf).find(' '));
        std::fclose(f);
    }

    std::printf("\n## Full gradient of f(x) = sum(exp(sin(x)) * x), n = %lld (CPU, 2 threads, median of %d; load average %s)\n\n", (long long)n,
                repeats, load.c_str());
    std::printf("| method | passes | time / one forward pass |\n|---|---|---|\n");
    std::printf("| one forward pass | 1 | 1.00 (%.3f ms) |\n", fwd);
    std::printf("| reverse mode (backward graph, forward included) | 1 | %.2f |\n", rev / fwd);
    std::printf("| forward mode, one direction per pass | %lld | %.1f (measured one pass: %.2f, times n) |\n", (long long)n, jvp1 * double(n) / fwd, jvp1 / fwd);
    std::printf("| forward mode, vectorized (n one-hot directions in one pass) | 1 | %.1f |\n", vec / fwd);
    std::printf("| forward mode, vectorized in chunks of 64 | %lld | %.1f |\n", (long long)((n + 63) / 64), chunk / fwd);
    std::printf("| central differences with error estimate | %lld | %.1f |\n", (long long)numEvaluations, num / fwd);
    return 0;
}
