// The rewrites fire on graphs as PyTorch's exporter writes them, not only on graphs written here
// (tests/fixtures/make_onnx_fixtures.py: a hand-written attention block exported on 3-D inputs,
// where each Linear is MatMul + Add, and on 2-D inputs, where it is Gemm(transB=1) with its bias;
// one module exported at every opset 11 to 17, whose LayerNorm is written as its moments before
// opset 17 and whose GELU is its erf formula). Each rewrite must fire where the pattern is, and
// the optimized graph must still compute torch's outputs, and its input gradient torch's.
#include <QtTest>
#include <map>
#include <string>
#include <vector>

#include "autodiff/reverse_mode.h"
#include "io/graph_file.h"
#include "io/npy.h"
#include "ir/builder.h"
#include "passes/pipeline.h"
#include "runtime/bindings.h"
#include "runtime/executor.h"
#include "test_support.h"

using namespace adj;

namespace {

#define REWRITE_TRY try {
#define REWRITE_CATCH \
    }                 \
    catch (const std::exception& e) { QFAIL(e.what()); }

constexpr double kRtol = 1e-4;
constexpr double kAtol = 1e-5;

Bindings readBindings(const test::NamedFiles& files) {
    Bindings b;
    for (const auto& [name, file] : files) b[name] = readNpy(file, NpyIntegers::Keep);
    return b;
}

/// Every output of `g` run on `inputs` (bound at their own sizes) against the .npy files of
/// `expected`; "" when all agree, else what differs.
std::string mismatches(Graph g, const test::NamedFiles& inputs, const test::NamedFiles& expected, const std::string& prefix = {}) {
    const Bindings b = readBindings(inputs);
    specializeToBindings(g, b);
    const RunResult r = makeCpuExecutor()->run(g, b);
    std::string problems;
    for (const auto& [name, file] : expected) {
        std::string why = "missing";
        bool ok = false;
        for (std::size_t i = 0; i < g.outputs().size(); ++i)
            if (g.outputs()[i].name == prefix + name) ok = test::allClose(r.outputs[i], readNpy(file), kRtol, kAtol, &why);
        if (!ok) problems += (problems.empty() ? "" : "; ") + prefix + name + ": " + why;
    }
    return problems;
}

int countOp(const Graph& g, Op op) {
    int n = 0;
    for (NodeId id : g.nodeIds()) n += g.node(id).op == op;
    return n;
}

/// The matmul and gemm nodes whose left operand is the graph input `input`.
std::vector<NodeId> linearsOn(const Graph& g, const std::string& input) {
    std::vector<NodeId> out;
    const auto x = g.findNode(input);
    if (!x) return out;
    for (NodeId id : g.nodeIds()) {
        const Node& n = g.node(id);
        if ((n.op == Op::MatMul || n.op == Op::Gemm) && n.inputs[0].node == *x) out.push_back(id);
    }
    return out;
}

int stepsOf(const RewriteTrace& trace, const std::string& rule) {
    int n = 0;
    for (const auto& s : trace.steps) n += s.rule == rule;
    return n;
}

/// Adds "loss" = sum(y * W) with the fixture's loss weights.
void addLoss(Graph& g, const test::OnnxModelFixture& f) {
    GraphBuilder b(g);
    const auto& [output, file] = f.lossWeights.at(0);
    ValueRef y;
    for (const auto& o : g.outputs())
        if (o.name == output) y = o.value;
    ValueRef prod = b.mul(y, b.constant(readNpy(file), "loss_w"));
    std::vector<std::int64_t> axes;
    for (std::int64_t a = 0; a < b.rank(prod); ++a) axes.push_back(a);
    g.addOutput("loss", b.sum(prod, axes, false));
}

}  // namespace

