// The roofline chart and intensity colouring: dots from the cost model on the machine model,
// and the two-way link with the canvas through AnalysisPanels (click a dot: the node is selected;
// select a node: its dot is ringed).
#include <QMainWindow>
#include <QMenu>
#include <QSignalSpy>
#include <QtTest>
#include <cmath>

#include "analysis_panels.h"
#include "canvas_overlays.h"
#include "cost/cost_model.h"
#include "graph_document.h"
#include "graph_view.h"
#include "io/json_format.h"
#include "ir/verifier.h"
#include "passes/rewriter.h"
#include "roofline_chart.h"
#include "gui_test_support.h"
#include "test_support.h"

using namespace adj;

namespace {
Graph example(const std::string& name) {
    Graph g = loadGraphJson(test::sourcePath("resources/examples/" + name + ".json"));
    verifyGraph(g);
    return g;
}
MachineModel fakeMachine() {
    MachineModel m;
    m.peakFlops = 100e9;
    m.bandwidth = 10e9;  // ridge at 10 FLOP/byte
    m.threads = 2;
    return m;
}

// A left click where the chart draws the dot, through the view's viewport as a mouse's would go.
void clickDot(RooflineChart& chart, const RooflineDot& d) {
    const QPointF scene = chart.chart()->mapToPosition(QPointF(d.intensity, d.attainable));
    const QPoint at = chart.mapFromScene(scene);
    QVERIFY2(chart.viewport()->rect().contains(at), "the dot is outside the visible chart");
    QTest::mouseClick(chart.viewport(), Qt::LeftButton, Qt::NoModifier, at);
}
}  // namespace

