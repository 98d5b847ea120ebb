// PartitionView (View > Analysis > Partition over Devices): on the lesson example the strategies
// are ranked with data parallelism first over PCIe; the link-bandwidth slider, moved with the keys
// a person presses, re-runs the simulation until the pipeline comes first; the Gantt timeline has
// a row per device and per busy link direction, and hovering a task names it; through the window,
// the canvas takes each node's device colour and badges the nodes that receive bytes from another
// device; nodes selected on the canvas and placed on a device with the view's button run there
// (placement by hand, undoable); closing the dock gives the canvas its own colours back. With
// $ADJOINT_SCREENSHOT_DIR set it writes the README's two pictures.
#include <QComboBox>
#include <QDockWidget>
#include <QMainWindow>
#include <QPushButton>
#include <QUndoStack>
#include <QSignalSpy>
#include <QSlider>
#include <QTableWidget>
#include <QtTest>

#include "analysis_panels.h"
#include "graph_document.h"
#include "graph_items.h"
#include "graph_scene.h"
#include "graph_view.h"
#include "gui_test_support.h"
#include "io/graph_file.h"
#include "parallel/step_workload.h"
#include "partition_view.h"
#include "test_support.h"

using namespace adj;

namespace {

std::shared_ptr<const Graph> lesson() {
    return std::make_shared<const Graph>(loadGraphFile(test::sourcePath("resources/examples/partition_lesson.json")));
}

}  // namespace

