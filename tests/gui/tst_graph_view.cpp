// GraphScene / GraphView: layout off the GUI thread, the items drawn, navigation; and the main
// window opening files.
#include <QFile>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QSet>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QToolButton>
#include <QStatusBar>
#include <QtTest>

#include "gui_test_support.h"
#include "graph_items.h"
#include "graph_view.h"
#include "io/graphviz.h"
#include "ir/verifier.h"
#include "main_window.h"
#include "minimap.h"
#include "test_support.h"

using namespace adj;
using namespace adj::test;

namespace {

/// x[4,8] @ w[8,3] + b[3] -> relu -> output "y", and "y2" = the matmul; shapes by the verifier.
Graph smallGraph(const std::string& inputName = "x") {
    Graph g;
    g.name = "small";
    NodeId x = g.addInput(inputName, {4, 8});
    NodeId w = g.addParameter("w", Tensor::zeros({8, 3}));
    NodeId b = g.addParameter("b", Tensor::zeros({3}));
    NodeId mm = g.addNode(Op::MatMul, {{x, 0}, {w, 0}}, {}, "mm");
    NodeId add = g.addNode(Op::Add, {{mm, 0}, {b, 0}}, {}, "add");
    NodeId act = g.addNode(Op::Relu, {{add, 0}}, {}, "act");
    g.addOutput("y", {act, 0});
    g.addOutput("y2", {mm, 0});
    verifyGraph(g);
    return g;
}
constexpr int kSmallNodes = 6, kSmallOutputs = 2, kSmallEdges = 4 + 1 + 2;

int distinctColours(const QImage& image) {
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 3)
        for (int x = 0; x < image.width(); x += 3) colours.insert(image.pixel(x, y));
    return int(colours.size());
}

}  // namespace

class TestGraphView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        // Keep the main window's settings and recovery files away from the user's.
        QStandardPaths::setTestModeEnabled(true);
        qputenv("ADJOINT_RECOVERY_DIR", QByteArray::fromStdString(test::tempDir() + "/recovery"));
        qputenv("XDG_CONFIG_HOME", QByteArray::fromStdString(test::tempDir() + "/config"));
        QCoreApplication::setOrganizationName(QStringLiteral("AdjointTest"));
    }
    void showsGraph();
    void itemsCarryLabels();
    void newerGraphWins();
    void zoomAndFit();
    void tallGraphStartsReadable();
    void relayoutKeepsView();
    void minimapShowsTheWholeDrawing();
    void selection();
    void shiftDragSelectsWithARubberBand();
    void clearGraph();
    void cancelLayoutKeepsTheDrawing();
    void mainWindowCancelsALongLayout();
    void mainWindowOpensExample();
    void mainWindowReportsErrors();
};

void TestGraphView::showsGraph() {
    GraphView view;
    view.resize(800, 600);
    view.show();
    QSignalSpy started(&view, &GraphView::layoutStarted);
    QSignalSpy applied(&view, &GraphView::layoutApplied);
    view.showGraph(smallGraph());
    QCOMPARE(started.count(), 1);
    QVERIFY(view.isLayoutPending());
    QVERIFY(applied.wait(60000));
    QVERIFY(!view.isLayoutPending());

    GraphScene* scene = view.graphScene();
    QCOMPARE(int(scene->nodeItems().size()), kSmallNodes + kSmallOutputs);
    QCOMPARE(int(scene->edgeItems().size()), kSmallEdges);
    QCOMPARE(int(scene->items().size()), kSmallNodes + kSmallOutputs + kSmallEdges);
    QVERIFY(scene->graphRect().width() > 50);

    // Inputs above their users: the layout reached the scene top to bottom.
    QVERIFY(scene->nodeItem(0)->pos().y() < scene->nodeItem(3)->pos().y());
    QVERIFY(scene->nodeItem(3)->pos().y() < scene->nodeItem(5)->pos().y());
    QVERIFY(scene->nodeItem(layoutOutputId(0)));

    const QImage image = view.grab().toImage();
    QVERIFY(!image.isNull());
    QVERIFY2(distinctColours(image) > 8, "the view looks blank");
}

