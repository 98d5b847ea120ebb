// The op harness on Vulkan (one harness for every backend, the CPU as reference): every op of the table runs forward on
// Mesa's lavapipe (or whatever device is chosen) against the CPU executor, with contiguous and
// non-contiguous inputs, and the pooling and normalization ops also backward (a VJP with a random
// seed); backward graphs of small models (MLP, CNN with batchnorm and pools, layernorm);
// generated fusion kernels against the unfused ops, their run-time compiler and cache; device
// selection. A missing Vulkan device is a failure.
#include <QtTest>

#include <functional>
#include <random>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "io/graph_file.h"
#include "io/npy.h"
#include "base/errors.h"
#include "runtime/elementwise_functions.h"
#include "runtime/executor.h"
#include "runtime/vulkan/fusion_codegen.h"
#include "runtime/vulkan/vulkan_context.h"
#include "runtime/vulkan/vulkan_executor.h"
#include "test_support.h"

using namespace adj;

namespace {

enum class Range { Any, Positive, Binary };

struct Case {
    const char* name;
    std::vector<Shape> inputs;
    std::function<ValueRef(Graph&, const std::vector<ValueRef>&)> build;
    Range range = Range::Any;
    bool backward = false;  // also a row of backwardAgainstCpu (a VJP with a random seed)
};

ValueRef node(Graph& g, Op op, std::vector<ValueRef> in, Attributes a = {}) { return {g.addNode(op, std::move(in), std::move(a)), 0}; }

Tensor randomTensor(const Shape& s, std::mt19937& rng, Range r) {
    std::uniform_real_distribution<float> any(-2.f, 2.f), pos(0.2f, 2.f);
    std::vector<float> v(std::size_t(numel(s)));
    for (auto& x : v) x = r == Range::Positive ? pos(rng) : r == Range::Binary ? float(rng() % 2) : any(rng);
    return Tensor::fromVector(s, v);
}

/// False for the elementwise ops that give NaN on negative inputs (log, sqrt, pow's base).
bool definedOnNegatives(Op op) {
    const float v = visitElementwise(op, ewParams(op, {}), [](auto, auto f) { return f(-1.5f, 0.5f, 1.f); });
    return v == v;
}

std::vector<Case> cases() {
    std::vector<Case> c;
    // every unary and binary elementwise op of the table (its default attributes), on the inputs
    // where it is defined
    for (const OpInfo& info : allOps()) {
        const Op op = info.op;
        if (!hasScalarExpr(op) || info.minInputs > 2) continue;
        const Range range = definedOnNegatives(op) ? Range::Any : Range::Positive;
        if (info.minInputs == 1) c.push_back({info.name.data(), {{3, 5}}, [op](Graph& g, auto in) { return node(g, op, {in[0]}); }, range});
        else c.push_back({info.name.data(), {{3, 1, 4}, {5, 4}}, [op](Graph& g, auto in) { return node(g, op, {in[0], in[1]}); }, range});
    }
    c.push_back({"where", {{3, 4}, {3, 4}, {4}}, [](Graph& g, auto in) {
                     return node(g, Op::Where, {node(g, Op::Greater, {in[0], in[1]}), in[1], in[2]});
                 }});
    c.push_back({"matmul", {{17, 9}, {9, 23}}, [](Graph& g, auto in) { return node(g, Op::MatMul, {in[0], in[1]}); }});
    c.push_back({"matmul_tiles", {{70, 130}, {130, 65}}, [](Graph& g, auto in) { return node(g, Op::MatMul, {in[0], in[1]}); }});
    c.push_back({"matmul_batched", {{2, 3, 5, 7}, {7, 6}}, [](Graph& g, auto in) { return node(g, Op::MatMul, {in[0], in[1]}); }});
    c.push_back({"matmul_broadcast", {{2, 1, 5, 7}, {3, 7, 4}}, [](Graph& g, auto in) { return node(g, Op::MatMul, {in[0], in[1]}); }});
    c.push_back({"matmul_vector", {{7}, {7, 4}}, [](Graph& g, auto in) { return node(g, Op::MatMul, {in[0], in[1]}); }});
    c.push_back({"gemm", {{6, 5}, {5, 7}, {7}}, [](Graph& g, auto in) {
                     return node(g, Op::Gemm, {in[0], in[1], in[2]}, {{"alpha", 0.5}, {"beta", 2.0}});
                 }});
    c.push_back({"gemm_trans", {{5, 6}, {7, 5}, {6, 7}}, [](Graph& g, auto in) {
                     return node(g, Op::Gemm, {in[0], in[1], in[2]}, {{"transA", std::int64_t(1)}, {"transB", std::int64_t(1)}});
                 }});
    c.push_back({"sum_axis", {{4, 5, 6}}, [](Graph& g, auto in) { return node(g, Op::Sum, {in[0]}, {{"axes", std::vector<std::int64_t>{1}}}); }});
    c.push_back({"sum_all", {{40, 33}}, [](Graph& g, auto in) { return node(g, Op::Sum, {in[0]}); }});
    c.push_back({"mean_keepdims", {{4, 5, 6}}, [](Graph& g, auto in) {
                     return node(g, Op::Mean, {in[0]}, {{"axes", std::vector<std::int64_t>{0, 2}}, {"keepdims", std::int64_t(1)}});
                 }});
    c.push_back({"max_axes", {{4, 5, 6}}, [](Graph& g, auto in) { return node(g, Op::Max, {in[0]}, {{"axes", std::vector<std::int64_t>{-1}}}); }});
    c.push_back({"softmax", {{4, 7}}, [](Graph& g, auto in) { return node(g, Op::Softmax, {in[0]}); }});
    c.push_back({"softmax_axis0", {{4, 7}}, [](Graph& g, auto in) { return node(g, Op::Softmax, {in[0]}, {{"axis", std::int64_t(0)}}); }});
    c.push_back({"log_softmax", {{3, 4, 9}}, [](Graph& g, auto in) { return node(g, Op::LogSoftmax, {in[0]}); }});
    c.push_back({"reshape", {{4, 6}}, [](Graph& g, auto in) { return node(g, Op::Reshape, {in[0]}, {{"shape", std::vector<std::int64_t>{3, -1}}}); }});
    c.push_back({"transpose", {{2, 3, 4}}, [](Graph& g, auto in) {
                     return node(g, Op::Exp, {node(g, Op::Transpose, {in[0]}, {{"perm", std::vector<std::int64_t>{2, 0, 1}}})});
                 }});
    c.push_back({"flatten", {{2, 3, 4}}, [](Graph& g, auto in) { return node(g, Op::Flatten, {in[0]}); }});
    c.push_back({"squeeze", {{2, 1, 4}}, [](Graph& g, auto in) { return node(g, Op::Squeeze, {in[0]}, {{"axes", std::vector<std::int64_t>{1}}}); }});
    c.push_back({"unsqueeze", {{2, 4}}, [](Graph& g, auto in) { return node(g, Op::Unsqueeze, {in[0]}, {{"axes", std::vector<std::int64_t>{0}}}); }});
    c.push_back({"expand", {{3, 1}}, [](Graph& g, auto in) { return node(g, Op::Expand, {in[0]}, {{"shape", std::vector<std::int64_t>{2, 3, 4}}}); }});
    c.push_back({"slice", {{6, 7}}, [](Graph& g, auto in) {
                     return node(g, Op::Slice, {in[0]}, {{"starts", std::vector<std::int64_t>{1, -5}}, {"ends", std::vector<std::int64_t>{6, 100}},
                                                         {"steps", std::vector<std::int64_t>{2, 1}}});
                 }});
    c.push_back({"concat", {{2, 3}, {2, 5}}, [](Graph& g, auto in) { return node(g, Op::Concat, {in[0], in[1]}, {{"axis", std::int64_t(1)}}); }});
    c.push_back({"split", {{5, 4}}, [](Graph& g, auto in) {
                     NodeId s = g.addNode(Op::Split, {in[0]}, {{"axis", std::int64_t(0)}, {"sizes", std::vector<std::int64_t>{2, 3}}});
                     return node(g, Op::Mul, {ValueRef{s, 1}, node(g, Op::Sum, {ValueRef{s, 0}})});
                 }});
    c.push_back({"pad", {{2, 3}}, [](Graph& g, auto in) {
                     return node(g, Op::Pad, {in[0]}, {{"pads", std::vector<std::int64_t>{1, 0, 2, 3}}, {"value", 1.5}});
                 }});
    c.push_back({"conv2d", {{2, 4, 7, 6}, {6, 2, 3, 2}, {6}}, [](Graph& g, auto in) {
                     return node(g, Op::Conv2d, {in[0], in[1], in[2]}, {{"strides", std::vector<std::int64_t>{2, 1}},
                                                                       {"pads", std::vector<std::int64_t>{1, 0, 1, 1}},
                                                                       {"group", std::int64_t(2)}});
                 }});
    c.push_back({"conv2d_dilated", {{1, 3, 8, 8}, {2, 3, 3, 3}}, [](Graph& g, auto in) {
                     return node(g, Op::Conv2d, {in[0], in[1]}, {{"dilations", std::vector<std::int64_t>{2, 2}}, {"pads", std::vector<std::int64_t>{2, 2, 2, 2}}});
                 }});
    c.push_back({"global_avg_pool", {{2, 3, 5, 4}}, [](Graph& g, auto in) { return node(g, Op::GlobalAvgPool, {in[0]}); }});
    using Ints = std::vector<std::int64_t>;
    auto pool = [](Op op, Ints kernel, Ints strides, Ints pads, std::int64_t includePad = -1) {
        return [=](Graph& g, auto in) {
            Attributes a{{"kernel", kernel}, {"strides", strides}, {"pads", pads}};
            if (includePad >= 0) a.set("count_include_pad", includePad);
            std::vector<ValueRef> args{in[0]};
            if (op == Op::MaxPoolGrad || op == Op::MaxPoolSelect) args.push_back(in[1]);
            if (op == Op::AvgPoolGrad) a.set("input_shape", Ints{2, 3, 7, 6});
            return node(g, op, args, a);
        };
    };
    c.push_back({"max_pool", {{2, 3, 7, 6}}, pool(Op::MaxPool, {3, 2}, {2, 2}, {1, 0, 1, 1}), Range::Any, true});
    c.push_back({"max_pool_overlapping", {{2, 2, 6, 5}}, pool(Op::MaxPool, {3, 3}, {1, 1}, {1, 1, 1, 1}), Range::Any, true});
    c.push_back({"max_pool_ties", {{2, 2, 6, 5}}, pool(Op::MaxPool, {2, 3}, {1, 2}, {0, 1, 1, 0}), Range::Binary, true});
    c.push_back({"avg_pool", {{2, 3, 7, 6}}, pool(Op::AvgPool, {3, 3}, {2, 2}, {1, 1, 1, 1}), Range::Any, true});
    c.push_back({"avg_pool_count_pad", {{2, 3, 7, 6}}, pool(Op::AvgPool, {3, 2}, {2, 1}, {1, 0, 1, 1}, 1), Range::Any, true});
    c.push_back({"max_pool_grad", {{2, 3, 7, 6}, {2, 3, 4, 6}}, pool(Op::MaxPoolGrad, {3, 3}, {2, 1}, {1, 1, 1, 1}), Range::Any, true});
    c.push_back({"max_pool_grad_ties", {{2, 3, 7, 6}, {2, 3, 4, 6}}, pool(Op::MaxPoolGrad, {3, 3}, {2, 1}, {1, 1, 1, 1}), Range::Binary, true});
    c.push_back({"max_pool_select", {{2, 3, 7, 6}, {2, 3, 7, 6}}, pool(Op::MaxPoolSelect, {3, 3}, {2, 1}, {1, 1, 1, 1}), Range::Any, true});
    c.push_back({"avg_pool_grad", {{2, 3, 4, 3}}, pool(Op::AvgPoolGrad, {3, 3}, {2, 2}, {1, 1, 1, 1}), Range::Any, true});
    c.push_back({"avg_pool_grad_count_pad", {{2, 3, 4, 6}}, pool(Op::AvgPoolGrad, {3, 2}, {2, 1}, {1, 0, 1, 1}, 1), Range::Any, true});
    c.push_back({"layernorm", {{4, 5, 6}, {6}, {6}}, [](Graph& g, auto in) { return node(g, Op::LayerNorm, {in[0], in[1], in[2]}); }, Range::Any, true});
    c.push_back({"layernorm_axis1", {{3, 4, 5}, {4, 5}, {4, 5}}, [](Graph& g, auto in) {
                     return node(g, Op::LayerNorm, {in[0], in[1], in[2]}, {{"axis", std::int64_t(1)}, {"epsilon", 1e-3}});
                 }, Range::Any, true});
    c.push_back({"layernorm_plain", {{6, 130}}, [](Graph& g, auto in) { return node(g, Op::LayerNorm, {in[0]}); }, Range::Any, true});
    c.push_back({"batchnorm_inference", {{3, 4, 5, 2}, {4}, {4}, {4}, {4}}, [](Graph& g, auto in) {
                     return node(g, Op::BatchNorm, {in[0], in[1], in[2], in[3], in[4]});
                 }, Range::Positive, true});
    c.push_back({"batchnorm_training", {{3, 4, 5, 2}, {4}, {4}, {4}, {4}}, [](Graph& g, auto in) {
                     return node(g, Op::BatchNorm, {in[0], in[1], in[2], in[3], in[4]}, {{"training", std::int64_t(1)}});
                 }, Range::Any, true});
    c.push_back({"batchnorm_training_2d", {{9, 3}, {3}, {3}, {3}, {3}}, [](Graph& g, auto in) {
                     return node(g, Op::BatchNorm, {in[0], in[1], in[2], in[3], in[4]}, {{"training", std::int64_t(1)}, {"epsilon", 1e-3}});
                 }, Range::Any, true});
    c.push_back({"fused", {{3, 4}, {4}, {3, 1}}, [](Graph& g, auto in) {
                     return node(g, Op::Fused, {in[0], in[1], in[2]}, {{"program", std::string("r0 = mul in0 in1; r1 = tanh r0; r2 = add r1 in2; r3 = sigmoid r2")}});
                 }});
    return c;
}

Graph caseGraph(const Case& c, std::mt19937& rng, Bindings& b) {
    Graph g;
    std::vector<ValueRef> in;
    for (std::size_t i = 0; i < c.inputs.size(); ++i) {
        const std::string name = "x" + std::to_string(i);
        in.push_back({g.addInput(name, c.inputs[i]), 0});
        b[name] = randomTensor(c.inputs[i], rng, c.range);
    }
    g.addOutput("y", c.build(g, in));
    return g;
}

bool sameOutputs(const RunResult& a, const RunResult& b, std::string* why) {
    if (a.outputs.size() != b.outputs.size()) return *why = "output count differs", false;
    for (std::size_t i = 0; i < a.outputs.size(); ++i) {
        if (a.outputs[i].shape() != b.outputs[i].shape())
            return *why = "output " + std::to_string(i) + " shape " + shapeToString(a.outputs[i].shape()) + " vs " + shapeToString(b.outputs[i].shape()), false;
        if (!test::allClose(a.outputs[i], b.outputs[i], 1e-4, 1e-5, why)) return *why = "output " + std::to_string(i) + ": " + *why, false;
    }
    return true;
}

}  // namespace

