// Recomputation (passes/checkpointing.h) on the graphs of the memory issue's goal, one SGD
// training step each (forward, cross-entropy, backward, update; the CPU executor, 2 threads):
//   1. a 64-layer ReLU MLP, width 256, batch 64;
//   2. a 32-block residual CNN: a 3x3 stem, 32 blocks x + conv(relu(conv(x))) (16 channels,
//      16x16, 3x3 convolutions), global average pooling and a linear layer, batch 8.
// For the policies none, sqrt and budget (at sqrt's planned peak): the activations the backward
// pass keeps, the planned peak, the FLOPs computed again, the step time (each round times every
// policy in turn, `runs` steps each, each round starting with the next policy; the figure is the
// median over the rounds of each round's median), its ratio to none's, and whether the updated parameters are bit-identical to none's.
// Usage: bench_checkpointing [rounds] [runs]   (prints Markdown rows and the load average)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <tbb/global_control.h>

#include "passes/checkpointing.h"
#include "bench_util.h"
#include "base/median.h"
#include "cost/cost_model.h"
#include "passes/rewriter.h"
#include "runtime/memory_plan.h"

using namespace adj;
using adj::bench::randomTensor;

namespace {

constexpr int kThreads = 2;

std::string loadAverage() {
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    return a + " " + b + " " + c;
}

Graph deepMlp() {
    Graph m;
    m.name = "mlp64";
    const NodeId x = m.addInput("x", {64, 256}, {"N", ""});
    GraphBuilder b(m);
    ValueRef h{x, 0};
    for (int i = 0; i < 64; ++i) {
        const NodeId w = m.addParameter("w" + std::to_string(i), randomTensor({256, 256}, 10 + std::uint64_t(i), 0.09));
        const NodeId bias = m.addParameter("b" + std::to_string(i), Tensor::zeros({256}));
        h = b.op(Op::Relu, {b.op(Op::Gemm, {h, {w, 0}, {bias, 0}})});
    }
    const NodeId w = m.addParameter("w_out", randomTensor({256, 10}, 9, 0.06));
    const NodeId bias = m.addParameter("b_out", Tensor::zeros({10}));
    m.addOutput("logits", b.op(Op::Gemm, {h, {w, 0}, {bias, 0}}));
    return m;
}

Graph residualCnn() {
    Graph m;
    m.name = "resnet32";
    constexpr std::int64_t C = 16;
    const NodeId x = m.addInput("x", {8, 3, 16, 16}, {"N", "", "", ""});
    GraphBuilder b(m);
    const Attributes same{{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}};
    std::uint64_t seed = 100;
    auto conv = [&](ValueRef in, std::int64_t cin, const std::string& name) {
        const NodeId w = m.addParameter(name + ".w", randomTensor({C, cin, 3, 3}, seed++, 0.6 / std::sqrt(double(cin * 9))));
        const NodeId bias = m.addParameter(name + ".b", Tensor::zeros({C}));
        return b.op(Op::Conv2d, {in, {w, 0}, {bias, 0}}, same);
    };
    ValueRef h = b.op(Op::Relu, {conv({x, 0}, 3, "stem")});
    for (int i = 0; i < 32; ++i) {
        const std::string block = "block" + std::to_string(i);
        const ValueRef t = conv(b.op(Op::Relu, {conv(h, C, block + ".conv1")}), C, block + ".conv2");
        h = b.op(Op::Relu, {b.op(Op::Add, {h, t})});
    }
    const ValueRef pooled = b.op(Op::Flatten, {b.op(Op::GlobalAvgPool, {h})});
    const NodeId w = m.addParameter("fc.w", randomTensor({C, 10}, 7, 0.25));
    const NodeId bias = m.addParameter("fc.b", Tensor::zeros({10}));
    m.addOutput("logits", b.op(Op::Gemm, {pooled, {w, 0}, {bias, 0}}));
    return m;
}

struct Variant {
    std::string name;
    Graph graph;
    std::int64_t activations = 0, peak = 0;
    double recomputeFlops = 0;
    std::vector<double> roundMedians;
    std::vector<Tensor> outputs;
};

void benchmark(const Graph& model, std::int64_t batch, const Shape& xShape, int rounds, int runs, Executor& exec) {
    train::OptimizerConfig sgd;
    sgd.kind = train::OptimizerKind::Sgd;
    const train::TrainingStepGraph step = train::buildTrainingStep(model, train::LossKind::CrossEntropy, sgd, batch);
    ValueRef loss;
    for (const auto& o : step.graph.outputs())
        if (o.name == step.lossOutput) loss = o.value;
    Tensor targets = Tensor::zeros({batch, 10});
    for (std::int64_t i = 0; i < batch; ++i) targets.data()[i * 10 + i % 10] = 1;
    const Bindings bindings{{step.featureInput, randomTensor(xShape, 5)}, {step.targetInput, targets},
                            {step.learningRateInput, Tensor::scalar(0.01f)}, {step.stepInput, Tensor::scalar(1)}};
    const double forwardFlops = graphCostSummary(model).flops;

    std::vector<Variant> variants;
    auto add = [&](const std::string& name, const CheckpointPolicy& policy) {
        Variant v{name, step.graph, 0, 0, 0, {}, {}};
        v.recomputeFlops = applyCheckpointing(v.graph, loss, policy).recomputeFlops;
        const MemoryPlan plan = planMemory(v.graph);
        v.peak = plan.plannedPeakBytes();
        v.activations = savedActivationBytes(v.graph, plan, v.graph.dependencies(loss.node));
        v.outputs = exec.run(v.graph, bindings).outputs;
        variants.push_back(std::move(v));
    };
    add("none", {});
    add("sqrt", {CheckpointPolicy::Kind::Sqrt, 0});
    CheckpointPolicy budget{CheckpointPolicy::Kind::Budget, 0};
    budget.budgetBytes = variants.back().peak;
    add("budget:" + std::to_string(budget.budgetBytes), budget);

    // interleaved, each round starting with the next policy (no policy always follows another)
    for (int r = 0; r < rounds; ++r)
        for (std::size_t i = 0; i < variants.size(); ++i) {
            Variant& v = variants[(i + std::size_t(r)) % variants.size()];
            v.roundMedians.push_back(bench::medianMs(runs, [&] { exec.run(v.graph, bindings); }));
        }

    const Variant& none = variants.front();
    const double noneMs = median(none.roundMedians);
    std::printf("\n### %s, SGD step, batch %lld (%zu step-graph nodes)\n\n", model.name.c_str(), (long long)batch, step.graph.nodeCount());
    std::printf("| policy | activations kept | x none | planned peak | x none | recomputed FLOPs (x a forward pass) | step ms (median of %d rounds) | x none | round ratios min-max | bit-identical |\n"
                "|---|---|---|---|---|---|---|---|---|---|\n", rounds);
    for (const Variant& v : variants) {
        bool same = v.outputs.size() == none.outputs.size();
        for (std::size_t i = 0; same && i < v.outputs.size(); ++i)
            same = v.outputs[i].numel() == none.outputs[i].numel() &&
                   std::memcmp(v.outputs[i].data(), none.outputs[i].data(), std::size_t(v.outputs[i].numel()) * sizeof(float)) == 0;
        double lo = 1e9, hi = 0;
        for (std::size_t r = 0; r < v.roundMedians.size(); ++r) {
            const double ratio = v.roundMedians[r] / none.roundMedians[r];
            lo = std::min(lo, ratio);
            hi = std::max(hi, ratio);
        }
        const double ms = median(v.roundMedians);
        std::printf("| %s | %lld | %.3f | %lld | %.3f | %.3g (%.2f) | %.2f | %.3f | %.2f-%.2f | %s |\n", v.name.c_str(), (long long)v.activations,
                    double(v.activations) / double(none.activations), (long long)v.peak, double(v.peak) / double(none.peak), v.recomputeFlops,
                    v.recomputeFlops / forwardFlops, ms, ms / noneMs, lo, hi, same ? "yes" : "NO");
    }
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
    const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    tbb::global_control threads(tbb::global_control::max_allowed_parallelism, kThreads);
    auto exec = makeCpuExecutor();
    std::printf("load average at the start: %s\n", loadAverage().c_str());
    benchmark(deepMlp(), 64, {64, 256}, rounds, runs, *exec);
    benchmark(residualCnn(), 8, {8, 3, 16, 16}, rounds, runs, *exec);
    std::printf("\nload average at the end: %s\n", loadAverage().c_str());
    return 0;
}
