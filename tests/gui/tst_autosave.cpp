// Autosave and crash recovery. Without widgets: the recovery file is written while the document
// is modified and removed when it is saved; recoveries of dead processes are found and restore
// the graph as modified. With the program itself: start adjoint-scripted (offscreen; the
// adjoint program's start, runAdjointProgram, with a test script, tests/support/scripted_adjoint.cpp),
// make an edit through $ADJOINT_TEST_SCRIPT, wait for the autosave, kill -9, start it again and
// check that recovery is offered and brings the edit back. The shipped adjoint reads no script.
// kill -9 in the middle of a save or an autosave (tests/support/kill_during_write.c, preloaded):
// the saved file is the old one, whole, and the recovery offered is the last whole autosave.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "autosave.h"
#include "graph_document.h"
#include "ir/printer.h"

using namespace adj;

namespace {

/// The adjoint program driven by $ADJOINT_TEST_SCRIPT.
QString scriptedBinary() { return QStringLiteral(ADJOINT_SCRIPTED_BINARY); }
QString example(const char* name) { return QString(ADJOINT_SOURCE_DIR) + "/resources/examples/" + name; }

QStringList recoveryFiles(const QString& dir) { return QDir(dir).entryList({"recovery-*"}, QDir::Files); }

}  // namespace

