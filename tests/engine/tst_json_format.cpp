// The JSON graph format: exact round trips with every data encoding (inline values, base64, the
// sidecar), creation order, multi-output value names, meta and symbolic dims; hand-written files
// (forward references, init, cycles); and malformed files, each of which must throw FormatError
// whose message starts with the file name and names the problem.
#include <QDir>
#include <QFile>
#include <QtTest>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/errors.h"
#include "io/json_format.h"
#include "test_support.h"

using namespace adj;

namespace {

Tensor ramp(const Shape& shape, float scale, float offset = 0.f) {
    Tensor t = Tensor::empty(shape);
    for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = std::sin(float(i) * scale) * 3.f + offset;
    return t;
}

/// A graph touching every feature: dims, meta, all encodings, a constant, split ports, attributes
/// of each kind, outputs on ports.
Graph sampleGraph() {
    Graph g;
    g.name = "sample";
    g.description = "every feature of the format\nin one graph";
    NodeId x = g.addInput("x", {4, 2}, {"N", ""});
    g.node(x).meta["x"] = "10";
    Tensor w1 = ramp({2, 8}, 0.7f);
    w1.data()[0] = -0.0f;
    w1.data()[1] = 1e-40f;  // denormal
    w1.data()[2] = 0.1f;
    w1.data()[3] = std::numeric_limits<float>::max();
    w1.data()[4] = std::numeric_limits<float>::min();
    NodeId p1 = g.addParameter("w1", w1);
    Tensor b1 = ramp({8}, 0.3f);
    b1.data()[2] = std::numeric_limits<float>::quiet_NaN();
    b1.data()[5] = -std::numeric_limits<float>::infinity();
    NodeId pb = g.addParameter("b1", b1);  // small but not finite: base64
    g.node(pb).meta["note"] = "has a NaN";
    NodeId p2 = g.addParameter("w2", ramp({8, 300}, 0.01f));    // 9,600 bytes: base64
    g.addParameter("big", ramp({300000}, 0.001f, 1.f));       // 1.2 MB: sidecar
    g.addParameter("big2", ramp({70000, 4}, 0.002f).transpose(0, 1).contiguous().transpose(0, 1));  // sidecar, 2nd
    NodeId h = g.addNode(Op::MatMul, {{x, 0}, {p1, 0}}, {}, "h");
    g.node(h).meta = {{"x", "10"}, {"y", "-20.5"}, {"label", "hidden \"layer\" \u00e9"}};
    NodeId hb = g.addNode(Op::Add, {{h, 0}, {pb, 0}}, {}, "hb");
    NodeId two = g.addConstant(Tensor::scalar(2.5f), "two");
    NodeId h2 = g.addNode(Op::Mul, {{hb, 0}, {two, 0}}, {}, "h2");
    NodeId s = g.addNode(Op::Split, {{h2, 0}}, {{"axis", std::int64_t(1)}, {"sizes", std::vector<std::int64_t>{3, 5}}}, "s");
    NodeId r = g.addNode(Op::Relu, {{s, 1}}, {}, "r");
    NodeId sm = g.addNode(Op::Sum, {{s, 0}}, {{"axes", std::vector<std::int64_t>{1}}, {"keepdims", std::int64_t(1)}}, "sm");
    NodeId o2 = g.addNode(Op::MatMul, {{r, 0}, {p2, 0}}, {}, "o2");
    NodeId gm = g.addNode(Op::Gemm, {{x, 0}, {p1, 0}},
                          {{"alpha", 0.5}, {"beta", std::int64_t(1)}, {"transB", std::int64_t(0)}}, "gm");
    NodeId ln = g.addNode(Op::LayerNorm, {{gm, 0}}, {{"epsilon", 1e-5}, {"axis", std::int64_t(-1)}}, "ln");
    NodeId cv = g.addConstant(ramp({2, 3}, 1.f), "cv");
    g.node(cv).meta["origin"] = "folded";
    g.addOutput("y", {o2, 0});
    g.addOutput("z", {sm, 0});
    g.addOutput("first", {s, 0});
    g.addOutput("second", {s, 1});
    g.addOutput("ln", {ln, 0});
    return g;
}

bool bitEqual(const Tensor& a, const Tensor& b) {
    if (a.defined() != b.defined()) return false;
    if (!a.defined()) return true;
    if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
    std::vector<float> va = a.toVector(), vb = b.toVector();
    return va.empty() || std::memcmp(va.data(), vb.data(), va.size() * sizeof(float)) == 0;
}

/// Same nodes (creation order, names, ops, inputs, attributes, meta, declared shapes, dims,
/// bit-identical values) and outputs. Ids may differ.
void compareGraphs(const Graph& a, const Graph& b) {
    QCOMPARE(b.name, a.name);
    QCOMPARE(b.description, a.description);
    const std::vector<NodeId> ia = a.nodeIds(), ib = b.nodeIds();
    QCOMPARE(ib.size(), ia.size());
    for (std::size_t i = 0; i < ia.size(); ++i) {
        const Node& na = a.node(ia[i]);
        const Node& nb = b.node(ib[i]);
        QCOMPARE(nb.name, na.name);
        QCOMPARE(nb.op, na.op);
        QCOMPARE(nb.inputs.size(), na.inputs.size());
        for (std::size_t k = 0; k < na.inputs.size(); ++k) {
            QCOMPARE(b.contains(nb.inputs[k].node), a.contains(na.inputs[k].node));
            if (a.contains(na.inputs[k].node)) QCOMPARE(b.valueName(nb.inputs[k]), a.valueName(na.inputs[k]));
        }
        QVERIFY2(nb.attrs == na.attrs, na.name.c_str());
        QVERIFY2(nb.meta == na.meta, na.name.c_str());
        QCOMPARE(nb.declaredShape, na.declaredShape);
        QCOMPARE(nb.dimNames, na.dimNames);
        QVERIFY2(bitEqual(nb.value, na.value), na.name.c_str());
    }
    QCOMPARE(b.outputs().size(), a.outputs().size());
    for (std::size_t i = 0; i < a.outputs().size(); ++i) {
        QCOMPARE(b.outputs()[i].name, a.outputs()[i].name);
        QCOMPARE(b.valueName(b.outputs()[i].value), a.valueName(a.outputs()[i].value));
    }
}

std::string readText(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll().toStdString();
}

void writeText(const std::string& path, const std::string& text) {
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text.data(), qint64(text.size()));
}