class TestRooflineChart : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qputenv("XDG_CACHE_HOME", QByteArray::fromStdString(test::tempDir())); }

    void dotsFollowTheCostModel_data() {
        QTest::addColumn<QString>("example");
        for (const char* e : {"mlp", "attention", "conv_bn_relu", "elementwise_chain"}) QTest::newRow(e) << e;
    }
    void dotsFollowTheCostModel() {
        QFETCH(QString, example);
        const Graph g = ::example(example.toStdString());
        const MachineModel m = fakeMachine();
        const auto dots = rooflineDots(g, m);
        QVERIFY(!dots.empty());
        for (const RooflineDot& d : dots) {
            const Cost c = nodeCost(g, d.node);
            QVERIFY(isKernelOp(g.node(d.node).op));
            QCOMPARE(d.flops, c.flops);
            QCOMPARE(d.intensity, c.flops / c.bytes());
            QCOMPARE(d.attainable, std::min(m.peakFlops, d.intensity * m.bandwidth));
            QCOMPARE(d.computeBound, d.intensity >= 10.0);
        }
        // Bound colouring matches the dots; intensity colours grow bluer with intensity.
        const auto bound = boundFills(g, m);
        for (const RooflineDot& d : dots) QCOMPARE(bound.at(d.node), boundColour(d.computeBound));
        QVERIFY(intensityColour(0.01).hueF() < intensityColour(100).hueF());
    }

    // The dots against counts made by hand, not by the cost model the chart calls: a 64x32 by
    // 32x16 matmul does 2*64*32*16 FLOPs over 4*(64*32 + 32*16 + 64*16) bytes; relu on 1000
    // floats 1000 FLOPs over 8000 bytes; add(r, r) reads r twice, 1000 FLOPs over 12000 bytes.
    // On a machine of 100 GFLOP/s and 10 GB/s the roof is min(100e9, 10e9 * intensity), and a
    // 64x64 by 64x64 matmul (524,288 FLOPs over 49,152 bytes: 10.7 FLOP/byte) is the one dot past
    // the ridge at 10, compute-bound.
    void dotsMatchHandCounts() {
        Graph g;
        const ValueRef a{g.addInput("a", {64, 32}), 0}, b{g.addInput("b", {32, 16}), 0}, x{g.addInput("x", {1000}), 0};
        const ValueRef c{g.addInput("c", {64, 64}), 0};
        const ValueRef mm{g.addNode(Op::MatMul, {a, b}, {}, "mm"), 0};
        const ValueRef r{g.addNode(Op::Relu, {x}, {}, "r"), 0};
        const ValueRef ad{g.addNode(Op::Add, {r, r}, {}, "ad"), 0};
        const ValueRef sq{g.addNode(Op::MatMul, {c, c}, {}, "sq"), 0};
        g.addOutput("y", mm);
        g.addOutput("z", ad);
        g.addOutput("w", sq);
        verifyGraph(g);
        struct Hand {
            const char* name;
            double flops, bytes;
        };
        const Hand hand[] = {{"mm", 2.0 * 64 * 32 * 16, 4.0 * (64 * 32 + 32 * 16 + 64 * 16)},
                             {"r", 1000, 8000},
                             {"ad", 1000, 12000},
                             {"sq", 2.0 * 64 * 64 * 64, 4.0 * 3 * 64 * 64}};
        const auto dots = rooflineDots(g, fakeMachine());
        QCOMPARE(dots.size(), std::size_t(4));
        for (const Hand& h : hand) {
            const auto it = std::find_if(dots.begin(), dots.end(), [&](const RooflineDot& d) { return g.node(d.node).name == h.name; });
            QVERIFY2(it != dots.end(), h.name);
            const double intensity = h.flops / h.bytes;
            QCOMPARE(it->flops, h.flops);
            QVERIFY2(std::fabs(it->intensity - intensity) <= 1e-12 * intensity, h.name);
            QVERIFY2(std::fabs(it->attainable - std::min(100e9, 10e9 * intensity)) <= 1e-6 * it->attainable, h.name);
            QCOMPARE(it->computeBound, intensity >= 10);
        }
    }

    // Thousands of dots draw as a bounded number of markers: equal intensities share one, distinct
    // ones closer than the marker spacing share one, and the two bounds never share.
    void markersAreBoundedAndKeepTheBound() {
        const MachineModel m = fakeMachine();
        std::vector<RooflineDot> dots;
        for (int i = 0; i < 20000; ++i) {  // 20000 distinct intensities over 6 decades
            RooflineDot d;
            d.node = NodeId(i);
            d.intensity = std::pow(10.0, -3.0 + 6.0 * i / 20000.0);
            d.attainable = m.attainable(d.intensity);
            d.computeBound = d.intensity >= m.ridge();
            dots.push_back(d);
        }
        for (int i = 0; i < 5000; ++i) dots.push_back(dots[7]);  // a repeated block
        const RooflineMarkers markers = rooflineMarkers(dots, 6.0 / 400);
        const auto count = markers.compute.size() + markers.memory.size();
        QVERIFY2(count >= 399 && count <= 402, qPrintable(QString::number(count)));
        for (const QPointF& p : markers.compute) QVERIFY(p.x() >= m.ridge());
        for (const QPointF& p : markers.memory) QVERIFY(p.x() < m.ridge());
        // Finer spacing keeps more of them; every marker is one of the dots.
        QVERIFY(rooflineMarkers(dots, 6.0 / 4000).memory.size() > 10 * markers.memory.size() - 10);
        QCOMPARE(markers.memory.front(), QPointF(dots[0].intensity, dots[0].attainable));
        // On the chart, a click still finds the node of each dot: the dots stay whole.
        RooflineChart chart;
        chart.setDots(dots, m);
        QCOMPARE(chart.dots().size(), dots.size());
        QCOMPARE(chart.nodeNearest(QPointF(dots[12345].intensity, dots[12345].attainable)), NodeId(12345));
    }

    void chartHighlightsAndClicks() {
        RooflineChart chart;
        chart.resize(700, 500);
        const Graph g = example("mlp");
        chart.setGraph(g, fakeMachine());
        QVERIFY(!chart.dots().empty());
        const RooflineDot d = chart.dots().back();
        chart.highlightNode(d.node);
        QCOMPARE(chart.highlightedNode(), d.node);
        chart.highlightNode(kNoNode);
        QCOMPARE(chart.highlightedNode(), kNoNode);
        // a selection of several nodes (a collapsed module's box) rings each of their dots
        std::vector<NodeId> all;
        for (const RooflineDot& e : chart.dots()) all.push_back(e.node);
        chart.highlightNodes(all);
        QCOMPARE(chart.highlightedCount(), int(chart.dots().size()));
        QCOMPARE(chart.highlightedNode(), chart.dots().front().node);
        chart.highlightNodes({});
        QCOMPARE(chart.highlightedCount(), 0);
        QCOMPARE(chart.nodeNearest(QPointF(d.intensity, d.attainable)), d.node);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        QSignalSpy clicked(&chart, &RooflineChart::nodeClicked);
        clickDot(chart, d);
        QCOMPARE(clicked.count(), 1);
        QCOMPARE(clicked.front().front().value<NodeId>(), d.node);
    }

    // Issue 18: the dots had no tooltips, and dots of equal intensity hid each other. Hovering a
    // marker lists every kernel it stands for.
    void hoveringAMarkerListsItsKernels() {
        RooflineChart chart;
        chart.resize(700, 500);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.setGraph(example("mlp"), fakeMachine());
        QVERIFY(chart.dots().size() >= 2);
        for (const RooflineDot& d : chart.dots()) {
            const QString tip = chart.tooltipAt(QPointF(d.intensity, d.attainable));
            QVERIFY2(tip.contains(d.label.toHtmlEscaped()), qPrintable(tip));
            QVERIFY(tip.contains("FLOP/B"));
            // every dot under the same marker is listed
            int sharing = 0;
            for (const RooflineDot& e : chart.dots())
                if (std::abs(std::log10(e.intensity / d.intensity)) < 1e-9) ++sharing;
            if (sharing > 1) QVERIFY2(tip.contains(QString("%1 kernels").arg(sharing)) || tip.contains("kernels"), qPrintable(tip));
        }
        // far from every dot: nothing
        QVERIFY(chart.tooltipAt(QPointF(1e-3, 1e3)).isEmpty());
    }

    void linkedWithTheCanvas() {
        test::AnalysisWindow harness;
        QMainWindow& window = harness.window;
        GraphView* canvas = harness.canvas;
        QString error;
        QVERIFY2(harness.openExample("mlp", &error), qPrintable(error));
        AnalysisPanels* panels = harness.installPanels();
        QCOMPARE(analysisPanels(&window), panels);
        window.show();
        QTRY_VERIFY_WITH_TIMEOUT(!canvas->isLayoutPending(), 30000);
        QSignalSpy ready(panels, &AnalysisPanels::viewReady);
        QVERIFY2(panels->showView(QStringLiteral("roofline"), &error), qPrintable(error));
        RooflineChart* chart = panels->rooflineChart();
        // The dots (and the machine model) are computed on a worker: ready once they are plotted.
        QVERIFY(ready.count() == 1 || ready.wait(60000));
        QCOMPARE(ready.front().front().toString(), QStringLiteral("roofline"));
        QVERIFY(!chart->isComputing());
        QVERIFY(chart->dots().size() >= 2);
        // Dot -> node.
        const NodeId a = chart->dots().front().node;
        clickDot(*chart, chart->dots().front());
        QCOMPARE(canvas->graphScene()->selectedNodeIds(), std::vector<NodeId>{a});
        QCOMPARE(chart->highlightedNode(), a);
        // Node -> dot.
        const NodeId b = chart->dots().back().node;
        canvas->graphScene()->selectNode(b);
        QTRY_COMPARE(chart->highlightedNode(), b);

        // Colouring the canvas by bound and by intensity, and back.
        auto filled = [&] {
            int n = 0;
            for (GraphNodeItem* item : canvas->graphScene()->nodeItems()) n += item->fillOverride().isValid();
            return n;
        };
        // The fills are computed on a worker and applied when they arrive.
        panels->setColouring(AnalysisPanels::Colouring::Intensity);
        QTRY_VERIFY_WITH_TIMEOUT(!panels->isColouringPending(), 30000);
        QCOMPARE(filled(), int(intensityFills(example("mlp")).size()));
        QVERIFY(filled() > 0);
        panels->setColouring(AnalysisPanels::Colouring::Bound);
        QTRY_VERIFY_WITH_TIMEOUT(!panels->isColouringPending(), 30000);
        QCOMPARE(filled(), int(boundFills(example("mlp"), MachineModel{}).size()));
        QVERIFY(filled() > 0);
        // Bound, then None at once: the pending bound fills are dropped, never applied.
        panels->setColouring(AnalysisPanels::Colouring::Bound);
        panels->setColouring(AnalysisPanels::Colouring::None);
        QVERIFY(!panels->isColouringPending());
        QCOMPARE(filled(), 0);
        QTest::qWait(200);
        QCOMPARE(filled(), 0);
        QVERIFY(!panels->showView(QStringLiteral("nonsense"), &error));
        QVERIFY(error.contains(QStringLiteral("nonsense")));
    }
};

QTEST_MAIN(TestRooflineChart)
#include "tst_roofline_chart.moc"
