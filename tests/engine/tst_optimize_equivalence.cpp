// Every pass and pipeline on every example and op fixture: outputs equal the unoptimized graph's
// on the same inputs (rtol 1e-4; positive inputs, then signed ones with zeros), and so do gradients, both of the optimized forward graph
// (differentiated after optimizing) and of the backward graph optimized itself.
#include <QtTest>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "io/graph_file.h"
#include "io/npy.h"
#include "ir/builder.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"
#include "runtime/executor.h"
#include "test_support.h"

using namespace adj;
namespace fs = std::filesystem;

namespace {

int gradientCases = 0;  // cases whose gradients were compared
int comparisons = 0;    // runs compared

struct Case {
    std::string name;
    std::function<Graph()> graph;
    Bindings known;  // the case's own input values, where it has them
};

/// Every example (with its saved inputs, resources/examples/inputs/<example>/<input>.npy, where
/// there are some) and every op case, sorted by name.
const std::vector<Case>& allCases() {
    static const std::vector<Case> cases = [] {
        std::vector<Case> r;
        for (const auto& e : fs::directory_iterator(test::sourcePath("resources/examples"))) {
            if (e.path().extension() != ".json") continue;
            const std::string stem = e.path().stem().string(), file = e.path().string();
            Bindings known;
            const fs::path dir = test::sourcePath("resources/examples/inputs/" + stem);
            if (fs::is_directory(dir))
                for (const auto& f : fs::directory_iterator(dir))
                    if (f.path().extension() == ".npy") known[f.path().stem().string()] = readNpy(f.path().string());
            r.push_back({"example/" + stem, [file] { return loadGraphFile(file); }, known});
        }
        for (const auto& c : test::opCases()) r.push_back({"op/" + c.name, [&c] { return c.graph(); }, c.bindings()});
        // the inverse pairs of the algebraic pass, whose identities hold on part of the line only
        r.push_back({"rewrite/inverse_pairs", [] {
                         Graph g;
                         g.name = "inverse_pairs";
                         const ValueRef x{g.addInput("x", {4, 8}), 0};
                         GraphBuilder b(g);
                         const ValueRef expLog = b.op(Op::Exp, {b.op(Op::Log, {x})});
                         const ValueRef logExp = b.op(Op::Log, {b.op(Op::Exp, {x})});
                         const ValueRef negNeg = b.op(Op::Neg, {b.op(Op::Neg, {x})});
                         const ValueRef positive = b.op(Op::Exp, {b.op(Op::Log, {b.op(Op::Sigmoid, {x})})});
                         g.addOutput("y", b.op(Op::Add, {b.op(Op::Add, {expLog, logExp}), b.op(Op::Add, {negNeg, positive})}));
                         return g;
                     },
                     {}});
        std::sort(r.begin(), r.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
        return r;
    }();
    return cases;
}

/// Values for a run. Positive: the case's own values for the inputs it has, random in [0.2, 1.2]
/// (every op's domain) for the others. Signed: random in [-1.5, 1.5] for every input, one in
/// seven exactly 0, where a rewrite that holds only for positive values (exp(log x) -> x) or
/// away from zero shows: the optimized graph must give the same values, NaN where the original
/// gives NaN.
enum class Inputs { Positive, Signed };
Bindings bindingsFor(const Graph& g, const Bindings& known, unsigned seed, Inputs inputs) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> positive(0.2f, 1.2f), signedValue(-1.5f, 1.5f);
    Bindings b;
    for (NodeId id : g.inputNodes()) {
        const Node& n = g.node(id);
        if (auto it = known.find(n.name); it != known.end() && inputs == Inputs::Positive) {
            b[n.name] = it->second.clone();
            continue;
        }
        std::vector<float> v(std::size_t(numel(n.declaredShape)));
        for (std::size_t i = 0; i < v.size(); ++i)
            v[i] = inputs == Inputs::Positive ? positive(rng) : (i % 7 == 3 ? 0.f : signedValue(rng));
        b[n.name] = Tensor::fromVector(n.declaredShape, v);
    }
    return b;
}

std::string compareRuns(const Graph& a, const Graph& b, const Bindings& bind, const std::string& what) {
    ++comparisons;
    auto exec = makeCpuExecutor();
    RunResult ra = exec->run(a, bind), rb = exec->run(b, bind);
    if (a.outputs().size() != b.outputs().size()) return what + ": output count differs";
    for (std::size_t i = 0; i < a.outputs().size(); ++i) {
        const std::string name = a.outputs()[i].name;
        std::size_t j = 0;
        while (j < b.outputs().size() && b.outputs()[j].name != name) ++j;
        if (j == b.outputs().size()) return what + ": output '" + name + "' is gone";
        std::string why;
        if (!test::allClose(rb.outputs[j], ra.outputs[i], 1e-4, 1e-5, &why)) return what + ": output '" + name + "': " + why;
    }
    return {};
}

std::vector<std::pair<std::string, OptimizeOptions>> configurations() {
    std::vector<std::pair<std::string, OptimizeOptions>> c;
    for (int level : {1, 2}) {
        OptimizeOptions o;
        o.level = level;
        c.push_back({"-O" + std::to_string(level), o});
    }
    for (const auto& p : knownPasses()) {
        OptimizeOptions o;
        o.passes = {p};
        c.push_back({p, o});
    }
    return c;
}

/// A scalar output to differentiate: the first output, seeded (vector-Jacobian product).
std::string checkCase(const Case& c, Inputs inputs) {
    Graph original = c.graph();
    verifyOrThrow(original);
    const Bindings bind = bindingsFor(original, c.known, 7, inputs);
    std::optional<BackwardGraph> bwd;
    try {
        BackwardOptions bo;
        bo.seedInput = true;
        bwd = buildBackward(original, original.outputs().at(0).name, bo);
    } catch (const GraphError&) {
        // not differentiable (comparisons...): outputs only
    }
    Bindings bwdBind;
    if (bwd) {
        ++gradientCases;
        bwdBind = bindingsFor(bwd->graph, c.known, 11, inputs);
        for (const auto& [k, v] : bind) bwdBind[k] = v;
    }
    for (const auto& [label, opt] : configurations()) {
        const std::string what = c.name + " " + label + (inputs == Inputs::Signed ? " (signed inputs)" : "");
        try {
            Graph g = original;
            optimizeGraph(g, opt);
            if (auto e = compareRuns(original, g, bind, what); !e.empty()) return e;
            if (!bwd) continue;
            // gradients of the optimized forward graph, with respect to the inputs (and the
            // parameters, unless folding replaced them)
            const bool folds = label == "-O2" || label == "conv-bn" || label == "parallel-matmul";
            BackwardOptions bo;
            bo.seedInput = true;
            for (NodeId id : original.inputNodes()) bo.wrt.push_back(original.node(id).name);
            if (!folds)
                for (NodeId id : original.parameterNodes()) bo.wrt.push_back(original.node(id).name);
            if (!bo.wrt.empty()) {
                BackwardGraph before = buildBackward(original, original.outputs()[0].name, bo);
                BackwardGraph after = buildBackward(g, original.outputs()[0].name, bo);
                if (auto e = compareRuns(before.graph, after.graph, bwdBind, what + " (gradients of the optimized graph)"); !e.empty()) return e;
            }
            // the backward graph, optimized itself
            Graph gb = bwd->graph;
            optimizeGraph(gb, opt);
            if (auto e = compareRuns(bwd->graph, gb, bwdBind, what + " (optimized backward graph)"); !e.empty()) return e;
        } catch (const std::exception& e) {
            return what + ": " + e.what();
        }
    }
    return {};
}

}  // namespace

