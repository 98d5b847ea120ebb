// The Graphviz layer: DOT text, rendered files and the layout read back.
#include <QFile>
#include <QDir>
#include <QtTest>

#include <atomic>
#include <cmath>
#include <map>
#include <set>
#include <thread>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "io/graphviz.h"
#include "test_support.h"

using namespace adj;

namespace {

struct Small {
    Graph g;
    NodeId x, w, mm, act, half, scaled;
};

/// x[4,8] @ w[8,3] -> relu -> * 0.5 -> output "y"; shapes set by hand (no verifier needed).
Small smallGraph(const std::string& inputName = "x") {
    Small s;
    s.g.name = "small";
    s.x = s.g.addInput(inputName, {4, 8});
    s.w = s.g.addParameter("w", Tensor::zeros({8, 3}));
    s.mm = s.g.addNode(Op::MatMul, {{s.x, 0}, {s.w, 0}}, {}, "mm");
    s.act = s.g.addNode(Op::Relu, {{s.mm, 0}}, {}, "act");
    s.half = s.g.addConstant(Tensor::scalar(0.5f), "half");
    s.scaled = s.g.addNode(Op::Mul, {{s.act, 0}, {s.half, 0}}, {}, "scaled");
    s.g.addOutput("y", {s.scaled, 0});
    for (NodeId id : {s.mm, s.act, s.scaled}) s.g.node(id).outputs = {ValueType{{4, 3}, DType::F32}};
    return s;
}

QByteArray readAll(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

const QByteArray kPngSignature("\x89PNG\r\n\x1a\n", 8);

}  // namespace

class TestGraphviz : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void escape_data();
    void escape();
    void dotText();
    void dotShapesOnEdges();
    void dotOptions();
    void strangeNamesSurvive_data();
    void strangeNamesSurvive();
    void renderFiles();
    void renderToString();
    void renderErrors();
    void layoutPositions();
    void layoutCancelled();
    void backwardPassLaidOutUpwards();
    void layoutBudget();
    void layoutCollapsedGroup();
    void layoutFromThreads();
    void shapeLabels();
    void cyclesAndDanglingInputsDraw();
};

void TestGraphviz::escape_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("escaped");
    QTest::newRow("plain") << QByteArray("abc") << QByteArray("abc");
    QTest::newRow("quote") << QByteArray("a\"b") << QByteArray("a\\\"b");
    QTest::newRow("backslash") << QByteArray("a\\") << QByteArray("a\\\\");
    QTest::newRow("newline") << QByteArray("a\nb") << QByteArray("a\\nb");
    QTest::newRow("control") << QByteArray("a\tb\x01") << QByteArray("a b ");
    QTest::newRow("utf8") << QByteArray("\xce\xb1\xe2\x82\xac") << QByteArray("\xce\xb1\xe2\x82\xac");
    QTest::newRow("bad utf8") << QByteArray("a\xff" "b") << QByteArray("a\xef\xbf\xbd" "b");
    QTest::newRow("truncated utf8") << QByteArray("a\xe2\x82") << QByteArray("a\xef\xbf\xbd\xef\xbf\xbd");
    QTest::newRow("overlong") << QByteArray("\xc0\xaf") << QByteArray("\xef\xbf\xbd\xef\xbf\xbd");
}

void TestGraphviz::escape() {
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, escaped);
    QCOMPARE(QByteArray::fromStdString(dotEscape(text.toStdString())), escaped);
}

