// kill -9 in the middle of every write of adjoint-cli, then a restart. The command runs with
// tests/support/kill_during_write.c preloaded, which kills it with SIGKILL at a chosen point of
// writing the target: halfway through its bytes ("write"), or when the whole temporary is about
// to be renamed into place ("rename"). Each time: the process died of the kill (else the test
// proves nothing), the file that was there before is intact, byte for byte; run again, the
// command succeeds, writes a whole file and sweeps the dead run's temporary away.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QtTest>

#include "test_support.h"

namespace {

QString source(const std::string& relative) { return QString::fromStdString(adj::test::sourcePath(relative)); }

const QByteArray kOld = "the file that was there before";

}  // namespace

class TestCliKilledWrite : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qputenv("ADJOINT_CACHE_DIR", QByteArray::fromStdString(adj::test::tempDir())); }

    void killedMidWriteLeavesTheOldFile_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("target");  // relative to the working directory
        QTest::addColumn<QString>("point");
        const QString attention = source("resources/examples/attention.json"), scalar = source("resources/examples/scalar_function.json");
        const QString in = source("resources/examples/inputs/scalar_function/");
        const QStringList inputs{"--input", "x1=" + in + "x1.npy", "--input", "x2=" + in + "x2.npy"};
        for (const char* point : {"write", "rename"}) {
            for (const char* ext : {"json", "onnx", "dot", "svg", "png", "py"})
                QTest::addRow("export .%s, %s", ext, point) << QStringList{"export", attention, "-o", QString("out.") + ext} << QString("out.") + ext
                                                            << point;
            QTest::addRow("optimize .json, %s", point) << QStringList{"optimize", attention, "-O2", "-o", "opt.json"} << "opt.json" << point;
            QTest::addRow("optimize .onnx, %s", point) << QStringList{"optimize", attention, "-O2", "-o", "opt.onnx"} << "opt.onnx" << point;
            QTest::addRow("run --out, %s", point) << (QStringList{"run", scalar, "--out", "run"} + inputs) << "run/f.npy" << point;
            QTest::addRow("train --checkpoint, %s", point)
                << QStringList{"train", source("resources/examples/spirals_mlp.json"), "--dataset", "spirals", "--steps", "20", "--checkpoint",
                               "ckpt.json"}
                << "ckpt.json" << point;
        }
    }
    void killedMidWriteLeavesTheOldFile() {
        QFETCH(QStringList, args);
        QFETCH(QString, target);
        QFETCH(QString, point);
        const QString dir = QString::fromStdString(adj::test::tempDir());
        const QString path = dir + "/" + target;
        QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
        {
            QFile old(path);
            QVERIFY(old.open(QIODevice::WriteOnly));
            old.write(kOld);
        }
        const QStringList env{"LD_PRELOAD=" + QString::fromUtf8(ADJOINT_KILL_SHIM), "ADJOINT_KILL_AT=" + point,
                              "ADJOINT_KILL_MATCH=" + QFileInfo(target).fileName(),
                              // an ASan build: the shim may come before the sanitizer's runtime
                              "ASAN_OPTIONS=verify_asan_link_order=0"};
        const auto killed = adj::test::runProgram(QString::fromUtf8(ADJOINT_CLI), args, env, dir);
        QVERIFY2(killed.exitCode == -1, qPrintable(QString("not killed (exit %1): %2").arg(killed.exitCode).arg(killed.err)));
        {
            QFile now(path);
            QVERIFY(now.open(QIODevice::ReadOnly));
            QCOMPARE(now.readAll(), kOld);  // whole, and the old one
        }
        const QString folder = QFileInfo(path).absolutePath(), name = QFileInfo(target).fileName();
        const QStringList leftovers = QDir(folder).entryList({name + ".tmp-*"}, QDir::Files | QDir::Hidden);
        QCOMPARE(leftovers.size(), 1);  // the dead run's temporary (half or whole), never the target

        // The restart: the same command succeeds, replaces the file and sweeps the leftover away.
        const auto again = adj::test::runProgram(QString::fromUtf8(ADJOINT_CLI), args, {}, dir);
        QVERIFY2(again.exitCode == 0, qPrintable(again.err));
        QFile now(path);
        QVERIFY(now.open(QIODevice::ReadOnly));
        const QByteArray bytes = now.readAll();
        QVERIFY(bytes != kOld && !bytes.isEmpty());
        if (name.endsWith(".json") || name.endsWith(".onnx")) {
            if (!name.startsWith("ckpt")) {
                const auto valid = adj::test::runCli({"validate", path});
                QVERIFY2(valid.exitCode == 0, qPrintable(valid.err));
            }
        }
        QVERIFY2(QDir(folder).entryList({name + ".tmp-*"}, QDir::Files | QDir::Hidden).isEmpty(),
                 qPrintable(QDir(folder).entryList({name + ".tmp-*"}, QDir::Files | QDir::Hidden).join(", ")));
    }
};

QTEST_GUILESS_MAIN(TestCliKilledWrite)
#include "tst_cli_killed_write.moc"
