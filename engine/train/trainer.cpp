#include "train/trainer.h"

#include <chrono>

namespace adj::train {

namespace {

int checkedOutputWidth(const Graph& model, const Dataset& data, LossKind loss) {
    checkModelGraph(model);
    const Node& in = model.node(model.inputNodes().at(0));
    const std::int64_t features = in.declaredShape.back();
    if (in.declaredShape.size() != 2 || features != data.featureCount())
        throw Error("input '" + in.name + "' is " + shapeToString(in.declaredShape) + " but dataset '" + data.name + "' has " +
                    std::to_string(data.featureCount()) + " features per example");
    const Graph probe = specializeBatch(model, 1);
    const auto& out = probe.outputs().at(0);
    const Shape s = probe.type(out.value).shape;
    if (s.size() != 2) throw Error("output '" + out.name + "' must be [N, K], got " + shapeToString(s));
    const std::int64_t k = s[1];
    if (data.isClassification()) {
        const bool binaryOk = loss == LossKind::BinaryCrossEntropy && k == 1 && data.numClasses <= 2;
        if (!binaryOk && k != data.numClasses)
            throw Error("output '" + out.name + "' has " + std::to_string(k) + " columns but dataset '" + data.name + "' has " +
                        std::to_string(data.numClasses) + " classes");
    } else {
        if (loss != LossKind::MeanSquaredError) throw Error("dataset '" + data.name + "' is a regression: use --loss mse");
        if (k != data.train.targets.shape()[1])
            throw Error("output '" + out.name + "' has " + std::to_string(k) + " columns but dataset '" + data.name + "' has " +
                        std::to_string(data.train.targets.shape()[1]) + " target columns");
    }
    return int(k);
}

}  // namespace

Trainer::Trainer(const Graph& model, Dataset data, TrainerConfig config, Executor& executor)
    : model_(model),
      data_(std::move(data)),
      config_(config),
      exec_(executor),
      sampler_(std::max<std::int64_t>(1, data_.train.size()), std::max<std::int64_t>(1, config.batchSize), config.seed) {
    if (config_.batchSize < 1) throw Error("the batch size must be at least 1");
    if (data_.train.size() < 1) throw Error("dataset '" + data_.name + "' has no training rows");
    outputWidth_ = checkedOutputWidth(model_, data_, config_.loss);
    step_ = buildTrainingStep(model_, config_.loss, config_.optimizer, config_.batchSize);
    for (NodeId id : model_.parameterNodes()) {
        const Node& n = model_.node(id);
        params_[n.name] = n.value;
    }
    for (std::size_t i = 0; i < step_.parameters.size(); ++i)
        for (const auto& s : step_.stateInputs[i]) state_[s] = Tensor::zeros(params_.at(step_.parameters[i]).shape());
}

void Trainer::replaceStepGraph(Graph graph) {
    auto names = [](const Graph& g) {
        std::vector<std::string> inputs, outputs;
        for (NodeId id : g.inputNodes()) inputs.push_back(g.node(id).name);
        for (const auto& o : g.outputs()) outputs.push_back(o.name);
        return std::make_pair(inputs, outputs);
    };
    if (names(graph) != names(step_.graph))
        throw Error("the new step graph has other inputs or outputs than the training step's (a rewrite must keep them)");
    step_.graph = std::move(graph);
}

Tensor Trainer::targetsFor(const DataSplit& split, const std::vector<std::int64_t>* rows) const {
    if (!data_.isClassification()) return rows ? gatherRows(split.targets, *rows) : split.targets;
    std::vector<int> labels;
    if (rows)
        for (auto r : *rows) labels.push_back(split.labels[std::size_t(r)]);
    else
        labels = split.labels;
    if (outputWidth_ == 1) {
        std::vector<float> v(labels.begin(), labels.end());
        return Tensor::fromVector({std::int64_t(v.size()), 1}, v);
    }
    return oneHot(labels, outputWidth_);
}

StepReport Trainer::runStep() {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<std::int64_t> rows = sampler_.next();
    Bindings b;
    b[step_.featureInput] = gatherRows(data_.train.x, rows);
    b[step_.targetInput] = targetsFor(data_.train, &rows);
    b[step_.learningRateInput] = Tensor::scalar(config_.optimizer.learningRate);
    b[step_.stepInput] = Tensor::scalar(float(stepCount_ + 1));
    RunOptions options;
    options.checkFinite = config_.checkFinite;
    options.schedule = config_.schedule;
    // Parameters and optimizer state are donated (RunOptions::donatedInputs): the step writes
    // their updates over them, which the next lines take as the new values anyway. A tensor that
    // someone else also holds (a copy from parameters(), checkpoint() or trainedModel()) is not
    // donated, so such snapshots keep their values.
    for (const auto* held : {&params_, &state_})
        for (const auto& [n, t] : *held) {
            b[n] = t;
            if (t.storage() && t.storage().use_count() == 2) options.donatedInputs.push_back(n);  // ours and the binding's
        }
    RunResult r;
    try {
        r = exec_.run(step_.graph, b, options);
    } catch (const Error& e) {
        throw TrainingError("step " + std::to_string(stepCount_ + 1) + ": " + e.what());
    }
    // outputs: loss, prediction, new params, new state (parameter-major)
    std::size_t k = 2;
    for (const auto& p : step_.parameters) params_[p] = r.outputs[k++];
    for (std::size_t i = 0; i < step_.parameters.size(); ++i)
        for (const auto& s : step_.stateInputs[i]) state_[s] = r.outputs[k++];
    ++stepCount_;
    StepReport rep;
    rep.step = stepCount_;
    rep.peakBytes = r.peakLiveBytes;
    rep.arenaBytes = r.arenaBytes;
    rep.loss = r.outputs[0].toVector().at(0);
    if (data_.isClassification()) {
        std::vector<int> labels;
        for (auto row : rows) labels.push_back(data_.train.labels[std::size_t(row)]);
        rep.accuracy = accuracy(r.outputs[1], labels);
    }
    rep.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return rep;
}

std::int64_t Trainer::train(const std::function<void(const StepReport&)>& progress, const std::atomic<bool>* cancel) {
    std::int64_t done = 0;
    while (stepCount_ < config_.steps) {
        if (cancel && cancel->load()) break;
        const StepReport r = runStep();
        ++done;
        if (progress) progress(r);
    }
    return done;
}

Evaluation Trainer::evaluate(const DataSplit& split) {
    Evaluation ev;
    const std::int64_t n = split.size();
    if (n == 0) return ev;
    auto it = evalGraphs_.find(n);
    if (it == evalGraphs_.end()) it = evalGraphs_.emplace(n, buildLossGraph(model_, config_.loss, n)).first;
    const Graph& g = it->second;
    Bindings b;
    b[g.node(g.inputNodes().at(0)).name] = split.x;
    b[g.node(g.inputNodes().at(1)).name] = targetsFor(split, nullptr);
    for (const auto& [name, t] : params_) b[name] = t;
    RunResult r = exec_.run(g, b);
    ev.loss = r.outputs[0].toVector().at(0);
    if (data_.isClassification()) ev.accuracy = accuracy(r.outputs[1], split.labels);
    return ev;
}

Graph Trainer::trainedModel() const {
    Graph g = model_;
    for (const auto& [name, t] : params_) g.node(*g.findNode(name)).value = t;
    return g;
}

Checkpoint Trainer::checkpoint() const {
    Checkpoint c;
    c.step = stepCount_;
    c.seed = config_.seed;
    c.loss = lossName(config_.loss);
    c.optimizer = optimizerName(config_.optimizer.kind);
    c.batchSize = config_.batchSize;
    c.sampler = sampler_.state();
    for (const auto& p : step_.parameters) c.parameters.emplace_back(p, params_.at(p));
    for (std::size_t i = 0; i < step_.parameters.size(); ++i)
        for (const auto& s : step_.stateInputs[i]) c.state.emplace_back(s, state_.at(s));
    return c;
}

void Trainer::restore(const Checkpoint& c) {
    if (c.optimizer != optimizerName(config_.optimizer.kind))
        throw Error("the checkpoint was made with --optimizer " + c.optimizer + ", not " + optimizerName(config_.optimizer.kind));
    if (c.loss != lossName(config_.loss)) throw Error("the checkpoint was made with --loss " + c.loss + ", not " + lossName(config_.loss));
    if (c.batchSize != config_.batchSize)
        throw Error("the checkpoint was made with --batch " + std::to_string(c.batchSize) + ", not " + std::to_string(config_.batchSize));
    auto fill = [](std::map<std::string, Tensor>& dst, const std::vector<std::pair<std::string, Tensor>>& src, const char* what) {
        if (src.size() != dst.size())
            throw Error(std::string("the checkpoint holds ") + std::to_string(src.size()) + " " + what + ", the model needs " + std::to_string(dst.size()));
        std::map<std::string, Tensor> next;
        for (const auto& [n, t] : src) {
            auto it = dst.find(n);
            if (it == dst.end()) throw Error(std::string("the checkpoint's ") + what + " '" + n + "' is not in the model");
            // a name given twice would leave another one of the model's tensors out
            if (next.count(n)) throw Error(std::string("the checkpoint's ") + what + " '" + n + "' appears twice");
            if (it->second.shape() != t.shape())
                throw Error(std::string("the checkpoint's ") + what + " '" + n + "' is " + shapeToString(t.shape()) + ", the model's " +
                            shapeToString(it->second.shape()));
            next[n] = t;
        }
        return next;
    };
    auto params = fill(params_, c.parameters, "parameters");
    auto state = fill(state_, c.state, "optimizer state tensors");
    sampler_.setState(c.sampler);
    params_ = std::move(params);
    state_ = std::move(state);
    stepCount_ = c.step;
}

}  // namespace adj::train