void TestGraphView::itemsCarryLabels() {
    GraphView view;
    view.resize(600, 400);
    view.showGraph(smallGraph("my \"input\" x"));
    QVERIFY(waitForLayout(view));
    GraphScene* scene = view.graphScene();
    QCOMPARE(scene->nodeItem(0)->lines(), QStringList{QStringLiteral("my \"input\" x")});
    QCOMPARE(scene->nodeItem(0)->category(), NodeCategory::Input);
    QCOMPARE(scene->nodeItem(3)->lines(), (QStringList{QStringLiteral("matmul"), QStringLiteral("mm")}));
    QCOMPARE(scene->nodeItem(3)->category(), NodeCategory::Linear);
    QCOMPARE(scene->nodeItem(layoutOutputId(1))->lines(), QStringList{QStringLiteral("y2")});
    QCOMPARE(scene->nodeItem(layoutOutputId(1))->category(), NodeCategory::Output);
    bool sawShape = false;
    for (GraphEdgeItem* e : scene->edgeItems())
        if (e->from().node == 0) {
            QCOMPARE(e->label(), QString::fromUtf8("4×8"));
            QCOMPARE(e->to(), NodeId(3));
            sawShape = true;
        }
    QVERIFY(sawShape);
}

void TestGraphView::newerGraphWins() {
    GraphView view;
    view.resize(600, 400);
    QSignalSpy applied(&view, &GraphView::layoutApplied);
    Graph big;
    NodeId prev = big.addInput("x", {2});
    for (int i = 0; i < 40; ++i) prev = big.addNode(Op::Exp, {{prev, 0}});
    big.addOutput("y", {prev, 0});
    view.showGraph(big);
    view.showGraph(smallGraph());
    QVERIFY(applied.wait(60000));
    QTest::qWait(200);  // give a stale result the chance to arrive: it must not
    QCOMPARE(applied.count(), 1);
    QCOMPARE(int(view.graphScene()->nodeItems().size()), kSmallNodes + kSmallOutputs);
}

void TestGraphView::zoomAndFit() {
    GraphView view;
    view.resize(500, 400);
    view.show();
    view.showGraph(smallGraph());
    QVERIFY(waitForLayout(view));
    QVERIFY(view.zoom() > 0 && view.zoom() <= GraphView::kMaxFitZoom);
    // Fitted: the whole drawing is visible.
    const QRectF visible = view.mapToScene(view.viewport()->rect()).boundingRect();
    QVERIFY(visible.adjusted(-1, -1, 1, 1).contains(view.graphScene()->graphRect()));

    QSignalSpy zoomed(&view, &GraphView::zoomChanged);
    const double z0 = view.zoom();
    view.zoomIn();
    QVERIFY(view.zoom() > z0);
    QTest::keyClick(&view, Qt::Key_Minus);
    QVERIFY(qAbs(view.zoom() - z0) < 1e-6);
    QTest::keyClick(&view, Qt::Key_Plus);
    QVERIFY(view.zoom() > z0);
    QTest::keyClick(&view, Qt::Key_0);
    QCOMPARE(view.zoom(), 1.0);
    view.setZoom(1000);
    QCOMPARE(view.zoom(), GraphView::kMaxZoom);
    view.setZoom(0);
    QCOMPARE(view.zoom(), GraphView::kMinZoom);
    QTest::keyClick(&view, Qt::Key_F);
    QVERIFY(qAbs(view.zoom() - z0) < 1e-6);
    QVERIFY(zoomed.count() >= 6);
}

