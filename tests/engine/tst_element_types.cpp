// Integer and bool values (ir/element_types.h): i64 and i32 arithmetic against naive loops
// written here (wrap-around, division toward zero, broadcasting), comparisons giving 0/1 masks,
// where with a bool condition, every cast and each cast that would lose a value refused by node
// and element, data movement of integers and bools, the element-type rules' refusals, gradients
// that stop at integer values, fusion leaving integers alone, the JSON and ONNX round trips, and
// the CLI reading and writing i32 and bool .npy files.
#include <QTemporaryDir>
#include <QTest>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "io/graph_file.h"
#include "io/json_format.h"
#include "io/npy.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "ir/builder.h"
#include "ir/element_types.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"
#include "runtime/executor.h"
#include "test_support.h"

using namespace adj;

namespace {

Tensor ints64(const Shape& s, const std::vector<std::int64_t>& v) { return Tensor::fromInts(s, v); }

Tensor ints32(const Shape& s, const std::vector<std::int32_t>& v) {
    Tensor t = Tensor::empty(s, DType::I32);
    for (std::size_t k = 0; k < v.size(); ++k) t.ptr<std::int32_t>()[k] = v[k];
    return t;
}

Tensor bools(const Shape& s, const std::vector<int>& v) {
    Tensor t = Tensor::empty(s, DType::Bool);
    for (std::size_t k = 0; k < v.size(); ++k) t.ptr<std::uint8_t>()[k] = std::uint8_t(v[k] != 0);
    return t;
}

}  // namespace