class TestPytorchRewrites : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void attentionIsOptimized_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("linearOp");
        QTest::newRow("matmul+add (3-D input)") << "attention" << int(Op::MatMul);
        QTest::newRow("gemm transB=1 (2-D input)") << "attention_2d" << int(Op::Gemm);
    }
    /// -O2 merges the three projections of x into one layer whose weight is one parameter (folded
    /// once, no concat left to run), turns the erf formula into one gelu, and still computes
    /// torch's output and input gradient.
    void attentionIsOptimized() {
        REWRITE_TRY
        QFETCH(QString, model);
        QFETCH(int, linearOp);
        const test::OnnxModelFixture& f = test::onnxModelFixture(model.toStdString());
        Graph g = loadGraphFile(f.file);
        const std::vector<NodeId> before = linearsOn(g, "x");
        QCOMPARE(int(before.size()), 3);
        for (NodeId id : before) QCOMPARE(int(g.node(id).op), linearOp);
        QCOMPARE(countOp(g, Op::Erf), 1);

        RewriteTrace trace;
        OptimizeOptions opt;
        opt.level = 2;
        opt.trace = &trace;
        optimizeGraph(g, opt);
        QCOMPARE(stepsOf(trace, "merge-parallel-matmul"), 1);
        QCOMPARE(stepsOf(trace, "gelu-from-erf"), 1);

        const std::vector<NodeId> after = linearsOn(g, "x");
        QCOMPARE(int(after.size()), 1);
        const Node& merged = g.node(after[0]);
        QCOMPARE(int(merged.op), linearOp);
        const Node& w = g.node(merged.inputs[1].node);
        QCOMPARE(int(w.op), int(Op::Parameter));  // trainable weights merge into one parameter
        const Shape wantW = linearOp == int(Op::Gemm) ? Shape{48, 16} : Shape{16, 48};
        QCOMPARE(w.outputs[0].shape, wantW);
        QCOMPARE(countOp(g, Op::Concat), 0);
        QCOMPARE(countOp(g, Op::Erf), 0);
        for (const char* gone : {"q.weight", "k.bias", "v.bias"}) QVERIFY2(!g.findNode(gone), gone);  // unread, removed

        std::string problems = mismatches(g, f.inputs, f.expected);
        QVERIFY2(problems.empty(), problems.c_str());

        // the input gradient of the optimized graph (the parameters now have other names), built
        // at the fixture's batch as tst_onnx does
        specializeToBindings(g, readBindings(f.inputs));
        addLoss(g, f);
        BackwardOptions bo;
        bo.wrt = {"x"};
        const BackwardGraph bw = buildBackward(g, "loss", bo);
        test::NamedFiles gradX;
        for (const auto& [name, file] : f.gradients)
            if (name == "x") gradX.emplace_back(name, file);
        QCOMPARE(int(gradX.size()), 1);
        problems = mismatches(bw.graph, f.inputs, gradX, "grad_");
        QVERIFY2(problems.empty(), problems.c_str());
        REWRITE_CATCH
    }

    /// The merge of bias-free layers keeps them bias-free, and layers of two forms on one input
    /// merge by form: three gemms and two matmuls of x become one gemm and one matmul.
    void mixedFormsMergeByForm() {
        REWRITE_TRY
        Graph g;
        GraphBuilder b(g);
        const ValueRef x{g.addInput("x", {4, 8}), 0};
        std::vector<ValueRef> outs;
        for (int i = 0; i < 3; ++i) {
            Tensor w = Tensor::empty({6, 8});
            for (std::int64_t k = 0; k < w.numel(); ++k) w.data()[k] = float((k * (i + 3)) % 11) / 10.f - 0.5f;
            const ValueRef wp{g.addParameter("gw" + std::to_string(i), w), 0};
            outs.push_back(b.op(Op::Gemm, {x, wp}, {{"transB", std::int64_t(1)}}, "gemm" + std::to_string(i)));
        }
        for (int i = 0; i < 2; ++i) {
            Tensor w = Tensor::empty({8, 5});
            for (std::int64_t k = 0; k < w.numel(); ++k) w.data()[k] = float((k * (i + 5)) % 7) / 7.f - 0.4f;
            outs.push_back(b.op(Op::MatMul, {x, b.constant(w, "mw" + std::to_string(i))}, {}, "matmul" + std::to_string(i)));
        }
        for (std::size_t i = 0; i < outs.size(); ++i) g.addOutput("y" + std::to_string(i), outs[i]);
        Tensor xv = Tensor::empty({4, 8});
        for (std::int64_t k = 0; k < xv.numel(); ++k) xv.data()[k] = float(k % 9) - 4.f;
        const Bindings bind{{"x", xv}};
        const RunResult want = makeCpuExecutor()->run(g, bind);

        OptimizeOptions opt;
        opt.passes = {"parallel-matmul", "dce"};
        optimizeGraph(g, opt);
        QCOMPARE(countOp(g, Op::Gemm), 1);
        QCOMPARE(countOp(g, Op::MatMul), 1);
        QCOMPARE(countOp(g, Op::Concat), 0);
        for (NodeId id : linearsOn(g, "x")) {
            const Node& n = g.node(id);
            QCOMPARE(n.inputs.size(), std::size_t(2));
            // trainable gemm weights merge into a parameter, constant matmul weights into a constant
            QCOMPARE(int(g.node(n.inputs[1].node).op), int(n.op == Op::Gemm ? Op::Parameter : Op::Constant));
        }
        const RunResult got = makeCpuExecutor()->run(g, bind);
        for (std::size_t i = 0; i < want.outputs.size(); ++i) {
            std::string why;
            QVERIFY2(test::allClose(got.outputs[i], want.outputs[i], 1e-5, 1e-6, &why), why.c_str());
        }
        REWRITE_CATCH
    }

    /// MobileNetV3's activations as hand-written code has them, exported at opset 13:
    /// x * relu6(x + 3) / 6 and PyTorch's Mul(x, HardSigmoid(x)) become hard_swish, relu6(x + 3) / 6
    /// hard_sigmoid (PyTorch writes relu6 as Clip(Relu(t), 0, 6)); the result is still torch's.
    void hardActivationsAreRecognized() {
        REWRITE_TRY
        const test::OnnxModelFixture& f = test::onnxModelFixture("hard_blocks");
        const Graph original = loadGraphFile(f.file);
        QCOMPARE(countOp(original, Op::HardSwish), 0);
        QCOMPARE(countOp(original, Op::HardSigmoid), 1);
        QCOMPARE(countOp(original, Op::Minimum), 2);
        Graph g = original;
        OptimizeOptions opt;
        opt.passes = {"recognize-ops", "dce"};
        optimizeGraph(g, opt);
        QCOMPARE(countOp(g, Op::HardSwish), 2);
        QCOMPARE(countOp(g, Op::HardSigmoid), 1);
        for (Op gone : {Op::Minimum, Op::Maximum, Op::Relu, Op::Div}) QCOMPARE(countOp(g, gone), 0);
        std::string problems = mismatches(g, f.inputs, f.expected);
        QVERIFY2(problems.empty(), problems.c_str());
        Graph o2 = original;
        optimizeGraph(o2, OptimizeOptions{});
        problems = mismatches(o2, f.inputs, f.expected);
        QVERIFY2(problems.empty(), ("-O2: " + problems).c_str());
        REWRITE_CATCH
    }

    /// Near misses stay as they are: relu6(x + 3) / 5, (x * relu6(y + 3)) / 6, x * hard_sigmoid(x)
    /// at ONNX's default alpha 0.2, and an erf formula with 0.4 instead of 0.5.
    void nearMissesAreLeftAlone() {
        REWRITE_TRY
        Graph g;
        GraphBuilder b(g);
        const ValueRef x{g.addInput("x", {2, 3}), 0};
        const ValueRef y{g.addInput("y", {2, 3}), 0};
        auto relu6 = [&](ValueRef t) { return b.op(Op::Minimum, {b.op(Op::Maximum, {t, b.constant(0.f)}), b.constant(6.f)}); };
        g.addOutput("a", b.op(Op::Div, {relu6(b.op(Op::Add, {x, b.constant(3.f)})), b.constant(5.f)}));
        g.addOutput("b", b.op(Op::Div, {b.op(Op::Mul, {x, relu6(b.op(Op::Add, {y, b.constant(3.f)}))}), b.constant(6.f)}));
        g.addOutput("c", b.op(Op::Mul, {x, b.op(Op::HardSigmoid, {x})}));
        const ValueRef erf = b.op(Op::Erf, {b.op(Op::Div, {x, b.constant(1.4142135f)})});
        g.addOutput("d", b.op(Op::Mul, {b.op(Op::Mul, {x, b.op(Op::Add, {erf, b.constant(1.f)})}), b.constant(0.4f)}));
        RewriteTrace trace;
        OptimizeOptions opt;
        opt.passes = {"recognize-ops"};
        opt.trace = &trace;
        optimizeGraph(g, opt);
        QCOMPARE(int(trace.steps.size()), 0);
        REWRITE_CATCH
    }

    /// PyTorch's Conv2d + BatchNorm2d (exported as separate nodes, training=PRESERVE) fold at -O2.
    void separateBatchNormFolds() {
        REWRITE_TRY
        const test::OnnxModelFixture& f = test::onnxModelFixture("cnn");
        Graph g = loadGraphFile(f.file);
        QCOMPARE(countOp(g, Op::BatchNorm), 1);
        optimizeGraph(g, OptimizeOptions{});
        QCOMPARE(countOp(g, Op::BatchNorm), 0);
        const std::string problems = mismatches(g, f.inputs, f.expected);
        QVERIFY2(problems.empty(), problems.c_str());
        REWRITE_CATCH
    }

    void sweepIsRecognized_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("opset");
        for (const auto& s : test::onnxOpsetFixtures()) QTest::newRow(s.model.c_str()) << QString::fromStdString(s.model) << s.opset;
    }
    /// At every opset the module's LayerNorm (its moments before opset 17) and GELU (its erf
    /// formula) come out of recognize-ops as one layernorm with its scale and shift and one gelu;
    /// -O1 and -O2 still compute torch's outputs.
    void sweepIsRecognized() {
        REWRITE_TRY
        QFETCH(QString, model);
        QFETCH(int, opset);
        test::OnnxOpsetFixture s;
        for (const auto& f : test::onnxOpsetFixtures())
            if (f.model == model.toStdString()) s = f;
        const Graph original = loadGraphFile(s.file);
        QCOMPARE(countOp(original, Op::LayerNorm), opset >= 17 ? 1 : 0);
        QCOMPARE(countOp(original, Op::Erf), 1);

        Graph g = original;
        RewriteTrace trace;
        OptimizeOptions opt;
        opt.passes = {"recognize-ops", "dce"};
        opt.trace = &trace;
        optimizeGraph(g, opt);
        QCOMPARE(countOp(g, Op::LayerNorm), 1);
        QCOMPARE(countOp(g, Op::Erf), 0);
        QCOMPARE(countOp(g, Op::Gelu), 1);
        for (NodeId id : g.nodeIds())
            if (g.node(id).op == Op::LayerNorm) QCOMPARE(g.node(id).inputs.size(), std::size_t(3));
        QCOMPARE(stepsOf(trace, "layernorm-from-moments"), opset >= 17 ? 0 : 1);
        std::string problems = mismatches(g, s.inputs, s.expected);
        QVERIFY2(problems.empty(), problems.c_str());

        for (int level : {1, 2}) {
            Graph o = original;
            OptimizeOptions lv;
            lv.level = level;
            optimizeGraph(o, lv);
            problems = mismatches(o, s.inputs, s.expected);
            QVERIFY2(problems.empty(), ("-O" + std::to_string(level) + ": " + problems).c_str());
        }
        REWRITE_CATCH
    }
};

QTEST_GUILESS_MAIN(TestPytorchRewrites)
#include "tst_pytorch_rewrites.moc"