void TestGraphviz::dotText() {
    Small s = smallGraph();
    const QString dot = QString::fromStdString(graphToDot(s.g));
    QVERIFY(dot.contains("digraph \"small\" {"));
    QVERIFY(dot.contains("\"n0\" [label=\"x\", shape=ellipse"));
    QVERIFY(dot.contains("\"n1\" [label=\"w\", shape=box, style=filled"));
    QVERIFY(dot.contains("\"n2\" [label=\"matmul\\nmm\", shape=box, style=\"rounded,filled\""));
    QVERIFY(dot.contains("label=\"half = 0.5\""));
    QVERIFY(dot.contains("\"out0\" [label=\"y\", shape=doubleoctagon"));
    QVERIFY(dot.contains("\"n0\" -> \"n2\""));
    QVERIFY(dot.contains("\"n5\" -> \"out0\""));
    // Different op groups, different fills.
    QVERIFY(nodeCategoryFill(nodeCategory(Op::MatMul)) != nodeCategoryFill(nodeCategory(Op::Relu)));
    QCOMPARE(nodeCategory(Op::BatchNorm), NodeCategory::Normalization);
    QCOMPARE(nodeCategory(Op::Sum), NodeCategory::Reduction);
    QCOMPARE(nodeCategory(Op::Reshape), NodeCategory::Movement);
    QCOMPARE(nodeCategory(Op::Conv2d), NodeCategory::NeuralNet);
}

void TestGraphviz::dotShapesOnEdges() {
    Small s = smallGraph();
    const QString dot = QString::fromStdString(graphToDot(s.g));
    QVERIFY(dot.contains(QString::fromUtf8("\"n0\" -> \"n2\" [label=\"4×8\"")));
    QVERIFY(dot.contains(QString::fromUtf8("\"n2\" -> \"n3\" [label=\"4×3\"")));
    QVERIFY(dot.contains(QString::fromUtf8("\"n4\" -> \"n5\" [label=\"scalar\"")));

    DotOptions noShapes;
    noShapes.shapesOnEdges = false;
    const QString bare = QString::fromStdString(graphToDot(s.g, noShapes));
    QVERIFY(!bare.contains(QString::fromUtf8("×")));

    // A value whose shape is unknown gets no label.
    s.g.node(s.act).outputs.clear();
    const QString partial = QString::fromStdString(graphToDot(s.g));
    QVERIFY(partial.contains("\"n3\" -> \"n5\" [id="));
}

void TestGraphviz::dotOptions() {
    Small s = smallGraph();
    DotOptions o;
    o.nodeLabelsExtra[s.mm] = "96 FLOP\nAI 0.5";
    o.nodeColours[s.mm] = "#ff0000";
    o.clusterOf[s.mm] = 0;
    o.clusterOf[s.act] = 0;
    o.clusterNames = {"fused \"a\""};
    // Flags off: extras and colours not drawn; clusters are on by default.
    QString dot = QString::fromStdString(graphToDot(s.g, o));
    QVERIFY(!dot.contains("96 FLOP"));
    QVERIFY(!dot.contains("#ff0000"));
    QVERIFY(dot.contains("subgraph \"cluster_0\""));
    QVERIFY(dot.contains("label=\"fused \\\"a\\\"\""));

    o.costs = true;
    o.colourByIntensity = true;
    o.clusters = false;
    dot = QString::fromStdString(graphToDot(s.g, o));
    QVERIFY(dot.contains("label=\"matmul\\nmm\\n96 FLOP\\nAI 0.5\""));
    QVERIFY(dot.contains("fillcolor=\"#ff0000\""));
    QVERIFY(!dot.contains("cluster_0"));

    // All of it is valid DOT that Graphviz lays out.
    o.clusters = true;
    GraphLayout l = layoutGraph(s.g, o);
    QCOMPARE(l.nodes.size(), s.g.nodeCount() + 1);
}

void TestGraphviz::strangeNamesSurvive_data() {
    QTest::addColumn<QByteArray>("name");
    QTest::newRow("quotes and spaces") << QByteArray("my \"input\" x");
    QTest::newRow("backslashes") << QByteArray("a\\b\\");
    QTest::newRow("braces and arrows") << QByteArray("} -> { [label=oops]");
    QTest::newRow("newline") << QByteArray("two\nlines");
    QTest::newRow("unicode") << QByteArray("\xce\xb1\xe2\x82\x80 \xe2\x9c\x93");
    QTest::newRow("invalid utf8") << QByteArray("bad\xff\xfe");
    QTest::newRow("html-ish") << QByteArray("<b>&amp;</b>");
}

