// Nested groups (ir/group_tree.h): scope paths from names, the tree, collapsed levels (and the
// one-level form older files wrote), what an importer's scopes become after tidying, collapsing a
// large drawing to fit, names read inside a frame, searching nodes by name, op and scope, and the
// nested Graphviz clusters the canvas draws from them.
#include <QtTest>

#include <algorithm>
#include <string>

#include "autodiff/reverse_mode.h"
#include "io/graphviz.h"
#include "passes/pipeline.h"
#include "ir/group_tree.h"
#include "ir/node_search.h"

using namespace adj;

namespace {

NodeId addIn(Graph& g, const std::string& name, const std::string& group, ValueRef from) {
    const NodeId id = g.addNode(Op::Relu, {from}, {}, name);
    if (!group.empty()) g.node(id).meta[kGroupKey] = group;
    return id;
}

/// A chain x -> n blocks of `perBlock` relus, block b in group "enc/stage<b/2>/layer<b>".
Graph scopedChain(int blocks, int perBlock) {
    Graph g;
    ValueRef v{g.addInput("x", {2}), 0};
    for (int b = 0; b < blocks; ++b)
        for (int k = 0; k < perBlock; ++k) {
            const std::string group = "enc/stage" + std::to_string(b / 2) + "/layer" + std::to_string(b);
            v = {addIn(g, "/enc/stage" + std::to_string(b / 2) + "/layer" + std::to_string(b) + "/r" + std::to_string(k) + "/Relu_output_0",
                       group, v),
                 0};
        }
    g.addOutput("y", v);
    return g;
}

}  // namespace

