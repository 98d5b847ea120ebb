// ONNX import and export against references the engine did not compute: three models exported by
// PyTorch's own exporter (tests/fixtures/make_onnx_fixtures.py: an MLP, a CNN with BatchNorm, a
// TransformerEncoderLayer, each with a dynamic batch) must import, run and differentiate as torch
// does; every graph the engine writes (forward, backward, every op case of tests/fixtures/ops)
// must pass ONNX's checker and read back to the same outputs; malformed files must be rejected
// with a message that names the problem. ONNX Runtime's view of the exported files is checked by
// tests/onnxruntime/ (ctest onnxruntime_*).
#include <QtTest>
#include <cstdint>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "base/files.h"
#include "io/graph_file.h"
#include "ir/group_tree.h"
#include "io/json_format.h"
#include "io/npy.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "io/onnx_weight_spans.h"
#include "ir/builder.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "runtime/bindings.h"
#include "runtime/executor.h"
#include "test_support.h"

using namespace adj;

namespace {

/// Engine errors in a test body fail that test (and its row) instead of aborting the executable.
#define ONNX_TRY try {
#define ONNX_CATCH \
    }              \
    catch (const std::exception& e) { QFAIL(e.what()); }

constexpr double kRtol = 1e-4;
constexpr double kAtol = 1e-5;

using Named = test::NamedFiles;
using Fixture = test::OnnxModelFixture;

nlohmann::json readJson(const std::string& relative) {
    std::ifstream f(test::sourcePath(relative));
    if (!f) throw std::runtime_error(relative + ": cannot open (run tests/fixtures/make_onnx_fixtures.py)");
    return nlohmann::json::parse(f);
}

const std::vector<Fixture>& fixtures() { return test::onnxModelFixtures(); }
const Fixture& fixture(const std::string& model) { return test::onnxModelFixture(model); }

Bindings bindingsOf(const Named& inputs) {
    Bindings b;
    for (const auto& [name, file] : inputs) b[name] = readNpy(file, NpyIntegers::Keep);  // token ids stay int64
    return b;
}

std::string readBytes(const std::string& path) { return readFileBytes(path); }

void writeBytes(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::binary);
    f << bytes;
}

/// Outputs of `g` on the bindings, by output name.
std::map<std::string, Tensor> runByName(Graph g, const Bindings& bindings) {
    specializeToBindings(g, bindings);
    RunResult r = makeCpuExecutor()->run(g, bindings);
    std::map<std::string, Tensor> out;
    for (std::size_t i = 0; i < g.outputs().size(); ++i) out[g.outputs()[i].name] = r.outputs[i];
    return out;
}

/// Adds "loss" = sum over the weighted outputs of sum(output * W) (as tst_autodiff does).
void addLoss(Graph& g, const Named& weights) {
    GraphBuilder b(g);
    ValueRef total;
    for (const auto& [out, file] : weights) {
        ValueRef value;
        for (const auto& o : g.outputs())
            if (o.name == out) value = o.value;
        ValueRef prod = b.mul(value, b.constant(readNpy(file), "loss_w_" + out));
        std::vector<std::int64_t> axes;
        for (std::int64_t a = 0; a < b.rank(prod); ++a) axes.push_back(a);
        ValueRef term = b.sum(prod, axes, false);
        total = total.node == kNoNode ? term : b.add(total, term);
    }
    g.addOutput("loss", total);
}

std::vector<std::string> leaves(const Graph& g) {
    std::vector<std::string> names;
    for (NodeId id : g.inputNodes())
        if (g.node(id).declaredDType == DType::F32) names.push_back(g.node(id).name);  // integer indices have no gradient
    for (NodeId id : g.parameterNodes()) names.push_back(g.node(id).name);
    return names;
}

/// The fixture's backward graph: forward + loss, specialized to the fixture's inputs.
BackwardGraph backwardOf(const Fixture& f) {
    Graph g = loadGraphFile(f.file);
    specializeToBindings(g, bindingsOf(f.inputs));
    addLoss(g, f.lossWeights);
    verifyOrThrow(g);
    BackwardOptions options;
    options.wrt = leaves(g);
    return buildBackward(g, "loss", options);
}

