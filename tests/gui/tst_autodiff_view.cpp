// The autodiff view: the backward graph built from the document's graph, saved tensors marked,
// hover linking between the two canvases, the cost report, the finite-difference comparison
// (reverse mode must agree with central differences) and the gradient of the gradient.
#include <QSignalSpy>
#include <QTableWidget>
#include <QtTest>
#include <atomic>
#include <set>

#include "autodiff_view.h"
#include "base/errors.h"
#include "canvas_overlays.h"
#include "cost/cost_model.h"
#include "cost_panel.h"
#include "graph_items.h"
#include "graph_scene.h"
#include "graph_view.h"
#include "io/json_format.h"
#include "ir/verifier.h"
#include "test_support.h"

using namespace adj;

namespace {
Graph example(const std::string& name) {
    Graph g = loadGraphJson(test::sourcePath("resources/examples/" + name + ".json"));
    verifyGraph(g);
    return g;
}

bool waitLayout(GraphView* view) {
    if (!view->isLayoutPending()) return true;
    QSignalSpy spy(view, &GraphView::layoutApplied);
    return spy.wait(30000);
}
}  // namespace

namespace {
// The mouse moves onto the box of `id` on `canvas` (scrolled into view first), as a user's would.
void hoverNode(GraphView* canvas, NodeId id) {
    GraphNodeItem* item = canvas->graphScene()->nodeItem(id);
    QVERIFY(item);
    // The mouse comes in from a corner, as a real one does (a move to where the mouse already is
    // delivers no event), and the events that brings (a window still settling frames its canvas
    // anew) run before the canvas scrolls to the node.
    QTest::mouseMove(canvas->viewport(), QPoint(1, 1));
    QCoreApplication::processEvents();
    canvas->centerOn(item);
    const QPoint at = canvas->mapFromScene(item->sceneBoundingRect().center());
    QVERIFY(canvas->viewport()->rect().contains(at));
    QTest::mouseMove(canvas->viewport(), at);
}
// The mouse leaves the canvas.
void leaveCanvas(GraphView* canvas) {
    QEvent leave(QEvent::Leave);
    QCoreApplication::sendEvent(canvas->viewport(), &leave);
}
}  // namespace

