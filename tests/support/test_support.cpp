#include "test_support.h"

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "io/graph_file.h"
#include "io/json_format.h"
#include "ir/builder.h"
#include "io/npy.h"
#include "ir/verifier.h"
#include "runtime/executor.h"

namespace adj::test {

std::string sourcePath(const std::string& relative) { return std::string(ADJOINT_SOURCE_DIR) + "/" + relative; }

Tensor normalTensor(const Shape& shape, unsigned seed, float scale) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.f, scale);
    std::vector<float> v(std::size_t(numel(shape)));
    for (auto& x : v) x = dist(rng);
    return Tensor::fromVector(shape, v);
}

bool sameBits(const Tensor& a, const Tensor& b) {
    const Tensor x = a.contiguous(), y = b.contiguous();
    if (x.shape() != y.shape() || x.dtype() != y.dtype()) return false;
    if (x.dtype() == DType::I64) return x.toInts() == y.toInts();
    return std::memcmp(x.data(), y.data(), std::size_t(x.numel()) * sizeof(float)) == 0;
}

std::string tempDir() {
    static std::vector<std::unique_ptr<QTemporaryDir>> dirs;
    dirs.push_back(std::make_unique<QTemporaryDir>());
    return dirs.back()->path().toStdString();
}

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;  // keeps the file's order of names

[[noreturn]] void fail(const std::string& where, const std::string& what) {
    throw std::runtime_error(where + ": " + what + " (tests/fixtures/make_fixtures.py writes these files)");
}

ojson readJsonFile(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail(path, "cannot open");
    try {
        return ojson::parse(f);
    } catch (const std::exception& e) {
        fail(path, std::string("not JSON: ") + e.what());
    }
}

std::string readText(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail(path, "cannot open");
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

int base64Digit(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

std::string decodeBase64(const std::string& text, const std::string& where) {
    if (text.size() % 4 != 0) fail(where, "base64 length is not a multiple of 4");
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += 4) {
        std::uint32_t w = 0;
        int pad = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const char c = text[i + k];
            const int d = c == '=' && i + 4 == text.size() && k >= 2 ? (++pad, 0) : base64Digit(c);
            if (d < 0 || (pad && c != '=')) fail(where, "invalid base64");
            w = (w << 6) | std::uint32_t(d);
        }
        out.push_back(char(w >> 16));
        if (pad < 2) out.push_back(char(w >> 8));
        if (pad < 1) out.push_back(char(w));
    }
    return out;
}

/// A tensor in the graph format's encoding: {"shape": [...], "values": [...]} or
/// {"shape": [...], "base64": "..."} (little-endian float32).
Tensor decodeTensor(const ojson& j, const std::string& where) {
    if (!j.is_object() || !j.contains("shape") || !j.at("shape").is_array() || j.size() != 2)
        fail(where, "a tensor must be {\"shape\", \"values\"} or {\"shape\", \"base64\"}");
    Shape shape;
    for (const auto& d : j.at("shape")) {
        if (!d.is_number_integer() || d.get<std::int64_t>() < 0) fail(where, "shape must hold non-negative integers");
        shape.push_back(d.get<std::int64_t>());
    }
    const std::size_t n = std::size_t(numel(shape));
    std::vector<float> v(n);
    if (j.contains("values")) {
        const ojson& values = j.at("values");
        if (!values.is_array() || values.size() != n) fail(where, "\"values\" must hold " + std::to_string(n) + " numbers");
        for (std::size_t i = 0; i < n; ++i) {
            if (!values[i].is_number()) fail(where, "\"values\" must hold numbers");
            v[i] = float(values[i].get<double>());  // %.9g text: the nearest float is the value written
        }
    } else if (j.contains("base64") && j.at("base64").is_string()) {
        const std::string bytes = decodeBase64(j.at("base64").get<std::string>(), where);
        if (bytes.size() != 4 * n) fail(where, "\"base64\" holds " + std::to_string(bytes.size()) + " bytes, not " + std::to_string(4 * n));
        for (std::size_t i = 0; i < n; ++i) {
            const auto* b = reinterpret_cast<const unsigned char*>(bytes.data() + 4 * i);
            const std::uint32_t bits = std::uint32_t(b[0]) | std::uint32_t(b[1]) << 8 | std::uint32_t(b[2]) << 16 | std::uint32_t(b[3]) << 24;
            std::memcpy(&v[i], &bits, 4);
        }
    } else {
        fail(where, "a tensor needs \"values\" or \"base64\"");
    }
    return Tensor::fromVector(shape, v);
}