class TestVulkanOps : public QObject {
    Q_OBJECT
private:
    std::unique_ptr<VulkanExecutor> vk_;
    std::unique_ptr<Executor> cpu_ = makeCpuExecutor();

private Q_SLOTS:
    void initTestCase() {
        qputenv("ADJOINT_CACHE_DIR", QByteArray::fromStdString(test::tempDir()));
        try {
            vk_ = std::make_unique<VulkanExecutor>();
        } catch (const std::exception& e) {
            QFAIL(qPrintable(QString("no Vulkan device (install mesa-vulkan-drivers for lavapipe): ") + e.what()));
        }
        qInfo("Vulkan device: %s", vk_->capabilitySummary().c_str());
    }

    void forwardAgainstCpu_data() {
        QTest::addColumn<int>("index");
        QTest::addColumn<bool>("strided");
        const auto all = cases();
        for (std::size_t i = 0; i < all.size(); ++i) {
            QTest::newRow(all[i].name) << int(i) << false;
            QTest::newRow((std::string(all[i].name) + "/non-contiguous").c_str()) << int(i) << true;
        }
    }
    void forwardAgainstCpu() {
        QFETCH(int, index);
        QFETCH(bool, strided);
        const Case c = cases()[std::size_t(index)];
        std::mt19937 rng(std::uint32_t(100 + index));
        Bindings b;
        const Graph g = caseGraph(c, rng, b);
        if (strided)
            for (auto& [k, t] : b) t = test::stridedCopy(t);
        const RunResult want = cpu_->run(g, b);
        const RunResult got = vk_->run(g, b);
        std::string why;
        QVERIFY2(sameOutputs(got, want, &why), why.c_str());
        QVERIFY(vk_->lastRunStats().submits <= 1);
    }