class TestAutosave : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void writesWhileModified() {
        QTemporaryDir dir;
        GraphDocument doc;
        QVERIFY(doc.load(example("mlp.json")));
        Autosave autosave(&doc, dir.path());
        QVERIFY(autosave.saveNow());
        QVERIFY(recoveryFiles(dir.path()).isEmpty());  // nothing unsaved: nothing written
        QSignalSpy saved(&autosave, &Autosave::saved);
        doc.addNode(Op::Exp, {0, 0}, "probe");
        QVERIFY(saved.wait(autosave.debounceMs() + 5000));  // written shortly after the edit
        QVERIFY(QFileInfo::exists(autosave.recoveryPath()));
        QCOMPARE(recoveryFiles(dir.path()).size(), 2);  // the graph and its info
        // The process that wrote it is alive (this one): not offered.
        QVERIFY(Autosave::findRecoveries(dir.path()).empty());
        // Saving the document removes it.
        QVERIFY(doc.save(dir.path() + "/saved.json"));
        QVERIFY(recoveryFiles(dir.path()).isEmpty());
        // So does undoing back to the saved state.
        doc.addNode(Op::Exp, {0, 0}, "probe2");
        QVERIFY(autosave.saveNow());
        QVERIFY(QFileInfo::exists(autosave.recoveryPath()));
        doc.undoStack()->undo();
        QVERIFY(recoveryFiles(dir.path()).isEmpty());
    }

    void restoresARecoveryOfADeadProcess() {
        QTemporaryDir dir;
        GraphDocument doc;
        QVERIFY(doc.load(example("mlp.json")));
        doc.addNode(Op::Exp, {10, 20}, "probe");
        Autosave autosave(&doc, dir.path());
        QVERIFY(autosave.saveNow());
        // Pretend another process (one that no longer exists) wrote it.
        const qint64 deadPid = 999999999;
        QVERIFY(QFile::rename(autosave.recoveryPath(), dir.path() + QString("/recovery-%1.json").arg(deadPid)));
        QVERIFY(QFile::rename(QString(autosave.recoveryPath()).replace(".json", ".info"),
                              dir.path() + QString("/recovery-%1.info").arg(deadPid)));
        const auto found = Autosave::findRecoveries(dir.path());
        QCOMPARE(found.size(), std::size_t(1));
        QCOMPARE(found[0].originalPath, QFileInfo(example("mlp.json")).absoluteFilePath());
        QVERIFY(found[0].saved.isValid());

        GraphDocument restored;
        QString error;
        QVERIFY2(Autosave::restore(found[0], &restored, &error), qPrintable(error));
        QCOMPARE(printGraph(restored.graph()), printGraph(doc.graph()));
        QVERIFY(restored.isModified());
        QCOMPARE(restored.filePath(), found[0].originalPath);
        QCOMPARE(restored.position(*restored.graph().findNode("probe")), QPointF(10, 20));
        QVERIFY(Autosave::findRecoveries(dir.path()).empty());  // consumed

        // A damaged recovery file is reported, not a crash.
        QFile bad(dir.path() + "/recovery-999999998.json");
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("{\"format\": \"adjoint-graph\", \"version\": 1, \"nodes\": [");
        bad.close();
        QFile info(dir.path() + "/recovery-999999998.info");
        QVERIFY(info.open(QIODevice::WriteOnly));
        info.write("{}");
        info.close();
        const auto damaged = Autosave::findRecoveries(dir.path());
        QCOMPARE(damaged.size(), std::size_t(1));
        QVERIFY(!Autosave::restore(damaged[0], &restored, &error));
        QVERIFY(!error.isEmpty());
    }

    void shippedProgramReadsNoTestScript() {
        QFile binary(QStringLiteral(ADJOINT_GUI_BINARY));
        QVERIFY2(binary.open(QIODevice::ReadOnly), qPrintable("the adjoint program is not built: " + binary.fileName()));
        const QByteArray bytes = binary.readAll();
        QVERIFY(bytes.contains("ADJOINT_RECOVERY_DIR"));  // the search below reads the right file
        QVERIFY(!bytes.contains("ADJOINT_TEST_SCRIPT"));
        QVERIFY(!bytes.contains("test script:"));
    }

    void killedAppOffersRecovery() {
        const QString binary = scriptedBinary();
        QVERIFY2(QFileInfo::exists(binary), qPrintable("the scripted adjoint program is not built: " + binary));
        QTemporaryDir dir;
        const QString recovery = dir.path() + "/recovery";
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("QT_QPA_PLATFORM", "offscreen");
        env.insert("ADJOINT_RECOVERY_DIR", recovery);
        env.insert("XDG_CONFIG_HOME", dir.path() + "/config");
        env.insert("ADJOINT_AUTOSAVE_DEBOUNCE_MS", "200");

        // 1. Start, edit, wait for the autosave, kill -9.
        QProcess first;
        QProcessEnvironment env1 = env;
        env1.insert("ADJOINT_TEST_SCRIPT", "add relu probe; connect h1 probe 0");
        first.setProcessEnvironment(env1);
        first.start(binary, {example("mlp.json")});
        QVERIFY2(first.waitForStarted(10000), qPrintable(first.errorString()));
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 30000 && QDir(recovery).entryList({"recovery-*.info"}, QDir::Files).isEmpty())
            QTest::qWait(50);
        QVERIFY2(!QDir(recovery).entryList({"recovery-*.info"}, QDir::Files).isEmpty(),
                 qPrintable("no autosave appeared; stderr: " + QString::fromLocal8Bit(first.readAllStandardError())));
        QTest::qWait(300);  // the edit's debounced write, after both script commands
        first.kill();  // SIGKILL: no clean exit
        QVERIFY(first.waitForFinished(10000));
        QCOMPARE(first.exitStatus(), QProcess::CrashExit);
        QVERIFY(!recoveryFiles(recovery).isEmpty());

        // 2. Start again: recovery is offered and accepted; dump what the window shows.
        QProcess second;
        QProcessEnvironment env2 = env;
        const QString dump = dir.path() + "/dump.txt";
        env2.insert("ADJOINT_RECOVERY", "accept");
        env2.insert("ADJOINT_TEST_SCRIPT", "dump " + dump + "; quit");
        second.setProcessEnvironment(env2);
        second.start(binary, {});
        QVERIFY(second.waitForStarted(10000));
        QVERIFY(second.waitForFinished(60000));
        const QString err = QString::fromLocal8Bit(second.readAllStandardError());
        QCOMPARE(second.exitStatus(), QProcess::NormalExit);
        QVERIFY2(second.exitCode() == 0, qPrintable(err));
        QVERIFY2(err.contains("offering to recover unsaved changes"), qPrintable(err));
        QVERIFY2(err.contains("recovered unsaved changes"), qPrintable(err));
        QFile f(dump);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        QVERIFY2(text.contains("%probe = relu(%h1)"), qPrintable(text));
        QVERIFY2(text.contains("modified: yes"), qPrintable(text));
        QVERIFY2(text.contains("file: " + QFileInfo(example("mlp.json")).absoluteFilePath()), qPrintable(text));
        // A clean exit leaves no recovery behind.
        QVERIFY2(recoveryFiles(recovery).isEmpty(), qPrintable(recoveryFiles(recovery).join(", ")));

        // 3. A third start finds nothing to recover.
        QProcess third;
        QProcessEnvironment env3 = env;
        env3.insert("ADJOINT_TEST_SCRIPT", "quit");
        third.setProcessEnvironment(env3);
        third.start(binary, {example("mlp.json")});
        QVERIFY(third.waitForFinished(60000));
        QVERIFY(!QString::fromLocal8Bit(third.readAllStandardError()).contains("offering"));
    }

    void killedDuringSaveKeepsTheFileAndOffersTheAutosave_data();
    void killedDuringSaveKeepsTheFileAndOffersTheAutosave();
    void killedDuringAutosaveKeepsTheLastWholeOne_data();
    void killedDuringAutosaveKeepsTheLastWholeOne();

private:
    struct ProgramRun {
        bool crashed = false;
        QString err;
    };
    /// adjoint-scripted with the kill library preloaded and `kill`'s settings ("NAME=value").
    static ProgramRun runScripted(const QTemporaryDir& dir, const QString& script, const QStringList& args, const QStringList& kill);
    /// Starts the program again, accepts the recovery offered and returns what the window shows.
    static QString dumpAfterRecovery(const QTemporaryDir& dir);
    static QProcessEnvironment environment(const QTemporaryDir& dir);
    static QByteArray readAll(const QString& path);
};