void TestGraphView::tallGraphStartsReadable() {
    Graph tall;
    NodeId prev = tall.addInput("x", {2});
    for (int i = 0; i < 80; ++i) prev = tall.addNode(i % 2 ? Op::Exp : Op::Tanh, {{prev, 0}});
    tall.addOutput("y", {prev, 0});
    GraphView view;
    view.resize(600, 400);
    view.show();
    view.showGraph(tall);
    QVERIFY(waitForLayout(view));
    // Fitting 80 ranks into 400 pixels would be unreadable: a readable scale from the top instead.
    QVERIFY(view.zoom() >= GraphView::kMinReadableZoom);
    const QRectF visible = view.mapToScene(view.viewport()->rect()).boundingRect();
    QVERIFY(visible.contains(view.graphScene()->nodeItem(0)->sceneBoundingRect()));
    // F shows it all.
    QTest::keyClick(&view, Qt::Key_F);
    QVERIFY(view.zoom() < GraphView::kMinReadableZoom);
}

void TestGraphView::relayoutKeepsView() {
    GraphView view;
    view.resize(500, 400);
    view.show();
    view.showGraph(smallGraph());
    QVERIFY(waitForLayout(view));
    view.setZoom(0.5);
    view.zoomIn();
    const double z = view.zoom();
    view.showGraph(smallGraph(), {}, /*keepView=*/true);
    QVERIFY(waitForLayout(view));
    QCOMPARE(view.zoom(), z);
    view.showGraph(smallGraph());
    QVERIFY(waitForLayout(view));
    QVERIFY(view.zoom() != z);  // a new graph gets the initial framing
}

// A drawing larger than the view has an overview in the corner; clicking it goes there.
void TestGraphView::minimapShowsTheWholeDrawing() {
    Graph tall;
    NodeId prev = tall.addInput("x", {2});
    for (int i = 0; i < 120; ++i) prev = tall.addNode(i % 2 ? Op::Exp : Op::Tanh, {{prev, 0}});
    tall.addOutput("y", {prev, 0});
    GraphView view;
    view.resize(900, 600);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.showGraph(tall);
    QVERIFY(waitForLayout(view));
    Minimap* minimap = view.minimap();
    QVERIFY(minimap->isVisible());  // opened readable at the top: most of it out of view
    QVERIFY(view.viewport()->geometry().contains(minimap->geometry()));
    // the picture has the drawing's dots
    const QImage shot = minimap->grab().toImage();
    QVERIFY(distinctColours(shot) >= 3);
    // a click near its bottom brings the last nodes into view
    const QPointF target = minimap->fromScene(view.graphScene()->nodeItem(prev)->sceneBoundingRect().center());
    QTest::mouseClick(minimap, Qt::LeftButton, {}, target.toPoint());
    const QRectF visible = view.mapToScene(view.viewport()->rect()).boundingRect();
    QVERIFY(visible.contains(view.graphScene()->nodeItem(prev)->pos()));
    QVERIFY(!visible.contains(view.graphScene()->nodeItem(0)->pos()));
    // all of it in view: no minimap
    view.fitToWindow();
    QVERIFY(!minimap->isVisible());
    view.zoomIn();
    view.zoomIn();
    view.zoomIn();
    QVERIFY(minimap->isVisible());
    // switched off
    minimap->setWanted(false);
    QVERIFY(!minimap->isVisible());
}

void TestGraphView::selection() {
    GraphView view;
    view.resize(500, 400);
    view.showGraph(smallGraph());
    QVERIFY(waitForLayout(view));
    view.centerOnNode(3);
    QCOMPARE(view.graphScene()->selectedNodeIds(), std::vector<NodeId>{3});
    view.graphScene()->selectNode(kNoNode);
    QVERIFY(view.graphScene()->selectedNodeIds().empty());
}