NamedTensors decodeTensors(const ojson& j, const std::string& where) {
    if (!j.is_object()) fail(where, "must be an object {name: tensor}");
    NamedTensors r;
    for (const auto& [name, t] : j.items()) r.emplace_back(name, decodeTensor(t, where + "." + name));
    return r;
}

std::vector<std::string> strings(const ojson& j, const std::string& where) {
    if (!j.is_array()) fail(where, "must be an array of strings");
    std::vector<std::string> r;
    for (const auto& s : j) {
        if (!s.is_string()) fail(where, "must be an array of strings");
        r.push_back(s.get<std::string>());
    }
    return r;
}

/// {name: .npy path relative to the repository root} of a manifest, read.
NamedTensors readNpys(const ojson& j) {
    NamedTensors r;
    for (const auto& [name, file] : j.items()) r.emplace_back(name, readNpy(sourcePath(file.get<std::string>())));
    return r;
}

}  // namespace

Graph FixtureCase::graph() const {
    return parseGraphJson(graphJson, source, fs::path(source).parent_path().string());
}

std::map<std::string, Tensor> FixtureCase::bindings(bool strided) const {
    std::map<std::string, Tensor> b;
    for (const auto& [name, t] : inputs) b[name] = strided ? stridedCopy(t) : t.clone();
    return b;
}

const Tensor* findTensor(const NamedTensors& tensors, const std::string& name) {
    for (const auto& [n, t] : tensors)
        if (n == name) return &t;
    return nullptr;
}

FixtureCase readOpCase(const std::string& path) {
    const ojson j = readJsonFile(path);
    static const std::set<std::string> keys{"case", "ops", "graph", "inputs", "expected", "loss_weights", "gradients", "no_gradient"};
    if (!j.is_object()) fail(path, "must hold an object");
    for (const auto& [key, value] : j.items())
        if (!keys.count(key)) fail(path, "unknown key '" + key + "'");
    for (const auto& key : keys)
        if (!j.contains(key)) fail(path, "no '" + key + "'");
    FixtureCase c;
    c.source = path;
    if (!j.at("case").is_string()) fail(path, "\"case\" must be a string");
    c.name = j.at("case").get<std::string>();
    if (c.name != fs::path(path).stem().string()) fail(path, "case '" + c.name + "' is not named after its file");
    c.ops = strings(j.at("ops"), path + ": ops");
    if (!j.at("graph").is_object()) fail(path, "\"graph\" must be an object");
    c.graphJson = j.at("graph").dump(1);
    c.inputs = decodeTensors(j.at("inputs"), path + ": inputs");
    c.expected = decodeTensors(j.at("expected"), path + ": expected");
    c.lossWeights = decodeTensors(j.at("loss_weights"), path + ": loss_weights");
    c.gradients = decodeTensors(j.at("gradients"), path + ": gradients");
    c.noGradient = strings(j.at("no_gradient"), path + ": no_gradient");
    return c;
}

const std::vector<FixtureCase>& opCases() {
    static const std::vector<FixtureCase> cases = [] {
        const fs::path dir = sourcePath("tests/fixtures/ops");
        std::vector<std::string> files;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path().extension() == ".json") files.push_back(e.path().string());
        if (files.empty()) fail(dir.string(), "no op cases (<case>.json)");
        std::sort(files.begin(), files.end());
        std::vector<FixtureCase> r;
        for (const auto& f : files) r.push_back(readOpCase(f));
        return r;
    }();
    return cases;
}

const std::vector<FixtureCase>& exampleCases() {
    static const std::vector<FixtureCase> cases = [] {
        const std::string manifest = sourcePath("tests/fixtures/examples/manifest.json");
        std::vector<FixtureCase> r;
        for (const auto& e : readJsonFile(manifest)) {
            FixtureCase c;
            c.name = e.at("case").get<std::string>();
            c.source = sourcePath(e.at("graph").get<std::string>());
            c.graphJson = readText(c.source);
            c.inputs = readNpys(e.at("inputs"));
            c.expected = readNpys(e.at("expected"));
            const auto& loss = e.at("loss");
            if (loss.contains("output")) c.lossOutput = loss.at("output").get<std::string>();
            else c.lossWeights = readNpys(loss.at("weights"));
            c.gradients = readNpys(e.at("gradients"));
            c.noGradient = strings(e.at("no_gradient"), manifest + ": " + c.name + ".no_gradient");
            r.push_back(std::move(c));
        }
        return r;
    }();
    return cases;
}

