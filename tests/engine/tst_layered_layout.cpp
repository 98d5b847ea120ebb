// The layered layout (io/layered_layout.h) that draws graphs beyond Graphviz's reach: every box
// placed once, no two overlapping, every edge pointing down from its tail's bottom to its head's
// top (weights beside their reader), frames around their members and inner frames, cycles drawn
// too; layoutGraph takes it above DotOptions::layeredAbove and keeps Graphviz below.
#include <QRectF>
#include <QtTest>

#include <set>

#include "io/graphviz.h"
#include "io/layered_layout.h"
#include "ir/group_tree.h"
#include "test_support.h"

using namespace adj;

namespace {

QRectF boxOf(const NodeLayout& n) { return QRectF(n.x - n.width / 2, n.y - n.height / 2, n.width, n.height); }

const NodeLayout* find(const GraphLayout& l, NodeId id) {
    for (const auto& n : l.nodes)
        if (n.id == id) return &n;
    return nullptr;
}

}  // namespace

class TestLayeredLayout : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void drawsAChainOfBlocksDownwards() {
        const Graph g = test::blockChain(40);  // 280 nodes
        DotOptions o;
        o.layeredAbove = 1;
        const GraphLayout l = layoutGraph(g, o);
        QVERIFY(l.layered);
        QCOMPARE(l.nodes.size(), g.nodeCount() + g.outputs().size());
        std::set<NodeId> ids;
        for (const auto& n : l.nodes) QVERIFY(ids.insert(n.id).second);
        // no overlaps (checked pairwise within each row of equal y)
        for (std::size_t i = 0; i < l.nodes.size(); ++i)
            for (std::size_t j = i + 1; j < l.nodes.size(); ++j)
                if (l.nodes[i].y == l.nodes[j].y)
                    QVERIFY2(!boxOf(l.nodes[i]).intersects(boxOf(l.nodes[j])), qPrintable(QString("%1 and %2").arg(l.nodes[i].id).arg(l.nodes[j].id)));
        // every edge leaves its tail's bottom and ends, arrowhead included, on its head's top, below
        QCOMPARE(l.edges.size(), std::size_t([&] {
                     std::size_t e = g.outputs().size();
                     for (NodeId id : g.nodeIds()) e += g.node(id).inputs.size();
                     return e;
                 }()));
        for (const EdgeLayout& e : l.edges) {
            const NodeLayout* tail = find(l, e.from.node);
            const NodeLayout* head = find(l, e.to);
            QVERIFY(tail && head && e.points.size() == 4 && e.hasArrow);
            QCOMPARE(e.points.front().second, tail->y + tail->height / 2);
            QCOMPARE(e.arrowY, head->y - head->height / 2);
            QVERIFY(head->y > tail->y);
        }
        // a weight sits on the rank just above the op that reads it
        for (NodeId id : g.parameterNodes()) {
            const NodeLayout* p = find(l, id);
            const NodeLayout* user = find(l, g.users(id).front().user);
            QVERIFY(p && user && p->y < user->y);
        }
        QVERIFY(l.width > 0 && l.height > 0);
    }

    void framesHoldTheirMembersAndInnerFrames() {
        Graph g = test::blockChain(6);
        int k = 0;
        for (NodeId id : g.nodeIds())
            if (!isSource(g.node(id).op)) g.node(id).meta[kGroupKey] = std::string("net/half") + std::to_string(k++ * 2 / 40);
        DotOptions o;
        o.layeredAbove = 1;
        o.addGroups(g);
        const GraphLayout l = layoutGraph(g, o);
        QVERIFY(l.layered);
        std::map<std::string, QRectF> frames;
        for (const auto& c : l.clusters) frames[c.name] = QRectF(c.left, c.top, c.width, c.height);
        QVERIFY(frames.count("net") && frames.count("net/half0"));
        for (const auto& [name, r] : frames)
            if (name != "net") QVERIFY(frames["net"].contains(r));
        for (const auto& [id, c] : o.clusterOf) QVERIFY(frames[o.clusterNames[std::size_t(c)]].contains(boxOf(*find(l, id))));
        // outer frames come first (they are drawn below the inner ones)
        QCOMPARE(l.clusters.front().name, std::string("net"));
    }

    void aCycleIsDrawnToo() {
        // collapsed groups can close a cycle between their boxes: a -> B -> c -> B
        std::vector<LayeredBox> boxes{{0, 40, 20, -1}, {1, 40, 20, -1}, {2, 40, 20, -1}};
        auto edge = [](NodeId t, NodeId h) {
            LayeredEdge e;
            e.tail = t;
            e.head = h;
            e.edge.from = {t, 0};
            e.edge.to = h;
            return e;
        };
        const GraphLayout l = layeredLayout(boxes, {edge(0, 1), edge(1, 2), edge(2, 1), edge(1, 1)}, {}, {});
        QCOMPARE(l.nodes.size(), std::size_t(3));
        QCOMPARE(l.edges.size(), std::size_t(4));
        QVERIFY(find(l, 0)->y < find(l, 1)->y && find(l, 1)->y < find(l, 2)->y);
    }

    void graphvizBelowTheThreshold() {
        const Graph g = test::blockChain(2);
        DotOptions o;
        o.layeredAbove = kCanvasLayeredAbove;
        QVERIFY(!layoutGraph(g, o).layered);
        QVERIFY(layoutGraph(test::blockChain(400), o).layered);  // 2,800 nodes: far over
    }
};

QTEST_MAIN(TestLayeredLayout)
#include "tst_layered_layout.moc"