class TestAutodiffView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void analysis_data() {
        QTest::addColumn<QString>("example");
        QTest::addColumn<QString>("output");
        QTest::newRow("scalar_function") << "scalar_function" << "f";
        QTest::newRow("mlp (scalar loss)") << "mlp" << "loss";
        QTest::newRow("attention (no scalar output: sum)") << "attention" << "sum_y";
        QTest::newRow("elementwise_chain") << "elementwise_chain" << "sum_y";
    }
    void analysis() {
        QFETCH(QString, example);
        QFETCH(QString, output);
        const AutodiffAnalysis a = analyseAutodiff(example_(example));
        QCOMPARE(QString::fromStdString(a.output), output);
        QVERIFY(!a.backward.adjointOf.empty());
        QVERIFY(!a.backward.gradientOutputs.empty());
        QCOMPARE(a.backward.gradientOutputs.size(), a.backward.wrt.size());
        QVERIFY(a.costs.backwardNodes > 0);
        QCOMPARE(a.costs.forwardNodes + a.costs.backwardNodes >= a.backward.graph.nodeCount() - 2, true);
        // Every adjoint names a forward node of the graph.
        for (const auto& [adjoint, of] : a.backward.adjointOf) {
            QVERIFY(a.backward.graph.contains(adjoint));
            QVERIFY(a.forward.contains(of.node));
        }
        QCOMPARE(a.order, 1);
    }

    void finiteDifferences_data() {
        QTest::addColumn<QString>("example");
        QTest::addColumn<bool>("sampled");
        QTest::newRow("scalar_function") << "scalar_function" << false;
        QTest::newRow("mlp") << "mlp" << false;
        QTest::newRow("attention") << "attention" << true;
        // x has 4096 entries: an evenly spread sample of them is differenced (the budget).
        QTest::newRow("elementwise_chain") << "elementwise_chain" << true;
    }
    // A heavy model (a ResNet's forward pass is hundreds of MFLOP) used to keep the comparison
    // busy for minutes (the budget counted nodes only): the FLOP budget cuts entries and values.
    void finiteDifferencesOfAHeavyModelStayWithinTheFlopBudget() {
        Graph g;
        const NodeId x = g.addInput("x", {256, 512});
        ValueRef v{x, 0};
        for (int k = 0; k < 3; ++k) {
            const NodeId w = g.addParameter("w" + std::to_string(k), Tensor::full({512, 512}, 0.01f));
            v = {g.addNode(Op::Tanh, {{g.addNode(Op::MatMul, {v, {w, 0}}), 0}}), 0};
        }
        g.addOutput("loss", {g.addNode(Op::Sum, {v}), 0});
        verifyGraph(g);
        const double runFlops = graphCost(g).flops;  // ~400 MFLOP
        const AutodiffAnalysis a = analyseAutodiff(g);
        const auto rows = compareWithFiniteDifferences(a);
        QVERIFY(!rows.empty());
        std::int64_t runs = 0;
        for (const auto& r : rows) runs += 9 + 4 * r.checked;
        QVERIFY2(double(runs) * runFlops <= kFiniteDifferenceFlops * 1.01 || rows.size() == 1,
                 qPrintable(QString("%1 runs of %2 FLOPs").arg(runs).arg(runFlops)));
        QVERIFY(rows.size() < a.backward.wrt.size());  // not every value: the view says so
        for (const auto& r : rows) QVERIFY(r.checked <= std::max<std::int64_t>(1, std::int64_t((kFiniteDifferenceFlops / runFlops - 9) / 4)));
    }

    void finiteDifferences() {
        QFETCH(QString, example);
        QFETCH(bool, sampled);
        const AutodiffAnalysis a = analyseAutodiff(example_(example));
        const auto rows = compareWithFiniteDifferences(a);
        QCOMPARE(rows.size(), a.backward.wrt.size());
        bool anySampled = false;
        for (const auto& r : rows) {
            QVERIFY(r.checked >= 1 && r.checked <= r.elements);
            QVERIFY(r.checked <= kFiniteDifferenceEntriesPerValue);
            anySampled = anySampled || r.checked < r.elements;
            QVERIFY2(r.agrees, qPrintable(QStringLiteral("%1: |reverse - numeric| = %2, estimate %3")
                                              .arg(r.name)
                                              .arg(r.maxDifference)
                                              .arg(r.maxErrorEstimate)));
            // and not because the estimate grew: a bound on both that does not depend on it (an
            // entry next to relu's kink may honestly be uncertain by a few percent, no more)
            QVERIFY2(r.maxErrorEstimate <= 0.1 * (1 + r.maxGradient) && r.maxDifference <= 2e-2 * (1 + r.maxGradient),
                     qPrintable(QStringLiteral("%1: estimate %2, difference %3, max gradient %4").arg(r.name).arg(r.maxErrorEstimate).arg(r.maxDifference).arg(r.maxGradient)));
        }
        QCOMPARE(anySampled, sampled);
    }

    void finiteDifferencesStopWhenCancelled() {
        const AutodiffAnalysis a = analyseAutodiff(example_("mlp"));
        std::atomic<bool> cancel{true};
        QVERIFY(compareWithFiniteDifferences(a, &cancel).empty());
    }

    void gradientOfGradient_data() {
        QTest::addColumn<QString>("example");
        QTest::newRow("scalar_function") << "scalar_function";
        QTest::newRow("mlp") << "mlp";
    }
    void gradientOfGradient() {
        QFETCH(QString, example);
        const AutodiffAnalysis first = analyseAutodiff(example_(example));
        const AutodiffAnalysis second = ::gradientOfGradient(first);
        QCOMPARE(second.order, 2);
        QCOMPARE(second.backward.wrt, first.backward.wrt);
        QVERIFY(second.backward.graph.nodeCount() > first.backward.graph.nodeCount());
        // The Hessian-vector product agrees with central differences of the gradient's norm.
        for (const auto& r : compareWithFiniteDifferences(second))
            QVERIFY2(r.agrees, qPrintable(r.name));
    }

    void invalidGraphNamesTheProblem() {
        Graph g;
        const NodeId a = g.addInput("a", {2, 3});
        const NodeId b = g.addInput("b", {4, 5});
        const NodeId m = g.addNode(Op::MatMul, {{a, 0}, {b, 0}}, {}, "mm");
        g.addOutput("y", {m, 0});
        try {
            analyseAutodiff(g);
            QFAIL("an invalid graph was differentiated");
        } catch (const Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("mm")), e.what());
        }
        Graph empty;
        QVERIFY_THROWS_EXCEPTION(Error, analyseAutodiff(empty));
    }

    void viewMarksAndLinks() {
        GraphView forward;
        forward.resize(600, 500);
        const Graph g = example_("mlp");
        forward.showGraph(g);
        QVERIFY(waitLayout(&forward));
        AutodiffView view(&forward);
        view.resize(800, 700);
        view.show();
        QSignalSpy numeric(&view, &AutodiffView::numericFinished);
        QString error;
        QVERIFY2(view.showBackwardOf(g, &error), qPrintable(error));
        QVERIFY(waitLayout(view.backwardView()));
        const AutodiffAnalysis* a = view.analysis();
        QVERIFY(a);
        // Saved tensors are marked on both canvases.
        QVERIFY(!a->backward.savedValues.empty());
        std::set<NodeId> saved;
        for (const ValueRef& v : a->backward.savedValues) saved.insert(v.node);
        QCOMPARE(view.backwardOverlays()->itemCount(), int(saved.size()));
        const int forwardMarks = view.forwardOverlays()->itemCount();
        QVERIFY(forwardMarks > 0);
        // Hover an adjoint: its forward value lights up on the forward canvas.
        const auto [adjoint, of] = *a->backward.adjointOf.begin();
        // (the mouse moves over its box on the canvas, then leaves the canvas)
        hoverNode(view.backwardView(), adjoint);
        QCOMPARE(view.backwardOverlays()->hoveredNode(), adjoint);
        QVERIFY(view.forwardOverlays()->itemCount() > forwardMarks);
        leaveCanvas(view.backwardView());
        QCOMPARE(view.forwardOverlays()->itemCount(), forwardMarks);
        // Hover a forward value: its adjoint lights up on the backward canvas.
        const int backwardMarks = view.backwardOverlays()->itemCount();
        forward.move(view.frameGeometry().right() + 20, 0);  // beside the view's window, not under it
        forward.show();
        QVERIFY(QTest::qWaitForWindowExposed(&forward));
        hoverNode(&forward, of.node);
        QCOMPARE(view.forwardOverlays()->hoveredNode(), of.node);
        QVERIFY(view.backwardOverlays()->itemCount() > backwardMarks);
        leaveCanvas(&forward);
        QCOMPARE(view.backwardOverlays()->itemCount(), backwardMarks);
        // Costs and the finite-difference table.
        QCOMPARE(view.costPanel()->table()->rowCount(), 4);
        QVERIFY(numeric.count() > 0 || numeric.wait(60000));
        QCOMPARE(view.finiteDifferenceTable()->rowCount(), int(a->backward.wrt.size()));
        for (int r = 0; r < view.finiteDifferenceTable()->rowCount(); ++r) {
            const QString agrees = view.finiteDifferenceTable()->item(r, 5)->text();
            QVERIFY2(agrees == QStringLiteral("yes") || agrees.isEmpty(), qPrintable(view.finiteDifferenceTable()->item(r, 0)->text()));
        }
        // Gradient of gradient replaces the graph.
        const std::size_t firstNodes = a->backward.graph.nodeCount();
        const int numericBefore = int(numeric.count());
        QVERIFY2(view.showGradientOfGradient(&error), qPrintable(error));
        QCOMPARE(view.analysis()->order, 2);
        QVERIFY(view.analysis()->backward.graph.nodeCount() > firstNodes);
        QVERIFY(waitLayout(view.backwardView()));
        QTRY_VERIFY_WITH_TIMEOUT(numeric.count() > numericBefore, 60000);
        for (int r = 0; r < view.finiteDifferenceTable()->rowCount(); ++r)
            QVERIFY(view.finiteDifferenceTable()->item(r, 5)->text() != QStringLiteral("NO"));
    }

    void integerValuesAreMarkedWithoutGradient() {
        // loss = sum(table[ids] * w): the gradient reaches the table through gather, and stops at
        // the i64 ids, which the view marks so
        Graph g;
        const NodeId ids = g.addInput("ids", {3}, {}, DType::I64);
        const NodeId table = g.addParameter("table", Tensor::full({5, 2}, 0.5f));
        const NodeId rows = g.addNode(Op::Gather, {{table, 0}, {ids, 0}}, {{"axis", std::int64_t(0)}}, "rows");
        const NodeId total = g.addNode(Op::Sum, {{rows, 0}}, {}, "total");
        g.addOutput("loss", {total, 0});
        verifyOrThrow(g);
        AutodiffView view(nullptr);
        view.resize(800, 600);
        view.show();
        QString error;
        QVERIFY2(view.showBackwardOf(g, &error), qPrintable(error));
        QVERIFY(waitLayout(view.backwardView()));
        const auto marks = view.backwardOverlays()->nodeMarks(0);
        QVERIFY(marks.count(ids));
        QVERIFY2(marks.at(ids).badge.contains(QStringLiteral("i64: no gradient")), qPrintable(marks.at(ids).badge));
        QVERIFY(!marks.count(table) || !marks.at(table).badge.contains(QStringLiteral("no gradient")));
        QCOMPARE(view.analysis()->backward.wrt, std::vector<std::string>{"table"});
    }

    void viewReportsFailure() {
        AutodiffView view(nullptr);
        Graph g;
        g.addInput("x", {3});
        QString error;
        QVERIFY(!view.showBackwardOf(g, &error));
        QVERIFY(error.contains(QStringLiteral("no output")));
        QVERIFY(!view.hasAnalysis());
        QVERIFY(!view.showGradientOfGradient(&error));
    }

private:
    static Graph example_(const QString& name) { return example(name.toStdString()); }
};

QTEST_MAIN(TestAutodiffView)
#include "tst_autodiff_view.moc"
