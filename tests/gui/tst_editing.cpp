// Editing on the canvas and in the docks, with the offscreen platform: the palette (built from
// the op table, searchable, drags carry the op), the inspector's validation, ports and
// connecting by dragging, moving nodes (one undo step per drag), delete, copy/paste, find,
// error badges, presentation mode.
#include <QApplication>
#include <QClipboard>
#include <QGraphicsSceneMouseEvent>
#include <QLabel>
#include <QLineEdit>
#include <QStatusBar>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include "gui_test_support.h"
#include "find_bar.h"
#include "graph_document.h"
#include "graph_view.h"
#include "inspector_widget.h"
#include "ir/printer.h"
#include "main_window.h"
#include "palette_widget.h"

using namespace adj;
using namespace adj::test;

namespace {

Graph chain() {
    Graph g;
    NodeId x = g.addInput("x", {4, 3});
    NodeId s = g.addNode(Op::Sum, {{x, 0}}, {}, "s");
    NodeId r = g.addNode(Op::Relu, {}, {}, "r");
    (void)r;
    g.addOutput("y", {s, 0});
    return g;
}

}  // namespace

class TestEditing : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { test::isolateApplication(dir_.path(), "tst_editing"); }

    void paletteListsEveryOp() {
        PaletteWidget palette;
        int ops = 0;
        for (int g = 0; g < palette.tree()->topLevelItemCount(); ++g) ops += palette.tree()->topLevelItem(g)->childCount();
        QCOMPARE(ops, kOpCount);
        for (const OpInfo& info : allOps()) {
            QTreeWidgetItem* item = palette.opItem(QString::fromUtf8(info.name.data(), qsizetype(info.name.size())));
            QVERIFY(item);
            QVERIFY2(!item->toolTip(0).isEmpty(), info.name.data());  // every op says what it does (issue 18)
        }
        palette.searchField()->setText("soft");
        QVERIFY(!palette.opItem("softmax")->isHidden());
        QVERIFY(!palette.opItem("log_softmax")->isHidden());
        QVERIFY(palette.opItem("matmul")->isHidden());
        palette.searchField()->clear();
        QVERIFY(!palette.opItem("matmul")->isHidden());

        // A drag carries the op's name under GraphView's MIME type.
        const QModelIndex index = palette.tree()->indexFromItem(palette.opItem("tanh"));
        std::unique_ptr<QMimeData> mime(palette.tree()->model()->mimeData({index}));
        QVERIFY(mime);
        QCOMPARE(mime->data(GraphView::kOpMimeType), QByteArray("tanh"));

        // A double-click on an op, and Return on the current one, activate it: real events on the tree.
        palette.resize(300, 700);
        palette.show();
        QVERIFY(QTest::qWaitForWindowExposed(&palette));
        QSignalSpy activated(&palette, &PaletteWidget::opActivated);
        QTreeWidget* tree = palette.tree();
        tree->scrollToItem(palette.opItem("exp"));
        const QPoint at = tree->visualItemRect(palette.opItem("exp")).center();
        QTest::mouseClick(tree->viewport(), Qt::LeftButton, Qt::NoModifier, at);  // a double-click follows a click
        QTest::mouseDClick(tree->viewport(), Qt::LeftButton, Qt::NoModifier, at);
        QCOMPARE(activated.count(), 1);
        QCOMPARE(activated.at(0).at(0).toString(), QString("exp"));
        tree->setCurrentItem(palette.opItem("tanh"));
        tree->setFocus();
        QTest::keyClick(tree, Qt::Key_Return);
        QCOMPARE(activated.count(), 2);
        QCOMPARE(activated.at(1).at(0).toString(), QString("tanh"));
    }

    void inspectorRefusesInvalidValues() {
        Graph g = chain();
        verifyGraph(g);
        InspectorWidget inspector;
        const NodeId s = *g.findNode("s");
        inspector.showNode(g, s);
        QSignalSpy requested(&inspector, &InspectorWidget::attributeRequested);
        QLineEdit* keepdims = inspector.attributeField("keepdims");
        QLineEdit* axes = inspector.attributeField("axes");
        QVERIFY(keepdims && axes);
        keepdims->setText("yes");
        QTest::keyClick(keepdims, Qt::Key_Return);
        QCOMPARE(requested.count(), 0);
        QVERIFY(inspector.message().contains("keepdims"));
        QVERIFY(inspector.message().contains("integer"));
        axes->setText("[0, 7]");  // a well-typed list that does not fit a rank-2 input
        QTest::keyClick(axes, Qt::Key_Return);
        QCOMPARE(requested.count(), 0);
        QVERIFY(inspector.message().contains("axes"));
        axes->setText("[1]");
        QTest::keyClick(axes, Qt::Key_Return);
        QCOMPARE(requested.count(), 1);
        QCOMPARE(requested.at(0).at(1).toString(), QString("axes"));
        QVERIFY(inspector.message().isEmpty());

        // Sources: the shape field.
        const NodeId x = *g.findNode("x");
        inspector.showNode(g, x);
        QVERIFY(inspector.shapeField());
        QCOMPARE(inspector.shapeField()->text(), QString("[4, 3]"));
        QSignalSpy shape(&inspector, &InspectorWidget::shapeRequested);
        inspector.shapeField()->setText("4, -1");
        QTest::keyClick(inspector.shapeField(), Qt::Key_Return);
        QCOMPARE(shape.count(), 0);
        QVERIFY(inspector.message().contains("positive"));
        inspector.shapeField()->setText("[2, 5]");
        QTest::keyClick(inspector.shapeField(), Qt::Key_Return);
        QCOMPARE(shape.count(), 1);

        QString error;
        QVERIFY(!InspectorWidget::parseAttribute(AttrSpec{"alpha", AttrType::Float, false, "", {}}, "1e999", &error));
        QVERIFY(InspectorWidget::parseAttribute(AttrSpec{"alpha", AttrType::Float, false, "", {}}, "0.25", &error));
        QVERIFY(InspectorWidget::parseShape("[]", &error)->empty());
    }

    void inspectorEditsGoThroughTheDocument() {
        MainWindow window;
        window.show();
        window.showGraph(chain(), "chain");
        QVERIFY(waitForLayout(*window.graphView()));
        const NodeId s = *window.graph()->findNode("s");
        window.graphView()->graphScene()->selectNode(s);
        QCOMPARE(window.inspector()->nodeId(), s);
        QLineEdit* axes = window.inspector()->attributeField("axes");
        axes->setText("1");
        QTest::keyClick(axes, Qt::Key_Return);
        QCOMPARE(window.graph()->node(s).outputs.at(0).shape, (Shape{4}));
        QVERIFY(window.document()->isModified());
        QLineEdit* name = window.inspector()->nameField();
        name->setText("x");  // taken
        QTest::keyClick(name, Qt::Key_Return);
        QCOMPARE(window.graph()->node(s).name, std::string("s"));
        QVERIFY(window.inspector()->message().contains("taken"));
        window.document()->undoStack()->undo();
        QVERIFY(!window.graph()->node(s).attrs.has("axes"));
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
    }

    void connectByDraggingPorts() {
        MainWindow window;
        window.show();
        window.showGraph(chain(), "chain");
        QVERIFY(waitForLayout(*window.graphView()));
        GraphScene* scene = window.graphView()->graphScene();
        const NodeId x = *window.graph()->findNode("x");
        const NodeId r = *window.graph()->findNode("r");
        GraphNodeItem* xi = scene->nodeItem(x);
        GraphNodeItem* ri = scene->nodeItem(r);
        QVERIFY(xi && ri);
        QCOMPARE(xi->outputPortCount(), 1);
        QCOMPARE(xi->inputPortCount(), 0);
        QCOMPARE(ri->inputPortCount(), 1);
        QVERIFY(!ri->problem().isEmpty());  // relu without input: a red badge
        QVERIFY(ri->toolTip().contains(ri->problem().toHtmlEscaped().left(10)));

        sceneDrag(scene, xi->mapToScene(xi->outputPortPos(0)), ri->mapToScene(ri->inputPortPos(0)));
        QCOMPARE(window.graph()->node(r).inputs.size(), std::size_t(1));
        QCOMPARE(window.graph()->node(r).inputs[0], (ValueRef{x, 0}));
        QCOMPARE(window.document()->undoStack()->count(), 1);
        QVERIFY(waitForLayout(*window.graphView()));
        ri = scene->nodeItem(r);
        QVERIFY(ri->problem().isEmpty());  // the badge went away
        bool shapeOnEdge = false;
        for (GraphEdgeItem* e : scene->edgeItems())
            if (e->to() == r && e->from() == ValueRef{x, 0}) shapeOnEdge = e->label() == QString::fromUtf8("4×3");
        QVERIFY(shapeOnEdge);
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
    }

    void movingNodesIsOneUndoStep() {
        MainWindow window;
        window.show();
        window.showGraph(chain(), "chain");
        QVERIFY(waitForLayout(*window.graphView()));
        GraphScene* scene = window.graphView()->graphScene();
        const NodeId s = *window.graph()->findNode("s");
        GraphNodeItem* si = scene->nodeItem(s);
        const QPointF start = si->pos();
        QSignalSpy relayout(window.graphView(), &GraphView::layoutStarted);
        sceneDrag(scene, start, start + QPointF(120, 40));
        QCOMPARE(si->pos(), start + QPointF(120, 40));
        QCOMPARE(window.document()->undoStack()->count(), 1);
        QCOMPARE(window.document()->position(s), start + QPointF(120, 40));
        QCOMPARE(relayout.count(), 0);  // a move re-routes edges, no re-layout
        // its edges follow
        for (GraphEdgeItem* e : scene->edgeItems())
            if (e->to() == s) QVERIFY(QLineF(e->path().pointAtPercent(1), si->scenePos()).length() < si->box().height());
        window.document()->undoStack()->undo();  // unpinned: back where the layout puts it
        QVERIFY(!window.document()->hasPosition(s));
        QVERIFY(waitForLayout(*window.graphView()));
        QCOMPARE(scene->nodeItem(s)->pos(), start);
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
    }

    void deleteCopyPasteFind() {
        MainWindow window;
        window.show();
        QString error;
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY2(window.openFile(QString(ADJOINT_SOURCE_DIR) + "/resources/examples/mlp.json", &error), qPrintable(error));
        QVERIFY(waitForLayout(*window.graphView()));
        GraphScene* scene = window.graphView()->graphScene();
        const std::size_t count = window.graph()->nodeCount();

        // Find (Ctrl+F, type, Enter) selects the node.
        QTest::keySequence(&window, QKeySequence::Find);
        QVERIFY(window.findBar()->isVisible());
        window.findBar()->field()->setText("h1");
        QTest::keyClick(window.findBar()->field(), Qt::Key_Return);
        const NodeId h1 = *window.graph()->findNode("h1");
        QCOMPARE(scene->selectedNodeIds(), std::vector<NodeId>{h1});
        QVERIFY(!window.findNode("no_such_node"));

        window.copySelection();
        QVERIFY(QApplication::clipboard()->mimeData()->hasFormat("application/x-adjoint-graph"));
        window.paste();
        QCOMPARE(window.graph()->nodeCount(), count + 1);
        QVERIFY(window.graph()->findNode("h1_1"));
        QVERIFY(waitForLayout(*window.graphView()));
        QCOMPARE(scene->selectedNodeIds(), std::vector<NodeId>{*window.graph()->findNode("h1_1")});

        // Delete (the key, on the canvas) removes the selection in one step.
        const NodeId w1 = *window.graph()->findNode("w1");
        scene->selectNode(h1);
        scene->nodeItem(w1)->setSelected(true);
        window.graphView()->setFocus();
        const int steps = window.document()->undoStack()->count();
        QTest::keyClick(window.graphView(), Qt::Key_Delete);
        QCOMPARE(window.graph()->nodeCount(), count - 1);
        QCOMPARE(window.document()->undoStack()->count(), steps + 1);
        QTest::keySequence(&window, QKeySequence::Undo);
        QCOMPARE(window.graph()->nodeCount(), count + 1);
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
    }

    void collapsedGroupDrawsAsOneNode() {
        // x -> a = relu -> b = tanh -> c = b + a -> out = sigmoid -> y; group {b, c}.
        Graph g;
        const NodeId x = g.addInput("x", {4, 3});
        const NodeId a = g.addNode(Op::Relu, {{x, 0}}, {}, "a");
        const NodeId b = g.addNode(Op::Tanh, {{a, 0}}, {}, "b");
        const NodeId c = g.addNode(Op::Add, {{b, 0}, {a, 0}}, {}, "c");
        const NodeId out = g.addNode(Op::Sigmoid, {{c, 0}}, {}, "out");
        g.addOutput("y", {out, 0});
        MainWindow window;
        window.show();
        window.showGraph(std::move(g), "block");
        GraphScene* scene = window.graphView()->graphScene();
        QVERIFY(waitForLayout(*window.graphView()));
        const std::size_t nodes0 = scene->nodeItems().size(), edges0 = scene->edgeItems().size();
        QCOMPARE(nodes0, std::size_t(6));  // five nodes and the output
        QCOMPARE(edges0, std::size_t(6));

        GraphDocument* doc = window.document();
        const QString group = doc->groupNodes({b, c}, "block");
        QVERIFY(waitForLayout(*window.graphView()));
        QCOMPARE(scene->nodeItems().size(), nodes0);  // grouped, still expanded: a frame around b and c
        QCOMPARE(scene->clusterItems().size(), std::size_t(1));
        GraphClusterItem* frame = scene->clusterItems().front();
        QCOMPARE(frame->name(), QString("block"));
        for (NodeId m : {b, c}) QVERIFY(frame->frame().contains(scene->nodeItem(m)->sceneBoundingRect().center()));
        for (NodeId m : {x, a, out}) QVERIFY(!frame->frame().contains(scene->nodeItem(m)->sceneBoundingRect().center()));
        // Double-clicking the frame's title collapses the group.
        sceneDoubleClick(scene, frame->frame().topLeft() + QPointF(30, GraphClusterItem::kTitleHeight / 2));
        QVERIFY(doc->isGroupCollapsed(group));
        QVERIFY(waitForLayout(*window.graphView()));
        QVERIFY(scene->clusterItems().empty());

        // One box for b and c; a enters it once (although both read it), c leaves it once; the
        // edge b -> c inside it is not drawn.
        QCOMPARE(scene->nodeItems().size(), nodes0 - 1);
        QCOMPARE(scene->edgeItems().size(), edges0 - 2);
        GraphNodeItem* box = scene->nodeItem(b);
        QVERIFY(box && box == scene->nodeItem(c));
        QVERIFY(box->isCollapsedGroup());
        QVERIFY(isLayoutCollapsedId(box->nodeId()));
        // its name, its size, its ops (most frequent first) and what it costs
        QCOMPARE(box->lines().mid(0, 2), (QStringList{"block", "2 nodes"}));
        QCOMPARE(box->lines().size(), 4);
        QVERIFY2(box->lines()[3].contains("FLOP"), qPrintable(box->lines().join(" | ")));
        QCOMPARE(box->inputPortCount(), 1);
        QCOMPARE(box->outputPortCount(), 1);
        QVERIFY(!(box->flags() & QGraphicsItem::ItemIsMovable));
        for (GraphEdgeItem* e : scene->edgeItems()) {
            QVERIFY(!(e->fromBox() == box->nodeId() && e->toBox() == box->nodeId()));
            // every drawn edge ends on its item's port: the box's ports for crossing edges
            const QPointF end = e->path().pointAtPercent(1.0);
            GraphNodeItem* to = scene->nodeItem(e->toBox() != kNoNode ? e->toBox() : e->to());
            QVERIFY(to && to->sceneBoundingRect().adjusted(-12, -12, 12, 12).contains(end));
        }

        // Selecting the box selects its members (delete, copy and ungroup act on them).
        scene->selectNode(c);
        QVERIFY(box->isSelected());
        QCOMPARE(scene->selectedNodeIds(), (std::vector<NodeId>{b, c}));

        // A wire cannot end inside a collapsed group: a hint, no edit.
        QSignalSpy hint(scene, &GraphScene::hint);
        const int undoCount = doc->undoStack()->count();
        GraphNodeItem* xItem = scene->nodeItem(x);
        sceneDrag(scene, xItem->mapToScene(xItem->outputPortPos(0)), box->mapToScene(box->inputPortPos(0)));
        QCOMPARE(hint.count(), 1);
        QVERIFY(hint.at(0).at(0).toString().contains("block"));
        QCOMPARE(doc->undoStack()->count(), undoCount);

        // A wire from the box's output port connects its member's value.
        const NodeId extra = doc->addNode(Op::Exp, QPointF(-400, 0));
        QVERIFY(waitForLayout(*window.graphView()));
        box = scene->nodeItem(b);
        GraphNodeItem* extraItem = scene->nodeItem(extra);
        QVERIFY(box && extraItem);
        sceneDrag(scene, box->mapToScene(box->outputPortPos(0)), extraItem->mapToScene(extraItem->inputPortPos(0)));
        QCOMPARE(doc->graph().node(extra).inputs.at(0), (ValueRef{c, 0}));
        QVERIFY(waitForLayout(*window.graphView()));

        // Double-clicking the box expands the group (one undo step); undo folds it again.
        box = scene->nodeItem(b);
        sceneDoubleClick(scene, box->sceneBoundingRect().center());
        QVERIFY(!doc->isGroupCollapsed(group));
        QVERIFY(waitForLayout(*window.graphView()));
        QCOMPARE(scene->nodeItems().size(), nodes0 + 1);
        QVERIFY(scene->nodeItem(b) != scene->nodeItem(c));
        QVERIFY(!scene->nodeItem(b)->isCollapsedGroup());
        QCOMPARE(scene->clusterItems().size(), std::size_t(1));
        doc->undoStack()->undo();
        QVERIFY(doc->isGroupCollapsed(group));
        QVERIFY(waitForLayout(*window.graphView()));
        QCOMPARE(scene->nodeItems().size(), nodes0);
    }

    // Issue 18: every drop, connection or shape edit used to re-zoom and re-centre the canvas
    // (ports moved under the pointer), and a dropped node did not land under the cursor.
    void editsKeepTheViewAndDropsLandUnderTheCursor() {
        MainWindow window;
        window.resize(1100, 760);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QString error;
        QVERIFY2(window.openFile(QString(ADJOINT_SOURCE_DIR) + "/resources/examples/mlp.json", &error), qPrintable(error));
        QVERIFY(waitForLayout(*window.graphView()));
        GraphView* view = window.graphView();
        GraphScene* scene = view->graphScene();
        QWidget* viewport = view->viewport();
        const double zoom = view->zoom();
        auto viewportPos = [&](NodeId id) { return view->mapFromScene(scene->nodeItem(id)->scenePos()); };

        // A drop far right of the drawing: the view keeps its scale, the node lands under the cursor.
        const QPoint dropAt(viewport->width() - 40, viewport->height() / 3);
        const QModelIndex index = window.palette()->tree()->indexFromItem(window.palette()->opItem("tanh"));
        std::unique_ptr<QMimeData> mime(window.palette()->tree()->model()->mimeData({index}));
        QVERIFY(dropOn(viewport, dropAt, mime.get()));
        QVERIFY(waitForLayout(*view));
        const NodeId tanh = *window.graph()->findNode("tanh");
        QCOMPARE(view->zoom(), zoom);
        QVERIFY2(QLineF(viewportPos(tanh), dropAt).length() < 3,
                 qPrintable(QString("dropped at %1,%2, drawn at %3,%4").arg(dropAt.x()).arg(dropAt.y())
                                .arg(viewportPos(tanh).x()).arg(viewportPos(tanh).y())));

        // A connection: the node under the pointer stays where it was (its ports do not move
        // away from the pointer), at the same scale.
        const NodeId h1 = *window.graph()->findNode("h1");
        const QPoint h1Before = viewportPos(h1);
        QCursor::setPos(viewport->mapToGlobal(h1Before));
        window.document()->connect({h1, 0}, tanh, 0);
        QVERIFY(waitForLayout(*view));
        QCOMPARE(view->zoom(), zoom);
        QVERIFY(QLineF(viewportPos(h1), h1Before).length() < 3);
        // An edit made away from the canvas (the cursor elsewhere): the node nearest the view's
        // middle keeps its place.
        QCursor::setPos(window.mapToGlobal(QPoint(-200, -200)));
        NodeId middle = kNoNode;
        double best = 1e300;
        for (GraphNodeItem* item : scene->nodeItems()) {
            if (!window.graph()->contains(item->nodeId())) continue;
            const double d = QLineF(view->mapFromScene(item->scenePos()), viewport->rect().center()).length();
            if (d < best) best = d, middle = item->nodeId();
        }
        QVERIFY(middle != kNoNode);
        const QPoint middleBefore = viewportPos(middle);
        window.document()->removeNode(tanh);
        QVERIFY(waitForLayout(*view));
        QCOMPARE(view->zoom(), zoom);
        QVERIFY(QLineF(viewportPos(middle), middleBefore).length() < 3);
        // Opening a graph frames it anew.
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
        window.showGraph(chain(), "chain");
        QVERIFY(waitForLayout(*view));
        QVERIFY(view->zoom() != zoom);
    }

    void presentationModeToggles() {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        window.showGraph(chain(), "chain");
        QVERIFY(waitForLayout(*window.graphView()));
        const double zoom = window.graphView()->zoom();
        const qreal font = QApplication::font().pointSizeF();
        QTest::keyClick(&window, Qt::Key_F5);
        QVERIFY(window.isPresentationMode());
        QVERIFY(graphPresentationMode());
        QVERIFY(QApplication::font().pointSizeF() > font * 1.4);
        QVERIFY(window.graphView()->zoom() > zoom * 1.4);
        QVERIFY(QSettings().value("presentationMode").toBool());
        QTest::keyClick(&window, Qt::Key_F5);
        QVERIFY(!window.isPresentationMode());
        QCOMPARE(QApplication::font().pointSizeF(), font);
        QVERIFY(!QSettings().value("presentationMode").toBool());
        // adjoint --presentation: on for this run only, and the menu's check mark follows.
        window.setPresentationMode(true, false);
        QVERIFY(window.isPresentationMode());
        QVERIFY(QApplication::font().pointSizeF() > font * 1.4);
        QVERIFY(!QSettings().value("presentationMode").toBool());
        // The status bar's summary stays hidden under the message after the font change, and
        // comes back when the message goes.
        auto* info = window.findChild<QLabel*>("statusInfo");
        QVERIFY(info);
        QTest::qWait(50);
        QVERIFY(!window.statusBar()->currentMessage().isEmpty());
        QVERIFY(!info->isVisible());
        window.statusBar()->clearMessage();
        QVERIFY(info->isVisible());
        QTest::keyClick(&window, Qt::Key_F5);
        QVERIFY(!window.isPresentationMode());
        QCOMPARE(QApplication::font().pointSizeF(), font);
    }

private:
    QTemporaryDir dir_;
};

QTEST_MAIN(TestEditing)
#include "tst_editing.moc"