std::string compareNamed(const std::map<std::string, Tensor>& got, const test::NamedTensors& want, double rtol, double atol,
                         const std::string& prefix = {}) {
    std::string problems;
    for (const auto& [name, expected] : want) {
        auto it = got.find(prefix + name);
        std::string why;
        if (it == got.end()) why = "missing";
        else if (!test::allClose(it->second, expected, rtol, atol, &why)) {}
        else continue;
        problems += (problems.empty() ? "" : "; ") + prefix + name + ": " + why;
    }
    return problems;
}

std::string compareNamed(const std::map<std::string, Tensor>& got, const Named& want, double rtol, double atol, const std::string& prefix = {}) {
    test::NamedTensors tensors;
    for (const auto& [name, file] : want) tensors.emplace_back(name, readNpy(file));
    return compareNamed(got, tensors, rtol, atol, prefix);
}

void addFixtureRows() {
    QTest::addColumn<QString>("model");
    for (const auto& f : fixtures()) QTest::newRow(f.model.c_str()) << QString::fromStdString(f.model);
}

}  // namespace

class TestOnnx : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY(!fixtures().empty()); }

    // ---- import ----

    void importKeepsNamesAndDynamicDims_data() { addFixtureRows(); }
    void importKeepsNamesAndDynamicDims() {
        ONNX_TRY
        QFETCH(QString, model);
        const Fixture& f = fixture(model.toStdString());
        Graph g = loadGraphFile(f.file);
        QVERIFY(verifyGraph(g).empty());
        // Initializers are parameters under their own names: the gradients' names.
        std::set<std::string> params;
        for (NodeId id : g.parameterNodes()) params.insert(g.node(id).name);
        for (const auto& [name, file] : f.gradients)
            if (!f.dynamic.count(name)) QVERIFY2(params.count(name), name.c_str());
        // dim_param "batch" is a symbolic dimension with the default size 1.
        for (const auto& [input, dims] : f.dynamic) {
            if (dims.empty()) continue;  // exported with a fixed batch
            auto id = g.findNode(input);
            QVERIFY(id);
            const Node& n = g.node(*id);
            QVERIFY(n.op == Op::Input);
            QCOMPARE(QString::fromStdString(n.dimNames.at(0)), QString::fromStdString(dims.at(0)));
            QCOMPARE(n.declaredShape.at(0), std::int64_t(1));
        }
        QCOMPARE(g.outputs().size(), std::size_t(1));
        QCOMPARE(QString::fromStdString(g.outputs()[0].name), QString("y"));
        QCOMPARE(QString::fromStdString(g.node(g.outputs()[0].value.node).name), QString("y"));  // the ONNX output name
        for (NodeId id : g.nodeIds()) QVERIFY2(g.node(id).op != Op::Constant || !g.users(id).empty(), g.node(id).name.c_str());
        ONNX_CATCH
    }

    void importRunsLikeTorch_data() { addFixtureRows(); }
    void importRunsLikeTorch() {
        ONNX_TRY
        QFETCH(QString, model);
        const Fixture& f = fixture(model.toStdString());
        // The fixtures' batch is 3, not the default 1: the dynamic dimension is bound at run time.
        const std::string problems = compareNamed(runByName(loadGraphFile(f.file), bindingsOf(f.inputs)), f.expected, kRtol, kAtol);
        QVERIFY2(problems.empty(), problems.c_str());
        ONNX_CATCH
    }

    void importDifferentiatesLikeTorch_data() { addFixtureRows(); }
    void importDifferentiatesLikeTorch() {
        ONNX_TRY
        QFETCH(QString, model);
        const Fixture& f = fixture(model.toStdString());
        BackwardGraph bw = backwardOf(f);
        const std::string problems = compareNamed(runByName(bw.graph, bindingsOf(f.inputs)), f.gradients, kRtol, kAtol, "grad_");
        QVERIFY2(problems.empty(), problems.c_str());
        QCOMPARE(bw.gradientOutputs.size(), f.gradients.size());
        ONNX_CATCH
    }

    /// One PyTorch module exported at every opset from 11 to 17 (axes as attributes or inputs,
    /// Softmax's 2-D coercion before 13, LayerNorm before 17, If around a squeeze, Pad's integer
    /// arithmetic) imports, runs like torch at batch 3, and survives export and re-import.
    void everyOpsetImports_data() {
        QTest::addColumn<QString>("model");
        for (const auto& e : test::onnxOpsetFixtures()) QTest::newRow(e.model.c_str()) << QString::fromStdString(e.model);
    }
    void everyOpsetImports() {
        ONNX_TRY
        QFETCH(QString, model);
        test::OnnxOpsetFixture entry;
        for (const auto& e : test::onnxOpsetFixtures())
            if (e.model == model.toStdString()) entry = e;
        const Bindings b = bindingsOf(entry.inputs);
        Graph g = loadGraphFile(entry.file);
        std::string problems = compareNamed(runByName(g, b), entry.expected, kRtol, kAtol);
        QVERIFY2(problems.empty(), problems.c_str());
        const std::string bytes = graphToOnnx(g);
        const std::string why = onnxCheckerProblems(bytes);
        QVERIFY2(why.empty(), why.c_str());
        problems = compareNamed(runByName(parseGraphOnnx(bytes, "again.onnx"), b), entry.expected, kRtol, kAtol);
        QVERIFY2(problems.empty(), problems.c_str());
        ONNX_CATCH
    }

    // ---- export ----

    void roundTripKeepsGraphAndOutputs_data() { addFixtureRows(); }
    void roundTripKeepsGraphAndOutputs() {
        ONNX_TRY
        QFETCH(QString, model);
        const Fixture& f = fixture(model.toStdString());
        Graph first = loadGraphFile(f.file);
        const std::string bytes = graphToOnnx(first);
        const std::string why = onnxCheckerProblems(bytes);
        QVERIFY2(why.empty(), why.c_str());
        Graph second = parseGraphOnnx(bytes, "round trip");
        QVERIFY(verifyGraph(first).empty());
        QVERIFY(verifyGraph(second).empty());
        // import(export(import(file))) is the same graph: names, ops, attributes, shapes, dims.
        if (printGraph(second) != printGraph(first)) {  // (the first differing line, which QCOMPARE's cut-off text may not show)
            std::istringstream a(printGraph(first)), c(printGraph(second));
            for (std::string la, lc; std::getline(a, la) && std::getline(c, lc);)
                QVERIFY2(la == lc, ("round trip: '" + la + "' became '" + lc + "'").c_str());
        }
        QCOMPARE(QString::fromStdString(printGraph(second)), QString::fromStdString(printGraph(first)));
        const Bindings b = bindingsOf(f.inputs);
        auto a = runByName(first, b), c = runByName(second, b);
        for (const auto& [name, t] : a) {
            std::string w;
            QVERIFY2(test::allClose(c.at(name), t, 0, 0, &w), (name + ": " + w).c_str());
        }
        ONNX_CATCH
    }

    void backwardExportPassesCheckerAndReadsBack_data() { addFixtureRows(); }
    void backwardExportPassesCheckerAndReadsBack() {
        ONNX_TRY
        QFETCH(QString, model);
        const Fixture& f = fixture(model.toStdString());
        BackwardGraph bw = backwardOf(f);
        const std::string bytes = graphToOnnx(bw.graph);
        const std::string why = onnxCheckerProblems(bytes);
        QVERIFY2(why.empty(), why.c_str());
        Graph back = parseGraphOnnx(bytes, "backward.onnx");
        QCOMPARE(back.outputs().size(), bw.graph.outputs().size());
        const Bindings b = bindingsOf(f.inputs);
        auto direct = runByName(bw.graph, b), read = runByName(back, b);
        for (const auto& [name, t] : direct) {
            std::string w;
            QVERIFY2(read.count(name), name.c_str());
            QVERIFY2(test::allClose(read.at(name), t, 1e-5, 1e-6, &w), (name + ": " + w).c_str());
        }
        ONNX_CATCH
    }

    /// Every op case of tests/fixtures/ops (every op of the table, backward-graph ops included)
    /// exports, passes the checker with strict shape inference, and reads back to torch's outputs.
    void everyOpCaseRoundTrips_data() {
        QTest::addColumn<int>("index");
        const auto& cases = test::opCases();
        for (std::size_t i = 0; i < cases.size(); ++i) QTest::newRow(cases[i].name.c_str()) << int(i);
    }
    void everyOpCaseRoundTrips() {
        ONNX_TRY
        QFETCH(int, index);
        const test::FixtureCase& c = test::opCases()[std::size_t(index)];
        Graph g = c.graph();
        QVERIFY(verifyGraph(g).empty());
        const std::string bytes = graphToOnnx(g);
        const std::string why = onnxCheckerProblems(bytes);
        QVERIFY2(why.empty(), why.c_str());
        Graph back = parseGraphOnnx(bytes, c.name + ".onnx");
        const std::string problems = compareNamed(runByName(back, c.bindings()), c.expected, kRtol, kAtol);
        QVERIFY2(problems.empty(), problems.c_str());
        // The parameters and inputs keep their names.
        for (NodeId id : g.parameterNodes()) QVERIFY(back.findNode(g.node(id).name));
        for (NodeId id : g.inputNodes()) QVERIFY(back.findNode(g.node(id).name));
        ONNX_CATCH
    }

    void customDomainOnlyWhereNeeded() {
        ONNX_TRY
        // Pools' backward ops need the custom domain; the rest of a CNN's backward graph does not.
        BackwardGraph bw = backwardOf(fixture("cnn"));
        const std::string bytes = graphToOnnx(bw.graph);
        QVERIFY(bytes.find("ai.adjoint") != std::string::npos);
        QVERIFY(bytes.find("max_pool_grad") != std::string::npos);
        QVERIFY(bytes.find("ConvTranspose") != std::string::npos);  // conv2d_grad_input
        const std::string mlp = graphToOnnx(backwardOf(fixture("mlp")).graph);
        QVERIFY(mlp.find("ai.adjoint") == std::string::npos);
        ONNX_CATCH
    }

    void exportedDynamicDimsReadBack() {
        ONNX_TRY
        Graph g = loadGraphFile(fixture("mlp").file);
        Graph back = parseGraphOnnx(graphToOnnx(g), "m.onnx");
        const Node& x = back.node(*back.findNode("x"));
        QCOMPARE(QString::fromStdString(x.dimNames.at(0)), QString("batch"));
        QVERIFY(x.declaredShape == (Shape{1, 4}));
        // A graph specialized to batch 3 keeps its declared size (and its dimension's name).
        specializeToBindings(g, bindingsOf(fixture("mlp").inputs));
        Graph back3 = parseGraphOnnx(graphToOnnx(g), "m3.onnx");
        const Node& x3 = back3.node(*back3.findNode("x"));
        QCOMPARE(QString::fromStdString(x3.dimNames.at(0)), QString("batch"));
        QVERIFY(x3.declaredShape == (Shape{3, 4}));
        ONNX_CATCH
    }

    // ---- the CLI ----

    void cliRunAndExport_data() { addFixtureRows(); }
    void cliRunAndExport() {
        ONNX_TRY
        QFETCH(QString, model);
        const Fixture& f = fixture(model.toStdString());
        const std::string dir = test::tempDir();
        QStringList runArgs{"run", QString::fromStdString(f.file), "--out", QString::fromStdString(dir + "/run")};
        for (const auto& [name, file] : f.inputs) runArgs << "--input" << QString::fromStdString(name + "=" + file);
        auto r = test::runCli(runArgs);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        std::string why;
        QVERIFY2(test::allClose(readNpy(dir + "/run/y.npy"), readNpy(f.expected.front().second), kRtol, kAtol, &why), why.c_str());

        const std::string exported = dir + "/exported.onnx";
        r = test::runCli({"export", QString::fromStdString(f.file), "-o", QString::fromStdString(exported)});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        why = onnxCheckerProblems(readBytes(exported));
        QVERIFY2(why.empty(), why.c_str());
        runArgs[1] = QString::fromStdString(exported);
        runArgs[3] = QString::fromStdString(dir + "/run2");
        r = test::runCli(runArgs);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(test::allClose(readNpy(dir + "/run2/y.npy"), readNpy(f.expected.front().second), kRtol, kAtol, &why), why.c_str());

        for (const char* command : {"validate", "info"}) {
            r = test::runCli({command, QString::fromStdString(f.file)});
            QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        }
        // The optimized graph (fusion groups and all) as ONNX.
        const std::string optimized = dir + "/optimized.onnx";
        r = test::runCli({"optimize", QString::fromStdString(f.file), "-o", QString::fromStdString(optimized), "-O2"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        why = onnxCheckerProblems(readBytes(optimized));
        QVERIFY2(why.empty(), why.c_str());
        runArgs[1] = QString::fromStdString(optimized);
        runArgs[3] = QString::fromStdString(dir + "/run3");
        r = test::runCli(runArgs);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(test::allClose(readNpy(dir + "/run3/y.npy"), readNpy(f.expected.front().second), kRtol, kAtol, &why), why.c_str());
        // ONNX to JSON and back to ONNX.
        r = test::runCli({"export", QString::fromStdString(f.file), "-o", QString::fromStdString(dir + "/m.json")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        r = test::runCli({"export", QString::fromStdString(dir + "/m.json"), "-o", QString::fromStdString(dir + "/m.onnx")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(onnxCheckerProblems(readBytes(dir + "/m.onnx")).empty());
        ONNX_CATCH
    }

    void cliGradOfOnnx() {
        ONNX_TRY
        // grad needs a scalar output: the MLP with its loss sum(y * W) appended, saved as ONNX.
        const Fixture& f = fixture("mlp");
        Graph g = loadGraphFile(f.file);
        specializeToBindings(g, bindingsOf(f.inputs));
        addLoss(g, f.lossWeights);
        const std::string dir = test::tempDir();
        saveGraphFile(g, dir + "/mlp_loss.onnx");
        QStringList args{"grad", QString::fromStdString(dir + "/mlp_loss.onnx"), "--of", "loss", "--wrt", "all", "--out", QString::fromStdString(dir + "/g")};
        for (const auto& [name, file] : f.inputs) args << "--input" << QString::fromStdString(name + "=" + file);
        auto r = test::runCli(args);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        for (const auto& [name, file] : f.gradients) {
            std::string why;
            const std::string got = dir + "/g/grad_" + name + ".npy";
            QVERIFY2(test::allClose(readNpy(got), readNpy(file), kRtol, kAtol, &why), (name + ": " + why).c_str());
        }
        // Its backward graph, exported from the CLI, passes the checker.
        r = test::runCli({"export", QString::fromStdString(dir + "/mlp_loss.onnx"), "--backward", "--of", "loss", "-o", QString::fromStdString(dir + "/bw.onnx")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const std::string why = onnxCheckerProblems(readBytes(dir + "/bw.onnx"));
        QVERIFY2(why.empty(), why.c_str());
        ONNX_CATCH
    }

    // ---- malformed files ----

    void malformedFilesAreRejected_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("fragment");
        const std::map<std::string, std::string> fragments = {
            {"unknown_ops", "unsupported ONNX ops: BarOp (node 'bar'), FooOp (nodes 'foo_1', 'foo_2')"},
            {"cycle", "cycle through node"},
            {"missing_initializer", "node 'gemm' (Gemm): input 'b' is not defined"},
            {"initializer_size", "initializer 'w': has 20 bytes of data, but dims [3, 4] need 48"},
            {"negative_dims", "initializer 'w': has a negative dimension"},
            {"absurd_initializer", "initializer 'w': dims [2147483648, 2147483648] are too large"},
            {"absurd_input", "graph input 'x' has an absurd dimension"},
            {"negative_input", "graph input 'x' has a negative dimension"},
            {"attribute_type", "node 'softmax' (Softmax): attribute 'axis' must be INT, got STRING"},
            {"attribute_value", "node 'transpose' (Transpose): perm axes repeat"},
            {"shape_mismatch", "node 'gemm' (Gemm): inner dimensions do not match"},
            {"old_opset", "node 'gemm' (Gemm): the model's opset 9 defines Gemm as its version 9, which this importer does not read"},
            {"computed_shape", "node 'reshape' (Reshape): the shape (input 'hi') is known only when the graph runs"},
            {"external_data", "external file"},
            {"duplicate_value", "its output 'y' is already defined"},
            {"undefined_output", "graph output 'z' is not defined"},
            {"int64_input_as_shape", "node 'reshape' (Reshape): the shape (input 'shape') is known only when the graph runs"},
            {"no_graph", "not an ONNX model (it has no graph)"},
            {"cast_string", "node 'cast' (Cast): Cast to STRING is not supported"},
            {"float16_into_softmax", "node 'softmax' (Softmax): input 'h16' is f16, and this op computes in float32 only"},
        };
        std::set<std::string> seen;
        for (const auto& e : readJson("tests/fixtures/onnx/malformed/manifest.json")) {
            const std::string name = e.at("case").get<std::string>();
            seen.insert(name);
            auto it = fragments.find(name);
            QTest::newRow(name.c_str()) << QString::fromStdString(test::sourcePath(e.at("file").get<std::string>()))
                                        << QString::fromStdString(it == fragments.end() ? "(no expected message for this case)" : it->second);
        }
        // Files made here: empty, random bytes, truncated, a JSON text with the .onnx extension.
        const std::string dir = test::tempDir();
        writeBytes(dir + "/empty.onnx", "");
        std::mt19937 rng(7);
        std::string noise(4096, '\0');
        for (auto& c : noise) c = char(rng());
        writeBytes(dir + "/random.onnx", noise);
        const std::string good = readBytes(fixture("transformer").file);
        writeBytes(dir + "/truncated.onnx", good.substr(0, good.size() / 2));
        writeBytes(dir + "/json.onnx", "{\"format\": \"adjoint-graph\"}");
        // names that are not UTF-8 (protobuf 2 does not check them; found by the fuzzer): every
        // "fc1" of the MLP becomes "f\xff1", consistently, so only the text is wrong
        std::string bad = readBytes(fixture("mlp").file);
        for (std::size_t at = bad.find("fc1"); at != std::string::npos; at = bad.find("fc1", at + 3)) bad[at + 1] = char(0xff);
        writeBytes(dir + "/not_utf8.onnx", bad);
        QTest::newRow("empty") << QString::fromStdString(dir + "/empty.onnx") << "the file is empty";
        QTest::newRow("random bytes") << QString::fromStdString(dir + "/random.onnx") << "not an ONNX model";
        QTest::newRow("truncated") << QString::fromStdString(dir + "/truncated.onnx") << "not an ONNX model";
        QTest::newRow("json text") << QString::fromStdString(dir + "/json.onnx") << "not an ONNX model";
        QTest::newRow("names not UTF-8") << QString::fromStdString(dir + "/not_utf8.onnx") << "'f\\xff1.weight' is not valid UTF-8";
        QTest::newRow("no such file") << QString::fromStdString(dir + "/missing.onnx") << "no such file";
    }
    void malformedFilesAreRejected() {
        QFETCH(QString, file);
        QFETCH(QString, fragment);
        for (const char* command : {"validate", "run"}) {
            auto r = test::runCli({command, file});
            QVERIFY2(r.exitCode == 1, qPrintable(QString("%1: exit %2, stderr: %3").arg(command).arg(r.exitCode).arg(r.err)));
            QVERIFY2(r.err.startsWith("error: " + file + ": "), qPrintable(r.err));
            QVERIFY2(r.err.contains(fragment), qPrintable(QString("'%1' not in: %2").arg(fragment, r.err)));
        }
        // In-process too: a FormatError whose message starts with the path.
        try {
            loadGraphFile(file.toStdString());
            QFAIL("loaded");
        } catch (const FormatError& e) {
            QVERIFY2(QString(e.what()).startsWith(file + ": "), e.what());
        }
    }

    /// Every prefix of a model, and many single-byte mutations of it: an adj::Error or a graph,
    /// never a crash, another exception, or a huge allocation.
    void truncatedAndMutatedFilesNeverCrash() {
        const std::string good = readBytes(fixture("cnn").file);
        int errors = 0, loaded = 0;
        auto attempt = [&](const std::string& bytes) {
            try {
                Graph g = parseGraphOnnx(bytes, "fuzz.onnx");
                verifyGraph(g);
                ++loaded;
            } catch (const Error& e) {
                ++errors;
                QVERIFY2(std::string(e.what()).rfind("fuzz.onnx: ", 0) == 0, e.what());
            }
        };
        for (std::size_t n = 0; n < good.size(); n += 7) attempt(good.substr(0, n));
        std::mt19937 rng(11);
        for (int i = 0; i < 3000; ++i) {
            std::string bytes = good;
            const int flips = 1 + int(rng() % 4);
            for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] = char(rng());
            attempt(bytes);
        }
        qInfo("%d rejected, %d loaded", errors, loaded);
        QVERIFY(errors > 0);
    }

    // Large initializers are read from the file's bytes, not copied by protobuf first
    // (io/onnx_weight_spans.h): the values are the same, truncated and mutated files are still
    // errors, a tensor whose raw_data comes twice keeps protobuf's meaning (the last one).
    void largeWeightsAreReadFromTheFileBytes() {
        Graph g;
        const NodeId x = g.addInput("x", {2, 300});
        std::vector<float> values(300 * 200);
        for (std::size_t i = 0; i < values.size(); ++i) values[i] = float(i % 977) * 0.25f - 3;
        const NodeId w = g.addParameter("w", Tensor::fromVector({300, 200}, values));
        const NodeId small = g.addParameter("b", Tensor::fromVector({200}, std::vector<float>(values.begin(), values.begin() + 200)));
        const NodeId mm = g.addNode(Op::MatMul, {{x, 0}, {w, 0}}, {}, "mm");
        g.addOutput("y", {g.addNode(Op::Add, {{mm, 0}, {small, 0}}, {}, "add"), 0});
        verifyGraph(g);
        const std::string bytes = graphToOnnx(g);
        std::string cut;
        std::vector<std::pair<int, std::string_view>> spans;
        QVERIFY(onnx_io::cutInitializerData(bytes, cut, spans));
        QCOMPARE(spans.size(), std::size_t(1));  // w (240 KB); b stays in place (800 bytes)
        QCOMPARE(spans.front().second.size(), values.size() * 4);
        QVERIFY(cut.size() + values.size() * 4 < bytes.size() + 16);
        Graph back = parseGraphOnnx(bytes, "big.onnx");
        QCOMPARE(back.node(*back.findNode("w")).value.toVector(), values);
        QCOMPARE(back.node(*back.findNode("b")).value.numel(), std::int64_t(200));
        // cut short inside the weights, or a length gone wrong: an error, as before
        for (std::size_t n : {bytes.size() - 1, bytes.size() - 1000, bytes.size() / 2})
            QVERIFY_THROWS_EXCEPTION(FormatError, parseGraphOnnx(bytes.substr(0, n), "short.onnx"));
        // raw_data twice in one tensor: protobuf keeps the last; so do we (the tensor is not cut)
        auto varint = [](std::uint64_t v) {
            std::string out;
            for (; v >= 0x80; v >>= 7) out.push_back(char(std::uint8_t(v) | 0x80));
            out.push_back(char(v));
            return out;
        };
        const std::string tensor = std::string("\x08\x01\x10\x01\x42\x01t", 7) + "\x4a" + varint(100000) + std::string(100000, 'a') +
                                   "\x4a\x04" + "abcd";
        const std::string graph = "\x2a" + varint(tensor.size()) + tensor;
        const std::string model = std::string("\x08\x08", 2) + "\x3a" + varint(graph.size()) + graph;
        QVERIFY(onnx_io::cutInitializerData(model, cut, spans));
        QVERIFY(spans.empty());
        QCOMPARE(cut, model);
        // mutated and cut-short copies of a model with a cut weight: an error or a graph, never
        // a crash (ASan in CI); most flips land in the structure before and after the weight
        std::mt19937 rng(7);
        int rejected = 0;
        for (int i = 0; i < 1500; ++i) {
            std::string bad = bytes;
            const int flips = 1 + int(rng() % 3);
            for (int k = 0; k < flips; ++k) {
                const std::size_t at = rng() % 2 ? rng() % std::min<std::size_t>(bad.size(), 400) : bad.size() - 1 - rng() % std::min<std::size_t>(bad.size(), 1200);
                bad[at] = char(rng());
            }
            if (i % 5 == 0) bad.resize(rng() % bad.size());
            try {
                Graph m = parseGraphOnnx(bad, "mutated.onnx");
                verifyGraph(m);
            } catch (const Error&) {
                ++rejected;
            }
        }
        QVERIFY(rejected > 0);
        // a length past the end: not cut (protobuf then says what is wrong)
        QVERIFY(!onnx_io::cutInitializerData(std::string("\x3a\xff\xff\xff\xff\x0f", 6), cut, spans));
    }

    void unsupportedOpListsEveryType() {
        ONNX_TRY
        // Also through the ai.adjoint domain and a foreign domain.
        const std::string text = readBytes(test::sourcePath("tests/fixtures/onnx/malformed/unknown_ops.onnx"));
        try {
            parseGraphOnnx(text, "u.onnx");
            QFAIL("loaded");
        } catch (const FormatError& e) {
            const QString msg = e.what();
            QVERIFY2(msg.contains("BarOp") && msg.contains("FooOp") && msg.contains("'foo_2'"), e.what());
        }
        ONNX_CATCH
    }

    // A Reshape whose shape is an INT64 graph input: refused without its value, naming the input;
    // given the value (adjoint-cli's small --input files), the graph is specialized to it; a value
    // of another shape than the input's declared one is an error naming both.
    void knownInputsSpecializeShapeOperands() {
        ONNX_TRY
        const std::string path = test::sourcePath("tests/fixtures/onnx/malformed/int64_input_as_shape.onnx");
        try {
            loadGraphOnnx(path);
            QFAIL("loaded without the shape's value");
        } catch (const FormatError& e) {
            QVERIFY2(QString(e.what()).contains("known only when the graph runs") && QString(e.what()).contains("'shape'"), e.what());
        }
        Graph g = loadGraphOnnx(path, {{"shape", Tensor::fromInts({2}, {3, 2})}});
        QCOMPARE(g.outputs().size(), std::size_t(1));
        QCOMPARE(g.type(g.outputs()[0].value).shape, (Shape{3, 2}));
        Graph flat = loadGraphFile(path, {{"shape", Tensor::fromInts({2}, {1, -1})}});
        QCOMPARE(flat.type(flat.outputs()[0].value).shape, (Shape{1, 6}));
        try {
            loadGraphOnnx(path, {{"shape", Tensor::fromInts({3}, {1, 2, 3})}});
            QFAIL("loaded with a value of the wrong shape");
        } catch (const FormatError& e) {
            QVERIFY2(QString(e.what()).contains("declared [2]") && QString(e.what()).contains("[3]"), e.what());
        }
        ONNX_CATCH
    }

    // An unrolled LSTM, GRU or RNN is one collapsed group on the canvas, named after its ONNX node,
    // holding its cells; so is a ConstantOfShape over the dynamic batch. Both sit in the group of
    // the module the node names give ("/lstm/LSTM": lstm), open, with the layer's weights.
    void recurrentLayersAreOneGroupEach() {
        ONNX_TRY
        Graph g = loadGraphFile(fixture("text_rnn").file);
        std::map<std::string, int> members;
        for (NodeId id : g.nodeIds()) {
            const std::string group = nodeGroup(g.node(id));
            if (group.empty()) continue;
            ++members[group];
            const std::vector<bool> levels = nodeCollapsedLevels(g.node(id));
            QCOMPARE(levels.size(), std::size_t(group.find('/') == std::string::npos ? 1 : 2));
            QVERIFY2(!levels.front(), group.c_str());                   // the module's frame is open
            QCOMPARE(levels.size() == 2 && levels.back(), levels.size() == 2);  // the layer itself collapsed
        }
        for (const char* layer : {"lstm/LSTM", "gru/GRU", "rnn/RNN"}) QVERIFY2(members[layer] > 20, layer);
        QVERIFY(members.count("lstm/ConstantOfShape_output_0"));
        for (const char* module : {"lstm", "gru", "rnn"}) QVERIFY2(members[module] > 0, module);  // the weights
        ONNX_CATCH
    }

    // Every imported ONNX op is documented: in docs/ONNX.md, or, for the elementwise ops read
    // through their table entry, by the table itself (`adjoint-cli ops` prints each op's ONNX name).
    void importedOpsAreDocumented() {
        ONNX_TRY
        const std::string doc = readBytes(test::sourcePath("docs/ONNX.md"));
        std::set<std::string> fromTable;
        for (const auto& info : allOps())
            if (info.family == OpFamily::Elementwise && !info.onnx.empty()) fromTable.insert(std::string(info.onnx));
        for (const auto& op : onnxImportedOps())
            QVERIFY2(fromTable.count(op) || doc.find("`" + op + "`") != std::string::npos, op.c_str());
        ONNX_CATCH
    }
};

QTEST_APPLESS_MAIN(TestOnnx)
#include "tst_onnx.moc"