void TestGraphviz::strangeNamesSurvive() {
    QFETCH(QByteArray, name);
    Small s = smallGraph(name.toStdString());
    s.g.name = name.toStdString();
    // The DOT text reads back: layout and rendering succeed and see every node and edge.
    GraphLayout l = layoutGraph(s.g);
    QCOMPARE(l.nodes.size(), s.g.nodeCount() + 1);
    QCOMPARE(l.edges.size(), std::size_t(6));
    for (const auto& e : l.edges) QVERIFY(!e.points.empty());
    const std::string svg = renderGraphToString(s.g, "svg");
    QVERIFY(svg.find("</svg>") != std::string::npos);
    if (name == "my \"input\" x") QVERIFY(svg.find("my &quot;input&quot; x") != std::string::npos);
    if (name == "a\\b\\") QVERIFY(svg.find(">a\\b\\<") != std::string::npos);
}

void TestGraphviz::renderFiles() {
    Small s = smallGraph();
    const std::string dir = test::tempDir();
    const std::string svgPath = dir + "/g.svg", pngPath = dir + "/g.png", dotPath = dir + "/g.dot";
    renderGraph(s.g, svgPath, "svg");
    renderGraph(s.g, pngPath, "png");
    renderGraph(s.g, dotPath, "dot");

    const QByteArray svg = readAll(svgPath);
    QVERIFY(svg.size() > 500);
    QVERIFY(svg.contains("<svg"));
    QVERIFY(svg.contains(">matmul<"));
    const QByteArray png = readAll(pngPath);
    QVERIFY(png.size() > 1000);
    QVERIFY(png.startsWith(kPngSignature));
    QCOMPARE(readAll(dotPath), QByteArray::fromStdString(graphToDot(s.g)));

    // Overwriting works, and no temporary file is left behind.
    renderGraph(s.g, svgPath, "svg");
    QCOMPARE(QDir(QString::fromStdString(dir)).entryList(QDir::Files).size(), 3);
}

void TestGraphviz::renderToString() {
    Small s = smallGraph();
    const std::string png = renderGraphToString(s.g, "png");
    QVERIFY(QByteArray::fromStdString(png).startsWith(kPngSignature));
    QCOMPARE(renderGraphToString(s.g, "dot"), graphToDot(s.g));
    const std::string laidOut = renderGraphToString(s.g, "xdot");
    QVERIFY(laidOut.find("pos=") != std::string::npos);
}

void TestGraphviz::renderErrors() {
    Small s = smallGraph();
    try {
        renderGraph(s.g, test::tempDir() + "/g.nope", "nope");
        QFAIL("no exception for an unknown format");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("'nope'"), e.what());
    }
    try {
        renderGraph(s.g, "/nonexistent-dir/sub/g.svg", "svg");
        QFAIL("no exception for a missing folder");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("/nonexistent-dir/sub/g.svg"), e.what());
    }
    // Graphviz still works after a failure.
    QVERIFY(!renderGraphToString(s.g, "svg").empty());
}

