// The engine against references it did not compute: tests/fixtures/make_fixtures.py runs every
// op case (tests/fixtures/ops) and every example graph (resources/examples) through PyTorch in
// float64 and stores the results as float32 (read here by test::opCases() and
// test::exampleCases()). The CPU executor (in process, on contiguous and on strided inputs) and
// adjoint-cli (end to end) must reproduce them to rtol 1e-5, atol 1e-6.
#include <QtTest>
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

using test::FixtureCase;
using test::opCases;
using test::exampleCases;

/// Runs the case's graph in process on its inputs (strided views when `strided`) and compares
/// every output with the reference. Returns an empty string on success, else what went wrong.
std::string runInProcess(const FixtureCase& c, bool strided) {
    try {
        Graph g = c.graph();
        verifyOrThrow(g);
        const Bindings bindings = c.bindings(strided);
        if (strided)
            for (const auto& [name, t] : bindings)
                if (t.numel() > 1 && t.isContiguous()) return "test bug: strided copy of '" + name + "' is contiguous";
        RunResult r = makeCpuExecutor()->run(g, bindings);
        if (r.outputs.size() != g.outputs().size())
            return std::to_string(r.outputs.size()) + " results for " + std::to_string(g.outputs().size()) + " outputs";
        std::string problems;
        for (const auto& [name, expected] : c.expected) {
            std::size_t i = 0;
            while (i < g.outputs().size() && g.outputs()[i].name != name) ++i;
            if (i == g.outputs().size()) return "graph has no output '" + name + "'";
            std::string why;
            if (!test::allClose(r.outputs[i], expected, kRtol, kAtol, &why))
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

    // Every op of ops.def (apart from the sources) has at least one reference case; the ops that
    // read integer indices have theirs in a PyTorch model fixture (the op cases' inputs are float).
    void casesCoverEveryOp() {
        std::set<std::string> covered;
        for (const auto& c : opCases()) covered.insert(c.ops.begin(), c.ops.end());
        for (const auto& info : allOps()) {
            if (isSource(info.op)) continue;
            const std::string name(info.name);
            if (info.family == OpFamily::Index) {
                QVERIFY2(test::opsCheckedByModelFixtures().count(name), ("no PyTorch model fixture exercises op '" + name + "'").c_str());
                continue;
            }
            QVERIFY2(covered.count(name), ("no reference case for op '" + name + "'").c_str());
        }
    }

    void ops_data() { addCaseRows(opCases()); }
    void ops() {
        QFETCH(int, index);
        const std::string failure = runInProcess(opCases()[std::size_t(index)], false);
        QVERIFY2(failure.empty(), failure.c_str());
    }

    // Every kernel accepts non-contiguous input.
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
        test::CaseFiles files;
        try {
            files = test::writeCaseFiles(c);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        const std::string out = files.dir + "/out";
        const test::CliResult r = test::runCli(QStringList{"run", QString::fromStdString(files.graph)}
                                               << files.inputArgs() << "--out" << QString::fromStdString(out));
        QVERIFY2(r.exitCode == 0, qPrintable("exit " + QString::number(r.exitCode) + ": " + r.err));
        for (const auto& [name, expected] : c.expected) {
            Tensor actual;
            try {
                actual = readNpy(out + "/" + test::cliFileName(name) + ".npy");
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
