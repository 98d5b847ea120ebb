// GraphDocument and every command kind, without widgets: undo/redo, the modified state, signals.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "graph_document.h"
#include "ir/printer.h"

using namespace adj;

class TestGraphDocument : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void addConnectUndoRedo() {
        GraphDocument doc;
        QSignalSpy changed(&doc, &GraphDocument::graphChanged);
        QSignalSpy modified(&doc, &GraphDocument::modifiedChanged);
        NodeId x = doc.addNode(Op::Input, {0, 0}, "x");
        NodeId r = doc.addNode(Op::Relu, {0, 100});
        QCOMPARE(doc.graph().nodeCount(), std::size_t(2));
        QVERIFY(doc.isModified());
        QCOMPARE(modified.count(), 1);
        doc.connect({x, 0}, r, 0);
        QCOMPARE(doc.graph().node(r).inputs.size(), std::size_t(1));
        QCOMPARE(changed.count(), 3);
        doc.undoStack()->undo();  // connect
        QCOMPARE(doc.graph().node(r).inputs.size(), std::size_t(0));
        doc.undoStack()->undo();  // add relu
        QVERIFY(!doc.graph().contains(r));
        doc.undoStack()->redo();
        QVERIFY(doc.graph().contains(r));
        QCOMPARE(doc.graph().node(r).name, std::string("relu"));
        doc.undoStack()->redo();
        QCOMPARE(doc.graph().node(r).inputs.at(0), (ValueRef{x, 0}));
        doc.undoStack()->undo();
        doc.undoStack()->undo();
        doc.undoStack()->undo();
        QCOMPARE(doc.graph().nodeCount(), std::size_t(0));
        QVERIFY(!doc.isModified());
    }

    void removeRestoresEdgesAndOutputs() {
        GraphDocument doc;
        Graph g;
        NodeId x = g.addInput("x", {3});
        NodeId e = g.addNode(Op::Exp, {{x, 0}}, {}, "e");
        NodeId n = g.addNode(Op::Neg, {{e, 0}}, {}, "n");
        g.addOutput("y", {e, 0});
        doc.setGraph(g);
        const std::string before = printGraph(doc.graph());
        QVERIFY(doc.diagnostics().empty());
        doc.removeNode(e);
        QVERIFY(!doc.graph().contains(e));
        QVERIFY(!doc.diagnostics().empty());  // neg lost its input, the graph lost its output
        QCOMPARE(doc.graph().node(n).inputs.at(0).node, kNoNode);
        doc.undoStack()->undo();
        QCOMPARE(printGraph(doc.graph()), before);
        QVERIFY(doc.diagnostics().empty());
        doc.undoStack()->redo();
        QVERIFY(!doc.graph().contains(e));
    }

    void attributesAreValidatedAndUndone() {
        GraphDocument doc;
        Graph g;
        NodeId x = g.addInput("x", {2, 3});
        NodeId s = g.addNode(Op::Sum, {{x, 0}}, {}, "s");
        g.addOutput("y", {s, 0});
        doc.setGraph(g);
        QSignalSpy diags(&doc, &GraphDocument::diagnosticsChanged);
        doc.setAttribute(s, "axes", std::vector<std::int64_t>{5});
        QCOMPARE(doc.diagnostics().size(), std::size_t(1));
        QVERIFY(QString::fromStdString(doc.diagnostics()[0].message).contains("'s'"));
        QCOMPARE(doc.diagnostics()[0].node, s);
        doc.setAttribute(s, "axes", std::vector<std::int64_t>{1});
        QVERIFY(doc.diagnostics().empty());
        QCOMPARE(doc.graph().node(s).outputs.at(0).shape, (Shape{2}));
        doc.undoStack()->undo();
        doc.undoStack()->undo();
        QVERIFY(!doc.graph().node(s).attrs.has("axes"));
        QVERIFY(diags.count() >= 4);
    }

    void dragsMergeIntoOneStep() {
        GraphDocument doc;
        NodeId x = doc.addNode(Op::Input, {0, 0}, "x");
        const int steps = doc.undoStack()->count();
        for (int i = 1; i <= 10; ++i) doc.moveNode(x, {double(i), double(2 * i)});
        QCOMPARE(doc.undoStack()->count(), steps + 1);
        QCOMPARE(doc.position(x), QPointF(10, 20));
        doc.undoStack()->undo();
        QCOMPARE(doc.position(x), QPointF(0, 0));
    }

    void renameIsUndoable() {
        GraphDocument doc;
        NodeId x = doc.addNode(Op::Input, {0, 0}, "x");
        QSignalSpy nodeChanged(&doc, &GraphDocument::nodeChanged);
        doc.rename(x, "features");
        QCOMPARE(doc.graph().node(x).name, std::string("features"));
        QCOMPARE(nodeChanged.count(), 1);
        doc.undoStack()->undo();
        QCOMPARE(doc.graph().node(x).name, std::string("x"));
        doc.rename(x, "");  // refused: not an edit
        QCOMPARE(doc.graph().node(x).name, std::string("x"));
    }

    void saveAndReloadGiveTheSameGraph() {
        QTemporaryDir dir;
        GraphDocument doc;
        QVERIFY(doc.load(QString(ADJOINT_SOURCE_DIR) + "/resources/examples/mlp.json"));
        QVERIFY(!doc.isModified());
        auto w1 = doc.graph().findNode("h1");
        QVERIFY(w1);
        doc.moveNode(*w1, {12.5, 40});
        QVERIFY(doc.isModified());
        const QString path = dir.path() + "/saved.json";
        QSignalSpy modified(&doc, &GraphDocument::modifiedChanged);
        QVERIFY(doc.save(path));
        QVERIFY(!doc.isModified());
        QCOMPARE(modified.count(), 1);
        QCOMPARE(doc.filePath(), path);
        GraphDocument again;
        QVERIFY(again.load(path));
        QCOMPARE(printGraph(again.graph()), printGraph(doc.graph()));
        QCOMPARE(again.position(*again.graph().findNode("h1")), QPointF(12.5, 40));
    }

    void groupCollapseExpandUngroupAreUndoable() {
        GraphDocument doc;
        QVERIFY(doc.load(QString(ADJOINT_SOURCE_DIR) + "/resources/examples/mlp.json"));
        const QString before = QString::fromStdString(printGraph(doc.graph()));
        const NodeId h1 = *doc.graph().findNode("h1");
        const auto& users = doc.graph().users(h1);
        QVERIFY(!users.empty());
        const NodeId next = users.front().user;
        QSignalSpy changed(&doc, &GraphDocument::graphChanged);
        const QString g = doc.groupNodes({h1, next, h1}, "layer");
        QCOMPARE(g, QString("layer"));
        QCOMPARE(doc.groupMembers(g), (std::vector<NodeId>{std::min(h1, next), std::max(h1, next)}));
        QCOMPARE(doc.groupOf(h1), g);
        QVERIFY(!doc.isGroupCollapsed(g));
        QCOMPARE(changed.count(), 1);
        // a group made of nodes that share one nests inside it (groups are paths, ir/group_tree.h)
        QCOMPARE(doc.groupNodes({next}, "layer"), QString("layer/layer"));
        QCOMPARE(doc.groupOf(next), QString("layer/layer"));
        QCOMPARE(doc.groupMembers(g), (std::vector<NodeId>{std::min(h1, next), std::max(h1, next)}));  // nested ones included
        QCOMPARE(doc.groups(), (QStringList{"layer", "layer/layer"}));
        doc.undoStack()->undo();
        QCOMPARE(doc.groupOf(next), g);
        const NodeId x = *doc.graph().findNode("x");
        QCOMPARE(doc.groupNodes({x}, "layer"), QString("layer_1"));  // top-level names stay unique
        doc.undoStack()->undo();

        doc.setGroupCollapsed(g, true);
        QVERIFY(doc.isGroupCollapsed(g));
        doc.undoStack()->undo();
        QVERIFY(!doc.isGroupCollapsed(g));
        doc.undoStack()->redo();
        QVERIFY(doc.isGroupCollapsed(g));
        doc.setGroupCollapsed(g, false);  // expand
        QVERIFY(!doc.isGroupCollapsed(g));
        doc.undoStack()->undo();
        QVERIFY(doc.isGroupCollapsed(g));

        doc.ungroup(g);
        QVERIFY(doc.groups().isEmpty());
        QCOMPARE(doc.groupOf(h1), QString());
        doc.undoStack()->undo();
        QCOMPARE(doc.groups(), QStringList{g});
        QVERIFY(doc.isGroupCollapsed(g));
        // the graph's semantics never changed
        QCOMPARE(QString::fromStdString(printGraph(doc.graph())), before);
        while (doc.undoStack()->canUndo()) doc.undoStack()->undo();
        QVERIFY(doc.groups().isEmpty());
        QVERIFY(!doc.isModified());
        QCOMPARE(doc.groupNodes({}), QString());
    }

    void groupsSurviveSaveAndReopen() {
        QTemporaryDir dir;
        GraphDocument doc;
        QVERIFY(doc.load(QString(ADJOINT_SOURCE_DIR) + "/resources/examples/mlp.json"));
        const NodeId h1 = *doc.graph().findNode("h1");
        const QString g = doc.groupNodes({h1}, "hidden");
        doc.setGroupCollapsed(g, true);
        const QString path = dir.path() + "/grouped.json";
        QVERIFY(doc.save(path));
        GraphDocument again;
        QVERIFY(again.load(path));
        QCOMPARE(again.groups(), QStringList{"hidden"});
        QCOMPARE(again.groupMembers("hidden"), (std::vector<NodeId>{*again.graph().findNode("h1")}));
        QVERIFY(again.isGroupCollapsed("hidden"));
    }

    void loadFailureKeepsTheDocument() {
        GraphDocument doc;
        QVERIFY(doc.load(QString(ADJOINT_SOURCE_DIR) + "/resources/examples/scalar_function.json"));
        const std::string before = printGraph(doc.graph());
        QString error;
        QVERIFY(!doc.load("/nonexistent/graph.json", &error));
        QVERIFY(error.contains("graph.json"));
        QCOMPARE(printGraph(doc.graph()), before);
    }

    void removeNodesIsOneStep() {
        GraphDocument doc;
        QVERIFY(doc.load(QString(ADJOINT_SOURCE_DIR) + "/resources/examples/mlp.json"));
        const std::string before = printGraph(doc.graph());
        const std::size_t count = doc.graph().nodeCount();
        const NodeId a = *doc.graph().findNode("h1"), b = *doc.graph().findNode("w1");
        QSignalSpy changed(&doc, &GraphDocument::graphChanged);
        doc.removeNodes({a, b, kNoNode});
        QCOMPARE(doc.graph().nodeCount(), count - 2);
        QCOMPARE(doc.undoStack()->count(), 1);
        QVERIFY(changed.count() >= 2);
        QVERIFY(!doc.diagnostics().empty());  // users of h1 lost an input
        doc.undoStack()->undo();
        QCOMPARE(printGraph(doc.graph()), before);
        QVERIFY(!doc.isModified());
        doc.undoStack()->redo();
        QCOMPARE(doc.graph().nodeCount(), count - 2);
    }

    void movesSignalWithoutRelayout() {
        GraphDocument doc;
        NodeId x = doc.addNode(Op::Input, {0, 0}, "x");
        NodeId y = doc.addNode(Op::Relu, {0, 50}, "y");
        QSignalSpy moved(&doc, &GraphDocument::nodeMoved);
        QSignalSpy changed(&doc, &GraphDocument::graphChanged);
        QSignalSpy nodeChanged(&doc, &GraphDocument::nodeChanged);
        const int steps = doc.undoStack()->count();
        doc.moveNodes({{x, QPointF(5, 6)}, {y, QPointF(7, 8)}});
        QCOMPARE(moved.count(), 2);
        QCOMPARE(changed.count(), 0);
        QCOMPARE(nodeChanged.count(), 0);
        QCOMPARE(doc.undoStack()->count(), steps + 1);
        QCOMPARE(doc.position(y), QPointF(7, 8));
        QVERIFY(doc.hasPosition(y));
        doc.undoStack()->undo();
        QCOMPARE(doc.position(x), QPointF(0, 0));
        QCOMPARE(doc.position(y), QPointF(0, 50));
        QCOMPARE(moved.count(), 4);
    }

    void sourceShapeIsUndoable() {
        GraphDocument doc;
        NodeId x = doc.addNode(Op::Input, {0, 0}, "x");
        NodeId w = doc.addNode(Op::Parameter, {0, 0}, "w");
        NodeId m = doc.addNode(Op::MatMul, {0, 0}, "m");
        doc.connect({x, 0}, m, 0);
        doc.connect({w, 0}, m, 1);
        doc.setSourceShape(x, {4, 3});
        bool onM = false;
        for (const auto& d : doc.diagnostics()) onM = onM || d.node == m;
        QVERIFY(onM);  // [4,3] @ [1] does not fit
        doc.setSourceShape(w, {3, 2});
        for (const auto& d : doc.diagnostics()) QVERIFY2(d.node != m, d.message.c_str());
        QCOMPARE(doc.graph().node(m).outputs.at(0).shape, (Shape{4, 2}));
        QCOMPARE(doc.graph().node(w).value.shape(), (Shape{3, 2}));
        doc.undoStack()->undo();
        doc.undoStack()->undo();
        QCOMPARE(doc.graph().node(x).declaredShape, (Shape{1}));
        QCOMPARE(doc.graph().node(w).value.shape(), (Shape{1}));
    }

    void addOutputIsUndoable() {
        GraphDocument doc;
        NodeId x = doc.addNode(Op::Input, {0, 0}, "x");
        NodeId r = doc.addNode(Op::Relu, {0, 0}, "r");
        doc.connect({x, 0}, r, 0);
        doc.addOutput({r, 0});
        doc.addOutput({r, 0});
        QCOMPARE(doc.graph().outputs().size(), std::size_t(2));
        QCOMPARE(doc.graph().outputs()[0].name, std::string("r_out"));
        QCOMPARE(doc.graph().outputs()[1].name, std::string("r_out_1"));
        doc.undoStack()->undo();
        QCOMPARE(doc.graph().outputs().size(), std::size_t(1));
        doc.undoStack()->undo();
        QVERIFY(doc.graph().outputs().empty());
    }

    void renameToATakenNameIsRefused() {
        GraphDocument doc;
        NodeId x = doc.addNode(Op::Input, {0, 0}, "x");
        doc.addNode(Op::Input, {0, 0}, "y");
        const int steps = doc.undoStack()->count();
        QVERIFY(!doc.rename(x, "y"));
        QCOMPARE(doc.undoStack()->count(), steps);
        QVERIFY(doc.rename(x, "x"));  // unchanged: fine, no step
        QCOMPARE(doc.undoStack()->count(), steps);
    }

    void copyPasteKeepsInternalEdges() {
        GraphDocument doc;
        QVERIFY(doc.load(QString(ADJOINT_SOURCE_DIR) + "/resources/examples/mlp.json"));
        const NodeId h1 = *doc.graph().findNode("fc1");
        const NodeId w1 = *doc.graph().findNode("w1");
        doc.moveNode(w1, {100, 10});
        const QString json = doc.copyNodes({h1, w1});
        QVERIFY(json.contains("adjoint-graph"));
        const std::size_t count = doc.graph().nodeCount();
        const int steps = doc.undoStack()->count();
        QSignalSpy changed(&doc, &GraphDocument::graphChanged);
        QString error;
        const auto ids = doc.pasteNodes(json, {30, 30}, &error);
        QVERIFY2(ids.size() == 2, qPrintable(error));
        QCOMPARE(doc.undoStack()->count(), steps + 1);
        QCOMPARE(doc.graph().nodeCount(), count + 2);
        const Node& newW = doc.graph().node(ids[0]);
        const Node& newH = doc.graph().node(ids[1]);
        QCOMPARE(newW.name, std::string("w1_1"));
        QCOMPARE(newH.name, std::string("fc1_1"));
        QCOMPARE(newW.value.shape(), doc.graph().node(w1).value.shape());
        QCOMPARE(doc.position(ids[0]), QPointF(130, 40));
        // fc1 = gemm(x, w1, b1): x and b1 were not copied (unconnected), w1 was (now w1_1)
        QCOMPARE(newH.inputs.size(), doc.graph().node(h1).inputs.size());
        QCOMPARE(newH.inputs[0].node, kNoNode);
        QCOMPARE(newH.inputs[1].node, ids[0]);
        QVERIFY(changed.count() > 0);
        doc.undoStack()->undo();
        QCOMPARE(doc.graph().nodeCount(), count);

        QVERIFY(doc.pasteNodes("not json", {0, 0}, &error).empty());
        QVERIFY(error.contains("clipboard"));
        QCOMPARE(doc.undoStack()->count(), steps + 1);
    }

    void pastedGroupIsANewGroup() {
        GraphDocument doc;
        QVERIFY(doc.load(QString(ADJOINT_SOURCE_DIR) + "/resources/examples/mlp.json"));
        const NodeId h1 = *doc.graph().findNode("h1");
        const NodeId fc1 = *doc.graph().findNode("fc1");
        const QString g = doc.groupNodes({h1, fc1}, "layer");
        doc.setGroupCollapsed(g, true);
        QString error;
        const auto ids = doc.pasteNodes(doc.copyNodes({h1, fc1}), {40, 40}, &error);
        QVERIFY2(ids.size() == 2, qPrintable(error));
        QCOMPARE(doc.groupMembers(g).size(), std::size_t(2));  // the original group is unchanged
        QCOMPARE(doc.groupOf(ids[0]), QString("layer_1"));
        QCOMPARE(doc.groupOf(ids[1]), QString("layer_1"));
        QVERIFY(doc.isGroupCollapsed("layer_1"));  // as copied
        QCOMPARE(doc.groups(), (QStringList{"layer", "layer_1"}));
    }

    void recoveredGraphIsModifiedUntilSaved() {
        QTemporaryDir dir;
        GraphDocument doc;
        Graph g;
        g.addInput("x", {2});
        QSignalSpy modified(&doc, &GraphDocument::modifiedChanged);
        doc.setGraph(g, dir.path() + "/r.json", true);
        QVERIFY(doc.isModified());
        QCOMPARE(modified.last().at(0).toBool(), true);
        QVERIFY(doc.save(dir.path() + "/r.json"));
        QVERIFY(!doc.isModified());
        QCOMPARE(modified.last().at(0).toBool(), false);
        QCOMPARE(doc.displayName(), QString("r.json"));
    }

    void connectRejectsBadValues() {
        GraphDocument doc;
        NodeId x = doc.addNode(Op::Input, {0, 0}, "x");
        NodeId r = doc.addNode(Op::Relu, {0, 0}, "r");
        const int steps = doc.undoStack()->count();
        doc.connect({x, 3}, r, 0);     // no such port
        doc.connect({99, 0}, r, 0);    // no such node
        doc.connect({x, 0}, r, -1);    // no such input
        QCOMPARE(doc.undoStack()->count(), steps);
        doc.connect({x, 0}, r, 0);
        doc.disconnect(r, 0);
        QCOMPARE(doc.graph().node(r).inputs.at(0).node, kNoNode);
        doc.undoStack()->undo();
        QCOMPARE(doc.graph().node(r).inputs.at(0), (ValueRef{x, 0}));
    }
};

QTEST_GUILESS_MAIN(TestGraphDocument)
#include "tst_graph_document.moc"
