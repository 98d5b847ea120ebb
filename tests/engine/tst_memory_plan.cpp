// The memory planner (runtime/memory_plan.h) and the CPU executor's planned runs: on every example,
// its backward graph and a training-step graph, values whose lifetimes overlap never share bytes,
// every read falls inside the lifetime of the buffer read, the arena lies between the lower bound
// and the no-reuse sum, and planned runs equal unplanned ones bit for bit (also over 5 training
// steps); outputs kept from one run survive the next.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "passes/checkpoint_budget.h"
#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "io/graph_file.h"
#include "io/npy.h"
#include "ir/builder.h"
#include "runtime/cpu/cpu_kernels.h"
#include "runtime/executor.h"
#include "runtime/memory_plan.h"
#include "test_support.h"
#include "train/datasets.h"
#include "train/trainer.h"
#include "train/training_step.h"

using namespace adj;
namespace fs = std::filesystem;

namespace {

struct Case {
    std::string name;
    Graph graph;
    std::string inputsDir;
};

Graph loadExample(const std::string& stem) { return loadGraphFile(test::sourcePath("resources/examples/" + stem + ".json")); }


/// bench/bench_training's model: 784-256-10 ReLU MLP, batch 64.
Graph mlp784() {
    Graph model;
    model.name = "mlp784";
    const NodeId x = model.addInput("x", {64, 784}, {"N", ""});
    const NodeId w1 = model.addParameter("w1", test::normalTensor({784, 256}, 3, 0.05f));
    const NodeId b1 = model.addParameter("b1", Tensor::zeros({256}));
    const NodeId w2 = model.addParameter("w2", test::normalTensor({256, 10}, 4, 0.09f));
    const NodeId b2 = model.addParameter("b2", Tensor::zeros({10}));
    GraphBuilder gb(model);
    const ValueRef h = gb.op(Op::Relu, {gb.op(Op::Gemm, {{x, 0}, {w1, 0}, {b1, 0}})});
    model.addOutput("logits", gb.op(Op::Gemm, {h, {w2, 0}, {b2, 0}}));
    return model;
}

/// Every example, the backward graph of each (seeded with an input, forward outputs kept), the
/// training step of the spirals and digits MLPs (Adam, cross-entropy) and bench_training's SGD step.
std::vector<Case> allCases() {
    std::vector<Case> cases;
    std::vector<std::string> stems;
    for (const auto& e : fs::directory_iterator(test::sourcePath("resources/examples")))
        if (e.path().extension() == ".json") stems.push_back(e.path().stem().string());
    std::sort(stems.begin(), stems.end());
    for (const auto& stem : stems) {
        Graph g = loadExample(stem);
        const std::string dir = test::sourcePath("resources/examples/inputs/" + stem);
        BackwardOptions bo;
        bo.seedInput = true;
        bo.keepForwardOutputs = true;
        Graph back = buildBackward(g, g.outputs().at(0).name, bo).graph;
        cases.push_back({"example/" + stem, std::move(g), dir});
        cases.push_back({"backward/" + stem, std::move(back), dir});
    }
    for (const char* stem : {"spirals_mlp", "digits_mlp"}) {
        train::OptimizerConfig adam;
        adam.kind = train::OptimizerKind::Adam;
        cases.push_back({std::string("train_step/") + stem,
                         train::buildTrainingStep(loadExample(stem), train::LossKind::CrossEntropy, adam, 32).graph, {}});
    }
    train::OptimizerConfig sgd;
    sgd.kind = train::OptimizerKind::Sgd;
    cases.push_back({"train_step/mlp784_sgd", train::buildTrainingStep(mlp784(), train::LossKind::CrossEntropy, sgd, 64).graph, {}});
    return cases;
}

/// Inputs from the case's .npy files, random in [0.2, 1.2] (logs stay finite) otherwise.
Bindings bindingsFor(const Graph& g, const std::string& dir, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(0.2f, 1.2f);
    Bindings b;
    for (NodeId id : g.inputNodes()) {
        const Node& n = g.node(id);
        const std::string file = dir + "/" + n.name + ".npy";
        if (!dir.empty() && fs::exists(file) && seed == 1) {
            b[n.name] = readNpy(file);
            continue;
        }
        std::vector<float> v(std::size_t(numel(n.declaredShape)));
        for (auto& x : v) x = dist(rng);
        b[n.name] = Tensor::fromVector(n.declaredShape, v);
    }
    return b;
}


/// x of 1024 floats, exp(x) and sin(x): two large values that a schedule may hold together or not.
struct TwoBranches {
    Graph g;
    GraphBuilder b{g};
    ValueRef ea, eb;
    explicit TwoBranches(const std::string& name) {
        g.name = name;
        const NodeId x = g.addInput("x", {1024});
        ea = b.op(Op::Exp, {{x, 0}});
        eb = b.op(Op::Sin, {{x, 0}});
    }
    ValueRef sum(ValueRef v) {
        Attributes all;
        all.set("axes", std::vector<std::int64_t>{0});
        return b.op(Op::Sum, {v}, all);
    }
};

/// The plan's own figures and placements, checked against a brute-force reading of the graph.
void checkPlan(const Graph& g, const MemoryPlan& plan, const std::vector<std::string>& donated = {}) {
    const int steps = int(plan.schedule.size());
    std::vector<int> stepOf(std::size_t(g.idBound()), -1);
    for (int s = 0; s < steps; ++s) stepOf[std::size_t(plan.schedule[std::size_t(s)])] = s;
    auto bufferOf = [&](ValueRef v) -> const PlannedValue* {
        const PlannedValue* p = plan.find(v);
        while (p && (p->placement == BufferPlacement::View || p->placement == BufferPlacement::InPlace)) p = plan.find(p->aliasOf);
        return p;
    };
    // The value whose contents a read of `v` sees: v itself, or for a view what it views.
    std::function<ValueRef(ValueRef)> versionOf = [&](ValueRef v) -> ValueRef {
        const PlannedValue* p = plan.find(v);
        return p && p->placement == BufferPlacement::View ? versionOf(g.node(v.node).inputs.at(0)) : v;
    };
    // every read (and every output at the end) falls inside the lifetime of the buffer it reads
    for (int s = 0; s < steps; ++s)
        for (const auto& in : g.node(plan.schedule[std::size_t(s)]).inputs)
            if (const PlannedValue* b = bufferOf(in)) {
                QVERIFY2(b->defined < s && s <= b->lastUse, qPrintable(QString::fromStdString(g.valueName(in)) + " read outside its lifetime"));
            }
    for (const auto& o : g.outputs())
        if (const PlannedValue* b = bufferOf(o.value)) {
            QCOMPARE(b->lastUse, steps - 1);
            QVERIFY2(b->placement == BufferPlacement::Own, "a graph output's buffer is in the arena");
        }
    // writes in place: over a buffer of the same size and type, never over a source (but a
    // donated one) or a graph output, and no read of a version of a buffer comes after the next
    // write over it (only the writing node itself reads what it overwrites at that step)
    std::set<ValueRef> outputValues;
    for (const auto& o : g.outputs()) outputValues.insert(o.value);
    for (const PlannedValue& w : plan.values) {
        if (w.placement != BufferPlacement::InPlace) continue;
        const PlannedValue* over = plan.find(w.overwrites);
        const bool overDonated =
            !over && std::find(donated.begin(), donated.end(), g.node(w.overwrites.node).name) != donated.end();
        QVERIFY2(overDonated || (over && over->placement != BufferPlacement::View), "a write in place over a source or a view");
        if (over) QVERIFY(over->shape == w.shape && over->dtype == w.dtype);
        QVERIFY(!outputValues.count(w.overwrites));
        QVERIFY(bufferOf(w.overwrites) == bufferOf(w.value));
        const Node& writer = g.node(w.value.node);
        QVERIFY(std::find(writer.inputs.begin(), writer.inputs.end(), w.overwrites) != writer.inputs.end());
        const ValueRef overwritten = versionOf(w.overwrites);
        for (int s = 0; s < steps; ++s)
            for (const auto& in : g.node(plan.schedule[std::size_t(s)]).inputs) {
                if (versionOf(in) != overwritten) continue;
                const bool before = s < w.defined || (s == w.defined && in == w.overwrites);
                QVERIFY2(before, qPrintable(QString::fromStdString(g.valueName(in) + " is read after '" + g.node(w.value.node).name +
                                                                   "' wrote over it")));
            }
        for (const auto& o : g.outputs()) QVERIFY(versionOf(o.value) != overwritten);
    }
    // no two arena buffers whose lifetimes overlap share a byte; offsets aligned; inside the arena
    std::vector<const PlannedValue*> arena;
    for (const PlannedValue& v : plan.values) {
        if (v.placement != BufferPlacement::Arena) continue;
        QCOMPARE(v.offset % kPlanAlignment, std::int64_t(0));
        QCOMPARE(v.bytes % kPlanAlignment, std::int64_t(0));
        QVERIFY(v.bytes >= numel(v.shape) * 4);
        QVERIFY(v.offset >= 0 && v.offset + v.bytes <= plan.arenaBytes);
        arena.push_back(&v);
    }
    for (std::size_t i = 0; i < arena.size(); ++i)
        for (std::size_t j = i + 1; j < arena.size(); ++j) {
            const PlannedValue& a = *arena[i];
            const PlannedValue& b = *arena[j];
            const bool liveTogether = a.defined <= b.lastUse && b.defined <= a.lastUse;
            const bool shareBytes = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes && a.bytes > 0 && b.bytes > 0;
            QVERIFY2(!(liveTogether && shareBytes),
                     qPrintable(QString::fromStdString(g.valueName(a.value) + " and " + g.valueName(b.value) + " overlap")));
        }
    // figures: brute-force lower bounds, the arena between them and the no-reuse sum
    std::int64_t sum = 0, arenaSum = 0, bound = 0, arenaBound = 0;
    auto isBuffer = [](const PlannedValue& v) { return v.placement == BufferPlacement::Arena || v.placement == BufferPlacement::Own; };
    for (const PlannedValue& v : plan.values)
        if (v.placement != BufferPlacement::View) {
            sum += v.bytes;
            if (v.placement == BufferPlacement::Arena) arenaSum += v.bytes;
        }
    for (int s = 0; s < steps; ++s) {
        std::int64_t live = 0, arenaLive = 0;
        for (const PlannedValue& v : plan.values)
            if (isBuffer(v) && v.defined <= s && s <= v.lastUse) {
                live += v.bytes;
                if (v.placement == BufferPlacement::Arena) arenaLive += v.bytes;
            }
        bound = std::max(bound, live);
        arenaBound = std::max(arenaBound, arenaLive);
    }
    QCOMPARE(plan.noReuseBytes, sum);
    QCOMPARE(plan.lowerBoundBytes, bound);
    QVERIFY(plan.arenaBytes >= arenaBound);
    QVERIFY(plan.arenaBytes <= arenaSum);
    QVERIFY(plan.plannedPeakBytes() >= plan.lowerBoundBytes);
    QVERIFY(plan.plannedPeakBytes() <= plan.noReuseBytes);
}

}  // namespace

