// adjoint --screenshot OUT.png --timeout S: a run that would take longer stops with an error and
// exit status 1 and writes no picture; a drawing far beyond what Graphviz lays out in seconds is
// drawn by the layered layout instead (io/layered_layout.h) and written at once; a run within its
// budget writes its picture; a bad budget is a usage error (exit 2).
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
        // (the picture is taken 300 ms after the drawing is on screen: 0.2 s is never enough)
        const auto r = runAdjoint({"--screenshot", shot, "--timeout", "0.2", QString::fromStdString(dir + "/large.json")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("adjoint: error: the screenshot did not finish within its time budget of 0.2 s (--timeout)"), qPrintable(r.err));
        QVERIFY(!QFile::exists(shot));
    }

    // A 1,500-block chain (10,500 nodes) needs more placements than Graphviz makes in minutes: the
    // canvas draws it with the layered layout, and the picture is written (the guard of 240 s only
    // stops a runaway; it takes seconds).
    void aDrawingBeyondGraphvizIsDrawnByTheLayeredLayout() {
        const std::string dir = adj::test::tempDir();
        adj::saveGraphJson(adj::test::blockChain(1500), dir + "/huge.json");
        const QString shot = QString::fromStdString(dir + "/huge.png");
        const auto r = runAdjoint({"--screenshot", shot, "--timeout", "240", QString::fromStdString(dir + "/huge.json")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(QImage(shot).width() > 100);
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
