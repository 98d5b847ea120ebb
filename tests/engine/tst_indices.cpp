// Integer indices as graph values: i64 inputs, gather (an embedding lookup) and its adjoint
// gather_grad. Values against naive loops written here, gradients of the table against central
// differences (reverse and forward mode), repeated ids adding into one row, i64 through .npy, the
// JSON and ONNX round trips and the CLI, and each misuse refused with a message that names it.
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <string>
#include <vector>

#include "autodiff/forward_mode.h"
#include "autodiff/numeric.h"
#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "base/files.h"
#include "base/rng.h"
#include "io/graph_file.h"
#include "io/json_format.h"
#include "io/npy.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "ir/builder.h"
#include "ir/verifier.h"
#include "runtime/bindings.h"
#include "runtime/vulkan/vulkan_executor.h"
#include "test_support.h"

using namespace adj;

namespace {

Tensor randomTensor(const Shape& s, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<float> v(std::size_t(numel(s)));
    for (float& x : v) x = float(rng.normal());
    return Tensor::fromVector(s, v);
}

/// table [V, D] (a parameter), ids [B, T] (an i64 input) -> y = sum(tanh(gather(table, ids)) * w)
Graph embeddingGraph(const Tensor& table, const Shape& idsShape, std::int64_t axis = 0) {
    Graph g;
    GraphBuilder b(g);
    NodeId ids = g.addInput("ids", idsShape, {}, DType::I64);
    NodeId t = g.addParameter("table", table);
    ValueRef e = b.op(Op::Gather, {{t, 0}, {ids, 0}}, {{"axis", axis}}, "emb");
    Shape es = b.shape(e);
    ValueRef w = b.constant(randomTensor(es, 99), "w");
    std::vector<std::int64_t> all;
    for (std::size_t a = 0; a < es.size(); ++a) all.push_back(std::int64_t(a));
    g.addOutput("emb", e);
    g.addOutput("loss", b.sum(b.mul(b.op(Op::Tanh, {e}, {}, "act"), w), all, false));
    verifyOrThrow(g);
    return g;
}

/// The gather's expected values by a naive loop over [outer, K, inner].
std::vector<float> naiveGather(const Tensor& data, std::int64_t axis, const std::vector<std::int64_t>& idx) {
    const Shape& s = data.shape();
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t d = 0; d < axis; ++d) outer *= s[std::size_t(d)];
    for (std::size_t d = std::size_t(axis) + 1; d < s.size(); ++d) inner *= s[d];
    const std::vector<float> v = data.toVector();
    std::vector<float> out;
    for (std::int64_t o = 0; o < outer; ++o)
        for (std::int64_t i : idx) {
            const std::int64_t row = i < 0 ? i + s[std::size_t(axis)] : i;
            for (std::int64_t j = 0; j < inner; ++j) out.push_back(v[std::size_t((o * s[std::size_t(axis)] + row) * inner + j)]);
        }
    return out;
}

RunResult runCpu(const Graph& g, const Bindings& b) { return makeCpuExecutor()->run(g, b); }

template <class F>
QString errorOf(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

}  // namespace

