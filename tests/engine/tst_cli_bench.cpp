// adjoint-cli bench: the figures it prints are consistent (min <= median <= max, the runs asked
// for, the threads asked for), its peak is the bytes one run really holds (at least the outputs,
// at most every value without reuse), it binds seeded random inputs or the files given, it runs on
// both backends, and bad input or usage gets exit 1 or 2 with an `error:` line. No wall time is
// asserted: the times are whatever this machine gives.
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include "io/json_format.h"
#include "ir/verifier.h"
#include "runtime/memory_plan.h"
#include "test_support.h"

using adj::test::runCli;

namespace {

QJsonObject lastJson(const QString& out) {
    const QStringList lines = out.split('\n', Qt::SkipEmptyParts);
    return lines.isEmpty() ? QJsonObject() : QJsonDocument::fromJson(lines.last().toUtf8()).object();
}


}  // namespace

class TestCliBench : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qputenv("ADJOINT_CACHE_DIR", QByteArray::fromStdString(adj::test::tempDir())); }

    void figuresAreConsistent() {
        const auto r = runCli({"bench", adj::test::examplePath("mlp.json"), "--repeat", "7", "--warmup", "2", "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject j = lastJson(r.out);
        for (const char* key : {"median_ms", "min_ms", "max_ms", "runs", "peak_bytes", "backend", "threads"})
            QVERIFY2(j.contains(key), key);
        QCOMPARE(j["runs"].toInt(), 7);
        QCOMPARE(j["warmup"].toInt(), 2);
        QCOMPARE(j["backend"].toString(), QString("cpu"));
        QVERIFY(j["threads"].toInt() >= 1);
        const double lo = j["min_ms"].toDouble(), med = j["median_ms"].toDouble(), hi = j["max_ms"].toDouble();
        QVERIFY2(lo > 0 && lo <= med && med <= hi, qPrintable(r.out));
    }

    void peakIsWhatOneRunHolds() {
        // Between the graph's outputs (a run must hold them) and every value of the graph without
        // any reuse (the memory planner's upper bound), computed here from the graph itself.
        adj::Graph g = adj::loadGraphJson(adj::test::sourcePath("resources/examples/mlp.json"));
        adj::verifyGraph(g);
        adj::Bindings b;
        for (adj::NodeId id : g.inputNodes()) b[g.node(id).name] = adj::Tensor::full(g.node(id).declaredShape, 0.5f);
        const adj::MemoryPlan plan = adj::planMemoryForBindings(g, g.liveTopoOrder(), b);
        std::int64_t outputBytes = 0;
        for (const auto& o : g.outputs()) outputBytes += adj::numel(g.type(o.value).shape) * std::int64_t(sizeof(float));
        const auto r = runCli({"bench", adj::test::examplePath("mlp.json"), "--repeat", "3", "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const qint64 peak = qint64(lastJson(r.out)["peak_bytes"].toDouble());
        QVERIFY2(peak >= outputBytes, qPrintable(QString("peak %1 < outputs %2").arg(peak).arg(outputBytes)));
        QVERIFY2(peak <= plan.noReuseBytes, qPrintable(QString("peak %1 > no reuse %2").arg(peak).arg(plan.noReuseBytes)));
    }

    void threadsAreHonoured() {
        const auto r = runCli({"bench", adj::test::examplePath("mlp.json"), "--repeat", "2", "--threads", "1", "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QCOMPARE(lastJson(r.out)["threads"].toInt(), 1);
        const auto text = runCli({"bench", adj::test::examplePath("mlp.json"), "--repeat", "2", "--threads", "1"});
        QVERIFY2(text.exitCode == 0, qPrintable(text.err));
        QVERIFY2(text.out.contains("1 thread:") && text.out.contains("median") && text.out.contains("over 2 runs"), qPrintable(text.out));
    }

    void givenInputsAreUsed() {
        // A file for x: accepted; a name the graph does not have: exit 1 naming it.
        const QString in = QString::fromStdString(adj::test::sourcePath("resources/examples/inputs/scalar_function/"));
        const auto ok = runCli({"bench", adj::test::examplePath("scalar_function.json"), "--input", "x1=" + in + "x1.npy", "--repeat", "2", "--json"});
        QVERIFY2(ok.exitCode == 0, qPrintable(ok.err));
        const auto bad = runCli({"bench", adj::test::examplePath("scalar_function.json"), "--input", "nope=" + in + "x1.npy"});
        QCOMPARE(bad.exitCode, 1);
        QVERIFY2(bad.err.startsWith("error:") && bad.err.contains("'nope'"), qPrintable(bad.err));
        // A file of the wrong shape is the run's error, named, not a crash.
        const auto wrong = runCli({"bench", adj::test::examplePath("mlp.json"), "--input", "x=" + in + "x1.npy"});
        QCOMPARE(wrong.exitCode, 1);
        QVERIFY2(wrong.err.startsWith("error:") && wrong.err.contains("mlp.json"), qPrintable(wrong.err));
    }

    void runsOnVulkan() {
        const auto r = runCli({"bench", adj::test::examplePath("mlp.json"), "--repeat", "3", "--backend", "vulkan", "--json"}, 300000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));  // no device here is a failure, not a skip
        const QJsonObject j = lastJson(r.out);
        QCOMPARE(j["backend"].toString(), QString("vulkan"));
        QVERIFY(!j["device"].toString().isEmpty());
        QVERIFY2(j["peak_bytes"].toDouble() > 0, qPrintable(r.out));
    }

    void badUsageAndInput() {
        for (const QStringList& args : {QStringList{"bench"}, QStringList{"bench", adj::test::examplePath("mlp.json"), "--repeat", "0"},
                                        QStringList{"bench", adj::test::examplePath("mlp.json"), "--warmup", "x"},
                                        QStringList{"bench", adj::test::examplePath("mlp.json"), "--threads", "0"},
                                        QStringList{"bench", adj::test::examplePath("mlp.json"), "--frobnicate"}}) {
            const auto r = runCli(args);
            QVERIFY2(r.exitCode == 2, qPrintable(args.join(' ') + ": " + r.err));
            QVERIFY2(r.err.startsWith("error:"), qPrintable(r.err));
        }
        const auto missing = runCli({"bench", "/nonexistent/graph.json"});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.startsWith("error:") && missing.err.contains("/nonexistent/graph.json"), qPrintable(missing.err));
    }
};

QTEST_GUILESS_MAIN(TestCliBench)
#include "tst_cli_bench.moc"
