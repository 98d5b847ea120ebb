// One before/after test on the printed graph for every rewrite rule,
// plus a numeric check where the rule computes new values.
#include <QtTest>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "ir/builder.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"
#include "runtime/executor.h"
#include "test_support.h"

using namespace adj;

namespace {

std::vector<std::int64_t> ints(std::initializer_list<std::int64_t> v) { return std::vector<std::int64_t>(v); }

Tensor ramp(const Shape& s, float start, float step) {
    std::vector<float> v(std::size_t(numel(s)));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = start + step * float(i % 7);
    return Tensor::fromVector(s, v);
}

/// Runs the passes and compares the printed graph before and after with the golden texts;
/// the outputs must also stay equal on ramp inputs.
void checkRewrite(Graph& g, const std::vector<std::string>& passes, const std::string& before, const std::string& after,
                  RewriteTrace* trace = nullptr) {
    verifyOrThrow(g);
    QCOMPARE(QString::fromStdString(printGraph(g)), QString::fromStdString(before));
    Graph original = g;
    OptimizeOptions o;
    o.passes = passes;
    o.trace = trace;
    optimizeGraph(g, o);
    QCOMPARE(QString::fromStdString(printGraph(g)), QString::fromStdString(after));
    Bindings b;
    for (NodeId id : g.inputNodes()) b[g.node(id).name] = ramp(g.node(id).declaredShape, 0.25f, 0.125f);
    auto exec = makeCpuExecutor();
    auto r0 = exec->run(original, b), r1 = exec->run(g, b);
    for (std::size_t i = 0; i < r0.outputs.size(); ++i) {
        std::string why;
        QVERIFY2(test::allClose(r1.outputs[i], r0.outputs[i], 1e-5, 1e-6, &why), why.c_str());
    }
}

}  // namespace

