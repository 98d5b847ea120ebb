// The analysis views compute off the GUI thread: while a large graph is analysed a 5 ms
// timer keeps ticking (its largest gap is measured against what the same computation costs on the
// GUI thread); a request superseded by a newer one is never applied; an analysis that fails on
// the worker reaches the user as a message, without a crash.
#include <QElapsedTimer>
#include <QFile>
#include <QScopeGuard>
#include <QSemaphore>
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
#include "rewrite_timeline_replay.h"
#include "roofline_chart.h"
#include "gui_test_support.h"
#include "test_support.h"

using namespace adj;

namespace {
// A deep MLP-like chain: per block a weight, a bias, matmul, add, tanh and an elementwise tail
// (mul by itself, sub) that fusion groups: 7 nodes a block.
Graph largeGraph(int blocks, const std::string& prefix = "b") {
    Graph g;
    constexpr std::int64_t kWidth = 8;
    ValueRef h{g.addInput("x", {2, kWidth}), 0};
    for (int i = 0; i < blocks; ++i) {
        const std::string k = prefix + std::to_string(i);
        const NodeId w = g.addParameter("w_" + k, Tensor::full({kWidth, kWidth}, 0.01f * float(i % 7 + 1)));
        const NodeId b = g.addParameter("bias_" + k, Tensor::full({kWidth}, 0.1f));
        const NodeId mm = g.addNode(Op::MatMul, {h, {w, 0}}, {}, "mm_" + k);
        const NodeId add = g.addNode(Op::Add, {{mm, 0}, {b, 0}}, {}, "add_" + k);
        const NodeId act = g.addNode(Op::Tanh, {{add, 0}}, {}, "tanh_" + k);
        const NodeId sq = g.addNode(Op::Mul, {{act, 0}, {act, 0}}, {}, "sq_" + k);
        const NodeId sub = g.addNode(Op::Sub, {{act, 0}, {sq, 0}}, {}, "sub_" + k);
        h = {sub, 0};
    }
    g.addOutput("loss", {g.addNode(Op::Sum, {h}, {}, "loss"), 0});
    const auto problems = verifyGraph(g);
    if (!problems.empty()) qFatal("largeGraph does not verify: %s", problems.front().message.c_str());
    return g;
}

// A graph whose verifier fails on the worker: a matmul of incompatible shapes.
Graph invalidGraph() {
    Graph g;
    const NodeId a = g.addInput("a", {2, 3});
    g.addOutput("y", {g.addNode(Op::MatMul, {{a, 0}, {a, 0}}, {}, "bad_mm"), 0});
    return g;
}

// The largest gap between the ticks of a 5 ms timer while `busy` holds (at most `limitMs`).
struct GapProbe {
    qint64 maxGap = 0;
    qint64 elapsed = 0;
    int ticks = 0;
};
// The probe goes on for `tailMs` after `busy` ends, so that the apply on the GUI thread counts.
GapProbe measureWhile(const std::function<bool()>& busy, int limitMs, int tailMs = 100) {
    GapProbe p;
    QElapsedTimer clock;
    qint64 last = 0;
    QTimer ticker;
    ticker.setInterval(5);
    ticker.setTimerType(Qt::PreciseTimer);
    QObject::connect(&ticker, &QTimer::timeout, [&] {
        const qint64 now = clock.elapsed();
        p.maxGap = std::max(p.maxGap, now - last);
        last = now;
        ++p.ticks;
    });
    clock.start();
    ticker.start();
    while (busy() && clock.elapsed() < limitMs) QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    p.elapsed = clock.elapsed();
    const qint64 end = clock.elapsed() + tailMs;
    while (clock.elapsed() < end) QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    ticker.stop();
    return p;
}

// The largest gap allowed while an analysis computes on a worker. Measured on a 2-core machine
// shared with a compiler: 5-20 ms typical, rare spikes to ~40 ms from the other worker's memory
// traffic (see the report printed by the test).
constexpr qint64 kMaxGapMs = 100;

bool waitLayout(GraphView* view) { return test::waitForLayout(*view, 120000); }
}  // namespace

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

    // (1) The window stays responsive while a large graph is analysed, for each view.
    void staysResponsive_data() {
        QTest::addColumn<QString>("view");
        for (const char* v : {"rewrite", "fusion", "autodiff", "roofline"}) QTest::newRow(v) << v;
    }
    void staysResponsive() {
        QFETCH(QString, view);
        const int blocks = qEnvironmentVariableIntValue("ADJOINT_ASYNC_BLOCKS") > 0 ? qEnvironmentVariableIntValue("ADJOINT_ASYNC_BLOCKS")
                                                                                      : 800;
        const auto graph = std::make_shared<const Graph>(largeGraph(blocks));
        const MachineModel machine = machineModel();

        // What the same analysis cost on the GUI thread before (it ran there, synchronously).
        QElapsedTimer clock;
        clock.start();
        if (view == QLatin1String("rewrite")) {
            Graph copy = *graph;
            RewriteTrace trace;
            OptimizeOptions options;
            options.trace = &trace;
            optimizeGraph(copy, options);
            QVERIFY(!trace.steps.empty());
            replayTo(trace, RewriteTimeline::busiestStep(trace) - 1);
        } else if (view == QLatin1String("fusion")) {
            QVERIFY(!analyseFusion(*graph).groups.empty());
        } else if (view == QLatin1String("autodiff")) {
            QVERIFY(analyseAutodiff(*graph).backward.graph.nodeCount() > graph->nodeCount());
        } else {
            Graph copy = *graph;
            verifyGraph(copy);
            QVERIFY(!rooflineDots(copy, machine).empty());
        }
        const qint64 syncMs = clock.elapsed();

        // The same analysis through the view, off the GUI thread.
        RewriteTimeline rewrite;
        FusionPanel fusion;
        AutodiffView autodiff(nullptr);
        RooflineChart roofline;
        std::function<bool()> computing;
        GraphView* canvas = nullptr;
        if (view == QLatin1String("rewrite")) {
            rewrite.request(graph, RewriteTimeline::StartAt::BusiestStep);
            computing = [&] { return rewrite.isComputing(); };
            canvas = rewrite.view();
        } else if (view == QLatin1String("fusion")) {
            fusion.request(graph);
            computing = [&] { return fusion.isComputing(); };
            canvas = fusion.view();
        } else if (view == QLatin1String("autodiff")) {
            autodiff.requestBackwardOf(graph);
            computing = [&] { return autodiff.isComputing(); };
            canvas = autodiff.backwardView();
        } else {
            roofline.request(graph, [machine] { return machine; });
            computing = [&] { return roofline.isComputing(); };
        }
        QVERIFY(computing());
        // When the result starts its canvas layout, hold every worker so that the layout waits in
        // the pool and is cancelled below: Graphviz takes minutes on graphs this size, and that
        // layout (itself off the GUI thread) is not what this test measures.
        QThreadPool* layouts = GraphView::layoutThreadPool();
        const int threads = layouts->maxThreadCount();
        auto gate = std::make_shared<QSemaphore>();
        int held = 0;
        const auto releaseGate = qScopeGuard([&] { gate->release(std::exchange(held, 0)); });
        if (canvas)
            connect(canvas, &GraphView::layoutStarted, canvas, [&held, gate, threads, layouts] {
                if (held) return;
                held = threads;
                for (int i = 0; i < threads; ++i) layouts->start([gate] { gate->acquire(); });
            });
        const GapProbe p = measureWhile(computing, 120000);
        QVERIFY2(!computing(), "the analysis did not finish in 2 minutes");
        qInfo("%s of %zu nodes: on the GUI thread %lld ms; async %lld ms, %d ticks of 5 ms, largest gap %lld ms", qPrintable(view),
              graph->nodeCount(), syncMs, p.elapsed, p.ticks, p.maxGap);
        QVERIFY2(p.maxGap < kMaxGapMs, qPrintable(QStringLiteral("event loop stalled %1 ms").arg(p.maxGap)));
        if (view == QLatin1String("rewrite")) {
            QCOMPARE(rewrite.appliedCount(), 1);
            QCOMPARE(rewrite.currentStep(), RewriteTimeline::busiestStep(*rewrite.trace()));
        }
        if (view == QLatin1String("fusion")) QVERIFY(fusion.groupCount() > 0);
        if (view == QLatin1String("autodiff")) QVERIFY(autodiff.hasAnalysis());
        if (view == QLatin1String("roofline")) QVERIFY(!roofline.dots().empty());
        if (canvas) canvas->clearGraph();  // cancels the pending layout
        autodiff.clear();                   // and the finite-difference comparison
        gate->release(std::exchange(held, 0));
        layouts->waitForDone();
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
        QElapsedTimer clock;
        clock.start();
        calibrateMachine();
        const qint64 calibrateMs = clock.elapsed();

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
        QVERIFY2(panels->showView(QStringLiteral("roofline"), &error), qPrintable(error));
        RooflineChart* chart = panels->rooflineChart();
        QVERIFY(chart->isComputing());
        const GapProbe p = measureWhile([chart] { return chart->isComputing(); }, 60000);
        qInfo("machine model: calibration on the GUI thread %lld ms; roofline with a cold model async %lld ms, largest gap %lld ms",
              calibrateMs, p.elapsed, p.maxGap);
        QVERIFY2(p.maxGap < kMaxGapMs, qPrintable(QStringLiteral("event loop stalled %1 ms").arg(p.maxGap)));
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
        const auto a = std::make_shared<const Graph>(largeGraph(60, "a"));
        const auto b = std::make_shared<const Graph>(largeGraph(3, "b"));
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
        view.requestBackwardOf(largeGraph(1));
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
        view.requestBackwardOf(largeGraph(1), 2);
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
        document.setGraph(largeGraph(60, "a"));
        AnalysisPanels* panels = harness.installPanels();
        window.show();
        QSignalSpy ready(panels, &AnalysisPanels::viewReady);
        QString error;
        QVERIFY2(panels->showView(QStringLiteral("fusion"), &error), qPrintable(error));
        // An edit arrives before A's result is applied (the panels would refresh after a
        // debounce; refresh now so that A's result cannot be drawn first).
        document.setGraph(largeGraph(3, "b"));
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
        for (const char* v : {"autodiff", "rewrite", "fusion", "roofline"}) QTest::newRow(v) << v;
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
