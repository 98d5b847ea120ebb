// The canvas's name-scope hierarchy (ir/group_tree.h) in the main window: a large scoped model
// opens on its outer blocks, each collapsed block says what it holds; double-clicking a block opens
// it (undoably) and its frame sits inside its parent's; Find reaches a node inside a collapsed
// block by name, op or scope and opens the way to it.
#include <QSignalSpy>
#include <QToolButton>
#include <QTemporaryDir>
#include <QtTest>

#include "breadcrumb_bar.h"
#include "autodiff/reverse_mode.h"
#include "graph_document.h"
#include "graph_items.h"
#include "graph_scene.h"
#include "graph_view.h"
#include "gui_test_support.h"
#include "io/graph_file.h"
#include "ir/group_tree.h"
#include "main_window.h"

using namespace adj;

namespace {

/// x -> 4 stages of 4 layers of 10 relus each (161 nodes, over what opens expanded), named and
/// grouped as a PyTorch export's are after import ("/enc/stage1/layer5/r3/Relu_output_0").
QString writeScopedModel(const QString& dir) {
    Graph g;
    ValueRef v{g.addInput("x", {2, 3}), 0};
    for (int s = 0; s < 4; ++s)
        for (int l = 0; l < 4; ++l)
            for (int r = 0; r < 10; ++r) {
                const std::string scope = "enc/stage" + std::to_string(s) + "/layer" + std::to_string(4 * s + l);
                const NodeId id = g.addNode(Op::Relu, {v}, {}, "/" + scope + "/r" + std::to_string(r) + "/Relu_output_0");
                g.node(id).meta[kGroupKey] = scope;
                v = {id, 0};
            }
    g.addOutput("y", v);
    const QString path = dir + "/scoped.json";
    saveGraphFile(g, path.toStdString());
    return path;
}

}  // namespace

class TestHierarchy : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;

