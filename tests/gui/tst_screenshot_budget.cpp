// adjoint --screenshot OUT.png --timeout S: a run that would take longer (here the layout of a
// 2,100-node graph by Graphviz, which cannot be interrupted) stops with an error and exit status 1
// and writes no picture; a drawing over a canvas's layout budget fails at once, naming the budget;
// a run within its budget writes its picture; a bad budget is a usage error (exit 2).
#include <QFile>
#include <QImage>
#include <QtTest>

#include "io/json_format.h"
#include "test_support.h"

namespace {
adj::test::CliResult runAdjoint(const QStringList& args) {
    const QString scratch = QString::fromStdString(adj::test::tempDir());
    return adj::test::runProgram(QStringLiteral(ADJOINT_GUI_BINARY), args,
                                 {"QT_QPA_PLATFORM=offscreen", "XDG_CONFIG_HOME=" + scratch, "XDG_CACHE_HOME=" + scratch}, {}, 540000);
}
}  // namespace

class TestScreenshotBudget : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void aLongRunStopsAtItsBudget() {
        const std::string dir = adj::test::tempDir();
        adj::saveGraphJson(adj::test::blockChain(300), dir + "/large.json");
        const QString shot = QString::fromStdString(dir + "/large.png");
        const auto r = runAdjoint({"--screenshot", shot, "--timeout", "1", QString::fromStdString(dir + "/large.json")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("adjoint: error: the screenshot did not finish within its time budget of 1 s (--timeout)"), qPrintable(r.err));
        QVERIFY(!QFile::exists(shot));
    }

    // A 1,500-block chain (10,500 nodes, and its backward graph more) needs more placements than
    // a canvas's budget even without edge labels: the window says so, naming the budget, instead
    // of spending minutes and gigabytes in Graphviz. (The view opens once the main canvas has
    // laid out the forward graph, which is within its budget: about 50 s of Graphviz on a quiet
    // core, four times that beside busy loops and builds. --timeout and the wait only guard
    // against a runaway: they are far above that, and QTEST_FUNCTION_TIMEOUT above them.)
    void aDrawingOverTheLayoutBudgetFailsAtOnce() {
        const std::string dir = adj::test::tempDir();
        adj::saveGraphJson(adj::test::blockChain(1500), dir + "/huge.json");
        const QString shot = QString::fromStdString(dir + "/huge.png");
        const auto r = runAdjoint({"--view", "autodiff", "--screenshot", shot, "--timeout", "480", QString::fromStdString(dir + "/huge.json")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("too large to lay out") && r.err.contains("over the budget of 25000"), qPrintable(r.err));
        QVERIFY(!QFile::exists(shot));
    }

    void aRunWithinItsBudgetWritesItsPicture() {
        const QString shot = QString::fromStdString(adj::test::tempDir()) + "/mlp.png";
        const auto r = runAdjoint({"--screenshot", shot, "--timeout", "120", QString::fromStdString(adj::test::sourcePath("resources/examples/mlp.json"))});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(QImage(shot).width() > 100);
    }

    void aBadBudgetIsAUsageError() {
        const auto r = runAdjoint({"--screenshot", "x.png", "--timeout", "soon", QString::fromStdString(adj::test::sourcePath("resources/examples/mlp.json"))});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--timeout takes a positive number of seconds"), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestScreenshotBudget)
#include "tst_screenshot_budget.moc"
