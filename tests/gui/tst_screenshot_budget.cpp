// adjoint --screenshot OUT.png --timeout S: a run that would take longer (here the backward graph
// of a 2,400-node graph, laid out by Graphviz, which cannot be interrupted) stops with an error
// and exit status 1 and writes no picture; a run within its budget writes its picture; a bad
// budget is a usage error (exit 2).
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QtTest>

#include "io/json_format.h"
#include "test_support.h"

namespace {
struct Run {
    int exitCode = -1;
    QString err;
};
Run runAdjoint(const QStringList& args) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("QT_QPA_PLATFORM", "offscreen");
    env.insert("XDG_CONFIG_HOME", QString::fromStdString(adj::test::tempDir()));
    env.insert("XDG_CACHE_HOME", QString::fromStdString(adj::test::tempDir()));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(ADJOINT_GUI_BINARY), args);
    Run r;
    if (!p.waitForStarted(10000) || !p.waitForFinished(300000)) return r;
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}
}  // namespace

class TestScreenshotBudget : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void aLongRunStopsAtItsBudget() {
        const std::string dir = adj::test::tempDir();
        adj::saveGraphJson(adj::test::blockChain(300), dir + "/large.json");
        const QString shot = QString::fromStdString(dir + "/large.png");
        const Run r = runAdjoint({"--view", "autodiff", "--screenshot", shot, "--timeout", "2", QString::fromStdString(dir + "/large.json")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("adjoint: error: the screenshot did not finish within its time budget of 2 s (--timeout)"), qPrintable(r.err));
        QVERIFY(!QFile::exists(shot));
    }

    void aRunWithinItsBudgetWritesItsPicture() {
        const QString shot = QString::fromStdString(adj::test::tempDir()) + "/mlp.png";
        const Run r = runAdjoint({"--screenshot", shot, "--timeout", "120", QString::fromStdString(adj::test::sourcePath("resources/examples/mlp.json"))});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(QImage(shot).width() > 100);
    }

    void aBadBudgetIsAUsageError() {
        const Run r = runAdjoint({"--screenshot", "x.png", "--timeout", "soon", QString::fromStdString(adj::test::sourcePath("resources/examples/mlp.json"))});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--timeout takes a positive number of seconds"), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestScreenshotBudget)
#include "tst_screenshot_budget.moc"
