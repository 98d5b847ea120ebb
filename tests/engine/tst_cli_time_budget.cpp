// adjoint-cli --timeout SECONDS, for every command: a command that would run past its budget stops
// with exit status 1 and an `error:` line naming the command and the budget; the file it would have
// written is left as it was; a command within its budget is not disturbed; a bad budget is a usage
// error (exit 2).
#include <QFile>
#include <QtTest>

#include "test_support.h"
#include "train/checkpoint.h"

using adj::test::runCli;

class TestCliTimeBudget : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qputenv("ADJOINT_CACHE_DIR", QByteArray::fromStdString(adj::test::tempDir())); }

    void aRunawayCommandStops() {
        // a hundred million training steps: far past a 1 s budget on any machine
        const auto r = runCli({"train", adj::test::examplePath("spirals_mlp.json"), "--dataset", "spirals", "--steps", "100000000", "--timeout", "1"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.startsWith("error: train did not finish within its time budget of 1 s (--timeout)"), qPrintable(r.err));
    }

    void theFileItWouldWriteStaysWhole() {
        // train writes a checkpoint every 500 steps and at the end: stopped at any moment, the file
        // is the previous one or a whole new checkpoint, never a part of one
        const QString checkpoint = QString::fromStdString(adj::test::tempDir()) + "/ckpt.bin";
        {
            QFile f(checkpoint);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("the previous checkpoint");
        }
        const auto r = runCli({"train", adj::test::examplePath("spirals_mlp.json"), "--dataset", "spirals", "--steps", "100000000", "--checkpoint", checkpoint,
                               "--timeout=1.5"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("error: train did not finish within its time budget of 1.5 s"), qPrintable(r.err));
        QFile f(checkpoint);
        QVERIFY(f.open(QIODevice::ReadOnly));
        if (f.readAll() == QByteArray("the previous checkpoint")) return;
        try {
            const adj::train::Checkpoint c = adj::train::loadCheckpoint(checkpoint.toStdString());
            QVERIFY(c.step > 0);
        } catch (const std::exception& e) {
            QFAIL(qPrintable(QString("a checkpoint cut short: ") + e.what()));
        }
    }

    void withinItsBudgetNothingChanges() {
        for (const QStringList& args : {QStringList{"validate", adj::test::examplePath("mlp.json"), "--timeout", "600"},
                                        QStringList{"info", "--timeout", "600", adj::test::examplePath("mlp.json"), "--json"},
                                        QStringList{"ops", "--timeout=600"}}) {
            const auto r = runCli(args);
            QVERIFY2(r.exitCode == 0, qPrintable(args.join(' ') + ": " + r.err));
            QVERIFY(!r.out.isEmpty());
        }
    }

    void aBadBudgetIsAUsageError() {
        for (const QString& v : {QString("0"), QString("-3"), QString("soon"), QString("nan")}) {
            const auto r = runCli({"validate", adj::test::examplePath("mlp.json"), "--timeout", v});
            QVERIFY2(r.exitCode == 2, qPrintable(v + ": " + r.err));
            QVERIFY2(r.err.startsWith("error: --timeout takes a positive number of seconds"), qPrintable(r.err));
        }
        const auto missing = runCli({"validate", adj::test::examplePath("mlp.json"), "--timeout"});
        QCOMPARE(missing.exitCode, 2);
    }
};

QTEST_GUILESS_MAIN(TestCliTimeBudget)
#include "tst_cli_time_budget.moc"
