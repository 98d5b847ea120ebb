#include "train/training_step.h"

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "runtime/bindings.h"

namespace adj::train {

void checkModelGraph(const Graph& model) {
    const auto inputs = model.inputNodes();
    if (inputs.size() != 1) {
        std::string names;
        for (NodeId id : inputs) names += (names.empty() ? "" : ", ") + model.node(id).name;
        throw Error("a model graph for training has one input (the features); this one has " + std::to_string(inputs.size()) +
                    (names.empty() ? std::string() : " (" + names + ")"));
    }
    if (model.outputs().size() != 1)
        throw Error("a model graph for training has one output (the logits or predictions); this one has " + std::to_string(model.outputs().size()));
    if (model.node(inputs[0]).declaredShape.size() < 2)
        throw Error("input '" + model.node(inputs[0]).name + "' must be [N, features], got " + shapeToString(model.node(inputs[0]).declaredShape));
    if (model.node(inputs[0]).declaredDType != DType::F32)
        throw Error("input '" + model.node(inputs[0]).name + "' holds integer indices (" + std::string(dtypeName(model.node(inputs[0]).declaredDType)) +
                    "); training reads float features from a dataset");
    if (model.parameterNodes().empty()) throw Error("the model graph has no parameters to train");
}

Graph specializeBatch(const Graph& model, std::int64_t batchSize) {
    Graph g = model;
    Node& in = g.node(g.inputNodes().at(0));
    if (in.dimNames.empty()) in.dimNames.resize(in.declaredShape.size());
    if (in.dimNames[0].empty()) in.dimNames[0] = "N";
    Shape s = in.declaredShape;
    s[0] = batchSize;
    Bindings b{{in.name, Tensor::zeros(s)}};
    specializeToBindings(g, b);
    return g;
}

namespace {

struct LossParts {
    Graph graph;
    std::string targetInput, lossOutput, predictionOutput;
};

LossParts lossGraph(const Graph& model, LossKind loss, std::int64_t batchSize) {
    checkModelGraph(model);
    LossParts p;
    p.graph = specializeBatch(model, batchSize);
    Graph& g = p.graph;
    const GraphOutput pred = g.outputs().at(0);
    p.predictionOutput = pred.name;
    if (!g.hasType(pred.value)) throw GraphError("output '" + pred.name + "' has no inferred shape");
    const Shape predShape = g.type(pred.value).shape;
    if (predShape.size() != 2 || predShape[0] != batchSize)
        throw Error("output '" + pred.name + "' must be [N, K] (one row per example), got " + shapeToString(predShape));
    std::vector<std::string> dims(predShape.size());
    dims[0] = "N";
    p.targetInput = g.freshName("targets");
    NodeId t = g.addInput(p.targetInput, predShape, dims);
    GraphBuilder b(g, "loss.");
    ValueRef l = addLoss(b, loss, pred.value, ValueRef{t, 0});
    p.lossOutput = pred.name == "loss" ? "training_loss" : "loss";
    g.setOutputs({{p.lossOutput, l}, pred});
    return p;
}

}  // namespace

Graph buildLossGraph(const Graph& model, LossKind loss, std::int64_t batchSize) { return lossGraph(model, loss, batchSize).graph; }

TrainingStepGraph buildTrainingStep(const Graph& model, LossKind loss, const OptimizerConfig& optimizer, std::int64_t batchSize) {
    LossParts fwd = lossGraph(model, loss, batchSize);
    TrainingStepGraph s;
    s.featureInput = fwd.graph.node(fwd.graph.inputNodes().at(0)).name;
    s.targetInput = fwd.targetInput;
    s.lossOutput = fwd.lossOutput;
    s.predictionOutput = fwd.predictionOutput;
    for (NodeId id : fwd.graph.parameterNodes()) s.parameters.push_back(fwd.graph.node(id).name);

    BackwardGraph bw = buildBackward(fwd.graph, s.lossOutput, {s.parameters, false, true});
    s.graph = std::move(bw.graph);
    Graph& g = s.graph;
    g.name = (model.name.empty() ? std::string("model") : model.name) + "_train_step";
    g.description = "One training step of '" + model.name + "': forward, " + lossName(loss) + " loss, backward (reverse mode) and the " +
                    optimizerName(optimizer.kind) + " update of every parameter, as one graph.";
    auto outputValue = [&](const std::string& name) {
        for (const auto& o : g.outputs())
            if (o.name == name) return o.value;
        throw GraphError("training step: the backward graph has no output '" + name + "'");
    };
    const ValueRef lossValue = outputValue(s.lossOutput), predValue = outputValue(s.predictionOutput);
    std::vector<ValueRef> grads;
    for (const auto& p : s.parameters) grads.push_back(outputValue("grad_" + p));

    s.learningRateInput = g.freshName("lr");
    const ValueRef lr{g.addInput(s.learningRateInput, {}), 0};
    s.stepInput = g.freshName("step");
    const ValueRef step{g.addInput(s.stepInput, {}), 0};

    std::vector<GraphOutput> outputs{{s.lossOutput, lossValue}, {s.predictionOutput, predValue}};
    std::vector<GraphOutput> stateOutputs;
    const auto slots = optimizerStateSlots(optimizer.kind);
    for (std::size_t i = 0; i < s.parameters.size(); ++i) {
        const std::string& p = s.parameters[i];
        const NodeId pid = *g.findNode(p);
        const Shape shape = g.node(pid).value.shape();
        UpdateInputs in{ValueRef{pid, 0}, grads[i], {}, lr, step};
        std::vector<std::string> stateNames, newStateNames;
        for (const auto& slot : slots) {
            stateNames.push_back(g.freshName("state." + p + "." + slot));
            in.state.push_back(ValueRef{g.addInput(stateNames.back(), shape), 0});
        }
        GraphBuilder b(g, "update." + p + ".");
        UpdateOutputs u = addUpdate(b, optimizer, in);
        s.newParameterOutputs.push_back("new." + p);
        outputs.push_back({s.newParameterOutputs.back(), u.newParam});
        for (std::size_t k = 0; k < slots.size(); ++k) {
            newStateNames.push_back("new.state." + p + "." + slots[k]);
            stateOutputs.push_back({newStateNames.back(), u.newState[k]});
        }
        s.stateInputs.push_back(stateNames);
        s.newStateOutputs.push_back(newStateNames);
    }
    outputs.insert(outputs.end(), stateOutputs.begin(), stateOutputs.end());
    g.setOutputs(outputs);
    return s;
}

}  // namespace adj::train
