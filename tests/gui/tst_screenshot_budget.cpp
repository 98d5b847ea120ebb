// adjoint --screenshot OUT.png --timeout S: a run that would take longer (here the backward graph
// of a 2,400-node graph, laid out by Graphviz, which cannot be interrupted) stops with an error
// and exit status 1 and writes no picture; a run within its budget writes its picture; a bad
// budget is a usage error (exit 2).
#include <QFile>
#include <QImage>
#include <QtTest>

#include "io/json_format.h"
#include "test_support.h"

namespace {
adj::test::CliResult runAdjoint(const QStringList& args) {
    const QString scratch = QString::fromStdString(adj::test::tempDir());
    return adj::test::runProgram(QStringLiteral(ADJOINT_GUI_BINARY), args,
                                 {"QT_QPA_PLATFORM=offscreen", "XDG_CONFIG_HOME=" + scratch, "XDG_CACHE_HOME=" + scratch}, {}, 300000);
}
}  // namespace

class TestScreenshotBudget : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void aLongRunStopsAtItsBudget() {
        const std::string dir = adj::test::tempDir();
        adj::saveGraphJson(adj::test::blockChain(300), dir + "/large.json");
        const QString shot = QString::fromStdString(dir + "/large.png");
        const auto r = runAdjoint({"--view", "autodiff", "--screenshot", shot, "--timeout", "2", QString::fromStdString(dir + "/large.json")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("adjoint: error: the screenshot did not finish within its time budget of 2 s (--timeout)"), qPrintable(r.err));
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