/// A document with the header and the given sections (text after `"version": 1,`).
std::string doc(const std::string& body) { return R"({"format": "adjoint-graph", "version": 1, )" + body + "}"; }

const nlohmann::json* findEntry(const nlohmann::json& root, const char* section, const std::string& name) {
    for (const auto& e : root[section])
        if (e["name"] == name) return &e;
    return nullptr;
}

}  // namespace

class TestJsonFormat : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void roundTrip_data();
    void roundTrip();
    void defaultEncodingsBySize();
    void graphToJsonHasNoSidecar();
    void saveIsAtomic();
    void creationOrderIsPreserved();
    void canonicalOrderWritesNoOrderKey();
    void handWritten();
    void forwardReferencesAndCycles();
    void danglingInputsRoundTrip();
    void attributeTypes_data();
    void attributeTypes();
    void initIsDeterministic();
    void initStatistics();
    void sidecarRelativeToBaseDir();
    void missingFile();
    void formatDocExampleLoads();
    void malformed_data();
    void malformed();
};

void TestJsonFormat::roundTrip_data() {
    QTest::addColumn<qint64>("inlineMax");
    QTest::addColumn<qint64>("base64Max");
    QTest::addColumn<bool>("pretty");
    QTest::addColumn<bool>("sidecar");
    QTest::newRow("default thresholds") << qint64(256) << qint64(1 << 20) << true << true;
    QTest::newRow("everything inline where finite") << qint64(1) << qint64(1) << true << true;
    QTest::newRow("everything base64") << qint64(0) << qint64(1) << false << true;
    QTest::newRow("everything in the sidecar") << qint64(0) << qint64(0) << true << true;
    QTest::newRow("no sidecar: large tensors in base64, one line") << qint64(256) << qint64(100000000) << false << false;
}

void TestJsonFormat::roundTrip() {
    QFETCH(qint64, inlineMax);
    QFETCH(qint64, base64Max);
    QFETCH(bool, pretty);
    QFETCH(bool, sidecar);
    JsonWriteOptions opt;
    opt.inlineMaxElements = inlineMax == 1 ? 100000000 : inlineMax;
    opt.base64MaxBytes = base64Max;
    opt.pretty = pretty;
    const Graph g = sampleGraph();
    const std::string dir = test::tempDir();
    const std::string path = dir + "/model.json";
    saveGraphJson(g, path, opt);
    QCOMPARE(QFile::exists(QString::fromStdString(dir + "/model.bin")), sidecar);
    const Graph back = loadGraphJson(path);
    compareGraphs(g, back);
    if (QTest::currentTestFailed()) return;
    // saving the loaded graph gives the same text: the format is a fixed point
    QCOMPARE(graphToJson(back, opt), graphToJson(g, opt));
    // and the text is valid JSON carrying the header
    const auto root = nlohmann::json::parse(readText(path));
    QCOMPARE(root["format"], "adjoint-graph");
    QCOMPARE(root["version"], 1);
}

