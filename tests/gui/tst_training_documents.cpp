// Training belongs to the graph it started on. The steps: open spirals_mlp, train it,
// close the Training dock, open the mlp example: mlp's edges must not be drawn with spirals'
// adjoint magnitudes (the old run stops, and whatever it still had queued is not drawn on the new
// graph), and opening the view starts nothing until Start.
#include <QDockWidget>
#include <QPushButton>
#include <QTemporaryDir>
#include <QtTest>

#include "analysis_panels.h"
#include "canvas_overlays.h"
#include "graph_view.h"
#include "gui_test_support.h"
#include "main_window.h"
#include "training_controller.h"
#include "training_dashboard.h"

using namespace adj;

class TestTrainingAcrossDocuments : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;

private Q_SLOTS:
    void initTestCase() { test::isolateApplication(dir_.path(), "tst_training_documents"); }

    void anotherGraphIsNotDrawnWithTheOldRunsAdjoints() {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QString error;
        const QString examples = QString(ADJOINT_SOURCE_DIR) + "/resources/examples/";
        QVERIFY2(window.openFile(examples + "spirals_mlp.json", &error), qPrintable(error));
        QVERIFY(test::waitForLayout(*window.graphView()));
        AnalysisPanels* panels = analysisPanels(&window);
        QVERIFY(panels);
        QVERIFY(panels->showView("training", &error));
        QVERIFY(!panels->trainingController()->isRunning());  // opening the view starts nothing
        panels->trainingDashboard()->startButton()->click();  // Start: now it trains
        QTRY_VERIFY_WITH_TIMEOUT(!panels->canvasOverlays()->edgeWeights().empty(), 30000);  // live adjoints drawn
        panels->dock("training")->close();
        QVERIFY2(window.openFile(examples + "mlp.json", &error), qPrintable(error));
        QVERIFY(test::waitForLayout(*window.graphView()));
        QTest::qWait(500);  // several of the old run's refresh ticks
        QVERIFY(panels->canvasOverlays()->edgeWeights().empty());
        QVERIFY(!panels->trainingController()->isRunning());
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
        QVERIFY(window.close());
    }
};

QTEST_MAIN(TestTrainingAcrossDocuments)
#include "tst_training_documents.moc"
