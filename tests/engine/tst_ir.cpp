// The IR: op table, shape inference with broadcasting, the verifier's errors (each naming its
// node) and the printer's stable text form.
#include <QtTest>

#include "base/errors.h"
#include "ir/graph.h"
#include "ir/printer.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"

using namespace adj;

Q_DECLARE_METATYPE(adj::Shape)
Q_DECLARE_METATYPE(QList<adj::Shape>)

namespace {
ValueType f32(Shape s) { return ValueType{std::move(s), DType::F32}; }

Node makeNode(Op op, Attributes attrs = {}) {
    Node n;
    n.op = op;
    n.name = "n";
    n.attrs = std::move(attrs);
    return n;
}
}  // namespace

class TestIr : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void opTableIsConsistent() {
        QCOMPARE(int(allOps().size()), kOpCount);
        for (const auto& info : allOps()) {
            QCOMPARE(opFromName(info.name), std::optional<Op>(info.op));
            QVERIFY(info.maxInputs < 0 || info.maxInputs >= info.minInputs);
        }
        QVERIFY(isElementwise(Op::Add) && isCommutative(Op::Add) && !isCommutative(Op::Sub));
        QVERIFY(isReduction(Op::Sum) && isMovement(Op::Transpose) && isSource(Op::Parameter));
        QVERIFY(!opFromName("convolve"));
    }

    void attributeDefaultsComeFromTheTable() {
        Attributes a;
        QCOMPARE(a.getInt(Op::Sum, "keepdims"), std::int64_t(0));
        QCOMPARE(a.getInts(Op::Conv2d, "pads"), (std::vector<std::int64_t>{0, 0, 0, 0}));
        QCOMPARE(a.getFloat(Op::BatchNorm, "epsilon"), 1e-5);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, a.getInts(Op::Reshape, "shape"));
    }

    void inferShapes_data() {
        QTest::addColumn<int>("op");
        QTest::addColumn<QString>("attrs");
        QTest::addColumn<QList<Shape>>("inputs");
        QTest::addColumn<Shape>("expected");
        auto row = [](const char* name, Op op, QString attrs, QList<Shape> ins, Shape out) {
            QTest::newRow(name) << int(op) << attrs << ins << out;
        };
        row("add broadcast", Op::Add, "", {{3, 1, 4}, {2, 4}}, {3, 2, 4});
        row("add scalar", Op::Mul, "", {{}, {5}}, {5});
        row("where", Op::Where, "", {{2, 1}, {1, 3}, {}}, {2, 3});
        row("matmul 2d", Op::MatMul, "", {{4, 3}, {3, 5}}, {4, 5});
        row("matmul batched broadcast", Op::MatMul, "", {{2, 1, 4, 3}, {5, 3, 6}}, {2, 5, 4, 6});
        row("matmul vector", Op::MatMul, "", {{3}, {3, 5}}, {5});
        row("matmul matrix-vector", Op::MatMul, "", {{4, 3}, {3}}, {4});
        row("gemm transB", Op::Gemm, "transB", {{4, 3}, {5, 3}, {5}}, {4, 5});
        row("sum all", Op::Sum, "", {{2, 3}}, {});
        row("sum axis keep", Op::Sum, "axes=-1 keep", {{2, 3}}, {2, 1});
        row("softmax", Op::Softmax, "", {{2, 3}}, {2, 3});
        row("reshape -1 and 0", Op::Reshape, "shape=0,-1", {{2, 3, 4}}, {2, 12});
        row("transpose default", Op::Transpose, "", {{2, 3, 4}}, {4, 3, 2});
        row("flatten", Op::Flatten, "", {{2, 3, 4}}, {2, 12});
        row("squeeze all", Op::Squeeze, "", {{1, 3, 1}}, {3});
        row("unsqueeze", Op::Unsqueeze, "axes=0,-1", {{3}}, {1, 3, 1});
        row("expand", Op::Expand, "shape=2,3", {{3}}, {2, 3});
        row("slice step", Op::Slice, "slice", {{10, 4}}, {3, 4});
        row("concat", Op::Concat, "axis=1", {{2, 3}, {2, 5}}, {2, 8});
        row("conv2d", Op::Conv2d, "conv", {{2, 3, 8, 8}, {8, 3, 3, 3}}, {2, 8, 4, 4});
        row("max_pool", Op::MaxPool, "pool", {{1, 2, 5, 5}}, {1, 2, 4, 4});
        row("global_avg_pool", Op::GlobalAvgPool, "", {{2, 3, 4, 5}}, {2, 3, 1, 1});
        row("layernorm", Op::LayerNorm, "", {{2, 3, 4}, {4}, {4}}, {2, 3, 4});
    }
    void inferShapes() {
        QFETCH(int, op);
        QFETCH(QString, attrs);
        QFETCH(QList<Shape>, inputs);
        QFETCH(Shape, expected);
        Attributes a;
        if (attrs == "transB") a.set("transB", std::int64_t(1));
        if (attrs == "axes=-1 keep") { a.set("axes", std::vector<std::int64_t>{-1}); a.set("keepdims", std::int64_t(1)); }
        if (attrs == "shape=0,-1") a.set("shape", std::vector<std::int64_t>{0, -1});
        if (attrs == "axes=0,-1") a.set("axes", std::vector<std::int64_t>{0, -1});
        if (attrs == "shape=2,3") a.set("shape", std::vector<std::int64_t>{2, 3});
        if (attrs == "axis=1") a.set("axis", std::int64_t(1));
        if (attrs == "slice") { a.set("starts", std::vector<std::int64_t>{1}); a.set("ends", std::vector<std::int64_t>{100}); a.set("steps", std::vector<std::int64_t>{3}); }
        if (attrs == "conv") { a.set("strides", std::vector<std::int64_t>{2, 2}); a.set("pads", std::vector<std::int64_t>{1, 1, 0, 0}); }
        if (attrs == "pool") { a.set("kernel", std::vector<std::int64_t>{2, 2}); }
        Node n = makeNode(Op(op), a);
        std::vector<ValueType> ins;
        for (const auto& s : inputs) ins.push_back(f32(s));
        auto out = inferNodeTypes(n, ins);
        QCOMPARE(out.size(), std::size_t(1));
        QCOMPARE(out[0].shape, expected);
    }

    void inferErrorsNameTheNode_data() {
        QTest::addColumn<int>("op");
        QTest::addColumn<QList<Shape>>("inputs");
        QTest::addColumn<QString>("fragment");
        QTest::newRow("no broadcast") << int(Op::Add) << QList<Shape>{{3}, {4}} << "do not broadcast";
        QTest::newRow("matmul inner") << int(Op::MatMul) << QList<Shape>{{4, 3}, {4, 5}} << "inner dimensions";
        QTest::newRow("arity") << int(Op::Add) << QList<Shape>{{3}} << "takes 2 inputs, got 1";
        QTest::newRow("conv channels") << int(Op::Conv2d) << QList<Shape>{{1, 4, 5, 5}, {2, 3, 3, 3}} << "input channels";
        QTest::newRow("conv rank") << int(Op::Conv2d) << QList<Shape>{{4, 5, 5}, {2, 4, 3, 3}} << "4-D";
        QTest::newRow("missing attr") << int(Op::Reshape) << QList<Shape>{{4}} << "'shape'";
    }
    void inferErrorsNameTheNode() {
        QFETCH(int, op);
        QFETCH(QList<Shape>, inputs);
        QFETCH(QString, fragment);
        Node n = makeNode(Op(op));
        n.name = "culprit";
        std::vector<ValueType> ins;
        for (const auto& s : inputs) ins.push_back(f32(s));
        try {
            inferNodeTypes(n, ins);
            QFAIL("no error");
        } catch (const GraphError& e) {
            QString msg = e.what();
            QVERIFY2(msg.contains("'culprit'"), qPrintable(msg));
            QVERIFY2(msg.contains(fragment), qPrintable(msg));
        }
    }

    void verifierFindsEveryProblem() {
        Graph g;
        NodeId x = g.addInput("x", {4, 3});
        NodeId w = g.addParameter("w", Tensor::zeros({5, 2}));
        NodeId mm = g.addNode(Op::MatMul, {{x, 0}, {w, 0}}, {}, "mm");      // shape mismatch
        NodeId r = g.addNode(Op::Relu, {{mm, 0}}, {}, "after");            // downstream: no second error
        NodeId bad = g.addNode(Op::Sum, {{x, 0}}, {{"bogus", std::int64_t(1)}}, "bad_attr");
        g.addNode(Op::Neg, {ValueRef{}}, {}, "dangling");
        g.addOutput("y", {r, 0});
        g.addOutput("z", {bad, 0});
        auto diags = verifyGraph(g);
        QCOMPARE(int(diags.size()), 3);
        QStringList msgs;
        for (const auto& d : diags) msgs << QString::fromStdString(d.message);
        QVERIFY2(msgs.filter("'mm'").size() == 1 && msgs.filter("inner dimensions").size() == 1, qPrintable(msgs.join("\n")));
        QVERIFY(msgs.filter("unknown attribute 'bogus'").size() == 1);
        QVERIFY(msgs.filter("'dangling'").filter("not connected").size() == 1);
        QVERIFY(g.node(mm).outputs.empty());
        QCOMPARE(g.node(x).outputs.at(0).shape, (Shape{4, 3}));
    }

    void verifierReportsCycles() {
        Graph g;
        NodeId x = g.addInput("x", {2});
        NodeId a = g.addNode(Op::Add, {{x, 0}, {x, 0}}, {}, "a");
        NodeId b = g.addNode(Op::Neg, {{a, 0}}, {}, "b");
        g.setInput(a, 1, {b, 0});
        g.addOutput("y", {b, 0});
        auto diags = verifyGraph(g);
        QCOMPARE(int(diags.size()), 1);
        QVERIFY(QString::fromStdString(diags[0].message).contains("cycle"));
        QVERIFY_THROWS_EXCEPTION(GraphError, g.topoOrder());
    }

    void graphEditsKeepUsesConsistent() {
        Graph g;
        NodeId x = g.addInput("x", {2});
        NodeId a = g.addNode(Op::Exp, {{x, 0}}, {}, "a");
        NodeId b = g.addNode(Op::Neg, {{x, 0}}, {}, "b");
        NodeId c = g.addNode(Op::Add, {{a, 0}, {a, 0}}, {}, "c");
        g.addOutput("y", {c, 0});
        QCOMPARE(g.users(a).size(), std::size_t(2));
        g.replaceAllUses({a, 0}, {b, 0});
        QCOMPARE(g.users(a).size(), std::size_t(0));
        QCOMPARE(g.users(b).size(), std::size_t(2));
        g.removeNode(a);
        QVERIFY(!g.contains(a));
        QCOMPARE(g.nodeCount(), std::size_t(3));
        QVERIFY_THROWS_EXCEPTION(std::logic_error, g.removeNode(b));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, g.addNode(Op::Neg, {{x, 0}}, {}, "b"));
        QCOMPARE(g.freshName("b"), std::string("b_1"));
        QCOMPARE(g.liveTopoOrder(), (std::vector<NodeId>{x, b, c}));
    }

    void splitValuesHavePortNames() {
        Graph g;
        NodeId x = g.addInput("x", {6});
        NodeId s = g.addNode(Op::Split, {{x, 0}}, {{"sizes", std::vector<std::int64_t>{2, 4}}}, "s");
        QCOMPARE(g.valueName({s, 1}), std::string("s:1"));
        QCOMPARE(g.findValue("s:1"), std::optional<ValueRef>(ValueRef{s, 1}));
        QVERIFY(!g.findValue("s:2"));
        QVERIFY(!g.findValue("s:x"));
        g.addOutput("tail", {s, 1});
        QVERIFY(verifyGraph(g).empty());
        QCOMPARE(g.type({s, 1}).shape, (Shape{4}));
    }

    void printerGolden() {
        Graph g;
        g.name = "tiny";
        NodeId x = g.addInput("x", {4, 2}, {"N", ""});
        NodeId w = g.addParameter("w", Tensor::zeros({2, 3}));
        NodeId h = g.addNode(Op::MatMul, {{x, 0}, {w, 0}}, {}, "h");
        NodeId c = g.addConstant(Tensor::scalar(0.5f), "half");
        NodeId m = g.addNode(Op::Mul, {{h, 0}, {c, 0}}, {}, "m");
        NodeId s = g.addNode(Op::Sum, {{m, 0}}, {{"axes", std::vector<std::int64_t>{1}}, {"keepdims", std::int64_t(1)}}, "s");
        g.addOutput("y", {s, 0});
        QVERIFY(verifyGraph(g).empty());
        const std::string expected =
            "graph tiny\n"
            "  input  %x : [N=4, 2]\n"
            "  param  %w : [2, 3]\n"
            "  %h = matmul(%x, %w) : [4, 3]\n"
            "  const  %half = 0.5 : []\n"
            "  %m = mul(%h, %half) : [4, 3]\n"
            "  %s = sum(%m) {axes=[1], keepdims=1} : [4, 1]\n"
            "  output y = %s\n";
        QCOMPARE(printGraph(g), expected);
    }
};

QTEST_APPLESS_MAIN(TestIr)
#include "tst_ir.moc"
