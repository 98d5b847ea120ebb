// Issue 18: the canvas at QT_SCALE_FACTOR=2 (this test's environment, tests/CMakeLists.txt): the
// window is drawn at twice the device pixels, and a node's label is drawn at that resolution, as
// tall in device pixels as twice its logical size (text neither blurred up from 1x nor shrunk).
#include <QApplication>
#include <QTemporaryDir>
#include <QtTest>

#include "graph_items.h"
#include "graph_scene.h"
#include "graph_view.h"
#include "gui_test_support.h"
#include "main_window.h"

using namespace adj;

class TestHighDpi : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;

private Q_SLOTS:
    void initTestCase() { test::isolateApplication(dir_.path(), "tst_high_dpi"); }

    void canvasIsDrawnAtTheScreensResolution() {
        QCOMPARE(qgetenv("QT_SCALE_FACTOR"), QByteArray("2"));
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QString error;
        QVERIFY2(window.openFile(QString(ADJOINT_SOURCE_DIR) + "/resources/examples/mlp.json", &error), qPrintable(error));
        QVERIFY(test::waitForLayout(*window.graphView()));
        GraphView* view = window.graphView();
        QCOMPARE(view->devicePixelRatioF(), 2.0);
        QVERIFY(view->zoom() >= GraphView::kMinReadableZoom);
        const QImage shot = view->viewport()->grab().toImage();
        QCOMPARE(shot.width(), 2 * view->viewport()->width());
        // the node h1 (tanh): the rows of dark text pixels inside its box, in device pixels
        const GraphNodeItem* item = view->graphScene()->nodeItem(*window.graph()->findNode("h1"));
        QVERIFY(item);
        const QRect box = view->mapFromScene(item->sceneBoundingRect()).boundingRect();
        const QRect device(box.topLeft() * 2, box.size() * 2);
        int top = -1, bottom = -1;
        for (int y = std::max(0, device.top()); y < std::min(shot.height(), device.bottom()); ++y)
            for (int x = std::max(0, device.left()); x < std::min(shot.width(), device.right()); ++x)
                if (shot.pixelColor(x, y).lightness() < 80) {
                    if (top < 0) top = y;
                    bottom = y;
                    break;
                }
        QVERIFY2(top >= 0, "no text drawn in the node");
        // two label lines of 13 and 11 logical pixels at zoom >= 0.6: at least 20 device pixels
        QVERIFY2(bottom - top >= 20, qPrintable(QString("text spans %1 device pixels").arg(bottom - top)));
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
    }
};

QTEST_MAIN(TestHighDpi)
#include "tst_high_dpi.moc"