void TestJsonFormat::defaultEncodingsBySize() {
    const std::string dir = test::tempDir();
    saveGraphJson(sampleGraph(), dir + "/m.json");
    const auto root = nlohmann::json::parse(readText(dir + "/m.json"));
    QVERIFY(findEntry(root, "parameters", "w1")->contains("values"));
    QVERIFY(findEntry(root, "parameters", "b1")->contains("base64"));  // NaN and -inf
    QVERIFY(findEntry(root, "parameters", "w2")->contains("base64"));
    QVERIFY(findEntry(root, "nodes", "two")->contains("values"));
    QCOMPARE((*findEntry(root, "nodes", "two"))["shape"], nlohmann::json::array());
    const auto& big = (*findEntry(root, "parameters", "big"))["file"];
    const auto& big2 = (*findEntry(root, "parameters", "big2"))["file"];
    QCOMPARE(big["path"], "m.bin");
    QCOMPARE(big["offset"], 0);
    QCOMPARE(big["bytes"], 1200000);
    QCOMPARE(big2["offset"].get<std::int64_t>() % 64, 0);
    QVERIFY(big2["offset"].get<std::int64_t>() >= 1200000);
    QCOMPARE(QFileInfo(QString::fromStdString(dir + "/m.bin")).size(), qint64(big2["offset"].get<std::int64_t>() + 280000 * 4));
    // %.9g keeps float32 exact with short text: 0.1f is written as 0.100000001
    QVERIFY(readText(dir + "/m.json").find("0.100000001") != std::string::npos);
    // dims with null for fixed dimensions; meta kept
    QCOMPARE((*findEntry(root, "inputs", "x"))["dims"], nlohmann::json::parse(R"(["N", null])"));
    QCOMPARE((*findEntry(root, "nodes", "h"))["meta"]["y"], "-20.5");
    QCOMPARE(root["outputs"][2]["value"], "s:0");
    QCOMPARE(root["outputs"][3]["value"], "s:1");
    QCOMPARE((*findEntry(root, "nodes", "r"))["inputs"], nlohmann::json::parse(R"(["s:1"])"));
}

void TestJsonFormat::graphToJsonHasNoSidecar() {
    const Graph g = sampleGraph();
    const std::string text = graphToJson(g);
    QVERIFY(text.find("\"file\"") == std::string::npos);
    compareGraphs(g, parseGraphJson(text, "mem.json"));
}

void TestJsonFormat::saveIsAtomic() {
    const std::string dir = test::tempDir();
    const Graph g = sampleGraph();
    saveGraphJson(g, dir + "/a.json");
    saveGraphJson(g, dir + "/a.json");
    QStringList files = QDir(QString::fromStdString(dir)).entryList(QDir::Files);
    files.sort();
    QCOMPARE(files, (QStringList{"a.bin", "a.json"}));
    // a failing save leaves nothing behind and the old file intact
    Graph bad = g;
    bad.addParameter("undef", Tensor());
    QVERIFY_THROWS_EXCEPTION(FormatError, saveGraphJson(bad, dir + "/a.json"));
    files = QDir(QString::fromStdString(dir)).entryList(QDir::Files);
    files.sort();
    QCOMPARE(files, (QStringList{"a.bin", "a.json"}));
    compareGraphs(g, loadGraphJson(dir + "/a.json"));
    QVERIFY_THROWS_EXCEPTION(FormatError, saveGraphJson(g, dir + "/no/such/dir/a.json"));
}

void TestJsonFormat::creationOrderIsPreserved() {
    // built the way code builds models: parameters and inputs interleaved with ops
    Graph g;
    NodeId x = g.addInput("x", {3, 2});
    NodeId w = g.addParameter("w", ramp({2, 4}, 0.5f));
    NodeId h = g.addNode(Op::MatMul, {{x, 0}, {w, 0}}, {}, "h");
    NodeId b = g.addParameter("b", ramp({4}, 0.5f));
    NodeId y = g.addNode(Op::Add, {{h, 0}, {b, 0}}, {}, "y");
    NodeId labels = g.addInput("labels", {3, 4});
    NodeId d = g.addNode(Op::Sub, {{y, 0}, {labels, 0}}, {}, "d");
    g.addOutput("d", {d, 0});
    const std::string text = graphToJson(g);
    QVERIFY(nlohmann::json::parse(text).contains("order"));
    const Graph back = parseGraphJson(text, "order.json");
    compareGraphs(g, back);
    QCOMPARE(back.topoOrder().size(), g.topoOrder().size());
    for (std::size_t i = 0; i < g.topoOrder().size(); ++i) QCOMPARE(back.node(back.topoOrder()[i]).name, g.node(g.topoOrder()[i]).name);
}

