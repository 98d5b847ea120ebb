// The fusion panel on a model with modules (issue 18): the groups sit in the model's module
// frames and say which module they are in; selecting a group scrolls the canvas to its hull,
// which stays in view when the panel is resized.
#include <QListWidget>
#include <QtTest>

#include "fusion_panel.h"
#include "graph_items.h"
#include "graph_scene.h"
#include "graph_view.h"
#include "gui_test_support.h"
#include "ir/group_tree.h"
#include "ir/verifier.h"

using namespace adj;

namespace {
/// 12 blocks of a matmul and an elementwise chain (fused into one group each), in modules
/// "net/block<k>": wider and taller than the panel's canvas.
Graph blocks() {
    Graph g;
    ValueRef v{g.addInput("x", {4, 8}), 0};
    for (int b = 0; b < 12; ++b) {
        const std::string scope = "net/block" + std::to_string(b);
        const NodeId w = g.addParameter("w" + std::to_string(b), Tensor::full({8, 8}, 0.1f));
        g.node(w).meta[kGroupKey] = scope;
        NodeId id = g.addNode(Op::MatMul, {v, {w, 0}}, {}, "/" + scope + "/mm");
        g.node(id).meta[kGroupKey] = scope;
        for (Op op : {Op::Tanh, Op::Exp, Op::Sigmoid}) {
            id = g.addNode(op, {{id, 0}}, {}, "/" + scope + "/" + std::string(opName(op)));
            g.node(id).meta[kGroupKey] = scope;
        }
        v = {id, 0};
    }
    g.addOutput("y", v);
    verifyGraph(g);
    return g;
}
}  // namespace

class TestFusionPanel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void selectingAGroupScrollsToItsHull() {
        FusionPanel panel;
        panel.resize(900, 600);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QString error;
        QVERIFY2(panel.setGraph(blocks(), &error), qPrintable(error));
        QVERIFY(test::waitForLayout(*panel.view()));
        QVERIFY(panel.groupCount() >= 12);
        // each group names its module
        QVERIFY2(panel.groupList()->item(0)->text().contains(" · in net/block"), qPrintable(panel.groupList()->item(0)->text()));
        // the module frames are drawn around the hulls
        QVERIFY(panel.view()->graphScene()->clusterItems().size() >= 12);
        auto hullInView = [&](int index) {
            const QRectF visible = panel.view()->mapToScene(panel.view()->viewport()->rect()).boundingRect();
            for (NodeId id : panel.analysis()->groups[std::size_t(index)].members)
                if (!visible.contains(panel.view()->graphScene()->nodeItem(id)->sceneBoundingRect().center())) return false;
            return true;
        };
        // the group farthest from the first: selecting it brings its hull into view
        const int last = panel.groupCount() - 1;
        int far = last;
        for (int i = 0; i <= last; ++i)
            if (!hullInView(i)) far = i;
        QVERIFY2(!hullInView(far), "every hull already in view: the test graph is too small");
        panel.groupList()->setCurrentRow(far);
        QVERIFY(hullInView(far));
        // and it stays there when the panel changes size
        panel.resize(1000, 650);
        QTest::qWait(20);
        QVERIFY(hullInView(far));
    }
};

QTEST_MAIN(TestFusionPanel)
#include "tst_fusion_panel.moc"