void TestGraphviz::layoutPositions() {
    Small s = smallGraph();
    const GraphLayout l = layoutGraph(s.g);
    QVERIFY(!l.cancelled);
    QVERIFY(l.width > 0 && l.height > 0);
    QCOMPARE(l.nodes.size(), s.g.nodeCount() + 1);

    std::map<NodeId, NodeLayout> at;
    for (const NodeLayout& n : l.nodes) {
        QVERIFY(n.width > 0 && n.height > 0);
        QVERIFY(n.x >= 0 && n.x <= l.width);
        QVERIFY(n.y >= 0 && n.y <= l.height);
        at[n.id] = n;
    }
    for (NodeId id : s.g.nodeIds()) QVERIFY(at.count(id));
    QVERIFY(at.count(layoutOutputId(0)));
    QVERIFY(isLayoutOutputId(layoutOutputId(0)));
    QVERIFY(!isLayoutOutputId(kNoNode));
    QCOMPARE(layoutOutputIndex(layoutOutputId(3)), 3);

    // Top to bottom: every input is above its users (y grows downward), the output at the bottom.
    QVERIFY(at[s.x].y < at[s.mm].y);
    QVERIFY(at[s.w].y < at[s.mm].y);
    QVERIFY(at[s.mm].y < at[s.act].y);
    QVERIFY(at[s.act].y < at[s.scaled].y);
    QVERIFY(at[s.scaled].y < at[layoutOutputId(0)].y);

    // One edge per node input plus one per output, with spline points running downward.
    QCOMPARE(l.edges.size(), std::size_t(6));
    for (const EdgeLayout& e : l.edges) {
        QVERIFY(e.points.size() >= 4);
        QCOMPARE((e.points.size() - 1) % 3, std::size_t(0));
        QVERIFY(e.hasArrow);
        QVERIFY(e.points.front().second < e.arrowY);
        QVERIFY(!e.label.empty());
        QVERIFY(e.labelX > 0 && e.labelY > 0);
    }
    const EdgeLayout& first = l.edges.front();
    QCOMPARE(first.from, (ValueRef{s.x, 0}));
    QCOMPARE(first.to, s.mm);
    QCOMPARE(first.toIndex, 0);
    QCOMPARE(QString::fromStdString(first.label), QString::fromUtf8("4×8"));
    QCOMPARE(l.edges.back().to, layoutOutputId(0));
}

void TestGraphviz::layoutCollapsedGroup() {
    // act and a second user of mm ("twice" = mm + mm, output z) collapsed into one box "block".
    Small s = smallGraph();
    const NodeId twice = s.g.addNode(Op::Add, {{s.mm, 0}, {s.mm, 0}}, {}, "twice");
    s.g.node(twice).outputs = {ValueType{{4, 3}, DType::F32}};
    s.g.addOutput("z", {twice, 0});
    DotOptions o;
    o.collapsedNames = {"block"};
    o.collapsedInto = {{s.act, 0}, {twice, 0}};
    const NodeId box = layoutCollapsedId(0);
    QVERIFY(isLayoutCollapsedId(box) && isLayoutPseudoId(box) && !isLayoutOutputId(box));
    QCOMPARE(layoutCollapsedIndex(box), 0);

    const std::string dot = graphToDot(s.g, o);
    QVERIFY(dot.find("\"grp0\"") != std::string::npos);
    QVERIFY(dot.find("block\\n2 nodes") != std::string::npos);
    QVERIFY(dot.find("\"n" + std::to_string(s.act) + "\" [") == std::string::npos);

    const GraphLayout l = layoutGraph(s.g, o);
    std::set<NodeId> drawn;
    for (const NodeLayout& n : l.nodes) drawn.insert(n.id);
    QCOMPARE(drawn, (std::set<NodeId>{s.x, s.w, s.mm, s.half, s.scaled, box, layoutOutputId(0), layoutOutputId(1)}));
    // mm enters the box once although two inputs inside read it; no edge inside the box.
    int intoBox = 0, outOfBox = 0;
    for (const EdgeLayout& e : l.edges) {
        QVERIFY(!e.points.empty());
        QVERIFY(!(e.fromBox == box && e.toBox == box));
        if (e.toBox == box) {
            ++intoBox;
            QCOMPARE(e.from, (ValueRef{s.mm, 0}));
            QVERIFY(e.to == s.act || e.to == twice);
        }
        if (e.fromBox == box) {
            ++outOfBox;
            QVERIFY(e.from == (ValueRef{s.act, 0}) || e.from == (ValueRef{twice, 0}));
        }
    }
    QCOMPARE(intoBox, 1);
    QCOMPARE(outOfBox, 2);  // act -> scaled, twice -> output z
    QCOMPARE(l.edges.size(), std::size_t(7));
    // Without the option the same graph draws every node.
    QCOMPARE(layoutGraph(s.g).nodes.size(), s.g.nodeCount() + 2);

    // An expanded group is a cluster: its frame comes back around its nodes, and only theirs.
    DotOptions framed;
    framed.clusterNames = {"block"};
    framed.clusterOf = {{s.act, 0}, {twice, 0}};
    const GraphLayout fl = layoutGraph(s.g, framed);
    QCOMPARE(fl.clusters.size(), std::size_t(1));
    const ClusterLayout& frame = fl.clusters.front();
    QCOMPARE(frame.name, std::string("block"));
    QCOMPARE(frame.index, 0);
    QVERIFY(frame.width > 0 && frame.height > 0);
    for (const NodeLayout& n : fl.nodes) {
        const bool inside = n.x > frame.left && n.x < frame.left + frame.width && n.y > frame.top && n.y < frame.top + frame.height;
        QCOMPARE(inside, n.id == s.act || n.id == twice);
    }
}