    void backwardAgainstCpu_data() {
        QTest::addColumn<int>("index");
        const auto all = cases();
        for (std::size_t i = 0; i < all.size(); ++i)
            if (all[i].backward) QTest::newRow((std::string(all[i].name) + "/non-contiguous").c_str()) << int(i);
    }
    void backwardAgainstCpu() {
        // the VJP of the case with a random seed, w.r.t. every input: runs the derivative ops the
        // backward graph is made of (max_pool_grad, max_pool_select, avg_pool_grad, avg_pool, and
        // the decompositions of the norms) on non-contiguous inputs
        QFETCH(int, index);
        const Case c = cases()[std::size_t(index)];
        std::mt19937 rng(std::uint32_t(300 + index));
        Bindings b;
        const Graph g = caseGraph(c, rng, b);
        BackwardOptions opt;
        opt.seedInput = true;
        const BackwardGraph bw = buildBackward(g, "y", opt);
        QCOMPARE(bw.gradientOutputs.size(), c.inputs.size());
        b["seed_y"] = randomTensor(cpu_->run(g, b).outputs.at(0).shape(), rng, Range::Any);
        for (auto& [k, t] : b) t = test::stridedCopy(t);
        const RunResult want = cpu_->run(bw.graph, b);
        const RunResult got = vk_->run(bw.graph, b);
        std::string why;
        QVERIFY2(sameOutputs(got, want, &why), why.c_str());
        QVERIFY(vk_->lastRunStats().submits <= 1);
    }