void TestGraphView::shiftDragSelectsWithARubberBand() {
    GraphView view;
    view.resize(600, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.showGraph(smallGraph());
    QVERIFY(waitForLayout(view));
    view.fitToWindow();
    // a band from the top-left corner of the viewport to the bottom-right one touches every node
    QRectF all;
    for (GraphNodeItem* item : view.graphScene()->nodeItems()) all |= item->sceneBoundingRect();
    const QPoint from = view.mapFromScene(all.topLeft() - QPointF(20, 20));
    const QPoint to = view.mapFromScene(all.bottomRight() + QPointF(20, 20));
    QVERIFY(!view.itemAt(from));
    auto send = [&](QEvent::Type type, QPoint at, Qt::MouseButton button, Qt::MouseButtons buttons) {
        QMouseEvent e(type, QPointF(at), view.viewport()->mapToGlobal(QPointF(at)), button, buttons, Qt::ShiftModifier);
        QApplication::sendEvent(view.viewport(), &e);
    };
    const int before = view.horizontalScrollBar()->value();
    send(QEvent::MouseButtonPress, from, Qt::LeftButton, Qt::LeftButton);
    QCOMPARE(view.dragMode(), QGraphicsView::RubberBandDrag);
    send(QEvent::MouseMove, (from + to) / 2, Qt::NoButton, Qt::LeftButton);
    send(QEvent::MouseMove, to, Qt::NoButton, Qt::LeftButton);
    send(QEvent::MouseButtonRelease, to, Qt::LeftButton, Qt::NoButton);
    QCOMPARE(int(view.graphScene()->selectedNodeIds().size()), kSmallNodes);  // output markers are not nodes
    QCOMPARE(view.horizontalScrollBar()->value(), before);  // it did not pan
    QCOMPARE(view.dragMode(), QGraphicsView::ScrollHandDrag);  // a plain drag pans again
}

void TestGraphView::clearGraph() {
    GraphView view;
    view.showGraph(smallGraph());
    view.clearGraph();
    QVERIFY(!view.isLayoutPending());
    QSignalSpy applied(&view, &GraphView::layoutApplied);
    QTest::qWait(300);
    QCOMPARE(applied.count(), 0);
    QVERIFY(view.graphScene()->items().isEmpty());
    // An empty graph lays out to an empty drawing.
    view.showGraph(Graph());
    QVERIFY(waitForLayout(view));
    QVERIFY(view.graphScene()->nodeItems().empty());
}

/// A ladder of `n` additions, each reading the two before it: slow for Graphviz's "dot".
Graph ladder(int n) {
    Graph g;
    NodeId a = g.addInput("a", {4});
    NodeId b = g.addInput("b", {4});
    for (int i = 0; i < n; ++i) {
        const NodeId c = g.addNode(Op::Add, {{a, 0}, {b, 0}}, {}, "s" + std::to_string(i));
        a = b;
        b = c;
    }
    g.addOutput("y", {b, 0});
    return g;
}

void TestGraphView::cancelLayoutKeepsTheDrawing() {
    GraphView view;
    view.showGraph(smallGraph());
    QVERIFY(waitForLayout(view));
    const std::size_t drawn = view.graphScene()->nodeItems().size();
    QSignalSpy cancelled(&view, &GraphView::layoutCancelled);
    QSignalSpy applied(&view, &GraphView::layoutApplied);
    view.showGraph(ladder(40));
    QVERIFY(view.isLayoutPending());
    QTest::keyClick(&view, Qt::Key_Escape);
    QVERIFY(!view.isLayoutPending());
    QCOMPARE(cancelled.count(), 1);
    GraphView::layoutThreadPool()->waitForDone();  // the worker finishes; its result is delivered and dropped
    QVERIFY(test::timerFires(5));
    QCOMPARE(applied.count(), 0);
    QCOMPARE(view.graphScene()->nodeItems().size(), drawn);
    view.cancelLayout();  // nothing pending: nothing happens
    QCOMPARE(cancelled.count(), 1);
    // A later layout is applied as usual.
    view.showGraph(ladder(5));
    QVERIFY(waitForLayout(view));
    QCOMPARE(view.graphScene()->nodeItems().size(), std::size_t(5 + 2 + 1));
}

void TestGraphView::mainWindowCancelsALongLayout() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    // The layout pool is held, so the layout is still pending when the busy bar is due, however
    // fast the machine (a 1,500-node ladder took Graphviz 2-3 s here, under a second elsewhere).
    test::PoolGate layouts(GraphView::layoutThreadPool());
    window.showGraph(ladder(40), "ladder");
    auto* busy = window.findChild<QWidget*>("layoutBusy");
    auto* cancel = window.findChild<QToolButton*>("cancelLayout");
    QVERIFY(busy && cancel);
    QVERIFY(!busy->isVisible());  // not at once: a short layout never shows it
    QTRY_VERIFY_WITH_TIMEOUT(busy->isVisible(), 30000);
    QVERIFY(window.graphView()->isLayoutPending());
    cancel->click();
    QVERIFY(!window.graphView()->isLayoutPending());
    QVERIFY(!busy->isVisible());
    QVERIFY(window.statusBar()->currentMessage().contains("cancelled"));
    QVERIFY(window.graphView()->graphScene()->nodeItems().empty());
    layouts.release();
    GraphView::layoutThreadPool()->waitForDone();
    QVERIFY(test::timerFires(5));  // its result is delivered, and dropped
    QVERIFY(window.graphView()->graphScene()->nodeItems().empty());
}