void TestGraphviz::layoutCancelled() {
    Small s = smallGraph();
    std::atomic<bool> cancel{true};
    const GraphLayout l = layoutGraph(s.g, {}, &cancel);
    QVERIFY(l.cancelled);
    QVERIFY(l.nodes.empty());
    cancel = false;
    QVERIFY(!layoutGraph(s.g, {}, &cancel).cancelled);
}

// The backward graph of a 20-block chain, its backward pass laid out upwards: a tenth of the
// placements of the downward drawing (which is over a canvas's budget), every edge still drawn
// from its value to its use, and each adjoint level with the value it belongs to.
void TestGraphviz::backwardPassLaidOutUpwards() {
    const BackwardGraph bw = buildBackward(test::blockChain(20), "loss", {});
    DotOptions down, up;
    up.layBackwardPassUpwards(bw.graph, bw.forwardNodes);
    QCOMPARE(up.upwardNodes.size(), bw.graph.nodeCount() - bw.forwardNodes.size());
    QVERIFY(graphToDot(bw.graph, up).find("dir=back") != std::string::npos);
    QVERIFY(graphToDot(bw.graph, down).find("dir=back") == std::string::npos);
    const std::size_t downward = estimateLayoutPlacements(bw.graph, down), upward = estimateLayoutPlacements(bw.graph, up);
    QVERIFY2(downward > kCanvasPlacementBudget, qPrintable(QString::number(downward)));
    QVERIFY2(upward * 5 < downward, qPrintable(QString("%1 upward, %2 downward").arg(upward).arg(downward)));

    up.placementBudget = kCanvasPlacementBudget;
    const GraphLayout l = layoutGraph(bw.graph, up);
    QVERIFY(!l.edgeLabelsDropped);
    std::map<NodeId, const NodeLayout*> at;
    for (const NodeLayout& n : l.nodes) at[n.id] = &n;
    auto near = [](const NodeLayout* n, std::pair<double, double> p) {
        return std::abs(p.first - n->x) <= n->width / 2 + 2 && std::abs(p.second - n->y) <= n->height / 2 + 2;
    };
    int upwardEdges = 0;
    for (const EdgeLayout& e : l.edges) {
        if (!at.count(e.from.node) || !at.count(e.to) || e.points.empty()) continue;
        const NodeLayout* from = at[e.from.node];
        const NodeLayout* to = at[e.to];
        // the spline starts at the value and ends by its use, the arrow at the use
        QVERIFY2(near(from, e.points.front()), qPrintable(QString::fromStdString(bw.graph.node(e.from.node).name)));
        QVERIFY(e.hasArrow);
        QVERIFY(std::hypot(e.arrowX - to->x, e.arrowY - to->y) < std::hypot(e.arrowX - from->x, e.arrowY - from->y));
        if (up.upwardNodes.count(e.from.node) && up.upwardNodes.count(e.to)) {
            ++upwardEdges;
            QVERIFY(to->y < from->y);  // the backward pass climbs
        }
    }
    QVERIFY(upwardEdges > 100);
    // each block's adjoint of its tanh lies within a tenth of the drawing's height of the tanh
    int checked = 0;
    for (const auto& [adjoint, value] : bw.adjointOf) {
        if (bw.graph.node(value.node).op != Op::Tanh || !at.count(adjoint)) continue;
        ++checked;
        QVERIFY2(std::abs(at[adjoint]->y - at[value.node]->y) < l.height / 10,
                 qPrintable(QString::fromStdString(bw.graph.node(value.node).name)));
    }
    QCOMPARE(checked, 20);
}

