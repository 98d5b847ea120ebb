#include "train/memory_report.h"

#include <algorithm>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "ir/verifier.h"
#include "train/training_step.h"

namespace adj::train {

namespace {

ValueRef outputNamed(const Graph& g, const std::string& name) {
    for (const auto& o : g.outputs())
        if (o.name == name) return o.value;
    std::string names;
    for (const auto& o : g.outputs()) names += (names.empty() ? "" : ", ") + o.name;
    throw Error("the graph has no output named '" + name + "' (outputs: " + names + ")");
}

/// The first graph output holding one element (what a backward pass differentiates).
std::string firstScalarOutput(const Graph& g) {
    for (const auto& o : g.outputs())
        if (g.hasType(o.value) && numel(g.type(o.value).shape) == 1) return o.name;
    throw Error("the graph has no scalar output to differentiate (a loss)");
}

}  // namespace

PassGraph passGraph(const Graph& input, const MemoryRequest& request) {
    PassGraph p{input, std::nullopt, "forward", {}};
    Graph& g = p.graph;
    verifyOrThrow(g);
    if (request.pass == MemoryPass::Backward) {
        const std::string of = request.of.empty() ? firstScalarOutput(g) : request.of;
        const ValueRef loss = outputNamed(g, of);
        BackwardOptions options;
        options.keepForwardOutputs = request.keepForwardOutputs;
        BackwardGraph bw = buildBackward(g, of, options);
        g = std::move(bw.graph);
        p.loss = loss;
        p.mode = "backward of " + of;
    } else if (request.pass == MemoryPass::TrainingStep) {
        checkModelGraph(g);
        TrainingStepGraph step = buildTrainingStep(g, request.loss, request.optimizer, request.batchSize);
        g = std::move(step.graph);
        p.loss = outputNamed(g, step.lossOutput);
        p.donated = step.parameters;
        for (const auto& slots : step.stateInputs) p.donated.insert(p.donated.end(), slots.begin(), slots.end());
        p.mode = "training step (" + lossName(request.loss) + ", " + optimizerName(request.optimizer.kind) + ", batch " +
                 std::to_string(request.batchSize) + ")";
    }
    return p;
}

MemoryReport memoryReport(const Graph& input, const MemoryRequest& request) {
    PassGraph pass = passGraph(input, request);
    Graph& g = pass.graph;
    MemoryReport r;
    r.mode = pass.mode;
    if (pass.loss) {
        r.forward = g.dependencies(pass.loss->node);
        r.recompute = applyCheckpointing(g, *pass.loss, request.checkpoint, {{}, request.order, pass.donated});
    }
    r.plan = planMemory(g, {}, request.order, pass.donated);
    r.live = r.plan.liveBytesByStep();
    r.peakStep = r.live.empty() ? 0 : int(std::max_element(r.live.begin(), r.live.end()) - r.live.begin());
    if (!r.forward.empty()) {
        r.savedBuffers = savedActivationBuffers(g, r.plan, r.forward);
        for (std::size_t i = 0; i < r.savedBuffers.size(); ++i)
            if (r.savedBuffers[i]) r.activationBytes += r.plan.values[i].bytes;
    }
    r.graph = std::move(g);
    return r;
}

}  // namespace adj::train