class TestPasses : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void constantFolding() {
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {2}), 0};
        GraphBuilder b(g);
        ValueRef s = b.op(Op::Add, {b.constant(2.f, "two"), b.constant(3.f, "three")}, {}, "s");
        g.addOutput("y", b.op(Op::Mul, {x, s}, {}, "y"));
        checkRewrite(g, {"constant-folding"},
                     "graph t\n  input  %x : [2]\n  const  %two = 2 : []\n  const  %three = 3 : []\n  %s = add(%two, %three) : []\n"
                     "  %y = mul(%x, %s) : [2]\n  output y = %y\n",
                     "graph t\n  input  %x : [2]\n  const  %s_c = 5 : []\n  %y = mul(%x, %s_c) : [2]\n  output y = %y\n");
    }

    void algebraic_data() {
        QTest::addColumn<int>("op");
        QTest::addColumn<float>("value");
        QTest::addColumn<bool>("constantFirst");
        QTest::addColumn<QString>("rule");
        QTest::newRow("mul-one") << int(Op::Mul) << 1.f << false << QString("mul");
        QTest::newRow("one-mul") << int(Op::Mul) << 1.f << true << QString("mul");
        QTest::newRow("add-zero") << int(Op::Add) << 0.f << false << QString("add");
        QTest::newRow("zero-add") << int(Op::Add) << 0.f << true << QString("add");
        QTest::newRow("sub-zero") << int(Op::Sub) << 0.f << false << QString("sub");
        QTest::newRow("div-one") << int(Op::Div) << 1.f << false << QString("div");
    }
    void algebraic() {
        QFETCH(int, op);
        QFETCH(float, value);
        QFETCH(bool, constantFirst);
        QFETCH(QString, rule);
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {3}), 0};
        GraphBuilder b(g);
        ValueRef c = b.constant(value, "c");
        g.addOutput("y", b.op(Op(op), constantFirst ? std::vector<ValueRef>{c, x} : std::vector<ValueRef>{x, c}, {}, "y"));
        char cbuf[32];
        std::snprintf(cbuf, sizeof cbuf, "%.9g", double(value));
        const std::string args = constantFirst ? "(%c, %x)" : "(%x, %c)";
        checkRewrite(g, {"algebraic"},
                     "graph t\n  input  %x : [3]\n  const  %c = " + std::string(cbuf) + " : []\n  %y = " + rule.toStdString() + args +
                         " : [3]\n  output y = %y\n",
                     "graph t\n  input  %x : [3]\n  output y = %x\n");
    }

    void algebraicKeepsBroadcast() {
        // x * ones([2, 3]) broadcasts x: not an identity
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {3}), 0};
        GraphBuilder b(g);
        g.addOutput("y", b.op(Op::Mul, {x, b.constant(Tensor::full({2, 3}, 1.f), "ones")}, {}, "y"));
        const std::string text = "graph t\n  input  %x : [3]\n  const  %ones : [2, 3]\n  %y = mul(%x, %ones) : [2, 3]\n  output y = %y\n";
        checkRewrite(g, {"algebraic"}, text, text);
    }

    void inversePairs_data() {
        QTest::addColumn<int>("outer");
        QTest::addColumn<int>("inner");
        QTest::newRow("neg-neg") << int(Op::Neg) << int(Op::Neg);
        QTest::newRow("log-exp") << int(Op::Log) << int(Op::Exp);
    }
    void inversePairs() {
        QFETCH(int, outer);
        QFETCH(int, inner);
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {3}), 0};
        GraphBuilder b(g);
        g.addOutput("y", b.op(Op(outer), {b.op(Op(inner), {x}, {}, "a")}, {}, "y"));
        const std::string o(opName(Op(outer))), i(opName(Op(inner)));
        checkRewrite(g, {"algebraic"},
                     "graph t\n  input  %x : [3]\n  %a = " + i + "(%x) : [3]\n  %y = " + o + "(%a) : [3]\n  output y = %y\n",
                     "graph t\n  input  %x : [3]\n  output y = %x\n");
    }

    // exp(log x) equals x only where x cannot be negative: on a graph input it stays (the
    // original is NaN for x < 0); on a sigmoid's output it goes.
    void expLogOnlyWhereNonNegative() {
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {3}), 0};
        GraphBuilder b(g);
        g.addOutput("y", b.op(Op::Exp, {b.op(Op::Log, {x}, {}, "a")}, {}, "y"));
        const std::string kept = "graph t\n  input  %x : [3]\n  %a = log(%x) : [3]\n  %y = exp(%a) : [3]\n  output y = %y\n";
        checkRewrite(g, {"algebraic"}, kept, kept);

        Graph h;
        h.name = "t";
        const ValueRef hx{h.addInput("x", {3}), 0};
        GraphBuilder hb(h);
        const ValueRef s = hb.op(Op::Sigmoid, {hx}, {}, "s");
        h.addOutput("y", hb.op(Op::Exp, {hb.op(Op::Log, {s}, {}, "a")}, {}, "y"));
        checkRewrite(h, {"algebraic"},
                     "graph t\n  input  %x : [3]\n  %s = sigmoid(%x) : [3]\n  %a = log(%s) : [3]\n  %y = exp(%a) : [3]\n  output y = %y\n",
                     "graph t\n  input  %x : [3]\n  %s = sigmoid(%x) : [3]\n  output y = %s\n");
    }

    void transposeTranspose() {
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {2, 3, 4}), 0};
        GraphBuilder b(g);
        ValueRef t1 = b.op(Op::Transpose, {x}, {{"perm", ints({1, 2, 0})}}, "t1");
        ValueRef t2 = b.op(Op::Transpose, {t1}, {{"perm", ints({1, 2, 0})}}, "t2");
        ValueRef t3 = b.op(Op::Transpose, {x}, {{"perm", ints({1, 0, 2})}}, "t3");
        ValueRef t4 = b.op(Op::Transpose, {t3}, {{"perm", ints({1, 0, 2})}}, "t4");
        g.addOutput("y", t2);
        g.addOutput("z", t4);
        checkRewrite(g, {"algebraic"},
                     "graph t\n  input  %x : [2, 3, 4]\n  %t1 = transpose(%x) {perm=[1, 2, 0]} : [3, 4, 2]\n"
                     "  %t2 = transpose(%t1) {perm=[1, 2, 0]} : [4, 2, 3]\n  %t3 = transpose(%x) {perm=[1, 0, 2]} : [3, 2, 4]\n"
                     "  %t4 = transpose(%t3) {perm=[1, 0, 2]} : [2, 3, 4]\n  output y = %t2\n  output z = %t4\n",
                     "graph t\n  input  %x : [2, 3, 4]\n  %transpose = transpose(%x) {perm=[2, 0, 1]} : [4, 2, 3]\n"
                     "  output y = %transpose\n  output z = %x\n");
    }

    void reshapeChain() {
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {2, 3, 4}), 0};
        GraphBuilder b(g);
        ValueRef r1 = b.op(Op::Reshape, {x}, {{"shape", ints({6, 4})}}, "r1");
        ValueRef r2 = b.op(Op::Reshape, {r1}, {{"shape", ints({24})}}, "r2");
        ValueRef r3 = b.op(Op::Reshape, {x}, {{"shape", ints({2, 3, 4})}}, "r3");
        g.addOutput("y", r2);
        g.addOutput("z", r3);
        checkRewrite(g, {"algebraic"},
                     "graph t\n  input  %x : [2, 3, 4]\n  %r1 = reshape(%x) {shape=[6, 4]} : [6, 4]\n  %r2 = reshape(%r1) {shape=[24]} : [24]\n"
                     "  %r3 = reshape(%x) {shape=[2, 3, 4]} : [2, 3, 4]\n  output y = %r2\n  output z = %r3\n",
                     "graph t\n  input  %x : [2, 3, 4]\n  %reshape = reshape(%x) {shape=[24]} : [24]\n  output y = %reshape\n  output z = %x\n");
    }

    void cse() {
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {3}), 0};
        const ValueRef w{g.addInput("w", {3}), 0};
        GraphBuilder b(g);
        ValueRef a = b.op(Op::Exp, {x}, {}, "a");
        ValueRef a2 = b.op(Op::Exp, {x}, {}, "a2");
        ValueRef m = b.op(Op::Mul, {x, w}, {}, "m");
        ValueRef m2 = b.op(Op::Mul, {w, x}, {}, "m2");  // commutative: the same value
        ValueRef s = b.op(Op::Sub, {a, a2}, {}, "s");
        ValueRef d = b.op(Op::Sub, {m, m2}, {}, "d");
        g.addOutput("y", b.op(Op::Add, {s, d}, {}, "y"));
        checkRewrite(g, {"cse"},
                     "graph t\n  input  %x : [3]\n  input  %w : [3]\n  %a = exp(%x) : [3]\n  %a2 = exp(%x) : [3]\n  %m = mul(%x, %w) : [3]\n"
                     "  %m2 = mul(%w, %x) : [3]\n  %s = sub(%a, %a2) : [3]\n  %d = sub(%m, %m2) : [3]\n  %y = add(%s, %d) : [3]\n  output y = %y\n",
                     "graph t\n  input  %x : [3]\n  input  %w : [3]\n  %a = exp(%x) : [3]\n  %m = mul(%x, %w) : [3]\n  %s = sub(%a, %a) : [3]\n"
                     "  %d = sub(%m, %m) : [3]\n  %y = add(%s, %d) : [3]\n  output y = %y\n");
    }

    void dce() {
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {3}), 0};
        GraphBuilder b(g);
        ValueRef dead = b.op(Op::Exp, {x}, {}, "dead");
        b.op(Op::Sin, {dead}, {}, "dead2");
        g.addOutput("y", b.op(Op::Cos, {x}, {}, "y"));
        checkRewrite(g, {"dce"},
                     "graph t\n  input  %x : [3]\n  %dead = exp(%x) : [3]\n  %dead2 = sin(%dead) : [3]\n  %y = cos(%x) : [3]\n  output y = %y\n",
                     "graph t\n  input  %x : [3]\n  %y = cos(%x) : [3]\n  output y = %y\n");
    }

    void convBatchnorm() {
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {1, 2, 4, 4}), 0};
        const ValueRef w{g.addParameter("w", ramp({3, 2, 3, 3}, -0.5f, 0.2f)), 0};
        const ValueRef bias{g.addParameter("b", ramp({3}, 0.1f, 0.1f)), 0};
        GraphBuilder b(g);
        ValueRef conv = b.op(Op::Conv2d, {x, w, bias}, {{"pads", ints({1, 1, 1, 1})}}, "conv");
        ValueRef y = b.op(Op::BatchNorm, {conv, b.constant(ramp({3}, 0.5f, 0.25f), "scale"), b.constant(ramp({3}, -0.1f, 0.3f), "shift"),
                                         b.constant(ramp({3}, 0.2f, 0.1f), "mean"), b.constant(ramp({3}, 0.8f, 0.3f), "var")},
                          {}, "bn");
        g.addOutput("y", b.op(Op::Relu, {y}, {}, "r"));
        checkRewrite(g, {"conv-bn"},
                     "graph t\n  input  %x : [1, 2, 4, 4]\n  param  %w : [3, 2, 3, 3]\n  param  %b : [3]\n"
                     "  %conv = conv2d(%x, %w, %b) {pads=[1, 1, 1, 1]} : [1, 3, 4, 4]\n  const  %scale : [3]\n  const  %shift : [3]\n"
                     "  const  %mean : [3]\n  const  %var : [3]\n  %bn = batchnorm(%conv, %scale, %shift, %mean, %var) : [1, 3, 4, 4]\n"
                     "  %r = relu(%bn) : [1, 3, 4, 4]\n  output y = %r\n",
                     "graph t\n  input  %x : [1, 2, 4, 4]\n  param  %conv_w_folded : [3, 2, 3, 3]\n"
                     "  param  %conv_b_folded : [3]\n  %conv_bn = conv2d(%x, %conv_w_folded, %conv_b_folded) {pads=[1, 1, 1, 1]} : [1, 3, 4, 4]\n"
                     "  %r = relu(%conv_bn) : [1, 3, 4, 4]\n  output y = %r\n");
    }

    void linearBatchnorm() {
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {4, 3}), 0};
        const ValueRef w{g.addParameter("w", ramp({3, 5}, -0.5f, 0.2f)), 0};
        const ValueRef bias{g.addParameter("b", ramp({5}, 0.1f, 0.1f)), 0};
        GraphBuilder b(g);
        ValueRef mm = b.op(Op::MatMul, {x, w}, {}, "fc");
        ValueRef add = b.op(Op::Add, {mm, bias}, {}, "fc_b");
        ValueRef y = b.op(Op::BatchNorm, {add, b.constant(ramp({5}, 0.5f, 0.25f), "scale"), b.constant(ramp({5}, -0.1f, 0.3f), "shift"),
                                         b.constant(ramp({5}, 0.2f, 0.1f), "mean"), b.constant(ramp({5}, 0.8f, 0.3f), "var")},
                          {}, "bn");
        g.addOutput("y", b.op(Op::Tanh, {y}, {}, "r"));
        checkRewrite(g, {"conv-bn"},
                     "graph t\n  input  %x : [4, 3]\n  param  %w : [3, 5]\n  param  %b : [5]\n  %fc = matmul(%x, %w) : [4, 5]\n"
                     "  %fc_b = add(%fc, %b) : [4, 5]\n  const  %scale : [5]\n  const  %shift : [5]\n  const  %mean : [5]\n"
                     "  const  %var : [5]\n  %bn = batchnorm(%fc_b, %scale, %shift, %mean, %var) : [4, 5]\n  %r = tanh(%bn) : [4, 5]\n"
                     "  output y = %r\n",
                     "graph t\n  input  %x : [4, 3]\n  param  %fc_w_folded : [3, 5]\n"
                     "  param  %fc_b_folded : [5]\n  %fc_bn = gemm(%x, %fc_w_folded, %fc_b_folded) {transA=0, transB=0} : [4, 5]\n"
                     "  %r = tanh(%fc_bn) : [4, 5]\n  output y = %r\n");
    }

    void gemmTransBBatchnorm() {
        // gemm(x, W^T, c) with alpha and beta, all constants: the fold stays constant
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {2, 3}), 0};
        GraphBuilder b(g);
        ValueRef gm = b.op(Op::Gemm, {x, b.constant(ramp({4, 3}, -0.4f, 0.15f), "w"), b.constant(ramp({4}, 0.3f, -0.1f), "c")},
                           {{"alpha", 0.5}, {"beta", 2.0}, {"transB", std::int64_t(1)}}, "lin");
        ValueRef y = b.op(Op::BatchNorm, {gm, b.constant(ramp({4}, 0.5f, 0.25f), "scale"), b.constant(ramp({4}, -0.1f, 0.3f), "shift"),
                                         b.constant(ramp({4}, 0.2f, 0.1f), "mean"), b.constant(ramp({4}, 0.8f, 0.3f), "var")},
                          {}, "bn");
        g.addOutput("y", y);
        checkRewrite(g, {"conv-bn"},
                     "graph t\n  input  %x : [2, 3]\n  const  %w : [4, 3]\n  const  %c : [4]\n"
                     "  %lin = gemm(%x, %w, %c) {alpha=0.5, beta=2, transB=1} : [2, 4]\n  const  %scale : [4]\n  const  %shift : [4]\n"
                     "  const  %mean : [4]\n  const  %var : [4]\n  %bn = batchnorm(%lin, %scale, %shift, %mean, %var) : [2, 4]\n"
                     "  output y = %bn\n",
                     "graph t\n  input  %x : [2, 3]\n  const  %lin_w_folded : [4, 3]\n  const  %lin_b_folded : [4]\n"
                     "  %lin_bn = gemm(%x, %lin_w_folded, %lin_b_folded) {transA=0, transB=1} : [2, 4]\n  output y = %lin_bn\n");
    }

    void parallelMatmul() {
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {4, 8}), 0};
        const ValueRef wq{g.addParameter("wq", ramp({8, 8}, -0.3f, 0.1f)), 0};
        const ValueRef wk{g.addParameter("wk", ramp({8, 8}, -0.2f, 0.1f)), 0};
        const ValueRef wv{g.addParameter("wv", ramp({8, 4}, -0.1f, 0.1f)), 0};
        const ValueRef bq{g.addParameter("bq", ramp({8}, 0.f, 0.1f)), 0};
        const ValueRef bk{g.addParameter("bk", ramp({8}, 0.1f, 0.1f)), 0};
        const ValueRef bv{g.addParameter("bv", ramp({4}, 0.2f, 0.1f)), 0};
        GraphBuilder b(g);
        g.addOutput("q", b.op(Op::Add, {b.op(Op::MatMul, {x, wq}, {}, "mq"), bq}, {}, "q"));
        g.addOutput("k", b.op(Op::Add, {b.op(Op::MatMul, {x, wk}, {}, "mk"), bk}, {}, "k"));
        g.addOutput("v", b.op(Op::Add, {bv, b.op(Op::MatMul, {x, wv}, {}, "mv")}, {}, "v"));
        checkRewrite(g, {"parallel-matmul"},
                     "graph t\n  input  %x : [4, 8]\n  param  %wq : [8, 8]\n  param  %wk : [8, 8]\n  param  %wv : [8, 4]\n  param  %bq : [8]\n"
                     "  param  %bk : [8]\n  param  %bv : [4]\n  %mq = matmul(%x, %wq) : [4, 8]\n  %q = add(%mq, %bq) : [4, 8]\n"
                     "  %mk = matmul(%x, %wk) : [4, 8]\n  %k = add(%mk, %bk) : [4, 8]\n  %mv = matmul(%x, %wv) : [4, 4]\n"
                     "  %v = add(%bv, %mv) : [4, 4]\n  output q = %q\n  output k = %k\n  output v = %v\n",
                     "graph t\n  input  %x : [4, 8]\n"
                     "  param  %x_merged_w : [8, 20]\n  param  %x_merged_b : [20]\n"
                     "  %x_merged = matmul(%x, %x_merged_w) : [4, 20]\n"
                     "  %x_merged_add = add(%x_merged, %x_merged_b) : [4, 20]\n"
                     "  %x_merged_split = split(%x_merged_add) {axis=1, sizes=[8, 8, 4]} : [4, 8], [4, 8], [4, 4]\n"
                     "  output q = %x_merged_split:0\n  output k = %x_merged_split:1\n  output v = %x_merged_split:2\n");
    }

    void transposeSinking() {
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {2, 3}), 0};
        GraphBuilder b(g);
        ValueRef t = b.op(Op::Transpose, {x}, {{"perm", ints({1, 0})}}, "t");
        ValueRef e = b.op(Op::Exp, {t}, {}, "e");
        ValueRef m = b.op(Op::Mul, {e, b.constant(2.f, "two")}, {}, "m");
        g.addOutput("y", b.op(Op::Transpose, {m}, {{"perm", ints({1, 0})}}, "back"));
        checkRewrite(g, {"transpose-sinking"},
                     "graph t\n  input  %x : [2, 3]\n  %t = transpose(%x) {perm=[1, 0]} : [3, 2]\n  %e = exp(%t) : [3, 2]\n  const  %two = 2 : []\n"
                     "  %m = mul(%e, %two) : [3, 2]\n  %back = transpose(%m) {perm=[1, 0]} : [2, 3]\n  output y = %back\n",
                     "graph t\n  input  %x : [2, 3]\n  const  %two = 2 : []\n  %e_sunk = exp(%x) : [2, 3]\n  %m_sunk = mul(%e_sunk, %two) : [2, 3]\n"
                     "  output y = %m_sunk\n");
    }

    void fusionChain() {
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {5}), 0};
        GraphBuilder b(g);
        ValueRef a = b.op(Op::Mul, {x, b.constant(2.f, "two")}, {}, "a");
        ValueRef t = b.op(Op::Tanh, {a}, {}, "t");
        ValueRef e = b.op(Op::Exp, {x}, {}, "e");
        g.addOutput("y", b.op(Op::Add, {t, e}, {}, "y"));
        checkRewrite(g, {"fusion"},
                     "graph t\n  input  %x : [5]\n  const  %two = 2 : []\n  %a = mul(%x, %two) : [5]\n  %t = tanh(%a) : [5]\n  %e = exp(%x) : [5]\n"
                     "  %y = add(%t, %e) : [5]\n  output y = %y\n",
                     "graph t\n  input  %x : [5]\n  const  %two = 2 : []\n"
                     "  %y_fused = fused(%x, %two) {program=\"r0 = mul in0 in1; r1 = tanh r0; r2 = exp in0; r3 = add r1 r2\"} : [5]\n"
                     "  output y = %y_fused\n");
    }

    void fusionNotes() {
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {4, 4}), 0};
        const ValueRef w{g.addParameter("w", ramp({4, 4}, 0.f, 0.1f)), 0};
        GraphBuilder b(g);
        ValueRef m = b.op(Op::MatMul, {x, w}, {}, "m");
        ValueRef r = b.op(Op::Relu, {m}, {}, "r");
        ValueRef s = b.op(Op::Sin, {r}, {}, "s");
        ValueRef c = b.op(Op::Cos, {s}, {}, "c");
        ValueRef row = b.op(Op::Exp, {b.op(Op::Sum, {x}, {{"axes", ints({0})}, {"keepdims", std::int64_t(1)}}, "sum")}, {}, "row");
        g.addOutput("s", s);
        g.addOutput("y", b.op(Op::Add, {c, row}, {}, "y"));
        RewriteTrace trace;
        checkRewrite(g, {"fusion"},
                     "graph t\n  input  %x : [4, 4]\n  param  %w : [4, 4]\n  %m = matmul(%x, %w) : [4, 4]\n  %r = relu(%m) : [4, 4]\n"
                     "  %s = sin(%r) : [4, 4]\n  %c = cos(%s) : [4, 4]\n  %sum = sum(%x) {axes=[0], keepdims=1} : [1, 4]\n  %row = exp(%sum) : [1, 4]\n"
                     "  %y = add(%c, %row) : [4, 4]\n  output s = %s\n  output y = %y\n",
                     "graph t\n  input  %x : [4, 4]\n  param  %w : [4, 4]\n  %m = matmul(%x, %w) : [4, 4]\n"
                     "  %sum = sum(%x) {axes=[0], keepdims=1} : [1, 4]\n  %row = exp(%sum) : [1, 4]\n"
                     "  %s_fused = fused(%m) {program=\"r0 = relu in0; r1 = sin r0\"} : [4, 4]\n"
                     "  %y_fused = fused(%s_fused, %row) {program=\"r0 = cos in0; r1 = add r0 in1\"} : [4, 4]\n"
                     "  output s = %s_fused\n  output y = %y_fused\n",
                     &trace);
        std::map<std::string, std::string> reasons;
        for (const auto& n : trace.fusionNotes) reasons[n.producer + "->" + n.consumer] = n.reason;
        QCOMPARE(QString::fromStdString(reasons["m->s_fused"]), QString("not elementwise"));
        QCOMPARE(QString::fromStdString(reasons["s_fused->y_fused"]), QString("producer is a graph output"));
        QCOMPARE(QString::fromStdString(reasons["row->y_fused"]), QString("broadcast changes shape"));
    }

    void fusedOpRoundTrip() {
        // a fusion group survives the JSON format and differentiates through its program
        Graph g;
        g.name = "t";
        const ValueRef x{g.addInput("x", {3}), 0};
        GraphBuilder b(g);
        g.addOutput("y", b.op(Op::Fused, {x, b.constant(3.f, "k")}, {{"program", std::string("r0 = mul in0 in1\nr1 = sin r0")}}, "f"));
        verifyOrThrow(g);
        auto r = makeCpuExecutor()->run(g, {{"x", Tensor::fromVector({3}, {0.f, 0.5f, 1.f})}});
        QVERIFY(std::abs(r.outputs[0].flatAt(2) - std::sin(3.f)) < 1e-6f);
        Cost c = nodeCost(g, g.findNode("f").value());
        // each instruction costs what its op costs (the table's FLOPs per element): mul 1, sin 20
        QCOMPARE(c.flops, 3.0 * (opInfo(Op::Mul).flopsPerElement + opInfo(Op::Sin).flopsPerElement));
        QCOMPARE(c.flops, 63.0);
        QCOMPARE(c.bytes(), 4.0 * (3 + 1 + 3));
    }

    void badFusedProgram_data() {
        QTest::addColumn<QString>("program");
        QTest::addColumn<QString>("message");
        QTest::newRow("empty") << QString("") << QString("empty");
        QTest::newRow("unknown op") << QString("r0 = frob in0") << QString("unknown op");
        QTest::newRow("not elementwise") << QString("r0 = matmul in0 in0") << QString("not an elementwise op");
        QTest::newRow("arity") << QString("r0 = add in0") << QString("takes 2 operands");
        QTest::newRow("input out of range") << QString("r0 = exp in3") << QString("inputs");
        QTest::newRow("register before definition") << QString("r0 = exp r0") << QString("not defined");
        QTest::newRow("wrong target") << QString("r1 = exp in0") << QString("expected r0");
    }
    void badFusedProgram() {
        QFETCH(QString, program);
        QFETCH(QString, message);
        Graph g;
        const ValueRef x{g.addInput("x", {3}), 0};
        NodeId f = g.addNode(Op::Fused, {x}, {{"program", program.toStdString()}}, "f");
        g.addOutput("y", {f, 0});
        auto problems = verifyGraph(g);
        QVERIFY(!problems.empty());
        QVERIFY2(QString::fromStdString(problems[0].message).contains(message), problems[0].message.c_str());
    }
};

QTEST_APPLESS_MAIN(TestPasses)
#include "tst_passes.moc"
