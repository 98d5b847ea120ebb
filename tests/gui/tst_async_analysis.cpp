// The analysis views compute off the GUI thread: while an analysis waits for its worker the
// window goes on (its timers fire, the view says it is computing), and the result arrives once a
// worker has it; a request superseded by a newer one is never applied; an analysis that fails on
// the worker reaches the user as a message, without a crash. The tests assert that order of
// events, not wall times: how long the window is held at worst (while a 5,602-node graph is
// analysed, and while the result is applied) is a figure of bench/bench_responsiveness.
#include <QFile>
#include <QScopeGuard>
#include <QThreadPool>
#include <QLabel>
#include <QMainWindow>
#include <QMenu>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTimer>
#include <QtTest>
#include <algorithm>
#include <functional>
#include <memory>
#include <utility>

#include "analysis_panels.h"
#include "async_analysis.h"
#include "autodiff_view.h"
#include "canvas_overlays.h"
#include "fusion_panel.h"
#include "graph_document.h"
#include "graph_view.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"
#include "rewrite_timeline.h"
#include "passes/trace_replay.h"
#include "roofline_chart.h"
#include "gui_test_support.h"
#include "test_support.h"

using namespace adj;

namespace {
// A graph whose verifier fails on the worker: a matmul of incompatible shapes.
Graph invalidGraph() {
    Graph g;
    const NodeId a = g.addInput("a", {2, 3});
    g.addOutput("y", {g.addNode(Op::MatMul, {{a, 0}, {a, 0}}, {}, "bad_mm"), 0});
    return g;
}

bool waitLayout(GraphView* view) { return test::waitForLayout(*view, 120000); }
}  // namespace

using test::PoolGate;
using test::timerFires;

