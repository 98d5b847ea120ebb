// adjoint-cli checks a run's memory before it allocates: a command whose graph would need more
// memory than the machine has (the memory plan's peak, with the inputs it would make) stops at
// once with exit status 1 and an `error:` line giving both figures, instead of being killed by
// the kernel or thrashing; a graph that fits runs as before.
#include <QFile>
#include <QtTest>

#include "test_support.h"

using adj::test::runCli;

namespace {

// Three outer products of two [100000] vectors, all kept as outputs: 3 x 40 GB, past the memory of
// any machine these tests run on (24 GiB), while every tensor stays under the shape limit.
QString writeHugeGraph() {
    const QString path = QString::fromStdString(adj::test::tempDir()) + "/outer_products.json";
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(R"({"format": "adjoint-graph", "version": 1, "name": "outer_products",
  "inputs": [{"name": "a", "shape": [100000, 1]}, {"name": "b", "shape": [1, 100000]}],
  "parameters": [],
  "nodes": [{"name": "p", "op": "mul", "inputs": ["a", "b"]}, {"name": "q", "op": "add", "inputs": ["p", "a"]},
            {"name": "r", "op": "sub", "inputs": ["q", "b"]}, {"name": "s", "op": "sum", "inputs": ["r"]}],
  "outputs": [{"name": "s", "value": "s"}, {"name": "p", "value": "p"}, {"name": "q", "value": "q"}]})");
    return path;
}

}  // namespace

class TestCliMemoryBudget : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qputenv("ADJOINT_CACHE_DIR", QByteArray::fromStdString(adj::test::tempDir())); }

    void aGraphTooBigForTheMachineStopsBeforeAllocating() {
        const QString graph = writeHugeGraph();
        QVERIFY(!graph.isEmpty());
        for (const QStringList& args : {QStringList{"bench", graph, "--repeat", "1"}, QStringList{"run", graph},
                                        QStringList{"jacobian", graph, "--of", "s", "--wrt", "a"}}) {
            const auto r = runCli(args);
            QCOMPARE(r.exitCode, 1);
            QVERIFY2(r.err.startsWith("error: " + graph + ": running it needs about "), qPrintable(args.join(' ') + ": " + r.err));
            QVERIFY2(r.err.contains(" GB of memory") && r.err.contains(" is available: stopped before allocating"), qPrintable(r.err));
        }
    }

    void aTrainingStepTooBigStops() {
        // a batch of 10^8 points through the spirals MLP: tens of gigabytes of activations
        const auto r = runCli({"train", adj::test::examplePath("spirals_mlp.json"), "--dataset", "spirals", "--batch", "100000000", "--steps", "1"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("running it needs about") && r.err.contains("stopped before allocating"), qPrintable(r.err));
    }

    void aGraphThatFitsRuns() {
        const auto r = runCli({"bench", adj::test::examplePath("mlp.json"), "--repeat", "2", "--warmup", "0"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const auto t = runCli({"train", adj::test::examplePath("spirals_mlp.json"), "--dataset", "spirals", "--steps", "3"});
        QVERIFY2(t.exitCode == 0, qPrintable(t.err));
    }
};

QTEST_GUILESS_MAIN(TestCliMemoryBudget)
#include "tst_cli_memory_budget.moc"