class TestGroupTree : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pathsAndScopes_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("scope");
        QTest::newRow("pytorch node") << "/layer1/layer1.0/conv1/Conv" << "layer1/layer1.0/conv1";
        QTest::newRow("pytorch output") << "/layer1/layer1.0/relu_1/Relu_output_0" << "layer1/layer1.0/relu_1";
        QTest::newRow("tf style") << "model/dense/MatMul" << "model/dense";
        QTest::newRow("top-level op") << "/Add" << "";
        QTest::newRow("no scope") << "conv_3" << "";
        QTest::newRow("doubled slashes") << "//a//b/Op" << "a/b";
    }
    void pathsAndScopes() {
        QFETCH(QString, name);
        QFETCH(QString, scope);
        QCOMPARE(QString::fromStdString(scopeOfName(name.toStdString())), scope);
    }

    void withinAndLabels() {
        QVERIFY(isWithinGroup("a/b", "a"));
        QVERIFY(isWithinGroup("a", "a"));
        QVERIFY(!isWithinGroup("ab", "a"));
        QVERIFY(!isWithinGroup("a", ""));
        QCOMPARE(groupLabel("layer1/layer1.0"), std::string("layer1.0"));
        QCOMPARE(groupPathComponents("/a//b/"), (std::vector<std::string>{"a", "b"}));
        std::string deep;
        for (int i = 0; i < 10000; ++i) deep += "/s";
        QCOMPARE(groupPathComponents(deep).size(), kMaxGroupDepth);  // a hostile name stays cheap
        QVERIFY(groupPathComponents(scopeOfName(deep)).size() <= kMaxGroupDepth);
    }

    void namesReadInsideTheirFrame_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("group");
        QTest::addColumn<QString>("shown");
        QTest::newRow("op output") << "/net/layer1/layer1.0/relu_1/Relu_output_0" << "net/layer1/layer1.0" << "relu_1";
        QTest::newRow("direct op") << "/net/layer1/layer1.0/Add_output_0" << "net/layer1/layer1.0" << "Add_output_0";
        QTest::newRow("merged level") << "/f/f.1/f.1.0/block/Conv_output_0" << "f/f.1" << "f.1.0/block";
        QTest::newRow("parameter") << "net.layer1.0.bn1.weight" << "net/layer1/layer1.0" << "bn1.weight";
        QTest::newRow("not inside") << "/other/Relu_output_0" << "net/layer1" << "/other/Relu_output_0";
        QTest::newRow("no group") << "x" << "" << "x";
    }
    void namesReadInsideTheirFrame() {
        QFETCH(QString, name);
        QFETCH(QString, group);
        QFETCH(QString, shown);
        QCOMPARE(QString::fromStdString(nameWithinGroup(name.toStdString(), group.toStdString())), shown);
    }

    void treeNestsGroupsAndCollapsedLevels() {
        Graph g = scopedChain(4, 3);
        const GroupTree t = buildGroupTree(g);
        QCOMPARE(t.roots.size(), std::size_t(1));
        const int enc = t.find("enc"), s0 = t.find("enc/stage0"), l1 = t.find("enc/stage0/layer1");
        QVERIFY(enc >= 0 && s0 >= 0 && l1 >= 0);
        QCOMPARE(t.groups[std::size_t(enc)].size, std::size_t(12));
        QCOMPARE(t.groups[std::size_t(s0)].children.size(), std::size_t(2));
        QCOMPARE(t.groups[std::size_t(l1)].depth, 2);
        QCOMPARE(t.groups[std::size_t(l1)].label, std::string("layer1"));
        QCOMPARE(t.members(s0).size(), std::size_t(6));
        QCOMPARE(t.visibleCount(g), g.nodeCount());

        // collapsing stage0 (level 1 of its members' paths) draws its six nodes as one box
        for (NodeId id : t.members(s0)) setNodeCollapsedLevels(g.node(id), {false, true, false});
        const GroupTree c = buildGroupTree(g);
        QVERIFY(c.groups[std::size_t(c.find("enc/stage0"))].collapsed);
        QCOMPARE(c.collapsedAncestor(t.members(s0).front()), c.find("enc/stage0"));
        QCOMPARE(c.visibleCount(g), g.nodeCount() - 6 + 1);
        QCOMPARE(g.node(t.members(s0).front()).meta.at(kGroupCollapsedKey), std::string("010"));
        // an outer collapsed group draws the inner collapsed one too
        for (NodeId id : t.members(enc)) {
            auto levels = nodeCollapsedLevels(g.node(id));
            levels[0] = true;
            setNodeCollapsedLevels(g.node(id), levels);
        }
        QCOMPARE(buildGroupTree(g).collapsedAncestor(t.members(s0).front()), c.find("enc"));
        QCOMPARE(buildGroupTree(g).visibleCount(g), std::size_t(2));  // x and the box
        // nothing collapsed: the key goes away
        setNodeCollapsedLevels(g.node(t.members(s0).front()), {false, false, false});
        QVERIFY(!g.node(t.members(s0).front()).meta.count(kGroupCollapsedKey));
    }

    void oneLevelFormOfOlderFiles() {
        Graph g;
        const NodeId a = addIn(g, "a", "outer/inner", {g.addInput("x", {1}), 0});
        g.node(a).meta[kGroupCollapsedKey] = "1";  // older files: the (innermost) group collapsed
        QCOMPARE(nodeCollapsedLevels(g.node(a)), (std::vector<bool>{false, true}));
        const NodeId b = addIn(g, "b", "solo", {a, 0});
        g.node(b).meta[kGroupCollapsedKey] = "1";
        QCOMPARE(nodeCollapsedLevels(g.node(b)), (std::vector<bool>{true}));
        g.node(b).meta[kGroupCollapsedKey] = "yes";  // not a form we write: nothing collapsed
        QCOMPARE(nodeCollapsedLevels(g.node(b)), (std::vector<bool>{false}));
    }

    void tidyingAnImportersScopes() {
        // what the ONNX importer writes for /m/a/conv/Conv, /m/a/relu/Relu, /m/b/c/Relu, /m/b/c/Relu_1
        Graph g;
        const NodeId x = g.addInput("x", {2});
        const NodeId w = g.addParameter("m.a.conv.weight", Tensor::zeros({2}));
        const NodeId conv = g.addNode(Op::Mul, {{x, 0}, {w, 0}}, {}, "/m/a/conv/Conv_output_0");
        g.node(conv).meta[kGroupKey] = "m/a/conv";
        const NodeId r1 = addIn(g, "/m/a/relu/Relu_output_0", "m/a/relu", {conv, 0});
        const NodeId r2 = addIn(g, "/m/b/c/Relu_output_0", "m/b/c", {r1, 0});
        const NodeId r3 = addIn(g, "/m/b/c/Relu_1_output_0", "m/b/c", {r2, 0});
        const NodeId shared = g.addConstant(Tensor::scalar(2.0f), "two");
        const NodeId m1 = g.addNode(Op::Mul, {{r1, 0}, {shared, 0}}, {}, "/m/a/Mul_output_0");
        g.node(m1).meta[kGroupKey] = "m/a";
        const NodeId m2 = g.addNode(Op::Mul, {{r3, 0}, {shared, 0}}, {}, "/m/b/c/Mul_output_0");
        g.node(m2).meta[kGroupKey] = "m/b/c";
        g.addOutput("y", {m2, 0});
        tidyImportedGroups(g);
        // one-op scopes (conv, relu) are dissolved into m/a; m/b holds nothing but c: one group
        QCOMPARE(nodeGroup(g.node(conv)), std::string("m/a"));
        QCOMPARE(nodeGroup(g.node(r1)), std::string("m/a"));
        QCOMPARE(nodeGroup(g.node(r2)), std::string("m/b"));
        QCOMPARE(nodeGroup(g.node(m2)), std::string("m/b"));
        // a parameter joins its user's group; a constant shared by two groups, the one around both
        QCOMPARE(nodeGroup(g.node(w)), std::string("m/a"));
        QCOMPARE(nodeGroup(g.node(shared)), std::string("m"));
        QCOMPARE(nodeGroup(g.node(x)), std::string());
        QCOMPARE(nodeGroup(g.node(m1)), std::string("m/a"));
    }

    void collapsingALargeDrawingToFit() {
        Graph g = scopedChain(8, 10);  // 81 nodes: enc > 4 stages > 2 layers > 10 relus
        QVERIFY(collapseGroupsToFit(g, 100).empty());  // fits: nothing changes
        QVERIFY(!g.node(g.nodeIds().back()).meta.count(kGroupCollapsedKey));
        // at most 10 boxes: enc opens (4 stage boxes + x = 5), the 8 layers (9) too, the relus not
        Graph h = g;
        const auto collapsed = collapseGroupsToFit(h, 10);
        QCOMPARE(collapsed.size(), std::size_t(8));
        for (const auto& path : collapsed) QVERIFY2(path.find("/layer") != std::string::npos, path.c_str());
        QCOMPARE(buildGroupTree(h).visibleCount(h), std::size_t(9));
        // at most 5: stages collapsed, a whole level at a time
        Graph k = g;
        QCOMPARE(collapseGroupsToFit(k, 5).size(), std::size_t(4));
        QCOMPARE(buildGroupTree(k).visibleCount(k), std::size_t(5));
        // too many even so: everything at the top collapsed
        Graph m = g;
        QCOMPARE(collapseGroupsToFit(m, 1), (std::vector<std::string>{"enc"}));
    }

    void searchingByNameOpAndScope() {
        Graph g = scopedChain(4, 2);
        const NodeId m = g.addNode(Op::Exp, {{*g.findNode("x"), 0}}, {}, "layer1_exp");
        QCOMPARE(searchNodes(g, "X").front(), *g.findNode("x"));  // the exact name first, in any case
        const auto byName = searchNodes(g, "layer1_");
        QCOMPARE(byName, std::vector<NodeId>{m});
        const auto byOp = searchNodes(g, "exp");
        QCOMPARE(byOp.front(), m);
        const auto byScope = searchNodes(g, "stage1");  // layers 2 and 3, two relus each
        QCOMPARE(byScope.size(), std::size_t(4));
        QVERIFY(searchNodes(g, "  ").empty());
        QVERIFY(searchNodes(g, "nothing like it").empty());
    }

    void nestedClustersAreDrawnInsideTheirParents() {
        Graph g = scopedChain(4, 2);
        for (NodeId id : g.nodeIds())
            if (nodeGroup(g.node(id)) == "enc/stage1/layer3") setNodeCollapsedLevels(g.node(id), {false, false, true});
        DotOptions o;
        o.addGroups(g);
        // frames: enc, its two stages, layers 0-2 open; layer 3 a box inside stage1's frame
        QCOMPARE(o.collapsedNames, std::vector<std::string>{"enc/stage1/layer3"});
        const auto frame = [&](const std::string& path) {
            return int(std::find(o.clusterNames.begin(), o.clusterNames.end(), path) - o.clusterNames.begin());
        };
        QCOMPARE(o.clusterNames.size(), std::size_t(6));
        QCOMPARE(o.clusterParent[std::size_t(frame("enc/stage0/layer1"))], frame("enc/stage0"));
        QCOMPARE(o.clusterParent[std::size_t(frame("enc/stage0"))], frame("enc"));
        QCOMPARE(o.clusterParent[std::size_t(frame("enc"))], -1);
        QCOMPARE(o.collapsedParent.front(), frame("enc/stage1"));
        const std::string dot = graphToDot(g, o);
        QVERIFY2(dot.find("label=\"layer1\"") != std::string::npos, dot.c_str());  // labelled by the last component

        const GraphLayout layout = layoutGraph(g, o);
        QCOMPARE(layout.clusters.size(), std::size_t(6));
        auto rect = [&](const std::string& path) {
            for (const auto& c : layout.clusters)
                if (c.name == path) return QRectF(c.left, c.top, c.width, c.height);
            return QRectF();
        };
        QVERIFY(rect("enc").contains(rect("enc/stage0")));
        QVERIFY(rect("enc/stage0").contains(rect("enc/stage0/layer1")));
        QVERIFY(!rect("enc/stage0").intersects(rect("enc/stage1")));
        // the collapsed box sits inside its parent's frame
        const auto box = std::find_if(layout.nodes.begin(), layout.nodes.end(), [](const NodeLayout& n) { return isLayoutCollapsedId(n.id); });
        QVERIFY(box != layout.nodes.end());
        QVERIFY(rect("enc/stage1").contains(QPointF(box->x, box->y)));
        // node labels inside a frame leave out the frame's scopes
        const NodeId r = *g.findNode("/enc/stage0/layer1/r1/Relu_output_0");
        QCOMPARE(dotNodeLabelLines(g, r, o).back(), std::string("r1"));
        QCOMPARE(dotNodeLabelLines(g, r).back(), g.node(r).name);  // no frames drawn: the whole name
    }

    // The backward graph keeps the forward's blocks: each backward node joins the adjoint of its
    // forward node's group ("enc/stage0/layer1" -> "d_enc/d_stage0/d_layer1"), collapsed where
    // that group is.
    void backwardNodesInheritTheirForwardGroups() {
        QCOMPARE(adjointGroupPath("layer1/layer1.0"), std::string("d_layer1/d_layer1.0"));
        QCOMPARE(adjointGroupPath(""), std::string());
        Graph g = scopedChain(4, 2);
        for (NodeId id : g.nodeIds())
            if (nodeGroup(g.node(id)) == "enc/stage0/layer1") setNodeCollapsedLevels(g.node(id), {false, false, true});
        const NodeId loss = g.addNode(Op::Sum, {g.outputs().front().value}, {}, "loss");
        g.setOutputs({{"loss", {loss, 0}}});
        const BackwardGraph bw = buildBackward(g, "loss");
        int grouped = 0;
        for (NodeId id : bw.graph.nodeIds()) {
            const Node& n = bw.graph.node(id);
            if (std::find(bw.forwardNodes.begin(), bw.forwardNodes.end(), id) != bw.forwardNodes.end()) {
                QCOMPARE(nodeGroup(n), nodeGroup(g.node(id)));  // the forward part as it was
                continue;
            }
            const NodeId from = bw.madeFor[std::size_t(id)];
            QVERIFY(from != kNoNode);
            QCOMPARE(nodeGroup(n), adjointGroupPath(nodeGroup(bw.graph.node(from))));
            if (!nodeGroup(n).empty()) ++grouped;
        }
        QVERIFY(grouped >= 8);  // at least one backward node per forward relu
        const GroupTree tree = buildGroupTree(bw.graph);
        for (const char* path : {"d_enc", "d_enc/d_stage0", "d_enc/d_stage1/d_layer3"}) QVERIFY2(tree.find(path) >= 0, path);
        QVERIFY(tree.groups[std::size_t(tree.find("d_enc/d_stage0/d_layer1"))].collapsed);
        QVERIFY(!tree.groups[std::size_t(tree.find("d_enc/d_stage0/d_layer0"))].collapsed);
        QVERIFY(tree.groups[std::size_t(tree.find("enc/stage0/layer1"))].collapsed);
    }

    // Nodes a rewrite creates join the innermost group of what they replace (a fused chain inside
    // a block stays in the block), and the rewrite timeline's replay draws them there too.
    void rewritesKeepTheirNodesInTheirGroups() {
        Graph g;
        ValueRef v{g.addInput("x", {64}), 0};
        const std::vector<Op> chain{Op::Relu, Op::Exp, Op::Tanh, Op::Sigmoid};
        for (int b = 0; b < 2; ++b)
            for (std::size_t k = 0; k < chain.size(); ++k) {
                const NodeId id = g.addNode(chain[k], {v}, {}, "/blk" + std::to_string(b) + "/op" + std::to_string(k));
                g.node(id).meta[kGroupKey] = "net/blk" + std::to_string(b);
                v = {id, 0};
            }
        g.addOutput("y", v);
        RewriteTrace trace;
        OptimizeOptions options;
        options.level = 2;
        options.trace = &trace;
        Graph optimized = g;
        optimizeGraph(optimized, options);
        int fused = 0;
        for (NodeId id : optimized.nodeIds()) {
            const Node& n = optimized.node(id);
            if (n.op == Op::Input) continue;
            const std::string group = nodeGroup(n);
            QVERIFY2(group == "net/blk0" || group == "net/blk1" || group == "net", n.name.c_str());
            if (n.op == Op::Fused) ++fused;
        }
        QVERIFY(fused >= 1);
        bool recorded = false;
        for (const RewriteStep& step : trace.steps)
            for (const TraceNode& t : step.added) recorded = recorded || t.group.rfind("net", 0) == 0;
        QVERIFY(recorded);
        QVERIFY(trace.toJson(false).find("\"group\":\"net") != std::string::npos);
    }
};

QTEST_MAIN(TestGroupTree)
#include "tst_group_tree.moc"