    // Every op but those that read integer indices: the device has no integer buffers yet, and a
    // graph with an i64 input is refused before any work (tst_indices checks the message).
    void everyTableOpHasAShader() {
        for (int i = 0; i < int(Op::AvgPoolGrad) + 1; ++i)
            if (opInfo(Op(i)).family != OpFamily::Index) QVERIFY2(vk_->supports(Op(i)), opName(Op(i)).data());
    }

    void badPoolAndNormInputsNameTheNode() {
        // a max_pool_select whose selected tensor differs from its input, a batchnorm whose
        // scale does not match the channels
        {
            Graph g;
            NodeId x = g.addInput("x", {1, 1, 4, 4});
            NodeId y = g.addInput("y", {1, 1, 4, 3});
            g.addOutput("z", {g.addNode(Op::MaxPoolSelect, {{x, 0}, {y, 0}}, {{"kernel", std::vector<std::int64_t>{2, 2}}, {"strides", std::vector<std::int64_t>{2, 2}}}, "my_select"), 0});
            Bindings b{{"x", Tensor::full({1, 1, 4, 4}, 1.f)}, {"y", Tensor::full({1, 1, 4, 3}, 1.f)}};
            QVERIFY_THROWS_EXCEPTION(Error, cpu_->run(g, b));
            try {
                vk_->run(g, b);
                QFAIL("a bad max_pool_select ran");
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find("my_select") != std::string::npos, e.what());
            }
        }
        {
            Graph g;
            Bindings b{{"x", Tensor::full({2, 3, 2, 2}, 1.f)}, {"s", Tensor::full({4}, 1.f)}, {"b", Tensor::full({3}, 0.f)},
                       {"m", Tensor::full({3}, 0.f)}, {"v", Tensor::full({3}, 1.f)}};
            std::vector<ValueRef> in;
            for (const char* name : {"x", "s", "b", "m", "v"}) in.push_back({g.addInput(name, b[name].shape()), 0});
            g.addOutput("y", {g.addNode(Op::BatchNorm, in, {}, "my_bn"), 0});
            try {
                vk_->run(g, b);
                QFAIL("a bad batchnorm ran");
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find("my_bn") != std::string::npos, e.what());
            }
        }
    }

    void cnnBackwardAgainstCpu() {
        // conv + batchnorm (batch statistics) + relu + max_pool + avg_pool + dense: every
        // gradient on Vulkan equals the CPU's
        Graph g;
        std::mt19937 rng(21);
        NodeId x = g.addInput("x", {4, 3, 10, 9});
        NodeId w = g.addParameter("w", randomTensor({6, 3, 3, 3}, rng, Range::Any));
        NodeId cb = g.addParameter("conv_b", randomTensor({6}, rng, Range::Any));
        NodeId gamma = g.addParameter("gamma", randomTensor({6}, rng, Range::Positive));
        NodeId beta = g.addParameter("beta", randomTensor({6}, rng, Range::Any));
        NodeId rm = g.addParameter("running_mean", Tensor::full({6}, 0.f));
        NodeId rv = g.addParameter("running_var", Tensor::full({6}, 1.f));
        NodeId wd = g.addParameter("w_dense", randomTensor({24, 5}, rng, Range::Any));
        using Ints = std::vector<std::int64_t>;
        ValueRef y = node(g, Op::Conv2d, {{x, 0}, {w, 0}, {cb, 0}}, {{"pads", Ints{1, 1, 1, 1}}});
        y = node(g, Op::BatchNorm, {y, {gamma, 0}, {beta, 0}, {rm, 0}, {rv, 0}}, {{"training", std::int64_t(1)}});
        y = node(g, Op::Relu, {y});
        y = node(g, Op::MaxPool, {y}, {{"kernel", Ints{2, 2}}, {"strides", Ints{2, 2}}});  // [4, 6, 5, 4]
        y = node(g, Op::AvgPool, {y}, {{"kernel", Ints{3, 2}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 0, 0, 0}}});  // [4, 6, 2, 2]
        y = node(g, Op::MatMul, {node(g, Op::Flatten, {y}), {wd, 0}});
        g.addOutput("loss", node(g, Op::Mean, {node(g, Op::Mul, {y, node(g, Op::Tanh, {y})})}));
        const BackwardGraph bw = buildBackward(g, "loss");
        for (Op op : {Op::MaxPoolGrad, Op::AvgPoolGrad, Op::Conv2dGradWeight, Op::BatchNorm}) {
            bool found = false;
            for (NodeId id : bw.graph.nodeIds()) found = found || bw.graph.node(id).op == op;
            QVERIFY2(found, opName(op).data());
        }
        Bindings b{{"x", test::stridedCopy(randomTensor({4, 3, 10, 9}, rng, Range::Any))}};
        const RunResult want = cpu_->run(bw.graph, b);
        const RunResult got = vk_->run(bw.graph, b);
        std::string why;
        QVERIFY2(sameOutputs(got, want, &why), why.c_str());
        QCOMPARE(int(got.outputs.size()), int(bw.gradientOutputs.size()));
        QVERIFY(vk_->lastRunStats().submits <= 1);
    }

    void layerNormBackwardAgainstCpu() {
        Graph g;
        std::mt19937 rng(23);
        NodeId x = g.addInput("x", {6, 16});
        NodeId w1 = g.addParameter("w1", randomTensor({16, 32}, rng, Range::Any));
        NodeId s = g.addParameter("ln_scale", randomTensor({32}, rng, Range::Positive));
        NodeId bb = g.addParameter("ln_bias", randomTensor({32}, rng, Range::Any));
        NodeId w2 = g.addParameter("w2", randomTensor({32, 4}, rng, Range::Any));
        ValueRef h = node(g, Op::LayerNorm, {node(g, Op::MatMul, {{x, 0}, {w1, 0}}), {s, 0}, {bb, 0}});
        ValueRef y = node(g, Op::MatMul, {node(g, Op::Gelu, {h}), {w2, 0}});
        g.addOutput("loss", node(g, Op::Mean, {node(g, Op::LogSoftmax, {y})}));
        const BackwardGraph bw = buildBackward(g, "loss");
        Bindings b{{"x", test::stridedCopy(randomTensor({6, 16}, rng, Range::Any))}};
        const RunResult want = cpu_->run(bw.graph, b);
        const RunResult got = vk_->run(bw.graph, b);
        std::string why;
        QVERIFY2(sameOutputs(got, want, &why), why.c_str());
        QCOMPARE(int(got.outputs.size()), 5);
    }

    void backwardGraphsAgainstCpu() {
        // a small MLP with softmax cross-entropy-like loss; the backward graph uses movement,
        // broadcasting, reductions and comparisons
        Graph g;
        std::mt19937 rng(7);
        NodeId x = g.addInput("x", {8, 4});
        NodeId w1 = g.addParameter("w1", randomTensor({4, 6}, rng, Range::Any));
        NodeId b1 = g.addParameter("b1", randomTensor({6}, rng, Range::Any));
        NodeId w2 = g.addParameter("w2", randomTensor({6, 3}, rng, Range::Any));
        ValueRef h = node(g, Op::Tanh, {node(g, Op::Add, {node(g, Op::MatMul, {{x, 0}, {w1, 0}}), {b1, 0}})});
        ValueRef r = node(g, Op::Relu, {node(g, Op::MatMul, {h, {w2, 0}})});
        ValueRef ls = node(g, Op::LogSoftmax, {r});
        ValueRef loss = node(g, Op::Mean, {node(g, Op::Mul, {ls, node(g, Op::Maximum, {ls, node(g, Op::Exp, {ls})})})});
        g.addOutput("loss", loss);
        const BackwardGraph bw = buildBackward(g, "loss");
        Bindings b{{"x", randomTensor({8, 4}, rng, Range::Any)}};
        const RunResult want = cpu_->run(bw.graph, b);
        const RunResult got = vk_->run(bw.graph, b);
        std::string why;
        QVERIFY2(sameOutputs(got, want, &why), why.c_str());
        QVERIFY(got.outputs.size() >= 4);
    }

    void convBackwardAgainstCpu() {
        // conv2d_grad_input and conv2d_grad_weight come from the backward graph of a conv
        Graph g;
        std::mt19937 rng(11);
        NodeId x = g.addInput("x", {2, 4, 6, 5});
        NodeId w = g.addParameter("w", randomTensor({6, 2, 3, 3}, rng, Range::Any));
        ValueRef y = node(g, Op::Conv2d, {{x, 0}, {w, 0}}, {{"strides", std::vector<std::int64_t>{2, 2}}, {"pads", std::vector<std::int64_t>{1, 1, 1, 1}}, {"group", std::int64_t(2)}});
        g.addOutput("loss", node(g, Op::Sum, {node(g, Op::Mul, {y, node(g, Op::Tanh, {y})})}));
        const BackwardGraph bw = buildBackward(g, "loss");
        bool hasGradOps = false;
        for (NodeId id : bw.graph.nodeIds()) hasGradOps = hasGradOps || bw.graph.node(id).op == Op::Conv2dGradWeight;
        QVERIFY(hasGradOps);
        Bindings b{{"x", test::stridedCopy(randomTensor({2, 4, 6, 5}, rng, Range::Any))}};
        std::string why;
        QVERIFY2(sameOutputs(vk_->run(bw.graph, b), cpu_->run(bw.graph, b), &why), why.c_str());
    }

    void fusedKernelAgainstUnfusedOps() {
        std::mt19937 rng(3);
        Graph fused, plain;
        for (Graph* g : {&fused, &plain}) {
            g->addInput("a", {5, 6});
            g->addInput("b", {6});
        }
        fused.addOutput("y", node(fused, Op::Fused, {{0, 0}, {1, 0}}, {{"program", std::string("r0 = sub in0 in1; r1 = mul r0 r0; r2 = exp r1; r3 = div r0 r2")}}));
        {
            ValueRef d = node(plain, Op::Sub, {{0, 0}, {1, 0}});
            plain.addOutput("y", node(plain, Op::Div, {d, node(plain, Op::Exp, {node(plain, Op::Mul, {d, d})})}));
        }
        Bindings b{{"a", test::stridedCopy(randomTensor({5, 6}, rng, Range::Any))}, {"b", randomTensor({6}, rng, Range::Any)}};
        const RunResult want = vk_->run(plain, b);
        const RunResult got = vk_->run(fused, b);
        std::string why;
        QVERIFY2(sameOutputs(got, want, &why), why.c_str());
        QCOMPARE(vk_->lastRunStats().dispatches, 1);  // one kernel for the whole group
        const std::string src = vk_->generatedSource(fused.node(2).name);
        QVERIFY2(src.find("ew_Exp(r1,") != std::string::npos, src.c_str());
        QCOMPARE(src, generateFusedKernelSource("r0 = sub in0 in1; r1 = mul r0 r0; r2 = exp r1; r3 = div r0 r2", 2));
        // a bad program is a clear error naming the node
        Graph bad;
        bad.addInput("a", {2});
        bad.addOutput("y", {bad.addNode(Op::Fused, {{0, 0}}, {{"program", std::string("r0 = frobnicate in0")}}, "bad_group"), 0});
        try {
            vk_->run(bad, {{"a", Tensor::full({2}, 1.f)}});
            QFAIL("a bad program ran");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("bad_group") != std::string::npos, e.what());
        }
    }

    void examplesRunAsOnTheCpu_data() {
        QTest::addColumn<QString>("name");
        for (const char* n : {"attention", "conv_bn_relu", "elementwise_chain", "mlp", "scalar_function"}) QTest::newRow(n) << QString(n);
    }
    void examplesRunAsOnTheCpu() {
        // the lecture's example graphs with their inputs, and the gradients of their first
        // output's sum w.r.t. every input and parameter
        QFETCH(QString, name);
        const std::string base = test::sourcePath("resources/examples/");
        const Graph g = loadGraphFile(base + name.toStdString() + ".json");
        Bindings b;
        for (NodeId id : g.nodeIds())
            if (g.node(id).op == Op::Input) b[g.node(id).name] = readNpy(base + "inputs/" + name.toStdString() + "/" + g.node(id).name + ".npy");
        std::string why;
        QVERIFY2(sameOutputs(vk_->run(g, b), cpu_->run(g, b), &why), why.c_str());
        Graph withLoss = g;
        withLoss.addOutput("adj_total", node(withLoss, Op::Sum, {node(withLoss, Op::Tanh, {g.outputs()[0].value})}));
        const BackwardGraph bw = buildBackward(withLoss, "adj_total");
        QVERIFY(!bw.gradientOutputs.empty());
        QVERIFY2(sameOutputs(vk_->run(bw.graph, b), cpu_->run(bw.graph, b), &why), why.c_str());
    }

    void runtimeCompilerAndKernelCache() {
        qInfo("fusion kernels compiled by %s", vk::glslCompilerName().c_str());
        const std::string src = generateFusedKernelSource("r0 = mul in0 in0; r1 = sin r0", 1);
        QVERIFY2(src.find("compiled at run time by " + vk::glslCompilerName()) != std::string::npos, src.c_str());
        const std::vector<std::uint32_t> words = vk::compileGlsl(src, "square_sin");
        QVERIFY(words.size() > 5);
        QCOMPARE(words[0], 0x07230203u);  // the SPIR-V magic number
        // a compile error names the kernel's node and carries the compiler's message
        try {
            vk::compileGlsl("#version 450\nlayout(local_size_x = 1) in;\nvoid main() { frobnicate(); }\n", "broken_group");
            QFAIL("bad GLSL compiled");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("broken_group") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("frobnicate") != std::string::npos, e.what());
        }
        // the shared headers are served from memory; a kernel that selects no push-constant block
        // (ADJ_PUSH_<FAMILY>, shaders/adj_push.h) is an error that says so
        try {
            vk::compileGlsl("#version 450\n#include \"adj_common.glsl\"\nlayout(local_size_x = 1) in;\nvoid main() {}\n", "no_push");
            QFAIL("a kernel without a push-constant block compiled");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("ADJ_PUSH_") != std::string::npos, e.what());
        }
        // the cache: compiled once, then from memory; a second cache finds it on disk
        const std::string fresh = generateFusedKernelSource("r0 = cos in0; r1 = add r0 in1; r2 = abs r1", 2);
        vk::FusedKernelCache first, second;
        const auto a = first.spirv(fresh, "g1");
        QCOMPARE(first.spirv(fresh, "g1"), a);
        QCOMPARE(first.stats().compiled + first.stats().fromDisk, 1);
        QCOMPARE(first.stats().fromMemory, 1);
        QCOMPARE(second.spirv(fresh, "g1"), a);
        QCOMPARE(second.stats().fromDisk, 1);
        QCOMPARE(second.stats().compiled, 0);
    }

    void residentParametersAreNotUploadedAgain() {
        Graph g;
        std::mt19937 rng(5);
        NodeId x = g.addInput("x", {4, 8});
        NodeId w = g.addParameter("w", randomTensor({8, 8}, rng, Range::Any));
        g.addOutput("y", {g.addNode(Op::MatMul, {{x, 0}, {w, 0}}), 0});
        g.addOutput("w_next", {g.addNode(Op::Mul, {{w, 0}, {w, 0}}), 0});
        Bindings b{{"x", randomTensor({4, 8}, rng, Range::Any)}};
        RunResult r1 = vk_->run(g, b);
        QCOMPARE(vk_->lastRunStats().residentUploads, 2);
        vk_->run(g, b);
        QCOMPARE(vk_->lastRunStats().residentUploads, 0);  // x and w unchanged: resident
        QCOMPARE(vk_->lastRunStats().residentHits, 2);
        b["w"] = r1.outputs[1];  // an output of the last run: already on the device
        const RunResult r3 = vk_->run(g, b);
        QCOMPARE(vk_->lastRunStats().residentUploads, 0);
        std::string why;
        QVERIFY2(sameOutputs(r3, cpu_->run(g, b), &why), why.c_str());
        b["x"].data()[0] += 1.f;  // changed in place: uploaded again
        const RunResult r4 = vk_->run(g, b);
        QCOMPARE(vk_->lastRunStats().residentUploads, 1);
        QVERIFY2(sameOutputs(r4, cpu_->run(g, b), &why), why.c_str());
    }

    void submitPerOpGivesTheSameResults() {
        std::mt19937 rng(9);
        Bindings b;
        const Graph g = caseGraph(cases()[0], rng, b);
        const RunResult one = vk_->run(g, b);
        vk_->setSubmitPerOp(true);
        const RunResult many = vk_->run(g, b);
        vk_->setSubmitPerOp(false);
        std::string why;
        QVERIFY2(sameOutputs(one, many, &why), why.c_str());
    }

    void checkFiniteNamesTheNode() {
        Graph g;
        NodeId x = g.addInput("x", {3});
        NodeId l = g.addNode(Op::Log, {{x, 0}}, {}, "the_log");
        g.addOutput("y", {g.addNode(Op::Add, {{l, 0}, {x, 0}}), 0});
        try {
            vk_->run(g, {{"x", Tensor::fromVector({3}, {1.f, -1.f, 2.f})}}, RunOptions{false, true});
            QFAIL("a NaN went unnoticed");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("the_log") != std::string::npos, e.what());
        }
    }

    void deviceChoice() {
        using vk::DeviceListing;
        const std::vector<DeviceListing> devs{{0, "llvmpipe (LLVM 15)", VK_PHYSICAL_DEVICE_TYPE_CPU},
                                              {1, "NVIDIA H100", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU},
                                              {2, "Intel UHD", VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU}};
        QCOMPARE(vk::chooseDevice(devs, ""), 1u);
        QCOMPARE(vk::chooseDevice(devs, "0"), 0u);
        QCOMPARE(vk::chooseDevice(devs, "intel"), 2u);
        QCOMPARE(vk::chooseDevice({devs[0]}, ""), 0u);
        QVERIFY_THROWS_EXCEPTION(Error, vk::chooseDevice(devs, "amd"));
        QVERIFY_THROWS_EXCEPTION(Error, vk::chooseDevice(devs, "7"));
        QVERIFY_THROWS_EXCEPTION(Error, vk::chooseDevice({}, ""));
    }
};

QTEST_APPLESS_MAIN(TestVulkanOps)
#include "tst_vulkan_ops.moc"