class TestOptimizeEquivalence : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void cases_data() {
        QTest::addColumn<int>("index");
        const auto& cases = allCases();
        for (std::size_t i = 0; i < cases.size(); ++i) QTest::newRow(cases[i].name.c_str()) << int(i);
    }
    void cases() {
        QFETCH(int, index);
        for (Inputs inputs : {Inputs::Positive, Inputs::Signed}) {
            const std::string failure = checkCase(allCases()[std::size_t(index)], inputs);
            QVERIFY2(failure.empty(), failure.c_str());
        }
    }

    // most cases are differentiable: their gradients were compared too
    void coverage() {
        qInfo("%d of %zu cases with gradients, %d runs compared", gradientCases, allCases().size(), comparisons);
        QVERIFY(gradientCases * 4 >= int(allCases().size()) * 3);
    }

    // The acceptance figures on the examples: -O2 folds conv+batchnorm, merges Q/K/V, and fuses
    // the elementwise chain into one kernel with fewer bytes.
    void examplesAtO2() {
        Graph conv = loadGraphFile(test::sourcePath("resources/examples/conv_bn_relu.json"));
        optimizeGraph(conv);
        int bn = 0, convs = 0;
        for (NodeId id : conv.liveTopoOrder()) {
            bn += conv.node(id).op == Op::BatchNorm;
            convs += conv.node(id).op == Op::Conv2d;
        }
        QCOMPARE(bn, 0);
        QVERIFY(convs >= 1);

        Graph att = loadGraphFile(test::sourcePath("resources/examples/attention.json"));
        int before = 0;
        for (NodeId id : att.liveTopoOrder()) before += att.node(id).op == Op::MatMul;
        optimizeGraph(att);
        int after = 0, splits = 0;
        for (NodeId id : att.liveTopoOrder()) {
            after += att.node(id).op == Op::MatMul;
            splits += att.node(id).op == Op::Split;
        }
        QVERIFY2(after <= before - 2, (std::to_string(before) + " -> " + std::to_string(after) + " matmuls\n" + printGraph(att)).c_str());
        QCOMPARE(splits, 1);

        Graph chain = loadGraphFile(test::sourcePath("resources/examples/elementwise_chain.json"));
        RewriteTrace trace;
        OptimizeOptions o;
        o.trace = &trace;
        OptimizeResult r = optimizeGraph(chain, o);
        QCOMPARE(r.after.kernels, std::int64_t(1));
        QVERIFY(r.before.kernels >= 8);
        QVERIFY(r.after.bytes * 4 < r.before.bytes);
        QVERIFY(!trace.steps.empty());
    }
};

QTEST_APPLESS_MAIN(TestOptimizeEquivalence)
#include "tst_optimize_equivalence.moc"