class TestIndices : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void tensorsOfInt64() {
        Tensor t = Tensor::fromInts({2, 3}, {0, 1, 2, 3, 4, -5});
        QCOMPARE(t.dtype(), DType::I64);
        Tensor tr = t.transpose(0, 1).contiguous();
        QCOMPARE(tr.toInts(), (std::vector<std::int64_t>{0, 3, 1, 4, 2, -5}));
        QCOMPARE(tr.toVector()[5], -5.0f);
        QVERIFY(!errorOf([&] { Tensor::zeros({2}).i64(); }).isEmpty());
    }

    void npyKeepsInt64() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("ids.npy").toStdString();
        Tensor ids = Tensor::fromInts({2, 2}, {7, (std::int64_t(1) << 40), -1, 0});
        writeNpy(path, ids);
        QVERIFY(readFileBytes(path).find("'<i8'") != std::string::npos);
        Tensor kept = readNpy(path, NpyIntegers::Keep);
        QCOMPARE(kept.dtype(), DType::I64);
        QCOMPARE(kept.toInts(), ids.toInts());
        Tensor asFloat = readNpy(path);  // the default: class labels as float32
        QCOMPARE(asFloat.dtype(), DType::F32);
        QCOMPARE(asFloat.toVector()[0], 7.0f);
        // int32 files widen to i64; float files stay float
        std::string i32 = encodeNpy(Tensor::fromInts({3}, {1, 2, 3}));
        QCOMPARE(parseNpy(i32, "x.npy", NpyIntegers::Keep).toInts(), (std::vector<std::int64_t>{1, 2, 3}));
        QCOMPARE(parseNpy(encodeNpy(Tensor::full({2}, 1.5f)), "f.npy", NpyIntegers::Keep).dtype(), DType::F32);
    }

    void gatherValues_data() {
        QTest::addColumn<int>("axis");
        QTest::addColumn<QString>("idsShape");
        QTest::newRow("embedding rows, 2-D ids") << 0 << "2x3";
        QTest::newRow("axis 1, 1-D ids") << 1 << "4";
        QTest::newRow("last axis, scalar id") << 2 << "";
    }
    void gatherValues() {
        QFETCH(int, axis);
        QFETCH(QString, idsShape);
        Shape is;
        for (const auto& d : idsShape.split('x', Qt::SkipEmptyParts)) is.push_back(d.toLongLong());
        const Tensor data = randomTensor({3, 4, 5}, 1);
        const std::int64_t size = data.shape()[std::size_t(axis)];
        std::vector<std::int64_t> idx;
        for (std::int64_t i = 0; i < numel(is); ++i) idx.push_back((i * 7) % size - (i % 2 ? size : 0));  // negatives count from the end
        Graph g;
        GraphBuilder b(g);
        NodeId ids = g.addInput("ids", is, {}, DType::I64);
        ValueRef x = b.constant(data, "data");
        g.addOutput("y", b.op(Op::Gather, {x, {ids, 0}}, {{"axis", std::int64_t(axis)}}, "g"));
        verifyOrThrow(g);
        Shape want(data.shape().begin(), data.shape().begin() + axis);
        want.insert(want.end(), is.begin(), is.end());
        want.insert(want.end(), data.shape().begin() + axis + 1, data.shape().end());
        QCOMPARE(g.type(g.outputs()[0].value).shape, want);
        RunResult r = runCpu(g, {{"ids", Tensor::fromInts(is, idx)}});
        QCOMPARE(r.outputs[0].toVector(), naiveGather(data, axis, idx));
    }

    void repeatedIdsAddIntoOneRow() {
        const Tensor table = randomTensor({4, 3}, 2);
        Graph g = embeddingGraph(table, {2, 3});
        BackwardGraph bw = buildBackward(g, "loss", {{"table"}, false, false});
        const Tensor ids = Tensor::fromInts({2, 3}, {1, 1, 3, 1, 0, 3});
        RunResult r = runCpu(bw.graph, {{"ids", ids}});
        const std::vector<float> grad = r.outputs[0].toVector();
        // row 2 is never picked: its gradient is exactly zero
        for (int j = 0; j < 3; ++j) QCOMPARE(grad[std::size_t(2 * 3 + j)], 0.0f);
        NumericGradient num = numericGradient(g, "loss", {"table"}, {{"ids", ids}}, *makeCpuExecutor());
        std::string why;
        QVERIFY2(test::allClose(r.outputs[0], num.gradients[0], 1e-3, 1e-4, &why), why.c_str());
    }

    void gradientsMatchFiniteDifferences_data() {
        QTest::addColumn<int>("axis");
        QTest::newRow("axis 0") << 0;
        QTest::newRow("axis 1") << 1;
    }
    void gradientsMatchFiniteDifferences() {
        QFETCH(int, axis);
        const Tensor table = randomTensor({5, 4}, 3);
        Graph g = embeddingGraph(table, {2, 3}, axis);
        const std::int64_t size = table.shape()[std::size_t(axis)];
        std::vector<std::int64_t> idx;
        for (std::int64_t i = 0; i < 6; ++i) idx.push_back((i * 3) % size);
        const Bindings b{{"ids", Tensor::fromInts({2, 3}, idx)}};
        auto cpu = makeCpuExecutor();
        NumericGradient num = numericGradient(g, "loss", {"table"}, b, *cpu);
        BackwardGraph bw = buildBackward(g, "loss", {{"table"}, false, false});
        RunResult rev = cpu->run(bw.graph, b);
        std::string why;
        QVERIFY2(test::allClose(rev.outputs[0], num.gradients[0], 1e-3, 1e-4, &why), ("reverse: " + why).c_str());
        std::vector<Tensor> fwd = forwardModeGradient(g, "loss", {"table"}, b, *cpu);
        QVERIFY2(test::allClose(fwd[0], rev.outputs[0], 1e-5, 1e-6, &why), ("forward: " + why).c_str());
        // the default wrt leaves the indices out; naming them is refused
        QCOMPARE(buildBackward(g, "loss").wrt, (std::vector<std::string>{"table"}));
        QVERIFY(errorOf([&] { buildBackward(g, "loss", {{"ids"}, false, false}); }).contains("integer indices"));
    }

    void gatherGradIsDifferentiable() {
        // gather_grad is linear in its adjoint: its own VJP is a gather (second derivatives)
        Graph g;
        GraphBuilder b(g);
        NodeId ids = g.addInput("ids", {4}, {}, DType::I64);
        NodeId gin = g.addInput("g", {2, 4}, {});
        ValueRef s = b.op(Op::GatherGrad, {{gin, 0}, {ids, 0}}, {{"axis", std::int64_t(1)}, {"input_shape", std::vector<std::int64_t>{2, 3}}}, "scatter");
        ValueRef w = b.constant(randomTensor({2, 3}, 5), "w");
        g.addOutput("loss", b.sum(b.mul(b.op(Op::Sin, {s}, {}, "sin"), w), {0, 1}, false));
        verifyOrThrow(g);
        const Bindings bind{{"ids", Tensor::fromInts({4}, {2, 0, 2, -1})}, {"g", randomTensor({2, 4}, 6)}};
        auto cpu = makeCpuExecutor();
        NumericGradient num = numericGradient(g, "loss", {"g"}, bind, *cpu);
        BackwardGraph bw = buildBackward(g, "loss", {{"g"}, false, false});
        RunResult rev = cpu->run(bw.graph, bind);
        std::string why;
        QVERIFY2(test::allClose(rev.outputs[0], num.gradients[0], 1e-3, 1e-4, &why), why.c_str());
        std::vector<Tensor> fwd = forwardModeGradient(g, "loss", {"g"}, bind, *cpu);
        QVERIFY2(test::allClose(fwd[0], rev.outputs[0], 1e-5, 1e-6, &why), why.c_str());
    }

    // gather_elements (torch.gather) against a naive loop, on every axis of a 3-D tensor, with
    // indices shorter than the data off the axis and negative ones; its gradient (scatter-add,
    // repeated indices adding up) against finite differences, reverse and forward mode, and its
    // adjoint's own VJP (second derivatives)
    void gatherElementsValuesAndGradients_data() {
        QTest::addColumn<int>("axis");
        QTest::newRow("axis 0") << 0;
        QTest::newRow("axis 1") << 1;
        QTest::newRow("axis 2") << 2;
    }
    void gatherElementsValuesAndGradients() {
        QFETCH(int, axis);
        const Shape ds{3, 4, 5}, is{2, 3, 4};
        const Tensor data = randomTensor(ds, 11);
        const std::int64_t n = ds[std::size_t(axis)];
        std::vector<std::int64_t> idx;
        for (std::int64_t i = 0; i < numel(is); ++i) idx.push_back((i * 5) % n - (i % 3 == 0 ? n : 0));
        Graph g;
        GraphBuilder b(g);
        NodeId ids = g.addInput("ids", is, {}, DType::I64);
        NodeId x = g.addParameter("x", data);
        ValueRef y = b.op(Op::GatherElements, {{x, 0}, {ids, 0}}, {{"axis", std::int64_t(axis)}}, "ge");
        g.addOutput("y", y);
        g.addOutput("loss", b.sum(b.mul(b.op(Op::Sin, {y}, {}, "sin"), b.constant(randomTensor(is, 12), "w")), {0, 1, 2}, false));
        verifyOrThrow(g);
        const Bindings bind{{"ids", Tensor::fromInts(is, idx)}};
        auto cpu = makeCpuExecutor();
        RunResult r = cpu->run(g, bind);
        QCOMPARE(r.outputs[0].shape(), is);
        const std::vector<float> dv = data.toVector(), got = r.outputs[0].toVector();
        for (std::int64_t e = 0; e < numel(is); ++e) {
            std::int64_t c[3] = {e / (is[1] * is[2]), (e / is[2]) % is[1], e % is[2]};
            c[axis] = idx[std::size_t(e)] < 0 ? idx[std::size_t(e)] + n : idx[std::size_t(e)];
            QCOMPARE(got[std::size_t(e)], dv[std::size_t((c[0] * ds[1] + c[1]) * ds[2] + c[2])]);
        }
        NumericGradient num = numericGradient(g, "loss", {"x"}, bind, *cpu);
        BackwardGraph bw = buildBackward(g, "loss", {{"x"}, false, false});
        RunResult rev = cpu->run(bw.graph, bind);
        std::string why;
        QVERIFY2(test::allClose(rev.outputs[0], num.gradients[0], 1e-3, 1e-4, &why), ("reverse: " + why).c_str());
        std::vector<Tensor> fwd = forwardModeGradient(g, "loss", {"x"}, bind, *cpu);
        QVERIFY2(test::allClose(fwd[0], rev.outputs[0], 1e-5, 1e-6, &why), ("forward: " + why).c_str());
        // the adjoint op's own VJP: the gradient graph differentiated again
        Graph g2;
        GraphBuilder b2(g2);
        NodeId ids2 = g2.addInput("ids", is, {}, DType::I64);
        NodeId gin = g2.addParameter("g", randomTensor(is, 13));
        std::vector<std::int64_t> dsv(ds.begin(), ds.end());
        ValueRef sc = b2.op(Op::GatherElementsGrad, {{gin, 0}, {ids2, 0}}, {{"axis", std::int64_t(axis)}, {"input_shape", dsv}}, "scatter");
        g2.addOutput("loss", b2.sum(b2.mul(b2.op(Op::Sin, {sc}, {}, "sin"), b2.constant(randomTensor(ds, 14), "w")), {0, 1, 2}, false));
        verifyOrThrow(g2);
        NumericGradient num2 = numericGradient(g2, "loss", {"g"}, bind, *cpu);
        BackwardGraph bw2 = buildBackward(g2, "loss", {{"g"}, false, false});
        RunResult rev2 = cpu->run(bw2.graph, bind);
        QVERIFY2(test::allClose(rev2.outputs[0], num2.gradients[0], 1e-3, 1e-4, &why), ("second order: " + why).c_str());
        // an index out of range names the node and the index
        std::vector<std::int64_t> bad = idx;
        bad[5] = n;
        QVERIFY(errorOf([&] { cpu->run(g, {{"ids", Tensor::fromInts(is, bad)}}); }).contains("out of range"));
    }

    void toFloatMakesMasks() {
        // a padding mask from token ids: equal(to_float(ids), 0), and 1 - mask as the weights of a
        // mean over the tokens that are not padding; the table's gradient skips the padded rows
        Graph g;
        GraphBuilder b(g);
        NodeId ids = g.addInput("ids", {2, 3}, {}, DType::I64);
        NodeId t = g.addParameter("table", randomTensor({5, 2}, 10));
        ValueRef asFloat = b.op(Op::Cast, {{ids, 0}}, {}, "ids_float");
        ValueRef pad = b.op(Op::Equal, {asFloat, b.constant(0.f, "zero")}, {}, "pad");
        ValueRef keep = b.op(Op::Sub, {b.constant(1.f, "one"), pad}, {}, "keep");
        ValueRef e = b.op(Op::Gather, {{t, 0}, {ids, 0}}, {{"axis", std::int64_t(0)}}, "emb");
        ValueRef masked = b.mul(e, b.op(Op::Unsqueeze, {keep}, {{"axes", std::vector<std::int64_t>{2}}}, "keep3"));
        g.addOutput("loss", b.sum(b.op(Op::Tanh, {masked}, {}, "act"), {0, 1, 2}, false));
        verifyOrThrow(g);
        const Bindings bind{{"ids", Tensor::fromInts({2, 3}, {4, 0, 2, 3, 3, 0})}};
        RunResult r = runCpu(g, bind);
        const std::vector<float> table = g.node(t).value.toVector();
        double want = 0;
        for (std::int64_t id : {4, 2, 3, 3})
            for (int j = 0; j < 2; ++j) want += std::tanh(double(table[std::size_t(id * 2 + j)]));
        QVERIFY(std::abs(double(r.outputs[0].toVector()[0]) - want) < 1e-5);
        BackwardGraph bw = buildBackward(g, "loss");
        QCOMPARE(bw.wrt, (std::vector<std::string>{"table"}));
        const std::vector<float> grad = runCpu(bw.graph, bind).outputs[0].toVector();
        for (int j = 0; j < 2; ++j) QCOMPARE(grad[std::size_t(0 * 2 + j)], 0.0f);  // id 0 is only ever padding
        NumericGradient num = numericGradient(g, "loss", {"table"}, bind, *makeCpuExecutor());
        std::string why;
        QVERIFY2(test::allClose(runCpu(bw.graph, bind).outputs[0], num.gradients[0], 1e-3, 1e-4, &why), why.c_str());
        // beyond float32's exact integers: an error naming the node, never a rounded value
        const QString e2 = errorOf([&] { runCpu(g, {{"ids", Tensor::fromInts({2, 3}, {1, 2, 3, (std::int64_t(1) << 24) + 1, 0, 0})}}); });
        QVERIFY2(e2.contains("'ids_float'") && e2.contains("16777217") && e2.contains("2^24"), qPrintable(e2));
    }

    void argmaxAndArgmin_data() {
        QTest::addColumn<int>("axis");
        QTest::addColumn<int>("keepdims");
        QTest::addColumn<int>("last");
        QTest::newRow("axis 1, first of ties") << 1 << 0 << 0;
        QTest::newRow("axis -1, keepdims, last of ties") << -1 << 1 << 1;
        QTest::newRow("axis 0") << 0 << 0 << 0;
    }
    void argmaxAndArgmin() {
        QFETCH(int, axis);
        QFETCH(int, keepdims);
        QFETCH(int, last);
        // rows with ties and a NaN (which wins, as in torch)
        const float nan = std::nanf("");
        const Tensor x = Tensor::fromVector({3, 4}, {1, 5, 5, 0, -2, -2, 7, -2, 3, nan, 9, -1});
        Graph g;
        GraphBuilder b(g);
        NodeId in = g.addInput("x", {3, 4});
        Attributes at{{"axis", std::int64_t(axis)}, {"keepdims", std::int64_t(keepdims)}, {"select_last_index", std::int64_t(last)}};
        g.addOutput("hi", b.op(Op::ArgMax, {{in, 0}}, at, "hi"));
        g.addOutput("lo", b.op(Op::ArgMin, {{in, 0}}, at, "lo"));
        verifyOrThrow(g);
        QCOMPARE(g.type(g.outputs()[0].value).dtype, DType::I64);
        RunResult r = runCpu(g, {{"x", x}});
        // expected by a naive loop
        const std::int64_t ax = axis < 0 ? axis + 2 : axis;
        std::vector<std::int64_t> hi, lo;
        const std::vector<float> v = x.toVector();
        auto at2 = [&](std::int64_t i, std::int64_t j) { return v[std::size_t(i * 4 + j)]; };
        const std::int64_t outer = ax == 0 ? 4 : 3, len = ax == 0 ? 3 : 4;
        for (std::int64_t o = 0; o < outer; ++o) {
            std::int64_t bh = -1, bl = -1;
            for (std::int64_t k = 0; k < len; ++k) {
                const float e = ax == 0 ? at2(k, o) : at2(o, k);
                auto wins = [&](std::int64_t best, bool isMax) {
                    if (best < 0) return true;
                    const float cur = ax == 0 ? at2(best, o) : at2(o, best);
                    if (cur != cur) return false;
                    if (e != e) return true;
                    return isMax ? (last ? e >= cur : e > cur) : (last ? e <= cur : e < cur);
                };
                if (wins(bh, true)) bh = k;
                if (wins(bl, false)) bl = k;
            }
            hi.push_back(bh);
            lo.push_back(bl);
        }
        QCOMPARE(r.outputs[0].toInts(), hi);
        QCOMPARE(r.outputs[1].toInts(), lo);
        QCOMPARE(r.outputs[0].rank(), keepdims ? std::int64_t(2) : std::int64_t(1));
        // as gather's indices: the rows of a table, differentiable in the table only
        Graph g2;
        GraphBuilder b2(g2);
        NodeId in2 = g2.addInput("x", {3, 4});
        NodeId t = g2.addParameter("table", randomTensor({4, 2}, 11));
        ValueRef idx = b2.op(Op::ArgMax, {{in2, 0}}, {{"axis", std::int64_t(1)}, {"keepdims", std::int64_t(0)}}, "pick");
        g2.addOutput("loss", b2.sum(b2.op(Op::Gather, {{t, 0}, idx}, {{"axis", std::int64_t(0)}}, "rows"), {0, 1}, false));
        verifyOrThrow(g2);
        BackwardGraph bw = buildBackward(g2, "loss", {{"table", "x"}, false, false});
        RunResult rb = runCpu(bw.graph, {{"x", Tensor::fromVector({3, 4}, {1, 5, 2, 0, -2, 4, 7, -3, 3, 8, 9, -1})}});
        QCOMPARE(rb.outputs[0].toVector(), (std::vector<float>{0, 0, 1, 1, 2, 2, 0, 0}));  // rows 1, 2, 2 picked
        QCOMPARE(rb.outputs[1].toVector(), std::vector<float>(12, 0.0f));                  // argmax is flat in x
    }

    void misuseIsNamed() {
        const Tensor table = randomTensor({4, 3}, 7);
        Graph g = embeddingGraph(table, {2, 2});
        // an index out of range names the node, the index and where it is
        QString e = errorOf([&] { runCpu(g, {{"ids", Tensor::fromInts({2, 2}, {0, 1, 4, 2})}}); });
        QVERIFY2(e.contains("'emb'") && e.contains("index 4") && e.contains("element 2") && e.contains("size 4"), qPrintable(e));
        // a float bound to an i64 input, and an i64 where a float is read
        e = errorOf([&] { runCpu(g, {{"ids", Tensor::zeros({2, 2})}}); });
        QVERIFY2(e.contains("'ids'") && e.contains("i64"), qPrintable(e));
        Graph bad;
        NodeId ids = bad.addInput("ids", {3}, {}, DType::I64);
        NodeId t = bad.addNode(Op::Tanh, {{ids, 0}}, {}, "t");
        bad.addOutput("y", {t, 0});
        const auto diags = verifyGraph(bad);
        QVERIFY(!diags.empty());
        QVERIFY2(QString::fromStdString(diags.front().message).contains("'t'") &&
                     QString::fromStdString(diags.front().message).contains("input 0 is i64"),
                 diags.front().message.c_str());
        // Vulkan has no integer buffers yet: refused before any work, naming the input
        auto vk = makeVulkanExecutor();
        e = errorOf([&] { vk->run(g, {{"ids", Tensor::fromInts({2, 2}, {0, 1, 2, 3})}}); });
        QVERIFY2(e.contains("'ids'") && e.contains("--backend cpu"), qPrintable(e));
    }

    void fileRoundTrips() {
        const Tensor table = randomTensor({6, 3}, 8);
        Graph g = embeddingGraph(table, {2, 4});
        const Bindings b{{"ids", Tensor::fromInts({2, 4}, {5, 0, 1, 5, 2, 2, 3, 4})}};
        const Tensor want = runCpu(g, b).outputs[0];
        // JSON keeps the input's dtype
        Graph fromJson = parseGraphJson(graphToJson(g), "embedding.json");
        QCOMPARE(fromJson.node(*fromJson.findNode("ids")).declaredDType, DType::I64);
        QCOMPARE(runCpu(fromJson, b).outputs[0].toVector(), want.toVector());
        // ONNX: an INT64 graph input read by Gather
        Graph fromOnnx = parseGraphOnnx(graphToOnnx(g), "embedding.onnx");
        QCOMPARE(fromOnnx.node(*fromOnnx.findNode("ids")).declaredDType, DType::I64);
        std::string why;
        QVERIFY2(test::allClose(runCpu(fromOnnx, b).outputs[0], want, 1e-6, 1e-7, &why), why.c_str());
        // the backward graph (with its gather_grad) survives the ONNX round trip too
        BackwardGraph bw = buildBackward(g, "loss", {{"table"}, false, false});
        Graph bwBack = parseGraphOnnx(graphToOnnx(bw.graph), "backward.onnx");
        QVERIFY2(test::allClose(runCpu(bwBack, b).outputs[0], runCpu(bw.graph, b).outputs[0], 1e-6, 1e-7, &why), why.c_str());
    }

    void cliReadsInt64Inputs() {
        QTemporaryDir dir;
        const QString graph = dir.filePath("emb.json");
        saveGraphFile(embeddingGraph(randomTensor({5, 2}, 9), {3}), graph.toStdString());
        writeNpy(dir.filePath("ids.npy").toStdString(), Tensor::fromInts({3}, {4, 0, 4}));
        writeNpy(dir.filePath("f.npy").toStdString(), Tensor::full({3}, 1.0f));
        auto r = test::runCli({"run", graph, "--input", "ids=" + dir.filePath("ids.npy"), "--out", dir.filePath("out")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QCOMPARE(readNpy(dir.filePath("out/emb.npy").toStdString()).shape(), (Shape{3, 2}));
        r = test::runCli({"run", graph, "--input", "ids=" + dir.filePath("f.npy"), "--out", dir.filePath("out2")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("error:") && r.err.contains("'ids'") && r.err.contains("int64"), qPrintable(r.err));
        // gradients: --wrt all leaves the indices out
        r = test::runCli({"grad", graph, "--of", "loss", "--input", "ids=" + dir.filePath("ids.npy"), "--out", dir.filePath("grads")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(QFile::exists(dir.filePath("grads/grad_table.npy")));
        QVERIFY(!QFile::exists(dir.filePath("grads/grad_ids.npy")));
    }
};

QTEST_GUILESS_MAIN(TestIndices)
#include "tst_indices.moc"
