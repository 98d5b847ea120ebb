// A full disk during every write of adjoint-cli: the command runs with its file size limited to
// nothing (ulimit -f 0, SIGXFSZ ignored, so each write fails with EFBIG as on a full disk). Each
// must exit 1 with an `error:` line naming the file, leave the file that was there before whole,
// and leave no temporary file behind.
#include <QDir>
#include <QFile>
#include <QtTest>

#include "test_support.h"

namespace {

QString source(const std::string& relative) { return QString::fromStdString(adj::test::sourcePath(relative)); }

adj::test::CliResult runWithFullDisk(const QStringList& args, const QString& workDir) {
    return adj::test::runProgram("sh", QStringList{"-c", "trap '' XFSZ; ulimit -f 0; exec \"$0\" \"$@\"", QString::fromUtf8(ADJOINT_CLI)} + args, {},
                                 workDir);
}

}  // namespace

class TestCliFullDisk : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qputenv("ADJOINT_CACHE_DIR", QByteArray::fromStdString(adj::test::tempDir())); }

    void everyWriteFailsCleanly_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("target");  // relative to the working directory
        const QString attention = source("resources/examples/attention.json"), scalar = source("resources/examples/scalar_function.json");
        const QString in = source("resources/examples/inputs/scalar_function/");
        const QStringList inputs{"--input", "x1=" + in + "x1.npy", "--input", "x2=" + in + "x2.npy"};
        for (const char* ext : {"json", "onnx", "dot", "svg", "png", "py"})
            QTest::addRow("export .%s", ext) << QStringList{"export", attention, "-o", QString("out.") + ext} << QString("out.") + ext;
        QTest::newRow("export --backward") << QStringList{"export", scalar, "--backward", "--of", "f", "-o", "bw.json"} << "bw.json";
        QTest::newRow("optimize .json") << QStringList{"optimize", attention, "-O2", "-o", "opt.json"} << "opt.json";
        QTest::newRow("optimize .onnx") << QStringList{"optimize", attention, "-O2", "-o", "opt.onnx"} << "opt.onnx";
        QTest::newRow("run --out") << (QStringList{"run", scalar, "--out", "run"} + inputs) << "run/f.npy";
        QTest::newRow("grad --out") << (QStringList{"grad", scalar, "--of", "f", "--out", "grad"} + inputs) << "grad/grad_x1.npy";
        QTest::newRow("train --checkpoint")
            << QStringList{"train", source("resources/examples/spirals_mlp.json"), "--dataset", "spirals", "--steps", "20", "--checkpoint", "ckpt.json"}
            << "ckpt.json";
        QTest::newRow("roofline .svg") << QStringList{"roofline", attention, "-o", "roofline.svg"} << "roofline.svg";
        QTest::newRow("roofline .png") << QStringList{"roofline", attention, "-o", "roofline.png"} << "roofline.png";
    }
    void everyWriteFailsCleanly() {
        QFETCH(QStringList, args);
        QFETCH(QString, target);
        const QString dir = QString::fromStdString(adj::test::tempDir());
        const QString path = dir + "/" + target;
        QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
        {
            QFile old(path);
            QVERIFY(old.open(QIODevice::WriteOnly));
            old.write("the file that was there before");
        }
        const QStringList before = QDir(QFileInfo(path).absolutePath()).entryList(QDir::Files | QDir::Hidden);
        const auto r = runWithFullDisk(args, dir);
        QVERIFY2(r.exitCode == 1, qPrintable(QString("exit %1: %2").arg(r.exitCode).arg(r.err)));
        QVERIFY2(r.err.startsWith("error:"), qPrintable(r.err));
        QVERIFY2(r.err.contains(QFileInfo(target).fileName()) || r.err.contains(QFileInfo(target).absolutePath()), qPrintable(r.err));
        QFile now(path);
        QVERIFY(now.open(QIODevice::ReadOnly));
        QCOMPARE(now.readAll(), QByteArray("the file that was there before"));
        QCOMPARE(QDir(QFileInfo(path).absolutePath()).entryList(QDir::Files | QDir::Hidden), before);  // no temporary left
    }
};

QTEST_GUILESS_MAIN(TestCliFullDisk)
#include "tst_cli_full_disk.moc"