void TestJsonFormat::canonicalOrderWritesNoOrderKey() {
    Graph g;
    NodeId x = g.addInput("x", {2});
    NodeId n = g.addNode(Op::Neg, {{x, 0}}, {}, "n");
    g.addOutput("n", {n, 0});
    QVERIFY(!nlohmann::json::parse(graphToJson(g)).contains("order"));
}

void TestJsonFormat::handWritten() {
    const std::string text = R"({
      "format": "adjoint-graph", "version": 1, "name": "tiny",
      "inputs": [{"name": "x", "shape": [4, 2], "dims": ["N", null]}],
      "parameters": [
        {"name": "w1", "shape": [2, 3], "values": [1, 2, 3, 4, 5, 6.5]},
        {"name": "w2", "shape": [3, 3], "init": {"kind": "normal", "std": 0.1, "seed": 1}},
        {"name": "b2", "shape": [3], "init": {"kind": "zeros"}},
        {"name": "enc", "shape": [2], "base64": "AACAPwAAAEA="}
      ],
      "nodes": [
        {"name": "out", "op": "add", "inputs": ["h2", "b2"]},
        {"name": "h2", "op": "matmul", "inputs": ["h", "w2"]},
        {"name": "h", "op": "matmul", "inputs": ["x", "w1"], "meta": {"x": "10"}},
        {"name": "half", "op": "constant", "shape": [], "values": [0.5]},
        {"name": "parts", "op": "split", "inputs": ["out"], "attrs": {"axis": 1, "sizes": [1, 2]}}
      ],
      "outputs": [{"name": "y", "value": "out"}, {"name": "p1", "value": "parts:1"}]
    })";
    const Graph g = parseGraphJson(text, "tiny.json");
    QCOMPARE(g.name, std::string("tiny"));
    QCOMPARE(g.nodeCount(), std::size_t(10));
    const Node& x = g.node(*g.findNode("x"));
    QCOMPARE(x.declaredShape, (Shape{4, 2}));
    QCOMPARE(x.dimNames, (std::vector<std::string>{"N", ""}));
    QCOMPARE(g.node(*g.findNode("w1")).value.toVector(), (std::vector<float>{1, 2, 3, 4, 5, 6.5f}));
    QCOMPARE(g.node(*g.findNode("b2")).value.toVector(), std::vector<float>(3, 0.f));
    QCOMPARE(g.node(*g.findNode("enc")).value.toVector(), (std::vector<float>{1.f, 2.f}));
    QCOMPARE(g.node(*g.findNode("half")).value.shape(), Shape{});
    const Node& out = g.node(*g.findNode("out"));
    QCOMPARE(g.valueName(out.inputs[0]), std::string("h2"));
    QCOMPARE(g.outputs()[1].value.port, 1);
    QCOMPARE(g.node(*g.findNode("h")).meta.at("x"), std::string("10"));
    // node ids follow the file: sections in order, nodes as listed
    std::vector<std::string> names;
    for (NodeId id : g.nodeIds()) names.push_back(g.node(id).name);
    QCOMPARE(names, (std::vector<std::string>{"x", "w1", "w2", "b2", "enc", "out", "h2", "h", "half", "parts"}));
    // the init values are saved as data, so the saved file no longer needs the generator
    const std::string saved = graphToJson(g);
    QVERIFY(saved.find("\"init\"") == std::string::npos);
    compareGraphs(g, parseGraphJson(saved, "again.json"));
}

void TestJsonFormat::forwardReferencesAndCycles() {
    const std::string text = doc(R"("inputs": [{"name": "x", "shape": [2]}],
        "nodes": [{"name": "a", "op": "add", "inputs": ["x", "b"]},
                  {"name": "b", "op": "neg", "inputs": ["a"]}],
        "outputs": [{"name": "y", "value": "b"}])");
    const Graph g = parseGraphJson(text, "cycle.json");  // loads; the verifier reports the cycle
    QCOMPARE(g.nodeCount(), std::size_t(3));
    QVERIFY_THROWS_EXCEPTION(GraphError, g.topoOrder());
    compareGraphs(g, parseGraphJson(graphToJson(g), "cycle2.json"));
}

