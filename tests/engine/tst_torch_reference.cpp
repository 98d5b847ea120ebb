// The engine against references it did not compute: tests/fixtures/make_fixtures.py runs every
// op case (tests/fixtures/ops) and every example graph (resources/examples) through PyTorch in
// float64 and stores the results as float32 .npy files. Here the CPU executor (in process, on
// contiguous and on strided inputs) and adjoint-cli (end to end) must reproduce them to
// rtol 1e-5, atol 1e-6.
#include <QtTest>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/errors.h"
#include "io/json_format.h"
#include "io/npy.h"
#include "ir/op.h"
#include "ir/verifier.h"
#include "runtime/executor.h"
#include "test_support.h"

using namespace adj;

namespace {

constexpr double kRtol = 1e-5;
constexpr double kAtol = 1e-6;

/// One manifest entry; paths are absolute.
struct FixtureCase {
    std::string name;
    std::vector<std::string> ops;
    std::string graph;
    std::vector<std::pair<std::string, std::string>> inputs;    // input name, .npy file
    std::vector<std::pair<std::string, std::string>> expected;  // output name, .npy file
};

std::vector<FixtureCase> loadManifest(const std::string& relative) {
    std::ifstream f(test::sourcePath(relative));
    if (!f) throw std::runtime_error(relative + ": cannot open (run tests/fixtures/make_fixtures.py)");
    const nlohmann::json j = nlohmann::json::parse(f);
    std::vector<FixtureCase> cases;
    for (const auto& e : j) {
        FixtureCase c;
        c.name = e.at("case").get<std::string>();
        if (e.contains("op"))
            for (const auto& op : e.at("op")) c.ops.push_back(op.get<std::string>());
        c.graph = test::sourcePath(e.at("graph").get<std::string>());
        for (const auto& [k, v] : e.at("inputs").items()) c.inputs.emplace_back(k, test::sourcePath(v.get<std::string>()));
        for (const auto& [k, v] : e.at("expected").items()) c.expected.emplace_back(k, test::sourcePath(v.get<std::string>()));
        cases.push_back(std::move(c));
    }
    return cases;
}

const std::vector<FixtureCase>& opCases() {
    static const std::vector<FixtureCase> cases = loadManifest("tests/fixtures/ops/manifest.json");
    return cases;
}

const std::vector<FixtureCase>& exampleCases() {
    static const std::vector<FixtureCase> cases = loadManifest("tests/fixtures/examples/manifest.json");
    return cases;
}

/// The CLI's file name for a tensor name: characters outside [A-Za-z0-9._-] become '_'.
std::string fileNameFor(const std::string& name) {
    std::string s = name;
    for (char& ch : s) {
        const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                        ch == '.' || ch == '_' || ch == '-';
        if (!ok) ch = '_';
    }
    return s;
}

/// Runs the case's graph in process on its inputs (strided views when `strided`) and compares
/// every output with the reference. Returns an empty string on success, else what went wrong.
std::string runInProcess(const FixtureCase& c, bool strided) {
    try {
        Graph g = loadGraphJson(c.graph);
        verifyOrThrow(g);
        Bindings bindings;
        for (const auto& [name, file] : c.inputs) {
            Tensor t = readNpy(file);
            if (strided) {
                t = adj::test::stridedCopy(t);
                if (t.numel() > 1 && t.isContiguous()) return "test bug: strided copy of '" + name + "' is contiguous";
            }
            bindings[name] = t;
        }
        RunResult r = makeCpuExecutor()->run(g, bindings);
        if (r.outputs.size() != g.outputs().size())
            return std::to_string(r.outputs.size()) + " results for " + std::to_string(g.outputs().size()) + " outputs";
        std::string problems;
        for (const auto& [name, file] : c.expected) {
            std::size_t i = 0;
            while (i < g.outputs().size() && g.outputs()[i].name != name) ++i;
            if (i == g.outputs().size()) return "graph has no output '" + name + "'";
            std::string why;
            if (!test::allClose(r.outputs[i], readNpy(file), kRtol, kAtol, &why))
                problems += (problems.empty() ? "" : "; ") + std::string("output '") + name + "': " + why;
        }
        return problems;
    } catch (const std::exception& e) {
        return std::string("threw: ") + e.what();
    }
}

void addCaseRows(const std::vector<FixtureCase>& cases) {
    QTest::addColumn<int>("index");
    for (std::size_t i = 0; i < cases.size(); ++i) QTest::newRow(cases[i].name.c_str()) << int(i);
}

}  // namespace

class TestTorchReference : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        try {
            QVERIFY(!opCases().empty());
            QVERIFY(!exampleCases().empty());
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // Every op of ops.def (apart from the sources) has at least one reference case.
    void manifestCoversEveryOp() {
        std::set<std::string> covered;
        for (const auto& c : opCases()) covered.insert(c.ops.begin(), c.ops.end());
        for (const auto& info : allOps()) {
            if (isSource(info.op)) continue;
            const std::string name(info.name);
            QVERIFY2(covered.count(name), ("no reference case for op '" + name + "'").c_str());
        }
    }

    void ops_data() { addCaseRows(opCases()); }
    void ops() {
        QFETCH(int, index);
        const std::string failure = runInProcess(opCases()[std::size_t(index)], false);
        QVERIFY2(failure.empty(), failure.c_str());
    }

    // DESIGN.md convention 2: every kernel accepts non-contiguous input.
    void opsNonContiguous_data() { addCaseRows(opCases()); }
    void opsNonContiguous() {
        QFETCH(int, index);
        const std::string failure = runInProcess(opCases()[std::size_t(index)], true);
        QVERIFY2(failure.empty(), failure.c_str());
    }

    void examples_data() { addCaseRows(exampleCases()); }
    void examples() {
        QFETCH(int, index);
        const std::string failure = runInProcess(exampleCases()[std::size_t(index)], false);
        QVERIFY2(failure.empty(), failure.c_str());
    }

    // `adjoint-cli run` end to end: reads the graph and the .npy inputs, writes <output>.npy.
    void examplesThroughCli_data() { addCaseRows(exampleCases()); }
    void examplesThroughCli() {
        QFETCH(int, index);
        const FixtureCase& c = exampleCases()[std::size_t(index)];
        const std::string out = test::tempDir();
        QStringList args{"run", QString::fromStdString(c.graph)};
        for (const auto& [name, file] : c.inputs) args << "--input" << QString::fromStdString(name + "=" + file);
        args << "--out" << QString::fromStdString(out);
        const test::CliResult r = test::runCli(args);
        QVERIFY2(r.exitCode == 0, qPrintable("exit " + QString::number(r.exitCode) + ": " + r.err));
        for (const auto& [name, file] : c.expected) {
            const std::string written = out + "/" + fileNameFor(name) + ".npy";
            Tensor actual, expected;
            try {
                actual = readNpy(written);
                expected = readNpy(file);
            } catch (const std::exception& e) {
                QFAIL(e.what());
            }
            std::string why;
            QVERIFY2(test::allClose(actual, expected, kRtol, kAtol, &why), ("output '" + name + "': " + why).c_str());
        }
    }
};

QTEST_APPLESS_MAIN(TestTorchReference)
#include "tst_torch_reference.moc"
