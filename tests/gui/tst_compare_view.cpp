// View > Compare: the document's graph beside another (its -O2 form here). Nodes the second graph
// removes are filled red on the left, those it adds green on the right, changed ones orange on
// both, the ones that are the same grey; panning one canvas pans the other; the window shows both colours;
// a file that does not load is an error naming it, and nothing opens.
#include <QScrollBar>
#include <QtTest>
#include <algorithm>
#include <set>

#include "compare_view.h"
#include "graph_items.h"
#include "graph_scene.h"
#include "graph_view.h"
#include "gui_test_support.h"
#include "main_window.h"
#include "io/json_format.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"
#include <QTableWidget>
#include "test_support.h"

using namespace adj;

namespace {
int pixelsOf(const QImage& image, const QColor& colour) {
    int n = 0;
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x) n += (image.pixel(x, y) | 0xff000000u) == (colour.rgb() | 0xff000000u);
    return n;
}
Graph loadExample(const std::string& name) {
    Graph g = loadGraphJson(test::sourcePath("resources/examples/" + name + ".json"));
    verifyGraph(g);
    return g;
}
}  // namespace

class TestCompareView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        qputenv("XDG_CACHE_HOME", QByteArray::fromStdString(test::tempDir()));
        qputenv("XDG_CONFIG_HOME", QByteArray::fromStdString(test::tempDir()));
    }

    void optimizedBesideTheOriginal() {
        MainWindow window;
        QString error;
        QVERIFY2(window.openFile(QString::fromStdString(test::sourcePath("resources/examples/attention.json")), &error), qPrintable(error));
        CompareView* view = window.compareWithOptimized(&error);
        QVERIFY2(view, qPrintable(error));
        QVERIFY(QTest::qWaitForWindowExposed(view));
        QVERIFY(test::waitForLayout(*view->beforeView()));
        QVERIFY(test::waitForLayout(*view->afterView()));

        // the Q/K/V projections merged: gone on the left, one merged matmul on the right
        const GraphDiff& d = view->diff();
        for (const char* gone : {"q_proj", "k_proj", "v_proj"})
            QVERIFY2(std::find(d.removed.begin(), d.removed.end(), gone) != d.removed.end(), gone);
        QVERIFY(!d.added.empty());

        // fills: removed red (left), added green (right), changed orange (both), the same grey
        auto fillOf = [](GraphView* v, NodeId id) { return v->graphScene()->nodeItem(id)->fillOverride(); };
        const Graph* before = window.graph();
        std::set<NodeId> markedLeft;
        for (const std::string& n : d.removed) {
            const NodeId id = *before->findNode(n);
            QCOMPARE(fillOf(view->beforeView(), id), CompareView::removedColour());
            markedLeft.insert(id);
        }
        for (const NodeChange& c : d.changed) {
            QCOMPARE(fillOf(view->beforeView(), c.before), CompareView::changedColour());
            QCOMPARE(fillOf(view->afterView(), c.after), CompareView::changedColour());
            markedLeft.insert(c.before);
        }
        for (const auto& [a, b] : d.matched)
            if (!markedLeft.count(a)) {
                QCOMPARE(fillOf(view->beforeView(), a), CompareView::sameColour());
                QCOMPARE(fillOf(view->afterView(), b), CompareView::sameColour());
            }
        int added = 0;
        for (GraphNodeItem* item : view->afterView()->graphScene()->nodeItems()) added += item->fillOverride() == CompareView::addedColour();
        QCOMPARE(added, int(d.added.size()));

        // panning one pans the other, to the same relative place
        view->beforeView()->setZoom(4);
        view->afterView()->setZoom(4);
        QScrollBar* left = view->beforeView()->horizontalScrollBar();
        QScrollBar* right = view->afterView()->horizontalScrollBar();
        QVERIFY(left->maximum() > left->minimum() && right->maximum() > right->minimum());
        left->setValue(left->maximum());
        QCOMPARE(right->value(), right->maximum());
        right->setValue(right->minimum());
        QCOMPARE(left->value(), left->minimum());

        // what a person sees: both colours, and the summary's counts
        view->beforeView()->fitToWindow();
        view->afterView()->fitToWindow();
        const QImage image = view->grab().toImage();
        if (!qEnvironmentVariableIsEmpty("ADJOINT_SCREENSHOT_DIR")) image.save(qEnvironmentVariable("ADJOINT_SCREENSHOT_DIR") + "/compare.png");
        QVERIFY2(pixelsOf(image, CompareView::removedColour()) >= 30, "no removed node to be seen");
        QVERIFY2(pixelsOf(image, CompareView::addedColour()) >= 30, "no added node to be seen");
        QVERIFY2(view->summaryText().contains(QString("%1 removed").arg(d.removed.size())), qPrintable(view->summaryText()));
    }

    // Issue 18: the cost delta per matched group. A model with two blocks against its -O2 form:
    // each block's chain fused into one kernel, in the same block (rewrites keep groups).
    void costDeltaPerGroup() {
        Graph g;
        ValueRef v{g.addInput("x", {64}), 0};
        for (int b = 0; b < 2; ++b)
            for (Op op : {Op::Relu, Op::Exp, Op::Tanh, Op::Sigmoid}) {
                const NodeId id = g.addNode(op, {v}, {}, "/blk" + std::to_string(b) + "/" + std::string(opName(op)));
                g.node(id).meta["group"] = "net/blk" + std::to_string(b);
                v = {id, 0};
            }
        g.addOutput("y", v);
        verifyGraph(g);
        Graph o = g;
        optimizeGraph(o, {});
        verifyGraph(o);
        CompareView view;
        view.resize(1000, 700);
        view.compare(g, o, "model", "model -O2");
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QTableWidget* table = view.groupTable();
        QVERIFY(table->isVisible());
        QStringList groups;
        for (int r = 0; r < table->rowCount(); ++r) groups << table->item(r, 0)->toolTip();
        QVERIFY2(groups.contains("net") && groups.contains("net/blk0") && groups.contains("net/blk1"), qPrintable(groups.join(",")));
        const int blk0 = int(groups.indexOf("net/blk0"));
        QVERIFY2(table->item(blk0, 1)->text().startsWith(QString::fromUtf8("4 \u2192 ")), qPrintable(table->item(blk0, 1)->text()));
        QVERIFY(table->item(blk0, 1)->text().contains("(-"));  // fewer nodes after
        // graphs without groups: no table
        view.compare(loadExample("mlp"), loadExample("mlp"), "a", "b");
        QVERIFY(!table->isVisible());
    }

    void aFileThatDoesNotLoadIsAnError() {
        MainWindow window;
        QString error;
        QVERIFY(window.openFile(QString::fromStdString(test::sourcePath("resources/examples/mlp.json")), &error));
        QVERIFY(!window.compareWith("/nonexistent/other.json", &error));
        QVERIFY2(error.contains("/nonexistent/other.json"), qPrintable(error));
    }
};

QTEST_MAIN(TestCompareView)
#include "tst_compare_view.moc"