void TestJsonFormat::danglingInputsRoundTrip() {
    Graph g;
    NodeId x = g.addInput("x", {2});
    NodeId n = g.addNode(Op::Neg, {{x, 0}}, {}, "n");
    NodeId m = g.addNode(Op::Exp, {{n, 0}}, {}, "m");
    g.addOutput("m", {m, 0});
    g.addOutput("n", {n, 0});
    g.removeNodeForce(n);  // an editor's half-finished graph
    const std::string text = graphToJson(g);
    const Graph back = parseGraphJson(text, "dangling.json");
    QCOMPARE(back.node(*back.findNode("m")).inputs.size(), std::size_t(1));
    QCOMPARE(back.node(*back.findNode("m")).inputs[0].node, kNoNode);
    QCOMPARE(back.outputs()[1].value.node, kNoNode);
    QCOMPARE(graphToJson(back), text);
}

void TestJsonFormat::attributeTypes_data() {
    QTest::addColumn<QString>("node");
    QTest::addColumn<QString>("attr");
    QTest::addColumn<int>("type");
    QTest::newRow("int") << R"({"name": "n", "op": "softmax", "inputs": ["x"], "attrs": {"axis": 0}})" << "axis" << int(AttrType::Int);
    QTest::newRow("float given as float") << R"({"name": "n", "op": "layernorm", "inputs": ["x"], "attrs": {"epsilon": 0.001}})"
                                          << "epsilon" << int(AttrType::Float);
    QTest::newRow("float given as int stays int") << R"({"name": "n", "op": "gemm", "inputs": ["x", "x"], "attrs": {"alpha": 2}})"
                                                  << "alpha" << int(AttrType::Int);
    QTest::newRow("ints") << R"({"name": "n", "op": "sum", "inputs": ["x"], "attrs": {"axes": [0, -1]}})" << "axes" << int(AttrType::Ints);
    QTest::newRow("empty ints") << R"({"name": "n", "op": "sum", "inputs": ["x"], "attrs": {"axes": []}})" << "axes" << int(AttrType::Ints);
    QTest::newRow("ints for conv2d") << R"({"name": "n", "op": "conv2d", "inputs": ["x", "x"], "attrs": {"strides": [2, 2], "group": 1}})"
                                     << "strides" << int(AttrType::Ints);
}

void TestJsonFormat::attributeTypes() {
    QFETCH(QString, node);
    QFETCH(QString, attr);
    QFETCH(int, type);
    const std::string text = doc(R"("inputs": [{"name": "x", "shape": [2, 2]}], "nodes": [)" + node.toStdString() + "]");
    const Graph g = parseGraphJson(text, "attrs.json");
    const Node& n = g.node(*g.findNode("n"));
    QVERIFY(n.attrs.has(attr.toStdString()));
    QCOMPARE(int(attrValueType(n.attrs.map().at(attr.toStdString()))), type);
    compareGraphs(g, parseGraphJson(graphToJson(g), "attrs2.json"));
}

void TestJsonFormat::initIsDeterministic() {
    // values pinned from an independent implementation (Python) of the algorithm in FORMAT.md
    Tensor u = initTensor({4}, InitKind::Uniform, -1.0, 2.0, 42);
    QCOMPARE(u.toVector(), (std::vector<float>{1.2246946096420288f, -0.5202687978744507f, -0.16419661045074463f, 0.032572150230407715f}));
    Tensor n = initTensor({5}, InitKind::Normal, 0.5, 2.0, 7);
    const std::uint32_t bits[] = {1075742292u, 1060476302u, 3226378223u, 3218206296u, 1057096148u};
    for (int i = 0; i < 5; ++i) {
        std::uint32_t b;
        std::memcpy(&b, n.data() + i, 4);
        QCOMPARE(b, bits[i]);
    }
    // the same through a file
    const Graph g = parseGraphJson(
        doc(R"("parameters": [{"name": "w", "shape": [5], "init": {"kind": "normal", "mean": 0.5, "std": 2, "seed": 7}}])"), "init.json");
    QVERIFY(bitEqual(g.node(*g.findNode("w")).value, n));
    QCOMPARE(initTensor({3}, InitKind::Ones, 0, 0, 0).toVector(), std::vector<float>(3, 1.f));
}

void TestJsonFormat::initStatistics() {
    Tensor n = initTensor({100, 201}, InitKind::Normal, 1.0, 3.0, 123);
    double sum = 0, sq = 0;
    for (float v : n.toVector()) {
        sum += v;
        sq += double(v) * v;
    }
    const double mean = sum / 20100, var = sq / 20100 - mean * mean;
    QVERIFY2(std::fabs(mean - 1.0) < 0.1, qPrintable(QString::number(mean)));
    QVERIFY2(std::fabs(std::sqrt(var) - 3.0) < 0.1, qPrintable(QString::number(std::sqrt(var))));
    Tensor u = initTensor({10000}, InitKind::Uniform, -0.5, 0.5, 9);
    for (float v : u.toVector()) QVERIFY(v >= -0.5f && v < 0.5f);
    QVERIFY(!bitEqual(initTensor({8}, InitKind::Normal, 0, 1, 1), initTensor({8}, InitKind::Normal, 0, 1, 2)));
}