class TestAsyncAnalysis : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qputenv("XDG_CACHE_HOME", QByteArray::fromStdString(test::tempDir())); }

    void helperDropsStaleResults() {
        std::vector<int> applied;
        QStringList failures;
        AsyncAnalysis<int> a([&](int&& v) { applied.push_back(v); }, [&](const QString& m) { failures << m; });
        // Three requests in a row: only the last one's result is applied.
        for (int v : {1, 2, 3})
            a.start([v] {
                QThread::msleep(30);
                return v;
            });
        QVERIFY(a.isBusy());
        QTRY_VERIFY(!a.isBusy());
        QTest::qWait(100);
        QCOMPARE(applied, std::vector<int>{3});
        QVERIFY(failures.isEmpty());
        // An exception on the worker arrives as a message.
        a.start([]() -> int { throw std::runtime_error("worker says no"); });
        QTRY_VERIFY(!a.isBusy());
        QCOMPARE(failures, QStringList{QStringLiteral("worker says no")});
        // cancel() drops a pending result.
        a.start([] {
            QThread::msleep(30);
            return 4;
        });
        a.cancel();
        QTest::qWait(150);
        QCOMPARE(applied, std::vector<int>{3});
        QCOMPARE(a.appliedCount(), 1);
        // runNow applies at once and supersedes a pending request.
        a.start([] {
            QThread::msleep(30);
            return 5;
        });
        QVERIFY(a.runNow([] { return 6; }));
        QTest::qWait(150);
        QCOMPARE(applied, (std::vector<int>{3, 6}));
    }

    // (1) Each view computes on a worker: while the analysis of a large graph waits for one, the
    // window's timers fire and the view says it is computing; the result comes once a worker runs it.
    void computesOnAWorker_data() {
        QTest::addColumn<QString>("view");
        for (const char* v : {"rewrite", "fusion", "autodiff", "roofline"}) QTest::newRow(v) << v;
    }
    void computesOnAWorker() {
        QFETCH(QString, view);
        const auto graph = std::make_shared<const Graph>(test::blockChain(200));
        const MachineModel machine = machineModel();

        test::AnalysisViewSet views;
        auto workers = std::make_unique<PoolGate>(analysisThreadPool());
        GraphView* canvas = views.request(view.toStdString(), graph, machine);
        auto computing = [&] { return views.isComputing(view.toStdString()); };
        QVERIFY(computing());
        QVERIFY2(timerFires(10), "the window's timers stopped while the analysis waited for a worker");
        QVERIFY(computing());
        // When the result starts its canvas layout, hold the layout pool so that the layout waits
        // there and is cancelled below: Graphviz takes a long time on graphs this size, and that
        // layout (itself off the GUI thread) is not what this test is about.
        std::unique_ptr<PoolGate> layouts;
        if (canvas)
            connect(canvas, &GraphView::layoutStarted, canvas, [&layouts] {
                if (!layouts) layouts = std::make_unique<PoolGate>(GraphView::layoutThreadPool());
            });
        workers.reset();
        QVERIFY2(QTest::qWaitFor([&] { return !computing(); }, 120000), "the analysis did not finish in 2 minutes");
        if (view == QLatin1String("rewrite")) {
            QCOMPARE(views.rewrite.appliedCount(), 1);
            QCOMPARE(views.rewrite.currentStep(), RewriteTimeline::busiestStep(*views.rewrite.trace()));
        }
        if (view == QLatin1String("fusion")) QVERIFY(views.fusion.groupCount() > 0);
        if (view == QLatin1String("autodiff")) QVERIFY(views.autodiff.hasAnalysis());
        if (view == QLatin1String("roofline")) QVERIFY(!views.roofline.dots().empty());
        if (canvas) canvas->clearGraph();  // cancels the pending layout
        views.autodiff.clear();             // and the finite-difference comparison
        layouts.reset();
        GraphView::layoutThreadPool()->waitForDone();
        analysisThreadPool()->waitForDone();
    }

    // The machine model is measured once, on a worker, on first use: the roofline waits for it,
    // the window does not (it was measured on the GUI thread before).
    void machineModelIsMeasuredOnAWorker() {
        const QByteArray oldCache = qgetenv("XDG_CACHE_HOME");
        const auto restore = qScopeGuard([&] { qputenv("XDG_CACHE_HOME", oldCache); });
        qputenv("XDG_CACHE_HOME", QByteArray::fromStdString(test::tempDir()));  // cold: no cached model
        const QString cache = QString::fromStdString(machineCachePath());
        QVERIFY(!QFile::exists(cache));
        test::AnalysisWindow harness;
        QMainWindow& window = harness.window;
        GraphView* canvas = harness.canvas;
        QString error;
        QVERIFY2(harness.openExample("mlp", &error), qPrintable(error));
        AnalysisPanels* panels = harness.installPanels();
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(waitLayout(canvas));
        QSignalSpy ready(panels, &AnalysisPanels::viewReady);
        auto workers = std::make_unique<PoolGate>(analysisThreadPool());
        QVERIFY2(panels->showView(QStringLiteral("roofline"), &error), qPrintable(error));
        RooflineChart* chart = panels->rooflineChart();
        QVERIFY(chart->isComputing());
        QVERIFY2(timerFires(10), "the window's timers stopped while the roofline waited for a worker");
        QVERIFY2(!QFile::exists(cache), "the machine model was measured before a worker ran");
        workers.reset();
        QVERIFY(QTest::qWaitFor([chart] { return !chart->isComputing(); }, 60000));
        QVERIFY(!chart->dots().empty());
        QVERIFY2(QFile::exists(cache), qPrintable(cache));
        QVERIFY(ready.count() == 1 || ready.wait(10000));
        // The bound colouring uses the same measurement.
        panels->setColouring(AnalysisPanels::Colouring::Bound);
        QTRY_VERIFY_WITH_TIMEOUT(!panels->isColouringPending(), 30000);
        QVERIFY(waitLayout(canvas));
        int filled = 0;
        for (GraphNodeItem* item : canvas->graphScene()->nodeItems()) filled += item->fillOverride().isValid();
        QVERIFY(filled > 0);
    }

    // (2) Request on graph A, then at once on graph B: the view ends showing B and never showed A.
    void staleResultIsDropped() {
        const auto a = std::make_shared<const Graph>(test::blockChain(60, "a"));
        const auto b = std::make_shared<const Graph>(test::blockChain(3, "b"));
        auto showsB = [](const Graph& g) { return g.findNode("mm_b0").has_value() && !g.findNode("mm_a0").has_value(); };

        FusionPanel fusion;
        QSignalSpy fusionChanged(&fusion, &FusionPanel::analysisChanged);
        fusion.request(a);
        fusion.request(b);
        QTRY_VERIFY_WITH_TIMEOUT(!fusion.isComputing(), 60000);
        QTest::qWait(200);
        QCOMPARE(fusion.appliedCount(), 1);
        QCOMPARE(fusionChanged.count(), 1);
        QVERIFY(fusion.analysis() && showsB(fusion.analysis()->graph));

        AutodiffView autodiff(nullptr);
        QSignalSpy autodiffChanged(&autodiff, &AutodiffView::analysisChanged);
        autodiff.requestBackwardOf(a);
        autodiff.requestBackwardOf(b);
        QTRY_VERIFY_WITH_TIMEOUT(!autodiff.isComputing(), 60000);
        QTest::qWait(200);
        QCOMPARE(autodiff.appliedCount(), 1);
        QCOMPARE(autodiffChanged.count(), 1);
        QVERIFY(autodiff.analysis() && showsB(autodiff.analysis()->forward));

        RewriteTimeline rewrite;
        QSignalSpy traceChanged(&rewrite, &RewriteTimeline::traceChanged);
        rewrite.request(a);
        rewrite.request(b);
        QTRY_VERIFY_WITH_TIMEOUT(!rewrite.isComputing(), 60000);
        QTest::qWait(200);
        QCOMPARE(rewrite.appliedCount(), 1);
        QCOMPARE(traceChanged.count(), 1);
        QVERIFY(rewrite.graph() && showsB(*rewrite.graph()));
        QVERIFY(rewrite.trace() && showsB(replayInitialGraph(*rewrite.trace())));

        const MachineModel m = machineModel();
        RooflineChart roofline;
        QSignalSpy dotsChanged(&roofline, &RooflineChart::dotsChanged);
        roofline.request(a, [m] { return m; });
        roofline.request(b, [m] { return m; });
        QTRY_VERIFY_WITH_TIMEOUT(!roofline.isComputing(), 60000);
        QTest::qWait(200);
        QCOMPARE(roofline.appliedCount(), 1);
        QCOMPARE(dotsChanged.count(), 1);
        QVERIFY(!roofline.dots().empty());
        for (const RooflineDot& d : roofline.dots()) QVERIFY2(d.label.contains(QStringLiteral("_b")) || d.label.startsWith(QStringLiteral("loss")), qPrintable(d.label));

        for (GraphView* v : {fusion.view(), autodiff.backwardView(), rewrite.view()}) QVERIFY(waitLayout(v));
    }

    // Gradient of gradient on a worker: from the shown analysis, or a failure message when none.
    void gradientOfGradientOnAWorker() {
        AutodiffView view(nullptr);
        QSignalSpy failed(&view, &AutodiffView::failed);
        view.requestGradientOfGradient();
        QCOMPARE(failed.count(), 1);
        QVERIFY(failed.front().front().toString().contains(QStringLiteral("no backward graph")));
        view.requestBackwardOf(test::blockChain(1));
        QVERIFY(view.isComputing());
        QTRY_VERIFY_WITH_TIMEOUT(!view.isComputing(), 60000);
        QVERIFY(view.hasAnalysis());
        QCOMPARE(view.analysis()->order, 1);
        const std::size_t firstNodes = view.analysis()->backward.graph.nodeCount();
        view.requestGradientOfGradient();
        QTRY_VERIFY_WITH_TIMEOUT(!view.isComputing(), 60000);
        QCOMPARE(view.analysis()->order, 2);
        QVERIFY(view.analysis()->backward.graph.nodeCount() > firstNodes);
        // Straight to order 2 (the menu's "Gradient of gradient" before any backward graph).
        view.requestBackwardOf(test::blockChain(1), 2);
        QTRY_VERIFY_WITH_TIMEOUT(!view.isComputing(), 60000);
        QCOMPARE(view.analysis()->order, 2);
        QCOMPARE(failed.count(), 1);
        QVERIFY(waitLayout(view.backwardView()));
    }

    // A document edit while the view computes: the result for the old graph is dropped, the
    // view shows the edited graph, and viewReady comes once, for the drawing of the new one.
    void documentChangeSupersedesThePendingResult() {
        test::AnalysisWindow harness;
        QMainWindow& window = harness.window;
        GraphDocument& document = harness.document;
        GraphView* canvas = harness.canvas;
        document.setGraph(test::blockChain(60, "a"));
        AnalysisPanels* panels = harness.installPanels();
        window.show();
        QSignalSpy ready(panels, &AnalysisPanels::viewReady);
        QString error;
        QVERIFY2(panels->showView(QStringLiteral("fusion"), &error), qPrintable(error));
        // An edit arrives before A's result is applied (the panels would refresh after a
        // debounce; refresh now so that A's result cannot be drawn first).
        document.setGraph(test::blockChain(3, "b"));
        panels->refresh();
        QVERIFY(ready.wait(120000));
        QCOMPARE(ready.count(), 1);
        QCOMPARE(ready.front().front().toString(), QStringLiteral("fusion"));
        QTRY_VERIFY_WITH_TIMEOUT(!panels->fusionPanel()->isComputing(), 60000);
        QVERIFY(panels->fusionPanel()->analysis());
        QVERIFY(panels->fusionPanel()->analysis()->graph.findNode("mm_b0").has_value());
        QVERIFY(waitLayout(panels->fusionPanel()->view()));
        QVERIFY(waitLayout(canvas));
    }

    // (3) An analysis that fails on the worker reaches the user as a message; nothing crashes.
    void workerErrorReachesTheUser_data() {
        QTest::addColumn<QString>("view");
        for (const char* v : {"autodiff", "rewrite", "fusion", "roofline", "partition"}) QTest::newRow(v) << v;
    }
    void workerErrorReachesTheUser() {
        QFETCH(QString, view);
        test::AnalysisWindow harness;
        QMainWindow& window = harness.window;
        GraphDocument& document = harness.document;
        GraphView* canvas = harness.canvas;
        document.setGraph(invalidGraph());
        AnalysisPanels* panels = harness.installPanels();
        window.show();
        QSignalSpy failed(panels, &AnalysisPanels::viewFailed);
        QSignalSpy ready(panels, &AnalysisPanels::viewReady);
        QString error;
        // The request starts; the verifier's complaint comes back from the worker.
        QVERIFY2(panels->showView(view, &error), qPrintable(error));
        QVERIFY(failed.count() == 1 || failed.wait(60000));
        QCOMPARE(failed.front().at(0).toString(), view);
        const QString message = failed.front().at(1).toString();
        QVERIFY2(message.contains(QStringLiteral("bad_mm")), qPrintable(message));
        QCOMPARE(window.statusBar()->currentMessage(), message);
        QTest::qWait(100);
        QCOMPARE(ready.count(), 0);
        // The view shows the failure too.
        if (view == QLatin1String("autodiff")) QVERIFY(!panels->autodiffView()->hasAnalysis());
        if (view == QLatin1String("rewrite")) {
            QCOMPARE(panels->rewriteTimeline()->stepCount(), 0);
            QVERIFY(panels->rewriteTimeline()->stepText().contains(QStringLiteral("bad_mm")));
        }
        if (view == QLatin1String("fusion")) QCOMPARE(panels->fusionPanel()->groupCount(), 0);
        if (view == QLatin1String("roofline")) QVERIFY(panels->rooflineChart()->dots().empty());
        // Colouring an invalid graph: no crash, the canvas keeps its colours.
        panels->setColouring(AnalysisPanels::Colouring::Bound);
        QTRY_VERIFY_WITH_TIMEOUT(!panels->isColouringPending(), 60000);
        QVERIFY(waitLayout(canvas));
    }
};

QTEST_MAIN(TestAsyncAnalysis)
#include "tst_async_analysis.moc"