class TestElementTypes : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void integerArithmeticAgainstNaiveLoops() {
        constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
        const Tensor a = ints64({2, 3}, {7, -7, 9, kMax, 0, -1});
        const Tensor b = ints64({3}, {2, 3, -4});  // broadcast over the rows
        auto expect = [&](Op op, auto f) {
            const Tensor y = test::runOneNode(op, {a, b});
            QCOMPARE(y.dtype(), DType::I64);
            const std::vector<std::int64_t> av = a.toInts(), bv = b.toInts(), yv = y.toInts();
            for (std::size_t k = 0; k < av.size(); ++k) QCOMPARE(yv[k], f(av[k], bv[k % 3]));
        };
        // wrap-around through unsigned arithmetic, as NumPy's int64 does
        auto wrapAdd = [](std::int64_t x, std::int64_t y) { return std::int64_t(std::uint64_t(x) + std::uint64_t(y)); };
        expect(Op::Add, wrapAdd);
        expect(Op::Sub, [](std::int64_t x, std::int64_t y) { return std::int64_t(std::uint64_t(x) - std::uint64_t(y)); });
        expect(Op::Mul, [](std::int64_t x, std::int64_t y) { return std::int64_t(std::uint64_t(x) * std::uint64_t(y)); });
        expect(Op::Div, [](std::int64_t x, std::int64_t y) { return x / y; });  // toward zero: -7 / 3 = -2
        expect(Op::Maximum, [](std::int64_t x, std::int64_t y) { return std::max(x, y); });
        expect(Op::Minimum, [](std::int64_t x, std::int64_t y) { return std::min(x, y); });
        QCOMPARE(test::runOneNode(Op::Div, {ints64({1}, {-7}), ints64({1}, {2})}).toInts(), (std::vector<std::int64_t>{-3}));
        QCOMPARE(test::runOneNode(Op::Add, {ints64({1}, {kMax}), ints64({1}, {1})}).toInts(), (std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min()}));
        QCOMPARE(test::runOneNode(Op::Neg, {a}).toInts(), (std::vector<std::int64_t>{-7, 7, -9, -kMax, 0, 1}));
        QCOMPARE(test::runOneNode(Op::Abs, {a}).toInts(), (std::vector<std::int64_t>{7, 7, 9, kMax, 0, 1}));
        QCOMPARE(test::runOneNode(Op::Sign, {a}).toInts(), (std::vector<std::int64_t>{1, -1, 1, 1, 0, -1}));
        // i32 computes in i32
        const Tensor y32 = test::runOneNode(Op::Mul, {ints32({3}, {70000, -3, 5}), ints32({1}, {70000})});
        QCOMPARE(y32.dtype(), DType::I32);
        QCOMPARE(y32.toInts(), (std::vector<std::int64_t>{std::int32_t(std::uint32_t(70000) * 70000u), -210000, 350000}));
        // division by zero names the node
        const std::string byZero = test::runOneNodeError(Op::Div, {ints64({2}, {1, 2}), ints64({2}, {1, 0})});
        QVERIFY2(byZero.find("'node'") != std::string::npos && byZero.find("division by zero") != std::string::npos, byZero.c_str());
    }

    void comparisonsGiveMasksAndWherePicks() {
        const Tensor a = ints64({4}, {1, 5, 3, 5}), b = ints64({1}, {3});
        const Tensor gt = test::runOneNode(Op::Greater, {a, b});
        QCOMPARE(gt.dtype(), DType::F32);
        QCOMPARE(gt.toVector(), (std::vector<float>{0, 1, 0, 1}));
        QCOMPARE(test::runOneNode(Op::Equal, {a, b}).toVector(), (std::vector<float>{0, 0, 1, 0}));
        QCOMPARE(test::runOneNode(Op::Equal, {bools({3}, {1, 0, 1}), bools({3}, {1, 1, 0})}).toVector(), (std::vector<float>{1, 0, 0}));
        // where: a bool condition, integer values, broadcast
        const Tensor w = test::runOneNode(Op::Where, {bools({2, 1}, {1, 0}), ints64({2, 2}, {1, 2, 3, 4}), ints64({1}, {-9})});
        QCOMPARE(w.dtype(), DType::I64);
        QCOMPARE(w.toInts(), (std::vector<std::int64_t>{1, 2, -9, -9}));
        // a float mask picks integers too
        QCOMPARE(test::runOneNode(Op::Where, {Tensor::fromVector({2}, {0.f, 1.f}), ints32({2}, {4, 5}), ints32({2}, {6, 7})}).toInts(),
                 (std::vector<std::int64_t>{6, 5}));
    }

    void castConvertsAndRefusesWhatItWouldLose() {
        auto cast = [](const Tensor& x, const char* to) { return test::runOneNode(Op::Cast, {x}, {{"to", std::string(to)}}); };
        QCOMPARE(cast(Tensor::fromVector({4}, {-2.7f, 2.7f, 0.f, 1e6f}), "i64").toInts(), (std::vector<std::int64_t>{-2, 2, 0, 1000000}));
        QCOMPARE(cast(Tensor::fromVector({3}, {0.f, -0.5f, 2.f}), "bool").toInts(), (std::vector<std::int64_t>{0, 1, 1}));
        QCOMPARE(cast(bools({2}, {1, 0}), "f32").toVector(), (std::vector<float>{1.f, 0.f}));
        QCOMPARE(cast(ints64({2}, {-5, 70000}), "i32").toInts(), (std::vector<std::int64_t>{-5, 70000}));
        QCOMPARE(cast(ints32({2}, {-5, 16777216}), "f32").toVector(), (std::vector<float>{-5.f, 16777216.f}));
        QCOMPARE(cast(ints64({2}, {3, 0}), "bool").dtype(), DType::Bool);
        // nothing rounded or wrapped silently: each refusal names the node and the element
        for (const auto& [x, to, what] : std::vector<std::tuple<Tensor, const char*, const char*>>{
                 {ints64({2}, {1, 16777217}), "f32", "2^24"},
                 {Tensor::fromVector({2}, {1.f, std::numeric_limits<float>::quiet_NaN()}), "i64", "cannot make an integer"},
                 {Tensor::fromVector({1}, {3e9f}), "i32", "does not fit i32"},
                 {ints64({1}, {std::int64_t(1) << 40}), "i32", "does not fit i32"}}) {
            const std::string e = test::runOneNodeError(Op::Cast, {x}, {{"to", std::string(to)}});
            QVERIFY2(e.find("'node'") != std::string::npos && e.find(what) != std::string::npos && e.find("element") != std::string::npos, e.c_str());
        }
        Graph g;
        const NodeId in = g.addInput("x", {2});
        QVERIFY_THROWS_EXCEPTION(GraphError, g.addOutput("y", {g.addNode(Op::Cast, {{in, 0}}, {{"to", std::string("f128")}}, "c"), 0}), verifyOrThrow(g));
    }

    void dataMovementCarriesAnyType() {
        const Tensor m = ints64({2, 3}, {1, 2, 3, 4, 5, 6});
        QCOMPARE(test::runOneNode(Op::Transpose, {m}).toInts(), (std::vector<std::int64_t>{1, 4, 2, 5, 3, 6}));
        QCOMPARE(test::runOneNode(Op::Reshape, {m}, {{"shape", std::vector<std::int64_t>{3, 2}}}).shape(), (Shape{3, 2}));
        QCOMPARE(test::runOneNode(Op::Slice, {m}, {{"starts", std::vector<std::int64_t>{1}}, {"ends", std::vector<std::int64_t>{3}}, {"axes", std::vector<std::int64_t>{1}}})
                     .toInts(),
                 (std::vector<std::int64_t>{2, 3, 5, 6}));
        QCOMPARE(test::runOneNode(Op::Concat, {bools({2}, {1, 0}), bools({1}, {1})}, {{"axis", std::int64_t(0)}}).toInts(), (std::vector<std::int64_t>{1, 0, 1}));
        const Tensor padded = test::runOneNode(Op::Pad, {ints32({2}, {7, 8})}, {{"pads", std::vector<std::int64_t>{1, 2}}, {"value", -1.0}});
        QCOMPARE(padded.dtype(), DType::I32);
        QCOMPARE(padded.toInts(), (std::vector<std::int64_t>{-1, 7, 8, -1, -1}));
        QCOMPARE(test::runOneNode(Op::Gather, {m, ints64({2}, {1, 0})}, {{"axis", std::int64_t(0)}}).toInts(), (std::vector<std::int64_t>{4, 5, 6, 1, 2, 3}));
        QCOMPARE(test::runOneNode(Op::Expand, {bools({1}, {1})}, {{"shape", std::vector<std::int64_t>{3}}}).toInts(), (std::vector<std::int64_t>{1, 1, 1}));
    }

    void elementTypeRulesNameTheInput() {
        auto problem = [](Op op, std::vector<DType> in) -> std::string {
            Node n;
            n.op = op;
            try {
                outputElementTypes(n, in);
            } catch (const std::invalid_argument& e) {
                return e.what();
            }
            return "";
        };
        QVERIFY(problem(Op::Exp, {DType::I64}).find("input 0 is i64, this op takes f32") != std::string::npos);
        QVERIFY(problem(Op::Add, {DType::I64, DType::F32}).find("inputs of one type") != std::string::npos);
        QVERIFY(problem(Op::Add, {DType::Bool, DType::Bool}).find("input 0 is bool") != std::string::npos);
        QVERIFY(problem(Op::Gather, {DType::F32, DType::I32}).find("input 1 is i32, this op takes i64 indices") != std::string::npos);
        QVERIFY(problem(Op::Softmax, {DType::I64}).find("input 0 is i64") != std::string::npos);
        QVERIFY(problem(Op::MatMul, {DType::I64, DType::I64}).empty());  // (integer matmul, as MatMulInteger needs)
        QVERIFY(problem(Op::Where, {DType::I64, DType::F32, DType::F32}).find("a mask or a bool condition") != std::string::npos);
        QVERIFY(problem(Op::Greater, {DType::I32, DType::I32}).empty());
        // a graph that adds an integer to a float is refused by the verifier, naming the node
        Graph g;
        const NodeId i = g.addInput("ids", {2}, {}, DType::I64), x = g.addInput("x", {2});
        g.addOutput("y", {g.addNode(Op::Add, {{i, 0}, {x, 0}}, {}, "mixed"), 0});
        const auto d = verifyGraph(g);
        QVERIFY(!d.empty() && d.front().message.find("'mixed'") != std::string::npos);
    }

    void gradientsStopAtIntegerValues() {
        // loss = sum(w * cast(ids + 1)): ids get no gradient, w gets cast(ids + 1)
        Graph g;
        GraphBuilder b(g);
        const NodeId ids = g.addInput("ids", {3}, {}, DType::I64);
        const NodeId w = g.addParameter("w", Tensor::fromVector({3}, {0.5f, -1.f, 2.f}));
        const ValueRef one = b.constant(ints64({1}, {1}), "one");
        const ValueRef shifted = b.op(Op::Add, {{ids, 0}, one}, {}, "shifted");
        const ValueRef asFloat = b.op(Op::Cast, {shifted}, {}, "as_float");
        g.addOutput("loss", b.sum(b.mul({w, 0}, asFloat), {0}, false));
        verifyOrThrow(g);
        const BackwardGraph bw = buildBackward(g, "loss", {{"w"}, false, false});
        Bindings bind{{"ids", ints64({3}, {4, -1, 0})}};
        const RunResult r = makeCpuExecutor()->run(bw.graph, bind);
        QCOMPARE(r.outputs.back().toVector(), (std::vector<float>{5.f, 0.f, 1.f}));
        QVERIFY_THROWS_EXCEPTION(GraphError, buildBackward(g, "loss", {{"ids"}, false, false}));
    }

    void fusionLeavesIntegersAlone() {
        // integer adds beside float elementwise ops: -O2 fuses the float chain only, and the result
        // is the same
        Graph g;
        GraphBuilder b(g);
        const NodeId ids = g.addInput("ids", {4}, {}, DType::I64), x = g.addInput("x", {4});
        const ValueRef twice = b.op(Op::Add, {{ids, 0}, {ids, 0}}, {}, "twice");
        const ValueRef plus = b.op(Op::Add, {twice, b.constant(ints64({1}, {3}), "three")}, {}, "plus");
        const ValueRef f = b.op(Op::Exp, {b.op(Op::Neg, {b.op(Op::Tanh, {{x, 0}}, {}, "t")}, {}, "n")}, {}, "e");
        g.addOutput("ints", plus);
        g.addOutput("y", b.mul(f, b.op(Op::Cast, {plus}, {}, "c")));
        verifyOrThrow(g);
        const Bindings bind{{"ids", ints64({4}, {0, 1, -2, 5})}, {"x", Tensor::fromVector({4}, {0.1f, -0.2f, 0.3f, 0.f})}};
        const RunResult before = makeCpuExecutor()->run(g, bind);
        Graph o = g;
        OptimizeOptions opt;
        opt.level = 2;
        optimizeGraph(o, opt);
        for (NodeId id : o.liveTopoOrder())
            if (o.node(id).op == Op::Fused)
                for (const ValueRef& in : o.node(id).inputs) QCOMPARE(o.type(in).dtype, DType::F32);
        const RunResult after = makeCpuExecutor()->run(o, bind);
        QCOMPARE(after.outputs[0].toInts(), (std::vector<std::int64_t>{3, 5, -1, 13}));
        QCOMPARE(after.outputs[0].toInts(), before.outputs[0].toInts());
        for (std::size_t k = 0; k < 4; ++k) QVERIFY(std::abs(after.outputs[1].toVector()[k] - before.outputs[1].toVector()[k]) < 1e-6f);
    }

    void filesKeepElementTypes() {
        // i32 and bool inputs, an i64 constant, a bool output: through JSON and ONNX and back
        Graph g;
        g.name = "types";
        GraphBuilder b(g);
        const NodeId n = g.addInput("n", {3}, {}, DType::I32), flag = g.addInput("flag", {3}, {}, DType::Bool);
        const ValueRef wide = b.op(Op::Cast, {{n, 0}}, {{"to", std::string("i64")}}, "wide");
        const ValueRef big = b.op(Op::Greater, {wide, b.constant(ints64({1}, {10}), "ten")}, {}, "big");
        const ValueRef picked = b.op(Op::Where, {{flag, 0}, wide, b.constant(ints64({1}, {-1}), "minus_one")}, {}, "picked");
        g.addOutput("picked", picked);
        g.addOutput("big", b.op(Op::Cast, {big}, {{"to", std::string("bool")}}, "big_bool"));
        verifyOrThrow(g);
        const Bindings bind{{"n", ints32({3}, {5, 20, 11})}, {"flag", bools({3}, {1, 0, 1})}};
        auto check = [&](const Graph& h, const char* via) {
            const RunResult r = makeCpuExecutor()->run(h, bind);
            QVERIFY2(r.outputs[0].dtype() == DType::I64 && r.outputs[1].dtype() == DType::Bool, via);
            QCOMPARE(r.outputs[0].toInts(), (std::vector<std::int64_t>{5, -1, 11}));
            QCOMPARE(r.outputs[1].toInts(), (std::vector<std::int64_t>{0, 1, 1}));
        };
        check(g, "built");
        check(parseGraphJson(graphToJson(g), "types.json"), "JSON");
        check(parseGraphOnnx(graphToOnnx(g), "types.onnx"), "ONNX");
        // the CLI reads i32 and bool .npy inputs and writes outputs in their own type
        QTemporaryDir dir;
        const std::string graphFile = dir.filePath("types.json").toStdString();
        saveGraphFile(g, graphFile);
        writeNpy(dir.filePath("n.npy").toStdString(), bind.at("n"));
        writeNpy(dir.filePath("flag.npy").toStdString(), bind.at("flag"));
        const auto r = test::runCli({"run", QString::fromStdString(graphFile), "--input", "n=" + dir.filePath("n.npy"), "--input",
                                     "flag=" + dir.filePath("flag.npy"), "--out", dir.filePath("out")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const Tensor written = readNpy(dir.filePath("out/big.npy").toStdString(), NpyIntegers::Keep);
        QCOMPARE(written.dtype(), DType::Bool);
        QCOMPARE(written.toInts(), (std::vector<std::int64_t>{0, 1, 1}));
        QCOMPARE(readNpy(dir.filePath("out/picked.npy").toStdString(), NpyIntegers::Keep).dtype(), DType::I64);
        // a float file for an integer input is refused, naming both types
        writeNpy(dir.filePath("f.npy").toStdString(), Tensor::fromVector({3}, {1.f, 2.f, 3.f}));
        const auto wrong = test::runCli({"run", QString::fromStdString(graphFile), "--input", "n=" + dir.filePath("f.npy"), "--input",
                                         "flag=" + dir.filePath("flag.npy")});
        QCOMPARE(wrong.exitCode, 1);
        QVERIFY2(wrong.err.contains("takes i32") && wrong.err.contains("f32"), qPrintable(wrong.err));
    }
};

QTEST_GUILESS_MAIN(TestElementTypes)
#include "tst_element_types.moc"