void TestJsonFormat::sidecarRelativeToBaseDir() {
    const std::string dir = test::tempDir();
    QVERIFY(QDir().mkpath(QString::fromStdString(dir + "/data")));
    const std::vector<float> v{1.5f, -2.f, 3.25f};
    std::string bytes(64, '\0');  // the tensor at offset 64
    bytes.append(reinterpret_cast<const char*>(v.data()), 12);
    writeText(dir + "/data/w.bin", bytes);
    const std::string text = doc(R"("parameters": [{"name": "w", "shape": [3], "file": {"path": "data/w.bin", "offset": 64, "bytes": 12}}])");
    QCOMPARE(parseGraphJson(text, "mem.json", dir).node(0).value.toVector(), v);
    writeText(dir + "/g.json", text);
    QCOMPARE(loadGraphJson(dir + "/g.json").node(0).value.toVector(), v);
}

void TestJsonFormat::missingFile() {
    const std::string path = test::tempDir() + "/nope.json";
    try {
        loadGraphJson(path);
        QFAIL("no FormatError thrown");
    } catch (const FormatError& e) {
        QVERIFY2(QString::fromStdString(e.what()).startsWith(QString::fromStdString(path) + ": cannot open"), e.what());
    }
}

void TestJsonFormat::formatDocExampleLoads() {
    // the example at the top of docs/FORMAT.md is a valid graph
    const std::string md = readText(test::sourcePath("docs/FORMAT.md"));
    const auto start = md.find("```json\n{\n  \"format\"");
    QVERIFY(start != std::string::npos);
    const auto body = start + 8;
    const auto end = md.find("```", body);
    const Graph g = parseGraphJson(md.substr(body, end - body), "FORMAT.md");
    QCOMPARE(g.name, std::string("tiny"));
    QVERIFY(!g.description.empty());
    QCOMPARE(g.outputs().size(), std::size_t(2));
    QCOMPARE(g.valueName(g.outputs()[1].value), std::string("parts:0"));
    QCOMPARE(g.node(*g.findNode("w2")).value.numel(), std::int64_t(9));
}