void TestAutosave::killedDuringSaveKeepsTheFileAndOffersTheAutosave_data() {
    QTest::addColumn<QString>("point");
    QTest::newRow("halfway through the write") << "write";
    QTest::newRow("before the rename") << "rename";
}

void TestAutosave::killedDuringSaveKeepsTheFileAndOffersTheAutosave() {
    QFETCH(QString, point);
    QTemporaryDir dir;
    const QString mine = dir.path() + "/mine.json";
    QVERIFY(QFile::copy(example("mlp.json"), mine));
    const QByteArray before = readAll(mine);
    // Edit, autosave, then File > Save, killed mid-write.
    const ProgramRun first = runScripted(dir, "add relu probe; connect h1 probe 0; autosave; save", {mine},
                                         {"ADJOINT_KILL_AT=" + point, "ADJOINT_KILL_MATCH=mine.json"});
    QVERIFY2(first.crashed, qPrintable("not killed: " + first.err));
    QCOMPARE(readAll(mine), before);  // the old file, whole
    // The restart offers the autosave, which has the edit.
    const QString text = dumpAfterRecovery(dir);
    QVERIFY2(text.contains("%probe = relu(%h1)"), qPrintable(text));
    QVERIFY2(text.contains("modified: yes"), qPrintable(text));
    QVERIFY2(text.contains("file: " + QFileInfo(mine).absoluteFilePath()), qPrintable(text));
    QCOMPARE(readAll(mine), before);
}

void TestAutosave::killedDuringAutosaveKeepsTheLastWholeOne_data() {
    QTest::addColumn<QString>("point");
    QTest::newRow("halfway through the write") << "write";
    QTest::newRow("before the rename") << "rename";
}

void TestAutosave::killedDuringAutosaveKeepsTheLastWholeOne() {
    QFETCH(QString, point);
    QTemporaryDir dir;
    // The first autosave (the graph and its info: two files put in place) goes through; the second
    // is killed.
    const ProgramRun first = runScripted(dir, "add relu probe; connect h1 probe 0; autosave; add sigmoid probe2; autosave",
                                         {example("mlp.json")},
                                         {"ADJOINT_KILL_AT=" + point, "ADJOINT_KILL_MATCH=/recovery/", "ADJOINT_KILL_AFTER_FILES=2"});
    QVERIFY2(first.crashed, qPrintable("not killed: " + first.err));
    const QString text = dumpAfterRecovery(dir);
    QVERIFY2(text.contains("%probe = relu(%h1)"), qPrintable(text));
    QVERIFY2(!text.contains("probe2"), qPrintable(text));
    QVERIFY2(text.contains("modified: yes"), qPrintable(text));
}

TestAutosave::ProgramRun TestAutosave::runScripted(const QTemporaryDir& dir, const QString& script, const QStringList& args,
                                                   const QStringList& kill) {
    QProcess p;
    QProcessEnvironment env = environment(dir);
    env.insert("ADJOINT_TEST_SCRIPT", script);
    env.insert("LD_PRELOAD", QStringLiteral(ADJOINT_KILL_SHIM));
    env.insert("ASAN_OPTIONS", "verify_asan_link_order=0");
    for (const QString& kv : kill) env.insert(kv.section('=', 0, 0), kv.section('=', 1));
    p.setProcessEnvironment(env);
    p.start(scriptedBinary(), args);
    ProgramRun r;
    if (!p.waitForStarted(10000) || !p.waitForFinished(60000)) {
        r.err = "did not start or finish: " + p.errorString();
        p.kill();
        p.waitForFinished(10000);
        return r;
    }
    r.err = QString::fromLocal8Bit(p.readAllStandardError());
    r.crashed = p.exitStatus() == QProcess::CrashExit;
    return r;
}

QString TestAutosave::dumpAfterRecovery(const QTemporaryDir& dir) {
    QProcess p;
    QProcessEnvironment env = environment(dir);
    const QString dump = dir.path() + "/dump.txt";
    QFile::remove(dump);
    env.insert("ADJOINT_RECOVERY", "accept");
    env.insert("ADJOINT_TEST_SCRIPT", "dump " + dump + "; quit");
    p.setProcessEnvironment(env);
    p.start(scriptedBinary(), {});
    if (!p.waitForStarted(10000) || !p.waitForFinished(60000)) return "the restart did not finish";
    const QString err = QString::fromLocal8Bit(p.readAllStandardError());
    if (!err.contains("recovered unsaved changes")) return "no recovery was offered: " + err;
    return QString::fromUtf8(readAll(dump));
}

QProcessEnvironment TestAutosave::environment(const QTemporaryDir& dir) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("QT_QPA_PLATFORM", "offscreen");
    env.insert("ADJOINT_RECOVERY_DIR", dir.path() + "/recovery");
    env.insert("XDG_CONFIG_HOME", dir.path() + "/config");
    return env;
}

QByteArray TestAutosave::readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("(cannot read " + path.toUtf8() + ")");
}

QTEST_MAIN(TestAutosave)
#include "tst_autosave.moc"
