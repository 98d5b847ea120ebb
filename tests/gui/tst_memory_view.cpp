// MemoryView (views/memory_view.h): its bars are the plan's buffers with their lifetimes, lanes
// never put two live bars on one row, the summary gives the plan's figures, the checkpoint and
// order choices change the plan as adjoint-cli memory says they do, and the user's mouse works:
// hovering a bar emits its node and marks it on the canvas, hovering a node outlines its bars,
// clicking a bar selects the node on the canvas (View > Analysis > Memory, through the panels).
#include <QComboBox>
#include <QDockWidget>
#include <QMainWindow>
#include <QSignalSpy>
#include <QtTest>
#include <map>
#include <set>

#include "analysis_panels.h"
#include "canvas_overlays.h"
#include "graph_scene.h"
#include "graph_view.h"
#include "gui_test_support.h"
#include "io/graph_file.h"
#include "memory_view.h"
#include "test_support.h"
#include "train/memory_report.h"

using namespace adj;

namespace {

std::shared_ptr<const Graph> example(const std::string& stem) {
    return std::make_shared<const Graph>(loadGraphFile(test::sourcePath("resources/examples/" + stem + ".json")));
}

}  // namespace

class TestMemoryView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void barsAreThePlansBuffers() {
        MemoryView view;
        const auto g = example("mlp");
        QString error;
        QVERIFY2(view.requestNow(g, &error), qPrintable(error));  // the backward graph by default
        train::MemoryRequest r;
        r.pass = train::MemoryPass::Backward;
        const train::MemoryReport report = train::memoryReport(*g, r);
        const MemoryPicture& p = view.picture();
        std::size_t buffers = 0;
        for (const PlannedValue& v : report.plan.values)
            buffers += v.placement == BufferPlacement::Arena || v.placement == BufferPlacement::Own;
        QCOMPARE(p.bars.size(), buffers);
        QCOMPARE(p.plannedPeak, report.plan.plannedPeakBytes());
        QCOMPARE(p.activationBytes, report.activationBytes);
        QCOMPARE(p.live.size(), report.plan.schedule.size());
        // no two bars of one lane live at one step
        std::map<int, std::vector<const MemoryBar*>> lanes;
        for (const MemoryBar& b : p.bars) lanes[b.lane].push_back(&b);
        for (const auto& [lane, bars] : lanes)
            for (std::size_t i = 0; i < bars.size(); ++i)
                for (std::size_t j = i + 1; j < bars.size(); ++j)
                    QVERIFY(bars[i]->end < bars[j]->start || bars[j]->end < bars[i]->start);
        int kept = 0;
        for (const MemoryBar& b : p.bars) kept += b.kind == MemoryBar::Kind::Kept;
        QVERIFY(kept > 0);
        QVERIFY2(view.summaryText().contains("activations kept"), qPrintable(view.summaryText()));
        // the tensors live at the peak are listed, as adjoint-cli memory lists them
        int livePeak = 0;
        for (const PlannedValue& v : report.plan.values)
            livePeak += (v.placement == BufferPlacement::Arena || v.placement == BufferPlacement::Own) && v.defined <= report.peakStep &&
                        report.peakStep <= v.lastUse;
        QCOMPARE(p.livePeak.size(), livePeak);
        QVERIFY2(view.summaryText().contains("Live at the peak (step " + QString::number(report.peakStep)), qPrintable(view.summaryText()));
    }

    void choicesChangeThePlan() {
        MemoryView view;
        const auto g = example("spirals_mlp");
        QVERIFY(view.requestNow(g));
        // a model has no loss of its own: the backward choice shows its training step
        QVERIFY2(view.summaryText().contains("no scalar output") && view.summaryText().contains("training step"),
                 qPrintable(view.summaryText()));
        const qint64 activations = view.picture().activationBytes;
        QVERIFY(activations > 0);
        view.setCheckpoint("sqrt");  // (a choice starts a new analysis)
        QTRY_VERIFY_WITH_TIMEOUT(!view.isComputing(), 20000);
        QVERIFY(view.picture().recomputed > 0);
        QVERIFY(view.picture().activationBytes < activations);
        int recomputedBars = 0;
        for (const MemoryBar& b : view.picture().bars) recomputedBars += b.kind == MemoryBar::Kind::Recomputed;
        QVERIFY(recomputedBars > 0);
        view.setPass(train::MemoryPass::Forward);
        QTRY_VERIFY_WITH_TIMEOUT(!view.isComputing(), 20000);
        QVERIFY2(view.summaryText().startsWith("forward"), qPrintable(view.summaryText()));
        QCOMPARE(view.picture().activationBytes, qint64(0));
        train::MemoryRequest forward;
        QCOMPARE(view.picture().plannedPeak, train::memoryReport(*g, forward).plan.plannedPeakBytes());
    }

    /// Compare orders: the topological and the min-peak plans one above the other, on one byte
    /// scale, captioned with their peaks (wide_branches: the four exps live together, or one at a
    /// time); unchecked, one timeline again.
    void compareOrdersSideBySide() {
        MemoryView view;
        view.resize(1100, 640);
        const auto g = example("wide_branches");
        view.setPass(train::MemoryPass::Forward);
        view.setCompareOrders(true);
        QVERIFY(view.requestNow(g));
        QVERIFY(view.picture().compared);
        train::MemoryRequest topo, low;
        low.order = ScheduleOrder::MinPeak;
        const std::int64_t topoPeak = train::memoryReport(*g, topo).plan.plannedPeakBytes();
        const std::int64_t lowPeak = train::memoryReport(*g, low).plan.plannedPeakBytes();
        QCOMPARE(view.picture().plannedPeak, topoPeak);
        QCOMPARE(view.picture().compared->plannedPeak, lowPeak);
        QVERIFY(double(lowPeak) <= 0.3 * double(topoPeak));
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QVERIFY(view.comparedTimeline()->isVisible());
        QVERIFY2(view.comparisonText().contains("Topological order") && view.comparisonText().contains("Min-peak order") &&
                     view.comparisonText().contains("0.25x"),
                 qPrintable(view.comparisonText()));
        // hovering a node elsewhere outlines its bars in both
        view.highlightNode(*g->findNode("e0"));
        QCOMPARE(view.comparedTimeline()->highlightedNode(), *g->findNode("e0"));
        const QImage image = view.grab().toImage();
        if (!qEnvironmentVariableIsEmpty("ADJOINT_SCREENSHOT_DIR"))
            QVERIFY(image.save(qEnvironmentVariable("ADJOINT_SCREENSHOT_DIR") + "/memory_orders.png"));
        view.setCompareOrders(false);
        QTRY_VERIFY_WITH_TIMEOUT(!view.isComputing(), 20000);
        QVERIFY(!view.picture().compared);
        QVERIFY(!view.comparedTimeline()->isVisible());
    }

    void mouseOverABarNamesItsNode() {
        MemoryView view;
        view.resize(900, 500);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const auto g = example("mlp");
        QVERIFY(view.requestNow(g));
        QTest::qWait(20);  // (the summary's new lines move the timeline: let the layout settle)
        MemoryTimeline* t = view.timeline();
        std::size_t target = view.picture().bars.size();
        for (std::size_t i = 0; i < view.picture().bars.size(); ++i)
            if (view.picture().bars[i].node != kNoNode && t->barRect(i).width() >= 4 && t->barRect(i).height() >= 3) {
                target = i;
                break;
            }
        QVERIFY(target < view.picture().bars.size());
        QSignalSpy hovered(&view, &MemoryView::nodeHovered), clicked(&view, &MemoryView::nodeClicked);
        const QPoint at = t->barRect(target).center().toPoint();
        QTest::mouseMove(t, at);
        QTRY_VERIFY(!hovered.isEmpty());
        QCOMPARE(hovered.last().first().value<NodeId>(), view.picture().bars[target].node);
        QTest::mouseClick(t, Qt::LeftButton, {}, at);
        QCOMPARE(clicked.size(), 1);
        QCOMPARE(clicked.first().first().value<NodeId>(), view.picture().bars[target].node);
    }

    /// Through the window: View > Analysis > Memory shows the dock (viewReady), and a click on a
    /// bar selects its node on the canvas.
    void clickSelectsOnTheCanvas() {
        test::AnalysisWindow harness(QSize(1300, 850));
        QString error;
        QVERIFY2(harness.openExample("mlp", &error), qPrintable(error));
        AnalysisPanels* panels = harness.installPanels();
        harness.window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&harness.window));
        QSignalSpy ready(panels, &AnalysisPanels::viewReady);
        QVERIFY2(panels->showView(QStringLiteral("memory"), &error), qPrintable(error));
        QVERIFY(ready.count() == 1 || ready.wait(30000));
        QCOMPARE(ready.front().front().toString(), QStringLiteral("memory"));
        MemoryView* view = panels->memoryView();
        // the activations kept for the backward pass are marked on the canvas ("kept")
        std::set<NodeId> kept;
        for (const MemoryBar& b : view->picture().bars)
            if (b.kind == MemoryBar::Kind::Kept && b.node != kNoNode) kept.insert(b.node);
        QVERIFY(!kept.empty());
        QTRY_COMPARE(panels->canvasOverlays()->nodeMarks(21).size(), kept.size());
        for (const auto& [id, mark] : panels->canvasOverlays()->nodeMarks(21)) QVERIFY(kept.count(id) && mark.badge == "kept");
        MemoryTimeline* t = view->timeline();
        std::size_t target = view->picture().bars.size();
        for (std::size_t i = 0; i < view->picture().bars.size(); ++i)
            if (view->picture().bars[i].node != kNoNode && t->barRect(i).width() >= 4 && t->barRect(i).height() >= 3) target = i;
        QVERIFY(target < view->picture().bars.size());
        const int marksBefore = panels->canvasOverlays()->itemCount();
        QTest::mouseMove(t, t->barRect(target).center().toPoint());
        QTRY_VERIFY(panels->canvasOverlays()->itemCount() > marksBefore);  // the node is marked on the canvas
        panels->canvasOverlays()->setHoveredNode(view->picture().bars[target].node);  // and back
        QCOMPARE(t->highlightedNode(), view->picture().bars[target].node);
        QTest::mouseClick(t, Qt::LeftButton, {}, t->barRect(target).center().toPoint());
        const auto selected = harness.canvas->graphScene()->selectedNodeIds();
        QCOMPARE(selected.size(), std::size_t(1));
        QCOMPARE(selected.front(), view->picture().bars[target].node);
        panels->dock(QStringLiteral("memory"))->hide();  // closing the view takes its marks away
        QVERIFY(panels->canvasOverlays()->nodeMarks(21).empty());
    }
};

QTEST_MAIN(TestMemoryView)
#include "tst_memory_view.moc"