class TestMemoryPlan : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void lifetimesAndOffsets_data() {
        QTest::addColumn<int>("index");
        const auto cases = allCases();
        for (std::size_t i = 0; i < cases.size(); ++i) QTest::newRow(cases[i].name.c_str()) << int(i);
    }
    void lifetimesAndOffsets() {
        QFETCH(int, index);
        const Case c = allCases()[std::size_t(index)];
        const MemoryPlan plan = planMemory(c.graph);
        checkPlan(c.graph, plan);
        // with the bound shapes the executor plans the same
        const MemoryPlan bound = planMemoryForBindings(c.graph, c.graph.liveTopoOrder(), bindingsFor(c.graph, c.inputsDir, 1));
        checkPlan(c.graph, bound);
        QCOMPARE(bound.arenaBytes, plan.arenaBytes);
    }

    /// Wherever reuse is possible at all (not every two arena values live together, or a value
    /// written in place) the planned peak is below the no-reuse sum, and with disjoint arena
    /// values the arena below the sum of its values (and, checked
    /// above, not below the lower bound). A short chain straight into the output
    /// (conv_bn_relu: conv, batchnorm, then the output relu outside the arena) has nothing to reuse.
    void reuseShrinksTheArena() {
        int reused = 0, cases = 0;
        for (const Case& c : allCases()) {
            const MemoryPlan plan = planMemory(c.graph);
            qInfo("%-28s arena %9lld  outputs %9lld  planned peak %9lld  no reuse %9lld  lower bound %9lld", c.name.c_str(),
                  (long long)plan.arenaBytes, (long long)plan.ownBytes, (long long)plan.plannedPeakBytes(),
                  (long long)plan.noReuseBytes, (long long)plan.lowerBoundBytes);
            ++cases;
            std::vector<const PlannedValue*> arena;
            for (const PlannedValue& v : plan.values)
                if (v.placement == BufferPlacement::Arena && v.bytes > 0) arena.push_back(&v);
            bool disjoint = false;
            for (std::size_t i = 0; i < arena.size(); ++i)
                for (std::size_t j = i + 1; j < arena.size(); ++j)
                    disjoint = disjoint || arena[i]->lastUse < arena[j]->defined || arena[j]->lastUse < arena[i]->defined;
            const bool inPlace = std::any_of(plan.values.begin(), plan.values.end(),
                                             [](const PlannedValue& v) { return v.placement == BufferPlacement::InPlace; });
            if (!disjoint && !inPlace) {
                // only a few small forward graphs; every backward and training-step graph reuses
                QVERIFY2(c.name.rfind("example/", 0) == 0, c.name.c_str());
                continue;
            }
            if (disjoint) QVERIFY2(plan.arenaBytes < plan.noReuseBytes - plan.ownBytes, c.name.c_str());
            QVERIFY2(plan.plannedPeakBytes() < plan.noReuseBytes, c.name.c_str());
            ++reused;
        }
        QVERIFY(reused >= cases / 2);
    }

    void viewsExtendTheirRoot() {
        // x -> exp -> transpose -> neg (output): exp's buffer must live while the transpose is read
        Graph g;
        const NodeId x = g.addInput("x", {4, 3});
        GraphBuilder b(g);
        const ValueRef e = b.op(Op::Exp, {{x, 0}});
        const ValueRef t = b.op(Op::Transpose, {e});
        const ValueRef r = b.op(Op::Relu, {{x, 0}});
        const ValueRef y = b.op(Op::Add, {t, b.op(Op::Transpose, {r})});
        g.addOutput("y", y);
        Attributes shape;
        shape.set("shape", std::vector<std::int64_t>{12});
        g.addOutput("view_out", b.op(Op::Reshape, {b.op(Op::Sigmoid, {{x, 0}})}, shape));
        const MemoryPlan plan = planMemory(g);
        checkPlan(g, plan);
        const PlannedValue* pe = plan.find(e);
        const PlannedValue* pt = plan.find(t);
        QVERIFY(pe && pt);
        QVERIFY(pt->placement == BufferPlacement::View);
        QVERIFY(pt->aliasOf == e);
        QCOMPARE(pe->lastUse, plan.find(y)->defined);
        // the sigmoid's buffer is viewed by a graph output: outside the arena
        const PlannedValue* view = plan.find(g.outputs()[1].value);
        QVERIFY(view && view->placement == BufferPlacement::View);
        QVERIFY(plan.find(view->aliasOf)->placement == BufferPlacement::Own);
        QVERIFY(returnsView(Op::Slice) && returnsView(Op::Split) && !returnsView(Op::Concat) && !returnsView(Op::Add));
    }

    /// Writes in place: an elementwise node takes the buffer of an input that dies at it, never a
    /// source's, one read later, or one that another input of the node also reads; planned runs
    /// equal unplanned ones; an SGD step's gradient, lr * gradient and new parameter share one
    /// buffer, and the step's planned peak is at most 0.6x the no-reuse sum (0.87x before).
    void writesInPlace() {
        Graph g;
        const NodeId x = g.addInput("x", {3, 3});
        GraphBuilder b(g);
        const ValueRef r = b.op(Op::Relu, {{x, 0}});                      // over a source: no
        const ValueRef e = b.op(Op::Exp, {{x, 0}});
        const ValueRef a = b.op(Op::Add, {e, b.op(Op::Transpose, {e})});  // e read by another input too: no
        const ValueRef e2 = b.op(Op::Exp, {{x, 0}});
        const ValueRef sg = b.op(Op::Sigmoid, {e2});                      // e2 read later: no
        const ValueRef m = b.op(Op::Mul, {sg, e2});                       // over sg
        const ValueRef th = b.op(Op::Tanh, {{x, 0}});
        const ValueRef q = b.op(Op::Mul, {th, th});                       // over th, read twice by it
        const ValueRef n = b.op(Op::Neg, {q});                            // over q's buffer, th's
        for (const auto& [name, v] : std::vector<std::pair<std::string, ValueRef>>{{"r", r}, {"a", a}, {"m", m}, {"n", n}})
            g.addOutput(name, v);
        const MemoryPlan plan = planMemory(g);
        checkPlan(g, plan);
        auto placement = [&](ValueRef v) { return plan.find(v)->placement; };
        QVERIFY(placement(r) == BufferPlacement::Own);
        QVERIFY(placement(a) == BufferPlacement::Own);
        QVERIFY(placement(sg) == BufferPlacement::Own);
        QVERIFY(placement(m) == BufferPlacement::InPlace && plan.find(m)->overwrites == sg && plan.find(m)->aliasOf == sg);
        QVERIFY(placement(q) == BufferPlacement::InPlace && plan.find(q)->overwrites == th);
        QVERIFY(placement(n) == BufferPlacement::InPlace && plan.find(n)->overwrites == q && plan.find(n)->aliasOf == th);
        QVERIFY(placement(th) == BufferPlacement::Own);  // the chain ends in a graph output
        QVERIFY(placement(e2) == BufferPlacement::Arena);
        QCOMPARE(plan.ownBytes, 4 * kPlanAlignment);  // r, a, sg's and th's buffers
        auto exec = makeCpuExecutor();
        RunOptions unplanned;
        unplanned.planMemory = false;
        for (unsigned seed : {1u, 2u}) {
            const Bindings in{{"x", test::normalTensor({3, 3}, seed, 1.f)}};
            const RunResult ref = exec->run(g, in, unplanned), got = exec->run(g, in);
            QVERIFY(got.peakLiveBytes <= plan.plannedPeakBytes());
            for (std::size_t i = 0; i < ref.outputs.size(); ++i) QVERIFY(test::sameBits(got.outputs[i], ref.outputs[i]));
        }

        train::OptimizerConfig sgd;
        sgd.kind = train::OptimizerKind::Sgd;
        const Graph step = train::buildTrainingStep(mlp784(), train::LossKind::CrossEntropy, sgd, 64).graph;
        const MemoryPlan sp = planMemory(step);
        checkPlan(step, sp);
        qInfo("mlp784 SGD step: planned peak %lld B, no reuse %lld B (%.2fx)", (long long)sp.plannedPeakBytes(),
              (long long)sp.noReuseBytes, double(sp.plannedPeakBytes()) / double(sp.noReuseBytes));
        QVERIFY(double(sp.plannedPeakBytes()) <= 0.6 * double(sp.noReuseBytes));
        const std::int64_t w1Bytes = 784 * 256 * 4;
        int bigWrites = 0;
        for (const PlannedValue& v : sp.values) bigWrites += v.placement == BufferPlacement::InPlace && v.bytes >= w1Bytes;
        QVERIFY(bigWrites >= 2);  // lr * dW1 over dW1, the new w1 over lr * dW1
    }

    /// Donated inputs (RunOptions::donatedInputs): an SGD or Adam step writes every updated
    /// parameter and optimizer state over its input, so they cost no memory of their own; the run
    /// writes into the caller's tensors and equals an unplanned run bit for bit; an input that a
    /// graph output reads as it is, or that a later node reads, is not written over.
    void donatedInputsTakeTheUpdates() {
        for (auto kind : {train::OptimizerKind::Sgd, train::OptimizerKind::Adam}) {
            train::OptimizerConfig config;
            config.kind = kind;
            const Graph model = mlp784();
            const train::TrainingStepGraph ts = train::buildTrainingStep(model, train::LossKind::CrossEntropy, config, 64);
            std::vector<std::string> donated = ts.parameters;
            for (const auto& slots : ts.stateInputs) donated.insert(donated.end(), slots.begin(), slots.end());
            const MemoryPlan plain = planMemory(ts.graph), plan = planMemory(ts.graph, {}, ScheduleOrder::Topological, donated);
            checkPlan(ts.graph, plan, donated);
            qInfo("mlp784 %s step: planned peak %lld B donated, %lld B not (outputs %lld -> %lld B); no reuse %lld B (%.2fx)",
                  train::optimizerName(kind).c_str(), (long long)plan.plannedPeakBytes(), (long long)plain.plannedPeakBytes(),
                  (long long)plain.ownBytes, (long long)plan.ownBytes, (long long)plan.noReuseBytes,
                  double(plan.plannedPeakBytes()) / double(plan.noReuseBytes));
            std::int64_t parameterBytes = 0;
            for (NodeId id : model.parameterNodes()) parameterBytes += model.node(id).value.numel() * 4;
            QVERIFY(plan.ownBytes <= plain.ownBytes - parameterBytes);
            std::map<std::string, ValueRef> outputs;
            for (const auto& o : ts.graph.outputs()) outputs[o.name] = o.value;
            auto writesOver = [&](const std::string& output, const std::string& input) {
                const PlannedValue* v = plan.find(outputs.at(output));
                return v && v->placement == BufferPlacement::InPlace && ts.graph.node(v->aliasOf.node).name == input;
            };
            for (std::size_t i = 0; i < ts.parameters.size(); ++i) {
                QVERIFY2(writesOver(ts.newParameterOutputs[i], ts.parameters[i]), ts.parameters[i].c_str());
                for (std::size_t k = 0; k < ts.stateInputs[i].size(); ++k)
                    QVERIFY2(writesOver(ts.newStateOutputs[i][k], ts.stateInputs[i][k]), ts.stateInputs[i][k].c_str());
            }
            // the run: into the caller's tensors, the same bits as without a plan
            Bindings bindings{{ts.featureInput, test::normalTensor({64, 784}, 9, 1.f)}, {ts.learningRateInput, Tensor::scalar(0.01f)},
                              {ts.stepInput, Tensor::scalar(1)}};
            Tensor targets = Tensor::zeros({64, 10});
            for (int r = 0; r < 64; ++r) targets.data()[r * 10 + r % 10] = 1;
            bindings[ts.targetInput] = targets;
            for (NodeId id : model.parameterNodes()) bindings[model.node(id).name] = model.node(id).value.clone();
            for (std::size_t i = 0; i < ts.parameters.size(); ++i)
                for (const auto& s : ts.stateInputs[i]) bindings[s] = test::normalTensor(bindings[ts.parameters[i]].shape(), 11, 0.01f).clone();
            Bindings reference;
            for (const auto& [name, t] : bindings) reference[name] = t.clone();
            auto exec = makeCpuExecutor();
            RunOptions unplanned, donating;
            unplanned.planMemory = false;
            donating.donatedInputs = donated;
            const RunResult want = exec->run(ts.graph, reference, unplanned);
            const RunResult got = exec->run(ts.graph, bindings, donating);
            for (std::size_t i = 0; i < want.outputs.size(); ++i) QVERIFY(test::sameBits(got.outputs[i], want.outputs[i]));
            for (std::size_t o = 0; o < ts.graph.outputs().size(); ++o)
                if (ts.graph.outputs()[o].name == ts.newParameterOutputs[0])
                    QVERIFY(got.outputs[o].sharesStorageWith(bindings.at(ts.parameters[0])));
            QVERIFY(got.peakLiveBytes <= plan.plannedPeakBytes());
        }
        // not over an input a graph output reads as it is, nor one read after the node
        Graph g;
        const NodeId x = g.addInput("x", {4, 4}), y = g.addInput("y", {4, 4});
        GraphBuilder b(g);
        const ValueRef nx = b.op(Op::Neg, {{x, 0}});
        const ValueRef ey = b.op(Op::Exp, {{y, 0}});
        const ValueRef later = b.op(Op::Add, {ey, {y, 0}});  // y's last reader: over y
        g.addOutput("x", {x, 0});
        g.addOutput("nx", nx);
        g.addOutput("later", later);
        const MemoryPlan p = planMemory(g, {}, ScheduleOrder::Topological, {"x", "y"});
        QVERIFY(p.find(nx)->placement != BufferPlacement::InPlace);
        QVERIFY(p.find(ey)->placement != BufferPlacement::InPlace);
        QVERIFY(p.find(later)->placement == BufferPlacement::InPlace && (p.find(later)->overwrites == ValueRef{y, 0}));
    }

    /// Kernels write into the planned buffer when its shape fits, allocate otherwise, and view
    /// ops ignore it; accumulating kernels get it zeroed.
    void kernelsUsePlannedBuffers() {
        auto run = [](Op op, const std::vector<Tensor>& inputs, const Shape& out, const std::vector<Tensor>* planned) {
            Node n;
            n.op = op;
            n.name = "k";
            cpu::KernelCall call{n, inputs, {ValueType{out, DType::F32}}, {}, planned};
            cpu::runKernel(call);
            return call.outputs.at(0);
        };
        const Tensor a = test::normalTensor({3, 4}, 1, 1.f), b = test::normalTensor({3, 4}, 2, 1.f);
        const Tensor arena = Tensor::full({64}, 7.f);
        const std::vector<Tensor> slot{arena.slice(0, 16, 28).viewAs({3, 4})};
        const Tensor sum = run(Op::Add, {a, b}, {3, 4}, &slot);
        QVERIFY(sum.data() == slot[0].data());
        QVERIFY(test::sameBits(sum, run(Op::Add, {a, b}, {3, 4}, nullptr)));
        const std::vector<Tensor> wrongShape{arena.slice(0, 16, 28).viewAs({4, 3})};
        const Tensor fresh = run(Op::Add, {a, b}, {3, 4}, &wrongShape);
        QVERIFY(!fresh.sharesStorageWith(arena));
        QVERIFY(test::sameBits(fresh, sum));
        const std::vector<Tensor> viewSlot{arena.slice(0, 32, 44).viewAs({4, 3})};
        const Tensor t = run(Op::Transpose, {a}, {4, 3}, &viewSlot);
        QVERIFY(t.sharesStorageWith(a));
        QCOMPARE(arena.flatAt(32), 7.f);
    }

    void badGraphIsAnError() {
        Graph g;
        const NodeId x = g.addInput("x", {4, 3});
        const NodeId m = g.addNode(Op::MatMul, {{x, 0}, {x, 0}}, {}, "mm");
        g.addOutput("y", {m, 0});
        try {
            planMemory(g);
            QFAIL("a shape mismatch was planned");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("'mm'"), e.what());
        }
        try {
            planMemoryForBindings(g, g.liveTopoOrder(), {});
            QFAIL("a missing binding was planned");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("'x'"), e.what());
        }
    }

    void plannedEqualsUnplanned_data() { lifetimesAndOffsets_data(); }
    void plannedEqualsUnplanned() {
        QFETCH(int, index);
        const Case c = allCases()[std::size_t(index)];
        auto exec = makeCpuExecutor();
        RunOptions unplanned;
        unplanned.planMemory = false;
        for (unsigned seed : {1u, 2u}) {
            const Bindings b = bindingsFor(c.graph, c.inputsDir, seed);
            const RunResult ref = exec->run(c.graph, b, unplanned);
            QCOMPARE(ref.arenaBytes, std::int64_t(0));
            const RunResult got = exec->run(c.graph, b);  // the second seed reuses the plan and arena
            const MemoryPlan plan = planMemoryForBindings(c.graph, c.graph.liveTopoOrder(), b);
            QCOMPARE(got.arenaBytes, plan.arenaBytes);
            QVERIFY(got.peakLiveBytes >= got.arenaBytes);
            QVERIFY(got.peakLiveBytes <= plan.plannedPeakBytes());
            QVERIFY(ref.peakLiveBytes >= plan.lowerBoundBytes - std::int64_t(plan.values.size()) * kPlanAlignment);
            QCOMPARE(got.outputs.size(), ref.outputs.size());
            for (std::size_t i = 0; i < ref.outputs.size(); ++i)
                QVERIFY2(test::sameBits(got.outputs[i], ref.outputs[i]), c.graph.outputs()[i].name.c_str());
            const RunResult all = exec->run(c.graph, b, RunOptions{true, false});
            QCOMPARE(all.arenaBytes, std::int64_t(0));
            for (std::size_t i = 0; i < ref.outputs.size(); ++i) QVERIFY(test::sameBits(all.outputs[i], ref.outputs[i]));
        }
    }

    void outputsSurviveTheNextRun_data() { lifetimesAndOffsets_data(); }
    void outputsSurviveTheNextRun() {
        QFETCH(int, index);
        const Case c = allCases()[std::size_t(index)];
        auto exec = makeCpuExecutor();
        const RunResult first = exec->run(c.graph, bindingsFor(c.graph, c.inputsDir, 3));
        std::vector<Tensor> copies;
        for (const Tensor& t : first.outputs) copies.push_back(t.clone());
        const RunResult second = exec->run(c.graph, bindingsFor(c.graph, c.inputsDir, 4));
        for (std::size_t i = 0; i < first.outputs.size(); ++i) {
            QVERIFY2(test::sameBits(first.outputs[i], copies[i]), c.graph.outputs()[i].name.c_str());
            QVERIFY(!first.outputs[i].sharesStorageWith(second.outputs[i]) || first.outputs[i].numel() == 0);
        }
    }

    /// adjoint-cli: info reports the plan for the declared shapes; train's summary the peak.
    void cliReportsMemory() {
        const std::string mlp = test::sourcePath("resources/examples/mlp.json");
        const MemoryPlan plan = planMemory(loadGraphFile(mlp));
        const test::CliResult info = test::runCli({"info", QString::fromStdString(mlp), "--json"});
        QCOMPARE(info.exitCode, 0);
        const QJsonObject mem = QJsonDocument::fromJson(info.out.toUtf8()).object().value("memory").toObject();
        QCOMPARE(mem.value("planned_peak_bytes").toInteger(), plan.plannedPeakBytes());
        QCOMPARE(mem.value("arena_bytes").toInteger(), plan.arenaBytes);
        QCOMPARE(mem.value("no_reuse_bytes").toInteger(), plan.noReuseBytes);
        QCOMPARE(mem.value("lower_bound_bytes").toInteger(), plan.lowerBoundBytes);
        const test::CliResult text = test::runCli({"info", QString::fromStdString(mlp)});
        QVERIFY2(text.out.contains("memory: planned peak " + QString::number(plan.plannedPeakBytes()) + " B"), qPrintable(text.out));

        const test::CliResult train = test::runCli({"train", QString::fromStdString(test::sourcePath("resources/examples/spirals_mlp.json")),
                                                    "--dataset", "spirals", "--steps", "3", "--json"});
        QCOMPARE(train.exitCode, 0);
        const QStringList lines = train.out.split('\n', Qt::SkipEmptyParts);
        const QJsonObject summary = QJsonDocument::fromJson(lines.last().toUtf8()).object();
        for (const char* key : {"summary", "steps", "loss", "accuracy", "val_accuracy", "ms_per_step", "backend", "device"})
            QVERIFY2(summary.contains(key), key);
        QVERIFY(summary.value("peak_bytes").toInteger() >= summary.value("arena_bytes").toInteger());
        QVERIFY(summary.value("arena_bytes").toInteger() > 0);
    }

    /// adjoint-cli memory: the plan's figures, the activations a backward pass keeps (worked out by
    /// hand on small graphs), the min-peak order beating the topological one where the lecture says
    /// it should, and usage errors.
    void memoryCommand() {
        const std::string dir = test::tempDir();
        auto json = [](const test::CliResult& r) { return QJsonDocument::fromJson(r.out.toUtf8()).object(); };
        // forward: the same figures as the planner's
        const std::string mlp = test::sourcePath("resources/examples/mlp.json");
        const MemoryPlan plan = planMemory(loadGraphFile(mlp));
        const test::CliResult fwd = test::runCli({"memory", QString::fromStdString(mlp), "--json"});
        QCOMPARE(fwd.exitCode, 0);
        QJsonObject j = json(fwd);
        QCOMPARE(j.value("peak_bytes").toInteger(), plan.plannedPeakBytes());
        QCOMPARE(j.value("arena_bytes").toInteger(), plan.arenaBytes);
        QCOMPARE(j.value("lower_bound_bytes").toInteger(), plan.lowerBoundBytes);
        QCOMPARE(j.value("activation_bytes").toInteger(), std::int64_t(0));
        QCOMPARE(j.value("order").toString(), QString("topo"));
        QVERIFY(!j.value("timeline").toArray().isEmpty());
        QCOMPARE(j.value("live_bytes").toArray().size(), qsizetype(plan.schedule.size()));

        // loss = sum(exp(x)), x of 1000 floats: the backward pass keeps exp(x) (its own adjoint's
        // factor), 4000 bytes rounded up to 64: 4032
        {
            Graph g;
            g.name = "sum_exp";
            const NodeId x = g.addInput("x", {1000});
            GraphBuilder b(g);
            Attributes all;
            all.set("axes", std::vector<std::int64_t>{0});
            g.addOutput("loss", b.op(Op::Sum, {b.op(Op::Exp, {{x, 0}})}, all));
            saveGraphFile(g, dir + "/sum_exp.json");
        }
        const test::CliResult back = test::runCli({"memory", QString::fromStdString(dir + "/sum_exp.json"), "--backward", "--of", "loss", "--json"});
        QCOMPARE(back.exitCode, 0);
        QCOMPARE(json(back).value("activation_bytes").toInteger(), std::int64_t(4032));
        // without --of: the first scalar output
        const test::CliResult first = test::runCli({"memory", QString::fromStdString(dir + "/sum_exp.json"), "--backward", "--json"});
        QCOMPARE(first.exitCode, 0);
        QCOMPARE(json(first).value("mode").toString(), QString("backward of loss"));

        // two branches, each a large exp then its sum: the topological (creation) order computes
        // both exps before either sum, 2 x 4096 B in the arena; min-peak reduces the first before
        // computing the second, 4096 B; both sums are outputs (64 B each)
        {
            TwoBranches t("two_branches");
            t.g.addOutput("a", t.sum(t.ea));
            t.g.addOutput("b", t.sum(t.eb));
            saveGraphFile(t.g, dir + "/two_branches.json");
        }
        const QString branches = QString::fromStdString(dir + "/two_branches.json");
        const test::CliResult topo = test::runCli({"memory", branches, "--json"});
        const test::CliResult low = test::runCli({"memory", branches, "--order", "min-peak", "--json"});
        QCOMPARE(topo.exitCode, 0);
        QCOMPARE(low.exitCode, 0);
        QCOMPARE(json(topo).value("peak_bytes").toInteger(), std::int64_t(2 * 4096 + 2 * 64));
        QCOMPARE(json(low).value("peak_bytes").toInteger(), std::int64_t(4096 + 2 * 64));
        QCOMPARE(json(low).value("order").toString(), QString("min-peak"));
        // min-peak never plans more than the topological order, on every example
        for (const Case& c : allCases()) {
            const MemoryPlan t = planMemory(c.graph), m = planMemory(c.graph, {}, ScheduleOrder::MinPeak);
            QVERIFY2(m.plannedPeakBytes() <= t.plannedPeakBytes(), c.name.c_str());
            checkPlan(c.graph, m);
        }

        // a training step: activations kept, in-place updates
        const test::CliResult step = test::runCli({"memory", QString::fromStdString(test::sourcePath("resources/examples/spirals_mlp.json")),
                                                   "--train", "--optimizer", "adam", "--batch", "32", "--json"});
        QCOMPARE(step.exitCode, 0);
        j = json(step);
        QVERIFY(j.value("activation_bytes").toInteger() > 0);
        QVERIFY(j.value("activation_bytes").toInteger() <= j.value("lower_bound_bytes").toInteger());
        QVERIFY(j.value("in_place").toInt() > 0);
        const test::CliResult text = test::runCli({"memory", QString::fromStdString(test::sourcePath("resources/examples/spirals_mlp.json")), "--train"});
        QCOMPARE(text.exitCode, 0);
        QVERIFY2(text.out.contains("planned peak") && text.out.contains("activations kept for the backward pass"), qPrintable(text.out));

        // the executor runs in the order it planned: the min-peak run of the two branches holds
        // at most the min-peak plan's bytes, with the same outputs
        {
            const Graph g = loadGraphFile(dir + "/two_branches.json");
            auto exec = makeCpuExecutor();
            const Bindings in{{"x", test::normalTensor({1024}, 5, 1.f)}};
            RunOptions lowOrder;
            lowOrder.schedule = ScheduleOrder::MinPeak;
            const RunResult a = exec->run(g, in), b = exec->run(g, in, lowOrder);
            QCOMPARE(a.peakLiveBytes, std::int64_t(2 * 4096 + 2 * 64));
            QCOMPARE(b.peakLiveBytes, std::int64_t(4096 + 2 * 64));
            for (std::size_t i = 0; i < a.outputs.size(); ++i) QVERIFY(test::sameBits(a.outputs[i], b.outputs[i]));
        }

        // grad --memory-limit: the loss of both branches; runs in the min-peak order when only
        // that fits, stops naming the smallest planned peak when nothing does
        {
            TwoBranches t("two_losses");
            t.g.addOutput("loss", t.b.op(Op::Add, {t.sum(t.b.op(Op::Tanh, {t.ea})), t.sum(t.b.op(Op::Tanh, {t.eb}))}));
            const Graph& g = t.g;
            saveGraphFile(g, dir + "/two_losses.json");
            writeNpy(dir + "/x.npy", test::normalTensor({1024}, 6, 1.f));
            BackwardOptions all_;
            const Graph back = buildBackward(g, "loss", all_).graph;
            const std::int64_t topoPeak = planMemory(back).plannedPeakBytes(), lowPeak = planMemory(back, {}, ScheduleOrder::MinPeak).plannedPeakBytes();
            qInfo("two_losses backward: topological %lld B, min-peak %lld B", (long long)topoPeak, (long long)lowPeak);
            QVERIFY(lowPeak < topoPeak);
            const QStringList base{"grad", QString::fromStdString(dir + "/two_losses.json"), "--of", "loss", "--input",
                                   QString::fromStdString("x=" + dir + "/x.npy"), "--out", QString::fromStdString(dir + "/grads"), "--json"};
            const test::CliResult free = test::runCli(base);
            QCOMPARE(free.exitCode, 0);
            QCOMPARE(json(free).value("order").toString(), QString("topo"));
            QCOMPARE(json(free).value("planned_peak_bytes").toInteger(), topoPeak);
            QVERIFY(json(free).value("peak_bytes").toInteger() > 0);
            const test::CliResult tight = test::runCli(base + QStringList{"--memory-limit", QString::number(lowPeak)});
            QCOMPARE(tight.exitCode, 0);
            QCOMPARE(json(tight).value("order").toString(), QString("min-peak"));
            QVERIFY(json(tight).value("peak_bytes").toInteger() <= lowPeak);
            const Tensor g1 = readNpy(dir + "/grads/grad_x.npy");
            // below every order's peak, recomputation (the budget policy) is the last resort
            std::int64_t floor = lowPeak;
            for (ScheduleOrder order : {ScheduleOrder::Topological, ScheduleOrder::MinPeak})
                floor = std::min(floor, chooseCheckpoints(back, g.outputs().back().value, 0, {{}, order}).peakBytes);
            const test::CliResult tooTight = test::runCli(base + QStringList{"--memory-limit", QString::number(floor - 1)});
            QCOMPARE(tooTight.exitCode, 1);
            QVERIFY2(tooTight.err.startsWith("error:") && tooTight.err.contains(QString::number(floor) + " B"), qPrintable(tooTight.err));
            QCOMPARE(test::runCli(base + QStringList{"--memory-limit", "-5"}).exitCode, 2);
            QVERIFY(g1.numel() == 1024);
        }
        // train --memory-limit: below the smallest planned peak of the step graph, an error naming it
        {
            const QString spirals = QString::fromStdString(test::sourcePath("resources/examples/spirals_mlp.json"));
            const test::CliResult ok = test::runCli({"train", spirals, "--dataset", "spirals", "--steps", "2", "--memory-limit", "100000000", "--json"});
            QCOMPARE(ok.exitCode, 0);
            const QJsonObject summary = QJsonDocument::fromJson(ok.out.split('\n', Qt::SkipEmptyParts).last().toUtf8()).object();
            QCOMPARE(summary.value("order").toString(), QString("topo"));
            const test::CliResult no = test::runCli({"train", spirals, "--dataset", "spirals", "--steps", "2", "--memory-limit", "1000"});
            QCOMPARE(no.exitCode, 1);
            QVERIFY2(no.err.contains("smallest peak"), qPrintable(no.err));
        }

        QCOMPARE(test::runCli({"memory", QString::fromStdString(mlp), "--order", "fastest"}).exitCode, 2);
        QCOMPARE(test::runCli({"memory", QString::fromStdString(mlp), "--of", "y"}).exitCode, 2);
        QCOMPARE(test::runCli({"memory", QString::fromStdString(mlp), "--backward", "--of", "nope"}).exitCode, 1);
    }

    /// Five Adam steps of the spirals MLP: losses and parameters bit-identical with and without
    /// the planner, and the planned steps report their arena and peak.
    void trainingStepsAreBitIdentical() {
        /// The CPU executor with the planner off: the reference path.
        class Unplanned final : public Executor {
        public:
            std::string name() const override { return inner->name(); }
            std::string deviceName() const override { return inner->deviceName(); }
            bool supports(Op op) const override { return inner->supports(op); }
            RunResult run(const Graph& g, const Bindings& b, const RunOptions& o) override {
                RunOptions u = o;
                u.planMemory = false;
                return inner->run(g, b, u);
            }
            std::unique_ptr<Executor> inner = makeCpuExecutor();
        };
        const Graph model = loadExample("spirals_mlp");
        train::TrainerConfig config;
        config.steps = 5;
        config.batchSize = 32;
        config.seed = 7;
        config.optimizer.kind = train::OptimizerKind::Adam;
        config.optimizer.learningRate = 0.05f;
        auto planned = makeCpuExecutor();
        Unplanned unplanned;
        train::Trainer a(model, train::makeDataset("spirals"), config, *planned);
        train::Trainer b(model, train::makeDataset("spirals"), config, unplanned);
        for (int s = 0; s < 5; ++s) {
            const train::StepReport ra = a.runStep(), rb = b.runStep();
            QCOMPARE(std::memcmp(&ra.loss, &rb.loss, sizeof(double)), 0);
            QVERIFY(ra.peakBytes > 0);
            QVERIFY(ra.arenaBytes > 0);
            QCOMPARE(rb.arenaBytes, std::int64_t(0));
        }
        for (const auto& [name, t] : a.parameters()) QVERIFY2(test::sameBits(t, b.parameters().at(name)), name.c_str());
        const train::Evaluation ea = a.evaluate(a.dataset().validation), eb = b.evaluate(b.dataset().validation);
        QCOMPARE(std::memcmp(&ea.loss, &eb.loss, sizeof(double)), 0);
    }
};

QTEST_APPLESS_MAIN(TestMemoryPlan)
#include "tst_memory_plan.moc"
