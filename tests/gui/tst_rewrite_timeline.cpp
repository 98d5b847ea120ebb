// The rewrite timeline: replaying a RewriteTrace rebuilds the graph after every step exactly
// (checked against the printed graph the trace records and the pipeline's own result), and the
// widget steps through -O2 on the attention example showing each rule with its cost delta.
#include <QListWidget>
#include <QSignalSpy>
#include <QSlider>
#include <QTableWidget>
#include <QtTest>
#include <algorithm>

#include "base/errors.h"
#include "canvas_overlays.h"
#include "graph_scene.h"
#include "graph_items.h"
#include "graph_view.h"
#include "io/json_format.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"
#include "rewrite_timeline.h"
#include "passes/trace_replay.h"
#include "test_support.h"

using namespace adj;

namespace {
Graph loadExample(const QString& name) {
    Graph g = loadGraphJson(test::sourcePath("resources/examples/" + name.toStdString() + ".json"));
    verifyGraph(g);
    return g;
}

// Printed graphs compared as sets of lines: node ids (and so tie order) may differ in a replay.
QStringList sortedLines(const std::string& text) {
    QStringList lines = QString::fromStdString(text).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    lines.sort();
    return lines;
}
}  // namespace

class TestRewriteTimeline : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void replayMatchesThePipeline_data() {
        QTest::addColumn<QString>("example");
        QTest::addColumn<int>("level");
        for (const char* e : {"attention", "mlp", "conv_bn_relu", "elementwise_chain", "scalar_function", "spirals_mlp"})
            for (int level : {1, 2}) QTest::newRow(qPrintable(QStringLiteral("%1 -O%2").arg(e).arg(level))) << e << level;
    }
    void replayMatchesThePipeline() {
        QFETCH(QString, example);
        QFETCH(int, level);
        Graph g = loadExample(example);
        RewriteTrace trace;
        OptimizeOptions options;
        options.level = level;
        options.trace = &trace;
        optimizeGraph(g, options);
        for (std::size_t k = 0; k < trace.steps.size(); ++k) {
            const Graph after = replayAfter(trace, int(k) + 1);
            if (!trace.steps[k].graphText.empty())
                QCOMPARE(sortedLines(printGraph(after)), sortedLines(trace.steps[k].graphText));
            // The drawing of step k keeps the removed nodes and holds the added ones.
            const ReplayedStep r = replayTo(trace, int(k));
            QCOMPARE(r.added.size(), trace.steps[k].added.size());
            QCOMPARE(r.removed.size(), trace.steps[k].removed.size());
            QCOMPARE(r.graph.nodeCount(), after.nodeCount() + r.removed.size());
        }
        QCOMPARE(sortedLines(printGraph(replayAfter(trace, int(trace.steps.size())))), sortedLines(printGraph(g)));
    }

    void replayRejectsAForeignTrace() {
        Graph g = loadExample(QStringLiteral("attention"));
        RewriteTrace trace;
        OptimizeOptions options;
        options.trace = &trace;
        optimizeGraph(g, options);
        QVERIFY(!trace.steps.empty());
        trace.steps.front().rewired.emplace_back("no_such_value", "x");
        try {
            replayAfter(trace, 1);
            QFAIL("a broken trace replayed");
        } catch (const Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("no_such_value")), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, replayTo(trace, int(trace.steps.size())));
    }

    void stepsThroughAttentionO2() {
        RewriteTimeline timeline;
        timeline.resize(1200, 700);
        timeline.show();
        timeline.setGraph(loadExample(QStringLiteral("attention")));
        timeline.setPreset(2);
        QCOMPARE(timeline.checkedPasses(), pipelinePasses(2));
        QString error;
        QVERIFY2(timeline.run(&error), qPrintable(error));
        const int steps = timeline.stepCount();
        QVERIFY(steps > 0);
        QCOMPARE(timeline.slider()->maximum(), steps);
        QCOMPARE(timeline.currentStep(), 1);
        QSignalSpy changed(&timeline, &RewriteTimeline::stepChanged);
        for (int k = 1; k <= steps; ++k) {
            timeline.slider()->setValue(k);
            QCOMPARE(timeline.currentStep(), k);
            const RewriteStep& s = timeline.trace()->steps[std::size_t(k - 1)];
            QVERIFY2(timeline.stepText().contains(QString::fromStdString(s.rule)), qPrintable(timeline.stepText()));
            QVERIFY(timeline.stepText().contains(QStringLiteral("Step %1/%2").arg(k).arg(steps)));
            // The cost delta of the step and since the start, for FLOPs, bytes, kernels, intensity.
            for (int row = 0; row < 4; ++row)
                for (int col = 0; col < 4; ++col) QVERIFY(timeline.costTable()->item(row, col));
            QCOMPARE(timeline.costTable()->item(2, 2)->text().remove(QLatin1Char('+')).toLongLong(), s.after.kernels - s.before.kernels);
        }
        QCOMPARE(changed.count(), steps - 1);
        // The last step's changes are drawn (replayed on a worker, then laid out): removed and
        // added nodes marked on the canvas.
        QTRY_VERIFY_WITH_TIMEOUT(!timeline.isComputing() && !timeline.view()->isLayoutPending(), 30000);
        const RewriteStep& last = timeline.trace()->steps.back();
        QCOMPARE(timeline.overlays()->itemCount(), int(last.added.size() + last.removed.size()));
        // Step 0: the graph before any rewrite, nothing marked.
        timeline.setStep(0);
        QTRY_VERIFY_WITH_TIMEOUT(!timeline.isComputing() && !timeline.view()->isLayoutPending(), 30000);
        QCOMPARE(timeline.overlays()->itemCount(), 0);
    }

    // Issue 18: the timeline used to lay each step out afresh, so every node moved at every step.
    // Now a node keeps the place it was first drawn at, and what a step adds goes beside what it
    // removes.
    void nodesKeepTheirPlaceFromStepToStep() {
        RewriteTimeline timeline;
        timeline.resize(1200, 700);
        timeline.show();
        timeline.setGraph(loadExample(QStringLiteral("attention")));
        timeline.setPreset(2);
        QString error;
        QVERIFY2(timeline.run(&error), qPrintable(error));
        QVERIFY(timeline.stepCount() >= 3);
        auto settle = [&] { return QTest::qWaitFor([&] { return !timeline.isComputing() && !timeline.view()->isLayoutPending(); }, 30000); };
        QVERIFY(settle());
        for (int k = 2; k <= std::min(timeline.stepCount(), 6); ++k) {
            // every node of step k-1's drawing, by name
            std::map<std::string, QPointF> before;
            const Graph previous = replayTo(*timeline.trace(), k - 2).graph;
            for (const GraphNodeItem* item : timeline.view()->graphScene()->nodeItems())
                if (previous.contains(item->nodeId())) before[previous.node(item->nodeId()).name] = item->pos();
            timeline.setStep(k);
            QVERIFY(settle());
            const ReplayedStep now = replayTo(*timeline.trace(), k - 1);
            int kept = 0;
            QPointF removedAt;
            for (NodeId id : now.removed) removedAt += before.at(now.graph.node(id).name) / double(now.removed.size());
            for (const GraphNodeItem* item : timeline.view()->graphScene()->nodeItems()) {
                if (!now.graph.contains(item->nodeId())) continue;
                const std::string& name = now.graph.node(item->nodeId()).name;
                if (auto it = before.find(name); it != before.end()) {
                    QVERIFY2(QLineF(item->pos(), it->second).length() < 0.5, name.c_str());
                    ++kept;
                } else if (!now.removed.empty() &&
                           std::find(now.added.begin(), now.added.end(), item->nodeId()) != now.added.end()) {
                    QVERIFY2(QLineF(item->pos(), removedAt).length() < 600, name.c_str());  // beside what it replaces
                }
            }
            QVERIFY(kept > 0);
        }
    }

    void uncheckedPassesDoNotRun() {
        RewriteTimeline timeline;
        timeline.setGraph(loadExample(QStringLiteral("elementwise_chain")));
        for (int i = 0; i < timeline.passList()->count(); ++i) timeline.passList()->item(i)->setCheckState(Qt::Unchecked);
        QVERIFY(timeline.setPassChecked(QStringLiteral("fusion"), true));
        QCOMPARE(timeline.checkedPasses(), std::vector<std::string>{"fusion"});
        QVERIFY(timeline.run());
        for (const RewriteStep& s : timeline.trace()->steps) QCOMPARE(QString::fromStdString(s.pass), QStringLiteral("fusion"));
        QVERIFY(timeline.stepCount() > 0);
    }

    /// Recomputation in the timeline: the checkpoint pass (unchecked after the preset's passes)
    /// finds no backward pass in the graph as drawn; on its backward graph each copy is a step,
    /// drawn as one added node, with the backward reads it takes over named.
    void recomputationOnTheBackwardGraph() {
        RewriteTimeline timeline;
        timeline.resize(1300, 760);
        timeline.show();
        timeline.setGraph(loadExample(QStringLiteral("deep_mlp")));
        timeline.setPreset(2);
        QCOMPARE(timeline.checkedPasses(), pipelinePasses(2));
        QListWidgetItem* last = timeline.passList()->item(timeline.passList()->count() - 1);
        QCOMPARE(last->text(), QStringLiteral("checkpoint"));
        QCOMPARE(last->checkState(), Qt::Unchecked);
        for (int i = 0; i < timeline.passList()->count(); ++i) timeline.passList()->item(i)->setCheckState(Qt::Unchecked);
        QVERIFY(timeline.setPassChecked(QStringLiteral("checkpoint"), true));
        QString error;
        QVERIFY2(timeline.run(&error), qPrintable(error));
        QCOMPARE(timeline.stepCount(), 0);  // the forward graph has no backward pass
        timeline.setSource(RewriteTimeline::Source::Backward);
        QVERIFY2(timeline.run(&error), qPrintable(error));
        QVERIFY(timeline.stepCount() > 3);
        for (const RewriteStep& s : timeline.trace()->steps) {
            QCOMPARE(QString::fromStdString(s.pass), QStringLiteral("checkpoint"));
            QCOMPARE(QString::fromStdString(s.rule), QStringLiteral("recompute"));
        }
        int k = 1;
        while (k <= timeline.stepCount() && timeline.trace()->steps[std::size_t(k - 1)].retargeted.empty()) ++k;
        QVERIFY(k <= timeline.stepCount());
        timeline.setStep(k);
        QVERIFY2(timeline.stepText().contains(QStringLiteral("now read the copy")), qPrintable(timeline.stepText()));
        QTRY_VERIFY_WITH_TIMEOUT(!timeline.isComputing() && !timeline.view()->isLayoutPending(), 30000);
        QCOMPARE(timeline.overlays()->itemCount(), 1);  // the copy, added
        QTest::qWait(50);  // (the view scrolls to it on the next turn of the event loop)
        const auto copy = timeline.view()->graphScene()->nodeItem(replayTo(*timeline.trace(), k - 1).added.front());
        QVERIFY(copy);
        QVERIFY2(timeline.view()->mapToScene(timeline.view()->viewport()->rect()).boundingRect().contains(copy->sceneBoundingRect().center()),
                 "the step's new node is not in view");
        if (!qEnvironmentVariableIsEmpty("ADJOINT_SCREENSHOT_DIR"))
            QVERIFY(timeline.grab().save(qEnvironmentVariable("ADJOINT_SCREENSHOT_DIR") + "/rewrite_checkpoint.png"));
        // after -O2's passes: the copies are of the optimized backward graph's nodes
        timeline.setPreset(2);
        QVERIFY(timeline.setPassChecked(QStringLiteral("checkpoint"), true));
        QVERIFY2(timeline.run(&error), qPrintable(error));
        QVERIFY(std::any_of(timeline.trace()->steps.begin(), timeline.trace()->steps.end(),
                            [](const RewriteStep& s) { return s.pass == "checkpoint"; }));
        QCOMPARE(QString::fromStdString(timeline.trace()->steps.back().pass), QStringLiteral("checkpoint"));
    }

    void invalidGraphFails() {
        RewriteTimeline timeline;
        Graph g;
        const NodeId a = g.addInput("a", {2, 3});
        g.addOutput("y", {g.addNode(Op::MatMul, {{a, 0}, {a, 0}}, {}, "bad_mm"), 0});
        timeline.setGraph(g);
        QString error;
        QVERIFY(!timeline.run(&error));
        QVERIFY2(error.contains(QStringLiteral("bad_mm")), qPrintable(error));
        QCOMPARE(timeline.stepCount(), 0);
    }

private:
    static QString example_(const QString& s) { return s; }
};

QTEST_MAIN(TestRewriteTimeline)
#include "tst_rewrite_timeline.moc"
