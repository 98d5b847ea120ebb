#pragma once
// What the benchmarks share: a median timer with a warm-up run, seeded random tensors, and the
// training step of the 784-256-10 MLP that the training and Vulkan benchmarks time.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "io/json_format.h"
#include "ir/builder.h"
#include "runtime/executor.h"
#include "train/training_step.h"

namespace adj::bench {

/// Runs `f` once to warm up (first-touch page faults, caches, pipelines, uploads), then `repeats`
/// times, and returns the median wall time in milliseconds.
inline double medianMs(int repeats, const std::function<void()>& f) {
    f();
    std::vector<double> t;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(t.begin(), t.begin() + std::ptrdiff_t(t.size() / 2), t.end());
    return t[t.size() / 2];
}

/// A tensor of normal(0, std) values from the project's deterministic generator.
inline Tensor randomTensor(const Shape& s, std::uint64_t seed, double std = 1.0) {
    return initTensor(s, InitKind::Normal, 0.0, std, seed);
}

/// One SGD step of a 784-256-10 ReLU MLP with cross-entropy, batch 64, and its bindings (seeded
/// inputs, one-hot targets, lr 0.01, step 1).
struct MlpStep {
    train::TrainingStepGraph step;
    Bindings bindings;
};

inline MlpStep mlp784SgdStep() {
    Graph model;
    model.name = "mlp784";
    const NodeId x = model.addInput("x", {64, 784}, {"N", ""});
    const NodeId w1 = model.addParameter("w1", randomTensor({784, 256}, 3, 0.05));
    const NodeId b1 = model.addParameter("b1", Tensor::zeros({256}));
    const NodeId w2 = model.addParameter("w2", randomTensor({256, 10}, 4, 0.09));
    const NodeId b2 = model.addParameter("b2", Tensor::zeros({10}));
    {
        GraphBuilder gb(model);
        ValueRef h = gb.op(Op::Relu, {gb.op(Op::Gemm, {{x, 0}, {w1, 0}, {b1, 0}})});
        model.addOutput("logits", gb.op(Op::Gemm, {h, {w2, 0}, {b2, 0}}));
    }
    train::OptimizerConfig sgd;
    sgd.kind = train::OptimizerKind::Sgd;
    MlpStep m{train::buildTrainingStep(model, train::LossKind::CrossEntropy, sgd, 64), {}};
    Tensor targets = Tensor::zeros({64, 10});
    for (int i = 0; i < 64; ++i) targets.data()[i * 10 + i % 10] = 1;
    m.bindings = {{"x", randomTensor({64, 784}, 5)}, {m.step.targetInput, targets}, {"lr", Tensor::scalar(0.01f)}, {"step", Tensor::scalar(1)}};
    return m;
}

}  // namespace adj::bench
