// The Vulkan backend against the project's own CPU backend:
//   1. sgemm C = A B at square sizes (default 1024), Vulkan vs the CPU executor;
//   2. one SGD training step of a 784-256-10 ReLU MLP, batch 64 (forward, loss, backward,
//      update as one graph), parameters fed back each step as the Trainer does;
//   3. that step with one submit per step (one command buffer) against one submit per op;
//   4. one SGD step of a small CNN (conv, batchnorm, relu, max_pool, dense: the pooling and
//      normalization shaders and their backward ops).
// Usage: bench_vulkan [repeats] [n...]   (Markdown rows, then one JSON line per measurement)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "io/json_format.h"
#include "bench_util.h"
#include "ir/builder.h"
#include "runtime/executor.h"
#include "runtime/vulkan/vulkan_executor.h"
#include "train/optimizers.h"
#include "train/training_step.h"

using namespace adj;
using adj::bench::medianMs;
using adj::bench::randomTensor;
using adj::bench::MlpStep;
using adj::bench::mlp784SgdStep;

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    std::vector<std::int64_t> sizes;
    for (int i = 2; i < argc; ++i) sizes.push_back(std::atoll(argv[i]));
    if (sizes.empty()) sizes = {1024};
    auto cpu = makeCpuExecutor();
    VulkanExecutor vk;
    std::printf("Vulkan device: %s\nCPU: %s\n\n", vk.capabilitySummary().c_str(), cpu->deviceName().c_str());

    std::printf("## sgemm, C = A B, square n (median of %d, uploads of unchanged inputs skipped: resident)\n\n"
                "| n | CPU ms | Vulkan ms | GFLOP/s CPU | GFLOP/s Vulkan | Vulkan / CPU time |\n|---|---|---|---|---|---|\n",
                repeats);
    std::vector<std::string> json;
    for (std::int64_t n : sizes) {
        Graph g;
        NodeId a = g.addInput("a", {n, n}), b = g.addInput("b", {n, n});
        g.addOutput("c", {g.addNode(Op::MatMul, {{a, 0}, {b, 0}}), 0});
        Bindings bind{{"a", randomTensor({n, n}, 1)}, {"b", randomTensor({n, n}, 2)}};
        const double c = medianMs(repeats, [&] { cpu->run(g, bind); });
        const double v = medianMs(repeats, [&] { vk.run(g, bind); });
        const double flops = 2.0 * double(n) * double(n) * double(n);
        std::printf("| %lld | %.2f | %.2f | %.1f | %.1f | %.2f |\n", (long long)n, c, v, flops / c / 1e6, flops / v / 1e6, v / c);
        json.push_back("{\"bench\":\"sgemm\",\"n\":" + std::to_string(n) + ",\"cpu_ms\":" + std::to_string(c) + ",\"vulkan_ms\":" + std::to_string(v) + "}");
    }

    const MlpStep mlp = mlp784SgdStep();
    const train::TrainingStepGraph& step = mlp.step;
    auto stepMs = [&](Executor& e, int reps) {
        Bindings sb = mlp.bindings;
        return medianMs(reps, [&] {
            RunResult r = e.run(step.graph, sb);
            // the updated parameters are bound next step, as the Trainer does
            for (std::size_t i = 0; i < step.parameters.size(); ++i)
                for (std::size_t o = 0; o < step.graph.outputs().size(); ++o)
                    if (step.graph.outputs()[o].name == step.newParameterOutputs[i]) sb[step.parameters[i]] = r.outputs[o];
        });
    };
    const double c = stepMs(*cpu, repeats * 4);
    const double v = stepMs(vk, repeats * 4);
    const VulkanRunStats one = vk.lastRunStats();
    vk.setSubmitPerOp(true);
    const double vPerOp = stepMs(vk, repeats * 4);
    const VulkanRunStats many = vk.lastRunStats();
    vk.setSubmitPerOp(false);
    std::printf("\n## One SGD step, 784-256-10 ReLU MLP, batch 64 (training-step graph, %zu nodes; median of %d)\n\n"
                "| what | ms | submits | dispatches | bytes uploaded |\n|---|---|---|---|---|\n"
                "| CPU executor | %.2f | | | |\n| Vulkan, one submit per step | %.2f | %d | %d | %llu |\n"
                "| Vulkan, one submit per op | %.2f | %d | %d | %llu |\n",
                step.graph.nodeCount(), repeats * 4, c, v, one.submits, one.dispatches, (unsigned long long)one.bytesUploaded, vPerOp,
                many.submits, many.dispatches, (unsigned long long)many.bytesUploaded);
    json.push_back("{\"bench\":\"mlp_step\",\"cpu_ms\":" + std::to_string(c) + ",\"vulkan_ms\":" + std::to_string(v) +
                   ",\"vulkan_per_op_ms\":" + std::to_string(vPerOp) + "}");

    // 4. a small CNN on 8x8 images: conv, batchnorm with batch statistics, relu, max_pool, dense
    Graph cnn;
    {
        const NodeId cx = cnn.addInput("x", {32, 1, 8, 8}, {"N", "", "", ""});
        const NodeId cw = cnn.addParameter("conv_w", randomTensor({8, 1, 3, 3}, 6, 0.3));
        const NodeId gamma = cnn.addParameter("bn_scale", Tensor::full({8}, 1.f));
        const NodeId beta = cnn.addParameter("bn_bias", Tensor::zeros({8}));
        const NodeId rm = cnn.addConstant(Tensor::zeros({8}), "bn_mean");
        const NodeId rv = cnn.addConstant(Tensor::full({8}, 1.f), "bn_var");
        const NodeId dw = cnn.addParameter("dense_w", randomTensor({128, 10}, 7, 0.09));
        const NodeId db = cnn.addParameter("dense_b", Tensor::zeros({10}));
        GraphBuilder gb(cnn);
        ValueRef h = gb.op(Op::Conv2d, {{cx, 0}, {cw, 0}}, {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}});
        h = gb.op(Op::BatchNorm, {h, {gamma, 0}, {beta, 0}, {rm, 0}, {rv, 0}}, {{"training", std::int64_t(1)}});
        h = gb.op(Op::MaxPool, {gb.op(Op::Relu, {h})}, {{"kernel", std::vector<std::int64_t>{2, 2}}, {"strides", std::vector<std::int64_t>{2, 2}}});
        cnn.addOutput("logits", gb.op(Op::Gemm, {gb.op(Op::Flatten, {h}), {dw, 0}, {db, 0}}));
    }
    train::OptimizerConfig sgd;
    sgd.kind = train::OptimizerKind::Sgd;
    const train::TrainingStepGraph cnnStep = train::buildTrainingStep(cnn, train::LossKind::CrossEntropy, sgd, 32);
    Tensor cnnTargets = Tensor::zeros({32, 10});
    for (int i = 0; i < 32; ++i) cnnTargets.data()[i * 10 + i % 10] = 1;
    auto cnnStepMs = [&](Executor& e, int reps) {
        Bindings sb{{"x", randomTensor({32, 1, 8, 8}, 8)}, {cnnStep.targetInput, cnnTargets}, {"lr", Tensor::scalar(0.01f)}, {"step", Tensor::scalar(1)}};
        return medianMs(reps, [&] {
            RunResult r = e.run(cnnStep.graph, sb);
            for (std::size_t i = 0; i < cnnStep.parameters.size(); ++i)
                for (std::size_t o = 0; o < cnnStep.graph.outputs().size(); ++o)
                    if (cnnStep.graph.outputs()[o].name == cnnStep.newParameterOutputs[i]) sb[cnnStep.parameters[i]] = r.outputs[o];
        });
    };
    const double cc = cnnStepMs(*cpu, repeats * 4);
    const double cv = cnnStepMs(vk, repeats * 4);
    const VulkanRunStats cs = vk.lastRunStats();
    std::printf("\n## One SGD step, CNN on 8x8 images (conv 3x3 x8, batchnorm, relu, max_pool 2x2, dense 128-10), batch 32 "
                "(training-step graph, %zu nodes; median of %d)\n\n"
                "| what | ms | submits | dispatches |\n|---|---|---|---|\n| CPU executor | %.2f | | |\n| Vulkan | %.2f | %d | %d |\n",
                cnnStep.graph.nodeCount(), repeats * 4, cc, cv, cs.submits, cs.dispatches);
    json.push_back("{\"bench\":\"cnn_step\",\"cpu_ms\":" + std::to_string(cc) + ",\"vulkan_ms\":" + std::to_string(cv) + "}");

    std::printf("\n");
    for (const auto& j : json) std::printf("%s\n", j.c_str());
    return 0;
}
