// How long the window is held at worst: the largest gap between the ticks of a 5 ms timer on the
// GUI thread (a) while each analysis view computes a large graph on its worker and applies the
// result, against the same analysis run on the GUI thread; (b) while the training dashboard
// trains spirals, with the dashboard's curve and boundary updates a second. The tests assert only
// the order of these events (tst_async_analysis, tst_training_liveness); the figures are here.
//
//   QT_QPA_PLATFORM=offscreen build/bench/bench_responsiveness [--rounds N] [--blocks B]
//
// Rounds are interleaved (every view, then training, then again); each figure is the median over
// the rounds, with the worst round beside it.
#include <QApplication>
#include <QElapsedTimer>
#include <QPushButton>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "async_analysis.h"
#include "base/median.h"
#include "autodiff_view.h"
#include "canvas_overlays.h"
#include "fusion_panel.h"
#include "graph_view.h"
#include "gui_test_support.h"
#include "io/json_format.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"
#include "rewrite_timeline.h"
#include "passes/trace_replay.h"
#include "roofline_chart.h"
#include "test_support.h"
#include "training_controller.h"
#include "training_dashboard.h"

using namespace adj;

namespace {

// The largest gap between the ticks of a 5 ms timer while `busy` holds, and `tailMs` after (so
// that applying the result on the GUI thread counts).
struct GapProbe {
    qint64 maxGap = 0;
    qint64 elapsed = 0;
};
GapProbe measureWhile(const std::function<bool()>& busy, int tailMs = 100) {
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
    });
    clock.start();
    ticker.start();
    while (busy()) QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    p.elapsed = clock.elapsed();
    const qint64 end = clock.elapsed() + tailMs;
    while (clock.elapsed() < end) QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    return p;
}

// The same analysis on the calling thread, as it ran before the views computed on workers (ms).
qint64 onThisThread(const std::string& view, const Graph& graph, const MachineModel& machine) {
    QElapsedTimer clock;
    clock.start();
    if (view == "rewrite") {
        Graph copy = graph;
        RewriteTrace trace;
        OptimizeOptions options;
        options.trace = &trace;
        optimizeGraph(copy, options);
        replayTo(trace, RewriteTimeline::busiestStep(trace) - 1);
    } else if (view == "fusion") {
        analyseFusion(graph);
    } else if (view == "autodiff") {
        analyseAutodiff(graph);
    } else {
        Graph copy = graph;
        verifyGraph(copy);
        rooflineDots(copy, machine);
    }
    return clock.elapsed();
}

// The view computes the graph on its worker and applies the result. The canvas layout that the
// result starts waits behind a held layout pool and is cancelled before it runs (Graphviz on a
// graph this size runs for minutes on its thread, and cannot be stopped once it has begun).
GapProbe throughTheView(const std::string& view, const std::shared_ptr<const Graph>& graph, const MachineModel& machine) {
    test::PoolGate layouts(GraphView::layoutThreadPool());
    test::AnalysisViewSet views;
    GraphView* canvas = views.request(view, graph, machine);
    auto computing = [&] { return views.isComputing(view); };
    const GapProbe p = measureWhile(computing);
    if (canvas) canvas->clearGraph();  // cancels the layout waiting in the held pool
    views.autodiff.clear();
    layouts.release();
    GraphView::layoutThreadPool()->waitForDone();
    analysisThreadPool()->waitForDone();
    return p;
}

struct Training {
    qint64 maxGap = 0;
    double updatesPerSecond = 0;
    double boundariesPerSecond = 0;
};
Training trainSpirals(int seconds) {
    test::SpiralsTraining training(100000000);
    TrainingDashboard& dashboard = training.dashboard;
    dashboard.startButton()->click();
    QElapsedTimer wait;
    wait.start();
    while (dashboard.updateCount() < 1 && wait.elapsed() < 60000) QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    const int updates0 = dashboard.updateCount(), boundaries0 = dashboard.boundaryUpdateCount();
    QElapsedTimer clock;
    clock.start();
    const GapProbe p = measureWhile([&clock, seconds] { return clock.elapsed() < seconds * 1000; }, 0);
    const double s2 = clock.elapsed() / 1000.0;
    Training t;
    t.maxGap = p.maxGap;
    t.updatesPerSecond = (dashboard.updateCount() - updates0) / s2;
    t.boundariesPerSecond = (dashboard.boundaryUpdateCount() - boundaries0) / s2;
    training.controller.stop();
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    int rounds = 5, blocks = 800;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
        else if (a == "--blocks") blocks = std::max(1, std::atoi(argv[i + 1]));
        else {
            std::fprintf(stderr, "usage: bench_responsiveness [--rounds N] [--blocks B]\n");
            return 2;
        }
    }
    const auto graph = std::make_shared<const Graph>(test::blockChain(blocks));
    const MachineModel machine = machineModel();

    const std::vector<std::string> views = {"rewrite", "fusion", "autodiff", "roofline"};
    std::map<std::string, std::vector<double>> sync, gap;
    std::vector<double> trainGap, updates, boundaries;
    for (int r = 0; r < rounds; ++r) {
        for (const std::string& v : views) {
            sync[v].push_back(double(onThisThread(v, *graph, machine)));
            gap[v].push_back(double(throughTheView(v, graph, machine).maxGap));
        }
        const Training t = trainSpirals(3);
        trainGap.push_back(double(t.maxGap));
        updates.push_back(t.updatesPerSecond);
        boundaries.push_back(t.boundariesPerSecond);
    }
    std::printf("largest event-loop gap, %d interleaved rounds (median, worst), a %zu-node graph:\n", rounds, graph->nodeCount());
    std::printf("| work | on the GUI thread (ms) | through the view: largest gap (ms) |\n|---|---|---|\n");
    for (const std::string& v : views)
        std::printf("| %s | %.0f (worst %.0f) | %.0f (worst %.0f) |\n", v.c_str(), median(sync[v]),
                    *std::max_element(sync[v].begin(), sync[v].end()), median(gap[v]), *std::max_element(gap[v].begin(), gap[v].end()));
    std::printf("| training spirals, 3 s | - | %.0f (worst %.0f); %.1f curve and %.1f boundary updates/s |\n", median(trainGap),
                *std::max_element(trainGap.begin(), trainGap.end()), median(updates), median(boundaries));
    return 0;
}