namespace {

NamedFiles namedFiles(const nlohmann::json& j) {
    NamedFiles r;
    for (const auto& [k, v] : j.items()) r.emplace_back(k, sourcePath(v.get<std::string>()));
    return r;
}

}  // namespace

const std::vector<OnnxModelFixture>& onnxModelFixtures() {
    static const std::vector<OnnxModelFixture> all = [] {
        const std::string manifest = sourcePath("tests/fixtures/onnx/manifest.json");
        if (!std::filesystem::exists(manifest)) throw std::runtime_error(manifest + ": not found (tests/fixtures/make_onnx_fixtures.py writes it)");
        std::vector<OnnxModelFixture> r;
        for (const auto& e : readJsonFile(manifest)) {
            OnnxModelFixture f;
            f.model = e.at("model").get<std::string>();
            f.file = sourcePath(e.at("file").get<std::string>());
            f.inputs = namedFiles(e.at("inputs"));
            f.expected = namedFiles(e.at("expected"));
            f.lossWeights = namedFiles(e.at("loss").at("weights"));
            f.gradients = namedFiles(e.at("gradients"));
            for (const auto& [k, v] : e.at("dynamic").items()) f.dynamic[k] = v.get<std::vector<std::string>>();
            r.push_back(std::move(f));
        }
        return r;
    }();
    return all;
}

const std::vector<OnnxOpsetFixture>& onnxOpsetFixtures() {
    static const std::vector<OnnxOpsetFixture> all = [] {
        const std::string manifest = sourcePath("tests/fixtures/onnx/opsets/manifest.json");
        if (!std::filesystem::exists(manifest)) throw std::runtime_error(manifest + ": not found (tests/fixtures/make_onnx_fixtures.py writes it)");
        std::vector<OnnxOpsetFixture> r;
        for (const auto& e : readJsonFile(manifest))
            r.push_back({e.at("model").get<std::string>(), sourcePath(e.at("file").get<std::string>()), e.at("opset").get<int>(),
                         namedFiles(e.at("inputs")), namedFiles(e.at("expected"))});
        return r;
    }();
    return all;
}

const OnnxModelFixture& onnxModelFixture(const std::string& model) {
    for (const auto& f : onnxModelFixtures())
        if (f.model == model) return f;
    throw std::runtime_error("no ONNX model fixture '" + model + "' in tests/fixtures/onnx/manifest.json");
}

const std::set<std::string>& opsCheckedByModelFixtures() {
    static const std::set<std::string> ops = [] {
        std::set<std::string> r;
        auto collect = [&](const Graph& g) {
            for (NodeId id : g.nodeIds()) r.insert(std::string(opName(g.node(id).op)));
        };
        for (const auto& f : onnxModelFixtures()) {
            Graph g = loadGraphFile(f.file);
            collect(g);
            if (f.gradients.empty() || g.outputs().empty() || g.parameterNodes().empty()) continue;
            // the adjoints that tst_onnx compares with torch's gradients (it adds a weighted sum as
            // the loss; the ops of the backward graph do not depend on it)
            GraphBuilder b(g);
            std::vector<std::int64_t> axes;
            const ValueRef y = g.outputs().front().value;
            for (std::int64_t a = 0; a < b.rank(y); ++a) axes.push_back(a);
            g.addOutput("loss", b.sum(y, axes, false));
            std::vector<std::string> params;
            for (NodeId id : g.parameterNodes()) params.push_back(g.node(id).name);
            collect(buildBackward(g, "loss", {params, false, false}).graph);
        }
        return r;
    }();
    return ops;
}

QStringList CaseFiles::inputArgs() const {
    QStringList args;
    for (const auto& [name, file] : inputs) args << "--input" << QString::fromStdString(name + "=" + file);
    return args;
}

CaseFiles writeCaseFiles(const FixtureCase& c) {
    CaseFiles f;
    f.dir = tempDir();
    f.graph = f.dir + "/" + cliFileName(c.name) + ".json";
    std::ofstream(f.graph, std::ios::binary) << c.graphJson;
    if (!fs::exists(f.graph)) fail(f.graph, "cannot write");
    for (const auto& [name, t] : c.inputs) {
        f.inputs.emplace_back(name, f.dir + "/" + cliFileName(name) + ".npy");
        writeNpy(f.inputs.back().second, t);
    }
    return f;
}

std::string cliFileName(const std::string& tensorName) {
    std::string s = tensorName;
    for (char& ch : s) {
        const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!ok) ch = '_';
    }
    return s;
}