void TestGraphView::mainWindowOpensExample() {
    const QString path = QString::fromStdString(test::sourcePath("resources/examples/mlp.json"));
    QVERIFY2(QFile::exists(path), "resources/examples/mlp.json is missing");
    MainWindow window;
    window.show();
    QString error;
    QVERIFY2(window.openFile(path, &error), qPrintable(error));
    QCOMPARE(window.windowTitle(), QString::fromUtf8("mlp.json[*] — Adjoint"));
    QVERIFY(window.graph()->nodeCount() > 0);
    QVERIFY(window.graphTextView()->toPlainText().contains(QStringLiteral("graph")));
    QVERIFY(window.diagnosticsView()->count() >= 1);
    QVERIFY(waitForLayout(*window.graphView()));
    QCOMPARE(int(window.graphView()->graphScene()->nodeItems().size()),
             int(window.graph()->nodeCount() + window.graph()->outputs().size()));
    const QImage image = window.grab().toImage();
    QVERIFY(distinctColours(image) > 8);
}

void TestGraphView::mainWindowReportsErrors() {
    MainWindow window;
    QString error;
    QVERIFY(!window.openFile(QStringLiteral("/nonexistent/graph.json"), &error));
    QVERIFY(!error.isEmpty());
    QCOMPARE(window.graph()->nodeCount(), std::size_t(0));

    const QString bad = QString::fromStdString(test::tempDir()) + QStringLiteral("/bad.json");
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("{\"format\": \"adjoint-graph\", \"version\": 1, \"nodes\": [");
    f.close();
    error.clear();
    QVERIFY(!window.openFile(bad, &error));
    QVERIFY(!error.isEmpty());

    // A graph with problems shows with its diagnostics listed.
    Graph g = smallGraph();
    g.addNode(Op::MatMul, {{0, 0}, {0, 0}}, {}, "broken");  // [4,8] @ [4,8]: shapes do not match
    window.showGraph(g, QStringLiteral("broken"));
    QVERIFY(window.windowTitle().startsWith(QStringLiteral("broken[*]")));
    bool named = false;
    for (int i = 0; i < window.diagnosticsView()->count(); ++i)
        named = named || window.diagnosticsView()->item(i)->text().contains(QStringLiteral("broken"));
    QVERIFY(named);
    QVERIFY(waitForLayout(*window.graphView()));
}

QTEST_MAIN(TestGraphView)
#include "tst_graph_view.moc"
