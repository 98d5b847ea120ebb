// kill -9 while adjoint-cli trains and writes its checkpoints (every 500 steps), at several points
// of the run: each time the checkpoint on disk is whole (it loads, at a step the run had reached,
// a multiple of 500), and training resumes from it.
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include "test_support.h"
#include "train/checkpoint.h"

class TestCliKilled : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qputenv("ADJOINT_CACHE_DIR", QByteArray::fromStdString(adj::test::tempDir())); }

    void checkpointSurvivesKill_data() {
        QTest::addColumn<int>("killAfterStep");
        // from the line of step 510 on, the checkpoint of step 500 has been written
        for (int step : {510, 990, 1500, 2210, 3000}) QTest::addRow("after step %d", step) << step;
    }
    void checkpointSurvivesKill() {
        QFETCH(int, killAfterStep);
        const QString graph = QString::fromStdString(adj::test::sourcePath("resources/examples/spirals_mlp.json"));
        const QString checkpoint = QString::fromStdString(adj::test::tempDir()) + "/ckpt.json";
        QProcess p;
        p.start(QString::fromUtf8(ADJOINT_CLI),
                {"train", graph, "--dataset", "spirals", "--steps", "100000000", "--seed", "3", "--checkpoint", checkpoint, "--json"});
        QVERIFY(p.waitForStarted(10000));
        // read the logged steps as they come; kill as soon as one at or past the chosen step shows
        qint64 lastLogged = 0;
        QByteArray pending;
        while (lastLogged < killAfterStep) {
            QVERIFY2(p.waitForReadyRead(60000), "training stopped logging");
            pending += p.readAllStandardOutput();
            for (int nl; (nl = pending.indexOf('\n')) >= 0; pending.remove(0, nl + 1)) {
                const QJsonObject line = QJsonDocument::fromJson(pending.left(nl)).object();
                if (line.contains("step")) lastLogged = qint64(line["step"].toDouble());
            }
        }
        p.kill();  // SIGKILL
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);

        adj::train::Checkpoint c;
        try {
            c = adj::train::loadCheckpoint(checkpoint.toStdString());
        } catch (const std::exception& e) {
            QFAIL(qPrintable(QString("the checkpoint is not whole after kill -9: ") + e.what()));
        }
        QVERIFY2(c.step > 0 && c.step % 500 == 0, qPrintable(QString("step %1").arg(c.step)));
        // (the process may have gone on past the last line read before the kill landed)
        const auto resumed = adj::test::runCli({"train", graph, "--dataset", "spirals", "--steps", QString::number(c.step + 20), "--seed", "3",
                                                "--resume", checkpoint, "--json"});
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err));
        const QStringList lines = resumed.out.split('\n', Qt::SkipEmptyParts);
        QVERIFY(!lines.isEmpty());
        const QJsonObject summary = QJsonDocument::fromJson(lines.last().toUtf8()).object();
        QVERIFY2(summary["summary"].toBool() && qint64(summary["steps"].toDouble()) == c.step + 20, qPrintable(lines.last()));
    }
};

QTEST_GUILESS_MAIN(TestCliKilled)
#include "tst_cli_killed.moc"