CliResult runProgram(const QString& program, const QStringList& args, const QStringList& env, const QString& workDir, int timeoutMs) {
    QProcess p;
    if (!env.isEmpty()) {
        QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
        for (const QString& entry : env) e.insert(entry.section('=', 0, 0), entry.section('=', 1));
        p.setProcessEnvironment(e);
    }
    if (!workDir.isEmpty()) p.setWorkingDirectory(workDir);
    p.start(program, args);
    CliResult r;
    if (!p.waitForStarted(10000)) return r;
    p.closeWriteChannel();
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

CliResult runCli(const QStringList& args, int timeoutMs) { return runProgram(QString::fromUtf8(ADJOINT_CLI), args, {}, {}, timeoutMs); }

QString examplePath(const QString& name) { return QString::fromStdString(sourcePath("resources/examples/" + name.toStdString())); }

Tensor stridedCopy(const Tensor& t) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    if (t.rank() == 0) return Tensor::fromVector({2}, {nan, t.flatAt(0)}).slice(0, 1, 2).squeeze(0);
    Shape big = t.shape();
    for (auto& d : big) d = 2 * d + 1;
    Tensor view = Tensor::full(big, nan);
    for (std::int64_t axis = 0; axis < t.rank(); ++axis) view = view.slice(axis, 1, big[std::size_t(axis)], 2);
    view.copyFrom(t);
    return view;
}

bool allClose(const Tensor& a, const Tensor& b, double rtol, double atol, std::string* why) {
    if (a.shape() != b.shape()) {
        if (why) *why = "shape " + shapeToString(a.shape()) + " vs " + shapeToString(b.shape());
        return false;
    }
    std::vector<float> va = a.toVector(), vb = b.toVector();
    double worst = 0;
    std::size_t worstI = 0;
    for (std::size_t i = 0; i < va.size(); ++i) {
        double x = va[i], y = vb[i];
        double r;
        if (std::isnan(x) || std::isnan(y)) r = (std::isnan(x) && std::isnan(y)) ? 0 : 1e30;
        else if (std::isinf(x) || std::isinf(y)) r = (x == y) ? 0 : 1e30;
        else r = std::fabs(x - y) / (atol + rtol * std::fabs(y));
        if (r > worst) {
            worst = r;
            worstI = i;
        }
    }
    if (worst > 1.0) {
        if (why) *why = "element " + std::to_string(worstI) + ": " + std::to_string(va[worstI]) + " vs " + std::to_string(vb[worstI]);
        return false;
    }
    return true;
}

Tensor runOneNode(Op op, const std::vector<Tensor>& inputs, const Attributes& attrs) {
    Graph g;
    std::vector<ValueRef> ins;
    Bindings b;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const std::string name(1, char('a' + i));
        ins.push_back({g.addInput(name, inputs[i].shape(), {}, inputs[i].dtype()), 0});
        b[name] = inputs[i];
    }
    g.addOutput("y", {g.addNode(op, ins, attrs, "node"), 0});
    verifyOrThrow(g);
    return makeCpuExecutor()->run(g, b).outputs.at(0);
}

std::string runOneNodeError(Op op, const std::vector<Tensor>& inputs, const Attributes& attrs) {
    try {
        runOneNode(op, inputs, attrs);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

Graph blockChain(int blocks, const std::string& prefix) {
    Graph g;
    constexpr std::int64_t kWidth = 8;
    ValueRef h{g.addInput("x", {2, kWidth}), 0};
    for (int i = 0; i < blocks; ++i) {
        const std::string k = prefix + std::to_string(i);
        const NodeId w = g.addParameter("w_" + k, Tensor::full({kWidth, kWidth}, 0.01f * float(i % 7 + 1)));
        const NodeId b = g.addParameter("bias_" + k, Tensor::full({kWidth}, 0.1f));
        const NodeId mm = g.addNode(Op::MatMul, {h, {w, 0}}, {}, "mm_" + k);
        const NodeId add = g.addNode(Op::Add, {{mm, 0}, {b, 0}}, {}, "add_" + k);
        const NodeId act = g.addNode(Op::Tanh, {{add, 0}}, {}, "tanh_" + k);
        const NodeId sq = g.addNode(Op::Mul, {{act, 0}, {act, 0}}, {}, "sq_" + k);
        const NodeId sub = g.addNode(Op::Sub, {{act, 0}, {sq, 0}}, {}, "sub_" + k);
        h = {sub, 0};
    }
    g.addOutput("loss", {g.addNode(Op::Sum, {h}, {}, "loss"), 0});
    const auto problems = verifyGraph(g);
    if (!problems.empty()) throw std::logic_error("blockChain does not verify: " + problems.front().message);
    return g;
}

}  // namespace adj::test