private Q_SLOTS:
    void initTestCase() { test::isolateApplication(dir_.path(), "tst_hierarchy"); }

    void largeModelOpensOnItsBlocks() {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QString error;
        QVERIFY2(window.openFile(writeScopedModel(dir_.path()), &error), qPrintable(error));
        QVERIFY(test::waitForLayout(*window.graphView()));
        GraphDocument* doc = window.document();
        // 161 nodes: enc opens (4 stage boxes), the stages too (16 layer boxes), the layers not
        for (int l = 0; l < 16; ++l) {
            const QString layer = QString("enc/stage%1/layer%2").arg(l / 4).arg(l);
            QVERIFY2(doc->isGroupCollapsed(layer), qPrintable(layer));
        }
        QVERIFY(!doc->isGroupCollapsed("enc") && !doc->isGroupCollapsed("enc/stage0"));
        QVERIFY(!doc->isModified());  // how a file opens is not an edit
        GraphScene* scene = window.graphView()->graphScene();
        int boxes = 0;
        GraphNodeItem* layer5 = nullptr;
        for (GraphNodeItem* item : scene->nodeItems())
            if (item->isCollapsedGroup()) {
                ++boxes;
                if (scene->collapsedName(item->nodeId()) == "enc/stage1/layer5") layer5 = item;
            }
        QCOMPARE(boxes, 16);
        QVERIFY(layer5);
        // the box reads its last name, its size, its ops and its cost
        const QStringList lines = layer5->lines();
        QCOMPARE(lines.value(0), QString("layer5"));
        QCOMPARE(lines.value(1), QString("10 nodes"));
        QVERIFY2(lines.value(2).contains("10 relu"), qPrintable(lines.join(" | ")));
        QVERIFY2(lines.value(3).contains("FLOP"), qPrintable(lines.join(" | ")));
        // frames nest: each stage's frame inside enc's
        QRectF enc, stage1;
        for (GraphClusterItem* c : scene->clusterItems()) {
            if (c->name() == "enc") enc = c->frame();
            if (c->name() == "enc/stage1") stage1 = c->frame();
        }
        QVERIFY(!enc.isEmpty() && enc.contains(stage1));
        QVERIFY(stage1.contains(layer5->pos()));

        // double-clicking a block opens it; undo closes it again
        QSignalSpy toggled(scene, &GraphScene::groupToggled);
        window.graphView()->centerOn(layer5);
        QTest::mouseDClick(window.graphView()->viewport(), Qt::LeftButton, {}, window.graphView()->mapFromScene(layer5->pos()));
        QCOMPARE(toggled.count(), 1);
        QVERIFY(!doc->isGroupCollapsed("enc/stage1/layer5"));
        QVERIFY(test::waitForLayout(*window.graphView()));
        const NodeId r3 = *window.graph()->findNode("/enc/stage1/layer5/r3/Relu_output_0");
        QVERIFY(scene->nodeItem(r3) && !scene->nodeItem(r3)->isCollapsedGroup());
        doc->undoStack()->undo();
        QVERIFY(doc->isGroupCollapsed("enc/stage1/layer5"));
        QVERIFY(test::waitForLayout(*window.graphView()));

        // Find by scope: a node inside a collapsed block is reached, the blocks around it opened
        QVERIFY(window.findNode("layer9/r7"));
        QVERIFY(!doc->isGroupCollapsed("enc/stage2/layer9"));
        QVERIFY(test::waitForLayout(*window.graphView()));
        const NodeId r7 = *window.graph()->findNode("/enc/stage2/layer9/r7/Relu_output_0");
        QTRY_VERIFY(scene->nodeItem(r7) && scene->nodeItem(r7)->isSelected());
        QVERIFY(window.graphView()->mapToScene(window.graphView()->viewport()->rect()).boundingRect().contains(scene->nodeItem(r7)->pos()));
        // by op: every relu matches, Enter again moves on
        QVERIFY(window.findNode("relu"));
        QVERIFY(window.findNode("relu"));
        QVERIFY(!window.findNode("no such thing"));
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
        QVERIFY(window.close());
    }

    // The breadcrumbs say which block one is in; a crumb goes back out to its level, Alt+Up one
    // level out; double-clicking a box goes in.
    void breadcrumbsMoveInAndOut() {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QString error;
        QVERIFY2(window.openFile(writeScopedModel(dir_.path()), &error), qPrintable(error));
        QVERIFY(test::waitForLayout(*window.graphView()));
        GraphDocument* doc = window.document();
        GraphScene* scene = window.graphView()->graphScene();
        BreadcrumbBar* crumbs = window.breadcrumbs();
        QVERIFY(crumbs->isVisible());
        QCOMPARE(crumbs->path(), QString());
        QCOMPARE(crumbs->crumbs().size(), std::size_t(1));  // "Graph"

        // in: double-click layer5's box
        GraphNodeItem* layer5 = nullptr;
        for (GraphNodeItem* item : scene->nodeItems())
            if (item->isCollapsedGroup() && scene->collapsedName(item->nodeId()) == "enc/stage1/layer5") layer5 = item;
        QVERIFY(layer5);
        window.graphView()->centerOn(layer5);
        QTest::mouseDClick(window.graphView()->viewport(), Qt::LeftButton, {}, window.graphView()->mapFromScene(layer5->pos()));
        QVERIFY(!doc->isGroupCollapsed("enc/stage1/layer5"));
        QVERIFY(test::waitForLayout(*window.graphView()));
        QCOMPARE(crumbs->path(), QString("enc/stage1/layer5"));
        QCOMPARE(crumbs->crumbs().size(), std::size_t(4));  // Graph, enc, stage1, layer5
        QCOMPARE(crumbs->crumbs()[2]->text(), QString("stage1"));
        // selecting a node elsewhere: the crumbs follow the selection
        const NodeId r2 = *window.graph()->findNode("/enc/stage1/layer5/r2/Relu_output_0");
        scene->selectNode(r2);
        QCOMPARE(crumbs->path(), QString("enc/stage1/layer5"));
        scene->selectNode(*window.graph()->findNode("/enc/stage2/layer9/r0/Relu_output_0"));  // inside a box
        QCOMPARE(crumbs->path(), QString("enc/stage2"));
        scene->selectNode(r2);

        // out: the "stage1" crumb collapses layer5 again and selects its box
        crumbs->crumbs()[2]->click();
        QVERIFY(doc->isGroupCollapsed("enc/stage1/layer5"));
        QVERIFY(test::waitForLayout(*window.graphView()));
        QTRY_VERIFY(scene->nodeItem(r2)->isCollapsedGroup() && scene->nodeItem(r2)->isSelected());
        QCOMPARE(crumbs->path(), QString("enc/stage1"));
        // Alt+Up: out of stage1 too
        window.goOutOneLevel();
        QVERIFY(doc->isGroupCollapsed("enc/stage1"));
        QVERIFY(test::waitForLayout(*window.graphView()));
        QTRY_COMPARE(crumbs->path(), QString("enc"));
        // the "Graph" crumb: out of enc, to the top
        crumbs->crumbs()[0]->click();
        QVERIFY(doc->isGroupCollapsed("enc"));
        QVERIFY(test::waitForLayout(*window.graphView()));
        QTRY_COMPARE(crumbs->path(), QString());
        // each way out is one undo step
        doc->undoStack()->undo();
        QVERIFY(!doc->isGroupCollapsed("enc"));
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
        QVERIFY(window.close());
    }

    // A backward graph with modules (an exported backward graph opened as a document) is drawn
    // by the layered layout: Graphviz 2.42 corrupts its heap on such frames.
    void backwardGraphWithModulesIsDrawnByTheLayeredLayout() {
        Graph g = loadGraphFile(writeScopedModel(dir_.path()).toStdString());
        const NodeId loss = g.addNode(Op::Sum, {g.outputs().front().value}, {}, "loss");
        g.setOutputs({{"loss", {loss, 0}}});
        Graph backward = buildBackward(g, "loss").graph;
        MainWindow window;
        window.show();
        window.showGraph(backward, "backward");
        QVERIFY(test::waitForLayout(*window.graphView()));
        QVERIFY(window.graphView()->isLayered());
        QVERIFY(!window.graphView()->graphScene()->clusterItems().empty());  // the frames, drawn
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
        QVERIFY(window.close());
        // the forward model itself keeps Graphviz
        MainWindow forward;
        forward.show();
        forward.showGraph(g, "forward");
        QVERIFY(test::waitForLayout(*forward.graphView()));
        QVERIFY(!forward.graphView()->isLayered());
        forward.setUnsavedChangesAnswer(QMessageBox::Discard);
    }
};

QTEST_MAIN(TestHierarchy)
#include "tst_hierarchy.moc"
