// One Adjoint per desktop session (app/gui/single_instance.h): a later program hands its file to
// the running one and exits; with none running it says so at once and becomes the one that
// answers; a socket left by a crashed program is taken over. And the shipped program itself: a
// second `adjoint FILE` exits at once while the first keeps running.
#include <QElapsedTimer>
#include <QLocalServer>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <future>

#include "single_instance.h"

namespace {

QString uniqueKey(const char* what) {
    return QStringLiteral("adjoint-test-%1-%2").arg(what).arg(QCoreApplication::applicationPid());
}

QString example(const char* name) { return QString(ADJOINT_SOURCE_DIR) + "/resources/examples/" + name; }

}  // namespace

class TestSingleInstance : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void noneRunningAnswersAtOnce() {
        SingleInstance later(uniqueKey("none"));
        QElapsedTimer clock;
        clock.start();
        QVERIFY(!later.forwardToRunning({"/tmp/x.onnx"}));
        QVERIFY(clock.elapsed() < 1500);
    }

    void laterProgramHandsItsFileOver() {
        const QString key = uniqueKey("hand");
        SingleInstance running(key);
        QVERIFY(running.listen());
        QSignalSpy requested(&running, &SingleInstance::filesRequested);
        // the later program blocks on its answer: it runs on another thread, as it would in its process
        auto later = std::async(std::launch::async, [key] { return SingleInstance(key).forwardToRunning({"relative/model.onnx"}); });
        QTRY_COMPARE(requested.count(), 1);
        QVERIFY(later.get());
        const QStringList paths = requested.front().front().toStringList();
        QCOMPARE(paths, QStringList{QDir::current().absoluteFilePath("relative/model.onnx")});
        // no file: just come forward
        auto bare = std::async(std::launch::async, [key] { return SingleInstance(key).forwardToRunning({}); });
        QTRY_COMPARE(requested.count(), 2);
        QVERIFY(bare.get());
        QVERIFY(requested.back().front().toStringList().isEmpty());
    }

    void staleSocketIsTakenOver() {
        const QString key = uniqueKey("stale");
        {
            // a crashed program leaves its socket file; QLocalServer's destructor would remove it,
            // so make one by hand where Qt keeps them
            QLocalServer crashed;
            QVERIFY(crashed.listen(key));
            const QString file = crashed.fullServerName();
            crashed.close();
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));  // a leftover file where the socket was
        }
        SingleInstance fresh(key);
        QVERIFY(!fresh.forwardToRunning({}, 500));
        QVERIFY(fresh.listen());
    }

    void secondProgramExitsWhileTheFirstRuns() {
        QTemporaryDir dir;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("QT_QPA_PLATFORM", "offscreen");
        env.insert("ADJOINT_INSTANCE_KEY", uniqueKey("program"));
        env.insert("ADJOINT_RECOVERY_DIR", dir.path() + "/recovery");
        env.insert("XDG_CONFIG_HOME", dir.path() + "/config");
        env.remove("ADJOINT_SEPARATE");
        QProcess first;
        first.setProcessEnvironment(env);
        first.start(QStringLiteral(ADJOINT_GUI_BINARY), {example("mlp.json")});
        QVERIFY(first.waitForStarted(10000));
        // wait until it answers
        QElapsedTimer clock;
        clock.start();
        bool answering = false;
        while (!answering && clock.elapsed() < 30000) {
            answering = SingleInstance(uniqueKey("program")).forwardToRunning({}, 500);
            if (!answering) QTest::qWait(100);
        }
        QVERIFY2(answering, qPrintable(QString::fromLocal8Bit(first.readAllStandardError())));
        QProcess second;
        second.setProcessEnvironment(env);
        second.start(QStringLiteral(ADJOINT_GUI_BINARY), {example("spirals_mlp.json")});
        QVERIFY(second.waitForFinished(20000));
        QCOMPARE(second.exitStatus(), QProcess::NormalExit);
        QCOMPARE(second.exitCode(), 0);
        QCOMPARE(first.state(), QProcess::Running);  // and still there, now with two windows
        // --separate: a program of its own, which runs until closed
        QProcess separate;
        separate.setProcessEnvironment(env);
        separate.start(QStringLiteral(ADJOINT_GUI_BINARY), {"--separate", example("spirals_mlp.json")});
        QVERIFY(separate.waitForStarted(10000));
        QVERIFY(!separate.waitForFinished(3000));
        separate.kill();
        QVERIFY(separate.waitForFinished(10000));
        first.kill();
        QVERIFY(first.waitForFinished(10000));
    }
};

QTEST_MAIN(TestSingleInstance)
#include "tst_single_instance.moc"