class TestPartitionView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        qputenv("XDG_CACHE_HOME", QByteArray::fromStdString(test::tempDir()));
    }

    void theSliderFlipsTheFastestStrategy() {
        PartitionView view;
        view.resize(1000, 600);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QString error;
        QVERIFY2(view.requestNow(lesson(), &error), qPrintable(error));
        QCOMPARE(QString::fromStdString(view.picture().results.front().key), QStringLiteral("dp-ring"));
        QCOMPARE(view.table()->rowCount(), int(view.picture().results.size()));
        QCOMPARE(view.table()->item(0, 0)->text(), QStringLiteral("dp-ring"));
        // two GPUs, and both directions of their link busy with the ring
        QCOMPARE(view.gantt()->rowNames().size(), 4);
        QVERIFY(view.summaryText().contains("gpu0"));

        // slower links, step by step, as a person presses Page Down on the slider
        QSignalSpy changed(&view, &PartitionView::pictureChanged);
        QSlider* slider = view.bandwidthSlider();
        slider->setFocus();
        for (int k = 0; k < 3; ++k) QTest::keyClick(slider, Qt::Key_PageDown);
        QCOMPARE(slider->value(), -3);
        QCOMPARE(view.bandwidthFactor(), 0.125);
        QTRY_VERIFY_WITH_TIMEOUT(!view.isComputing() && !changed.isEmpty(), 30000);
        QCOMPARE(view.picture().results.front().kind, parallel::StrategyKind::PipelineParallel);
        QVERIFY(view.table()->item(0, 0)->text().startsWith("pp-"));

        // a task of the Gantt timeline, under the mouse, is a task of the step
        const std::size_t tasks = view.picture().result()->tasks.tasks().size();
        std::size_t widest = 0;
        for (std::size_t i = 0; i < tasks; ++i)
            if (view.gantt()->taskRect(i).width() > view.gantt()->taskRect(widest).width()) widest = i;
        QVERIFY(view.gantt()->taskRect(widest).width() > 4);
        QCOMPARE(view.gantt()->taskAt(view.gantt()->taskRect(widest).center()), int(widest));

        // a row clicked draws that strategy
        const int last = view.table()->rowCount() - 1;
        const QRect cell = view.table()->visualItemRect(view.table()->item(last, 0));
        QTest::mouseClick(view.table()->viewport(), Qt::LeftButton, {}, cell.center());
        QCOMPARE(view.picture().shown, last);
        QVERIFY(view.summaryText().contains(QString::fromStdString(view.picture().results[std::size_t(last)].key)));
    }

    void thisMachineIsSimulatedFromItsMeasuredNodeTimes() {
        // Picking the `local` cluster, as a person does from the box: this machine's threads,
        // whose node times the worker measures before it simulates.
        PartitionView view;
        view.resize(1000, 600);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QString error;
        const auto digits = std::make_shared<const Graph>(loadGraphFile(test::sourcePath("resources/examples/digits_mlp.json")));
        QVERIFY2(view.requestNow(digits, &error), qPrintable(error));
        auto* cluster = view.findChild<QComboBox*>(QStringLiteral("partitionCluster"));
        QVERIFY(cluster);
        QSignalSpy changed(&view, &PartitionView::pictureChanged);
        cluster->setCurrentIndex(cluster->findText(QStringLiteral("local")));
        QTRY_VERIFY_WITH_TIMEOUT(!view.isComputing() && !changed.isEmpty(), 60000);
        QVERIFY(view.picture().clusterText.contains(QStringLiteral("measured")));
        const parallel::PartitionResult* shown = view.picture().result();
        QVERIFY(shown && !shown->workload->measuredSeconds.empty());
        QVERIFY(view.summaryText().contains("cpu0"));
    }

    void theCanvasShowsWhereEachNodeRuns() {
        test::AnalysisWindow harness(QSize(1300, 900));
        QString error;
        QVERIFY2(harness.openExample("partition_lesson", &error), qPrintable(error));
        AnalysisPanels* panels = harness.installPanels();
        harness.window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&harness.window));
        QSignalSpy ready(panels, &AnalysisPanels::viewReady);
        QVERIFY2(panels->showView(QStringLiteral("partition"), &error), qPrintable(error));
        QVERIFY(ready.count() == 1 || ready.wait(60000));
        PartitionView* view = panels->partitionView();
        const Graph& g = harness.document.graph();
        auto fillOf = [&](const char* name) { return harness.canvas->graphScene()->nodeItem(*g.findNode(name))->fillOverride(); };
        // data parallel over PCIe: every node on every device
        QCOMPARE(view->picture().result()->key, std::string("dp-ring"));
        QCOMPARE(fillOf("fc0"), AnalysisPanels::deviceColour(parallel::kAllDevices));
        if (!qEnvironmentVariableIsEmpty("ADJOINT_SCREENSHOT_DIR")) {
            harness.canvas->fitToWindow();
            harness.window.grab().save(qEnvironmentVariable("ADJOINT_SCREENSHOT_DIR") + "/partition_fast.png");
        }

        // slow links: the pipeline; the first layers on gpu0, the last on gpu1, the cut's
        // receiving node badged with its bytes
        QSignalSpy changed(view, &PartitionView::pictureChanged);
        view->setBandwidthStep(-3);
        QTRY_VERIFY_WITH_TIMEOUT(!view->isComputing() && !changed.isEmpty(), 30000);
        QCOMPARE(view->picture().result()->kind, parallel::StrategyKind::PipelineParallel);
        QTRY_COMPARE(fillOf("fc0"), AnalysisPanels::deviceColour(0));
        QCOMPARE(fillOf("fc7"), AnalysisPanels::deviceColour(1));
        const auto marks = panels->canvasOverlays()->nodeMarks(30);
        QVERIFY(!marks.empty());
        for (const auto& [id, mark] : marks) {
            QVERIFY2(mark.badge.startsWith(QChar(0x2190)), qPrintable(mark.badge));
            QCOMPARE(view->picture().result()->deviceOfNode.at(g.node(id).name), 1);
        }
        if (!qEnvironmentVariableIsEmpty("ADJOINT_SCREENSHOT_DIR")) {
            harness.canvas->fitToWindow();
            QTest::qWait(200);
            harness.window.grab().save(qEnvironmentVariable("ADJOINT_SCREENSHOT_DIR") + "/partition_slow.png");
        }

        // placement by hand: the last two layers selected on the canvas and placed on gpu1 with
        // the view's button; the rest stays on gpu0 (unplaced nodes follow their inputs)
        harness.canvas->graphScene()->clearSelection();
        for (const char* name : {"h5", "fc6", "h6", "fc7"}) harness.canvas->graphScene()->nodeItem(*g.findNode(name))->setSelected(true);
        QCOMPARE(harness.canvas->graphScene()->selectedNodeIds().size(), std::size_t(4));
        view->placementDevices()->setCurrentIndex(view->placementDevices()->findText("gpu1"));
        QPushButton* place = nullptr;
        for (QPushButton* b : view->findChildren<QPushButton*>())
            if (b->text() == "Place selection") place = b;
        QVERIFY(place);
        changed.clear();
        QTest::mouseClick(place, Qt::LeftButton);
        QCOMPARE(harness.document.deviceOf(*g.findNode("fc7")), QStringLiteral("gpu1"));
        QTRY_VERIFY_WITH_TIMEOUT(!view->isComputing() && view->picture().result() && view->picture().result()->key == "placement", 30000);
        QCOMPARE(view->picture().result()->deviceOfNode.at("fc7"), 1);
        QCOMPARE(view->picture().result()->deviceOfNode.at("fc5"), 0);
        QTRY_COMPARE(fillOf("fc6"), AnalysisPanels::deviceColour(1));
        harness.document.undoStack()->undo();  // one step takes the placement away
        QCOMPARE(harness.document.deviceOf(*g.findNode("fc7")), QString());

        // closing the dock gives the canvas its own colours back
        panels->dock(QStringLiteral("partition"))->hide();
        QVERIFY(panels->canvasOverlays()->nodeMarks(30).empty());
        QCOMPARE(fillOf("fc0"), QColor());
    }
};

QTEST_MAIN(TestPartitionView)
#include "tst_partition_view.moc"