void TestJsonFormat::malformed_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("fragment");
    const QString x = R"("inputs": [{"name": "x", "shape": [2, 3]}], )";
    auto d = [](const QString& body) { return QString::fromStdString(doc(body.toStdString())); };

    QTest::newRow("empty file") << "" << "the file is empty";
    QTest::newRow("not JSON") << "graph mlp { x -> y }" << "not valid JSON: line 1, column 1";
    QTest::newRow("syntax error, with line and column") << "{\"format\": \"adjoint-graph\",\n \"version\" 1}"
                                                        << "not valid JSON: line 2, column 12";
    QTest::newRow("truncated") << R"({"format": "adjoint-graph", "version": 1, "nodes": [{"name": "h", )" << "the JSON ends early (truncated?)";
    QTest::newRow("absurd nesting") << QString(100000, '[') << "nesting deeper than 64 levels";
    QTest::newRow("nesting in meta") << d(R"("nodes": [{"name": "n", "op": "neg", "meta": )" + QString(70, '{'))
                                     << "line 1, column";
    QTest::newRow("top level is an array") << "[1, 2]" << "the top level must be a JSON object, not array";
    QTest::newRow("no format") << R"({"version": 1, "nodes": []})" << "no \"format\": \"adjoint-graph\"";
    QTest::newRow("wrong format") << R"({"format": "onnx", "version": 1})" << "\"format\" is \"onnx\", expected \"adjoint-graph\"";
    QTest::newRow("unsupported version") << R"({"format": "adjoint-graph", "version": 2})" << "unsupported version 2";
    QTest::newRow("version is a string") << R"({"format": "adjoint-graph", "version": "1"})" << "\"version\" must be an integer";
    QTest::newRow("unknown top-level key") << d(R"("node": [])") << "unknown key 'node' in the top level";
    QTest::newRow("description not a string") << d(R"("description": ["a"])") << "\"description\" must be a string";
    QTest::newRow("nodes not an array") << d(R"("nodes": {"h": 1})") << "\"nodes\" must be an array, not object";
    QTest::newRow("node not an object") << d(R"("nodes": [3])") << "nodes[0] must be an object";
    QTest::newRow("node without name") << d(R"("nodes": [{"op": "neg"}])") << "nodes[0] has no \"name\"";
    QTest::newRow("name not a string") << d(R"("nodes": [{"name": 7, "op": "neg"}])") << "nodes[0].name must be a non-empty string";
    QTest::newRow("inputs not strings") << d(x + R"("nodes": [{"name": "a", "op": "neg", "inputs": ["x"]}, {"name": "b", "op": "neg", "inputs": ["a"]},
        {"name": "c", "op": "neg", "inputs": []}, {"name": "h", "op": "add", "inputs": ["x", 3]}])")
                                        << "nodes[3].inputs must be an array of strings";
    QTest::newRow("unknown op") << d(x + R"("nodes": [{"name": "foo", "op": "convolve", "inputs": ["x"]}])") << "node 'foo': unknown op 'convolve'";
    QTest::newRow("input op in nodes") << d(R"("nodes": [{"name": "foo", "op": "input"}])") << "graph inputs belong in \"inputs\"";
    QTest::newRow("unknown input name") << d(x + R"("nodes": [{"name": "h", "op": "add", "inputs": ["x", "q"]}])")
                                        << "node 'h': input 'q' is not defined";
    QTest::newRow("port out of range") << d(x + R"("nodes": [{"name": "s", "op": "split", "inputs": ["x"], "attrs": {"sizes": [1, 1]}},
        {"name": "h", "op": "neg", "inputs": ["s:2"]}])")
                                       << "node 'h': input 's:2' is not defined";
    QTest::newRow("duplicate names") << d(x + R"("nodes": [{"name": "x", "op": "neg", "inputs": ["x"]}])")
                                     << "duplicate name 'x' (inputs[0] and nodes[0])";
    QTest::newRow("huge dimension") << d(R"("inputs": [{"name": "x", "shape": [1099511627776, 2]}])")
                                    << "inputs[0].shape [1099511627776,2] is absurd";
    QTest::newRow("negative dimension") << d(R"("inputs": [{"name": "x", "shape": [2, -3]}])") << "inputs[0].shape [2,-3] is absurd";
    QTest::newRow("dimension beyond int64") << d(R"("inputs": [{"name": "x", "shape": [18446744073709551615]}])") << "is absurd";
    QTest::newRow("too many dimensions") << d(R"("inputs": [{"name": "x", "shape": [1,1,1,1,1,1,1,1,1]}])") << "has 9 dimensions (at most 8)";
    QTest::newRow("fractional dimension") << d(R"("inputs": [{"name": "x", "shape": [2.5]}])") << "inputs[0].shape must be an array of integers";
    QTest::newRow("dims of the wrong length") << d(R"("inputs": [{"name": "x", "shape": [2, 3], "dims": ["N"]}])") << "inputs[0].dims must be";
    QTest::newRow("too few values") << d(R"("parameters": [{"name": "w", "shape": [2, 3], "values": [1, 2, 3, 4, 5]}])")
                                    << "parameter 'w': \"values\" holds 5 numbers but shape [2, 3] needs 6 values";
    QTest::newRow("too many values for a lying shape") << d(R"("parameters": [{"name": "w", "shape": [1000000, 1000], "values": [1, 2]}])")
                                                       << "holds 2 numbers but shape [1000000, 1000] needs 1000000000 values";
    QTest::newRow("value not a number") << d(R"("parameters": [{"name": "w", "shape": [2], "values": [1, "two"]}])")
                                        << "parameters[0].values[1] must be a number";
    QTest::newRow("number beyond double") << d(R"("parameters": [{"name": "w", "shape": [1], "values": [1e400]}])")
                                          << "not valid JSON: number overflow parsing '1e400'";
    QTest::newRow("value beyond float32") << d(R"("parameters": [{"name": "w", "shape": [1], "values": [1e39]}])") << "out of float32 range";
    QTest::newRow("no data") << d(R"("parameters": [{"name": "w", "shape": [2]}])") << "parameter 'w' has no data";
    QTest::newRow("two data encodings") << d(R"("parameters": [{"name": "w", "shape": [1], "values": [1], "base64": "AACAPw=="}])")
                                        << "give only one of \"values\" and \"base64\"";
    QTest::newRow("invalid base64 character") << d(R"("parameters": [{"name": "w", "shape": [2], "base64": "AACAP*AAAEA="}])")
                                              << "parameters[0].base64 is not valid base64 (character 5)";
    QTest::newRow("base64 length not a multiple of 4") << d(R"("parameters": [{"name": "w", "shape": [2], "base64": "AACAPwAAAEA"}])")
                                                       << "not a multiple of 4";
    QTest::newRow("base64 of the wrong size") << d(R"("parameters": [{"name": "w", "shape": [3], "base64": "AACAPwAAAEA="}])")
                                              << "\"base64\" holds 8 bytes but shape [3] needs 3 values (12 bytes)";
    QTest::newRow("sidecar missing") << d(R"("parameters": [{"name": "w", "shape": [4], "file": {"path": "missing.bin", "offset": 0, "bytes": 16}}])")
                                     << "parameter 'w': sidecar 'missing.bin' cannot be opened";
    QTest::newRow("sidecar too short") << d(R"("parameters": [{"name": "w", "shape": [4], "file": {"path": "short.bin", "offset": 0, "bytes": 16}}])")
                                       << "sidecar 'short.bin' is too short: needs bytes 0..16 but holds 10";
    QTest::newRow("sidecar offset beyond the end")
        << d(R"("parameters": [{"name": "w", "shape": [1], "file": {"path": "short.bin", "offset": 4611686018427387904, "bytes": 4}}])")
        << "is too short";
    QTest::newRow("sidecar bytes disagree with shape") << d(R"("parameters": [{"name": "w", "shape": [4], "file": {"path": "short.bin", "bytes": 8}}])")
                                                       << "\"file\" says 8 bytes but shape [4] needs 16";
    QTest::newRow("sidecar absolute path") << d(R"("parameters": [{"name": "w", "shape": [1], "file": {"path": "/etc/passwd"}}])")
                                           << "must be relative to the graph file";
    QTest::newRow("init without seed") << d(R"("parameters": [{"name": "w", "shape": [2], "init": {"kind": "normal"}}])")
                                       << "parameter 'w': a random \"init\" needs a \"seed\"";
    QTest::newRow("init of unknown kind") << d(R"("parameters": [{"name": "w", "shape": [2], "init": {"kind": "xavier", "seed": 1}}])")
                                          << "parameters[0].init.kind 'xavier' is unknown";
    QTest::newRow("init too large") << d(R"("parameters": [{"name": "w", "shape": [131072, 131072], "init": {"kind": "zeros"}}])")
                                    << "\"init\" asks for 17179869184 elements";
    QTest::newRow("unknown attribute") << d(x + R"("nodes": [{"name": "h", "op": "matmul", "inputs": ["x", "x"], "attrs": {"axes": [1]}}])")
                                       << "node 'h': unknown attribute 'axes' for op 'matmul' (it takes none)";
    QTest::newRow("attribute of the wrong type") << d(x + R"("nodes": [{"name": "s", "op": "sum", "inputs": ["x"], "attrs": {"keepdims": 0.5}}])")
                                                 << "node 's': attribute 'keepdims' must be of type int, not 0.5";
    QTest::newRow("attribute list of strings") << d(x + R"("nodes": [{"name": "s", "op": "sum", "inputs": ["x"], "attrs": {"axes": ["a"]}}])")
                                               << "attribute 'axes' must be a list of numbers";
    QTest::newRow("attribute boolean") << d(x + R"("nodes": [{"name": "s", "op": "sum", "inputs": ["x"], "attrs": {"keepdims": true}}])")
                                       << "attribute 'keepdims' has an unsupported value true";
    QTest::newRow("meta not strings") << d(x + R"("nodes": [{"name": "n", "op": "neg", "inputs": ["x"], "meta": {"x": 10}}])")
                                      << "nodes[0].meta.x must be a string";
    QTest::newRow("unknown key in a node") << d(x + R"("nodes": [{"name": "n", "op": "neg", "input": ["x"]}])")
                                           << "unknown key 'input' in nodes[0]";
    QTest::newRow("output value undefined") << d(x + R"("outputs": [{"name": "y", "value": "nope"}])") << "output 'y': value 'nope' is not defined";
    QTest::newRow("duplicate output") << d(x + R"("outputs": [{"name": "y", "value": "x"}, {"name": "y", "value": "x"}])")
                                      << "duplicate output name 'y'";
    QTest::newRow("order omits a node") << d(x + R"("nodes": [{"name": "n", "op": "neg", "inputs": ["x"]}], "order": ["n"])")
                                        << "\"order\" omits 'x'";
}

void TestJsonFormat::malformed() {
    QFETCH(QString, text);
    QFETCH(QString, fragment);
    const std::string dir = test::tempDir();
    writeText(dir + "/short.bin", std::string(10, '\x01'));
    const std::string path = dir + "/broken_graph.json";
    writeText(path, text.toStdString());
    try {
        loadGraphJson(path);
        QFAIL("no FormatError thrown");
    } catch (const FormatError& e) {
        const QString msg = QString::fromStdString(e.what());
        QVERIFY2(msg.startsWith(QString::fromStdString(path) + ": "), qPrintable(msg));
        QVERIFY2(msg.contains(fragment), qPrintable(msg));
    }
}

QTEST_APPLESS_MAIN(TestJsonFormat)
#include "tst_json_format.moc"
