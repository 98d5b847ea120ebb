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

    void loadFailureKeepsTheDocument() {
        GraphDocument doc;
        QVERIFY(doc.load(QString(ADJOINT_SOURCE_DIR) + "/resources/examples/scalar_function.json"));
        const std::string before = printGraph(doc.graph());
        QString error;
        QVERIFY(!doc.load("/nonexistent/graph.json", &error));
        QVERIFY(error.contains("graph.json"));
        QCOMPARE(printGraph(doc.graph()), before);
    }
};

QTEST_GUILESS_MAIN(TestGraphDocument)
#include "tst_graph_document.moc"