// Over its budget a layout first leaves the edge labels out, then refuses before Graphviz runs.
void TestGraphviz::layoutBudget() {
    const Graph g = test::blockChain(20);
    DotOptions labelled, bare;
    bare.shapesOnEdges = false;
    const std::size_t withLabels = estimateLayoutPlacements(g, labelled), without = estimateLayoutPlacements(g, bare);
    QVERIFY2(without < withLabels, qPrintable(QString("%1 < %2").arg(without).arg(withLabels)));
    QVERIFY(without >= g.nodeCount() + 1);  // at least a place per node and output

    DotOptions o;
    o.placementBudget = withLabels;
    GraphLayout l = layoutGraph(g, o);
    QVERIFY(!l.edgeLabelsDropped);
    QVERIFY(!l.edges.front().label.empty());

    o.placementBudget = (withLabels + without) / 2;
    l = layoutGraph(g, o);
    QVERIFY(l.edgeLabelsDropped);
    QCOMPARE(l.nodes.size(), g.nodeCount() + 1);
    for (const EdgeLayout& e : l.edges) QVERIFY(e.label.empty());

    o.placementBudget = without / 2;
    try {
        layoutGraph(g, o);
        QFAIL("a layout over its budget ran");
    } catch (const LayoutTooLarge& e) {
        QVERIFY2(QString(e.what()).contains(QString("over the budget of %1").arg(without / 2)), e.what());
    }
    o.placementBudget = 0;  // no budget
    QCOMPARE(layoutGraph(g, o).nodes.size(), g.nodeCount() + 1);
}

void TestGraphviz::layoutFromThreads() {
    Small s = smallGraph();
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 5; ++i) {
                if (layoutGraph(s.g).nodes.size() == s.g.nodeCount() + 1) ++ok;
                if (!renderGraphToString(s.g, "svg").empty()) ++ok;
            }
        });
    for (auto& t : threads) t.join();
    QCOMPARE(ok.load(), 40);
}

void TestGraphviz::shapeLabels() {
    QCOMPARE(QString::fromStdString(shapeLabel({})), QString("scalar"));
    QCOMPARE(QString::fromStdString(shapeLabel({7})), QString("7"));
    QCOMPARE(QString::fromStdString(shapeLabel({-1, 3, 2})), QString::fromUtf8("?×3×2"));
}

void TestGraphviz::cyclesAndDanglingInputsDraw() {
    // Editors pass graphs mid-edit: a cycle, an input whose producer was removed, an empty graph.
    Graph g;
    NodeId x = g.addInput("x", {2});
    NodeId a = g.addNode(Op::Neg, {{x, 0}}, {}, "a");
    NodeId b = g.addNode(Op::Exp, {{a, 0}}, {}, "b");
    g.setInput(a, 0, {b, 0});
    g.addOutput("y", {b, 0});
    GraphLayout l = layoutGraph(g);
    QCOMPARE(l.nodes.size(), std::size_t(4));
    QCOMPARE(l.edges.size(), std::size_t(3));

    Graph d;
    NodeId dx = d.addInput("x", {2});
    NodeId dn = d.addNode(Op::Neg, {{dx, 0}}, {}, "n");
    d.addOutput("y", {dn, 0});
    d.addOutput("gone", {dx, 0});
    d.removeNodeForce(dx);
    l = layoutGraph(d);
    QCOMPARE(l.nodes.size(), std::size_t(3));  // n and both outputs
    QCOMPARE(l.edges.size(), std::size_t(1));  // n -> y only

    l = layoutGraph(Graph());
    QVERIFY(l.nodes.empty());
    QVERIFY(l.edges.empty());
    QVERIFY(!renderGraphToString(Graph(), "svg").empty());
}

QTEST_APPLESS_MAIN(TestGraphviz)
#include "tst_graphviz.moc"
