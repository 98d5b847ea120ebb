// The editor as a new user would use it, through the window's public API and
// simulated input: open an example, drop an op from the palette onto the canvas, connect it by
// dragging from a port, see the shape on the new edge, undo and redo, save, reopen: the same
// graph. Also the files side: new, the unsaved-changes prompt, recent files, drops of files on
// the window, exports of the forward, backward and optimized graph.
#include <QApplication>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QGraphicsSceneMouseEvent>
#include <QMimeData>
#include <QSignalSpy>
#include <QStatusBar>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QImage>
#include <QSvgRenderer>
#include <QUrl>
#include <QXmlStreamReader>
#include <QTextBrowser>
#include <QMenuBar>
#include <QtTest>
#include <cmath>
#include <graphviz/cgraph.h>
#include <optional>

#include "gui_test_support.h"
#include "analysis_panels.h"
#include "autodiff_view.h"
#include "rewrite_timeline.h"
#include "graph_document.h"
#include "graph_view.h"
#include "io/graph_file.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "graph_items.h"
#include "help_menu.h"
#include "main_window.h"
#include "palette_widget.h"
#include "recent_files.h"

using namespace adj;
using namespace adj::test;

namespace {

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// What the DOT, SVG and PNG exports must show of `g`: a box per node and one per graph output,
// and an edge per node input and per output.
struct Drawn {
    int nodes = 0, edges = 0;
};
Drawn expectedDrawing(const Graph& g) {
    Drawn d;
    for (NodeId id : g.nodeIds()) d.edges += int(g.node(id).inputs.size());
    d.nodes = int(g.nodeCount() + g.outputs().size());
    d.edges += int(g.outputs().size());
    return d;
}

// The DOT file as Graphviz's own parser reads it; nullopt when it cannot. (No layout may run
// meanwhile: Graphviz's string pool is shared and unguarded.)
std::optional<Drawn> dotAsGraphvizReadsIt(const QString& path) {
    const QByteArray text = readAll(path);
    Agraph_t* g = agmemread(text.constData());
    if (!g) return std::nullopt;
    Drawn d{agnnodes(g), agnedges(g)};
    agclose(g);
    return d;
}

// The SVG's node and edge groups, read with an XML reader (Graphviz writes <g class="node"> and
// <g class="edge">); nullopt when the XML is malformed.
std::optional<Drawn> svgGroups(const QString& path) {
    QXmlStreamReader xml(readAll(path));
    Drawn d;
    while (!xml.atEnd()) {
        if (xml.readNext() != QXmlStreamReader::StartElement || xml.name() != QLatin1String("g")) continue;
        const auto cls = xml.attributes().value(QLatin1String("class"));
        d.nodes += cls == QLatin1String("node");
        d.edges += cls == QLatin1String("edge");
    }
    if (xml.hasError()) return std::nullopt;
    return d;
}

}  // namespace

namespace {

QString example(const char* name) { return QString(ADJOINT_SOURCE_DIR) + "/resources/examples/" + name; }

}  // namespace

class TestMainWindowFlow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { test::isolateApplication(dir_.path(), "tst_main_window_flow"); }

    void newUserFlow() {
        MainWindow window;
        window.show();
        QString error;
        QVERIFY2(window.openFile(example("mlp.json"), &error), qPrintable(error));
        QVERIFY(waitForLayout(*window.graphView()));
        QVERIFY(window.windowTitle().startsWith("mlp.json[*]"));
        QVERIFY(!window.isWindowModified());
        GraphScene* scene = window.graphView()->graphScene();
        const std::size_t count = window.graph()->nodeCount();

        // Drag "tanh" from the palette onto the canvas.
        const QModelIndex index = window.palette()->tree()->indexFromItem(window.palette()->opItem("tanh"));
        QMimeData* mime = window.palette()->tree()->model()->mimeData({index});
        QVERIFY(mime);
        QWidget* viewport = window.graphView()->viewport();
        const QPoint dropAt = viewport->rect().center() + QPoint(150, 0);
        QVERIFY(dropOn(viewport, dropAt, mime));
        delete mime;
        QCOMPARE(window.graph()->nodeCount(), count + 1);
        const auto added = window.graph()->findNode("tanh");
        QVERIFY(added);
        QVERIFY(QLineF(window.document()->position(*added), window.graphView()->mapToScene(dropAt)).length() < 1e-6);
        QVERIFY(window.isWindowModified());
        QVERIFY(waitForLayout(*window.graphView()));
        GraphNodeItem* tanhItem = scene->nodeItem(*added);
        QVERIFY(tanhItem);
        QVERIFY(QLineF(window.graphView()->mapFromScene(tanhItem->pos()), dropAt).length() <= 1);  // drawn where dropped
        QCOMPARE(scene->selectedNodeIds(), std::vector<NodeId>{*added});  // and selected
        QVERIFY(!tanhItem->problem().isEmpty());                          // no input yet

        // Connect h1's output to its input by dragging between the ports.
        const NodeId h1 = *window.graph()->findNode("h1");
        GraphNodeItem* h1Item = scene->nodeItem(h1);
        const QPointF from = h1Item->mapToScene(h1Item->outputPortPos(0));
        const QPointF to = tanhItem->mapToScene(tanhItem->inputPortPos(0));
        sceneMouse(scene, QEvent::GraphicsSceneMousePress, from, from);
        sceneMouse(scene, QEvent::GraphicsSceneMouseMove, to, from);
        sceneMouse(scene, QEvent::GraphicsSceneMouseRelease, to, from);
        QCOMPARE(window.graph()->node(*added).inputs.at(0), (ValueRef{h1, 0}));
        QVERIFY(waitForLayout(*window.graphView()));
        auto edgeLabel = [&]() -> QString {
            for (GraphEdgeItem* e : scene->edgeItems())
                if (e->to() == *added) return e->label();
            return QString("(no edge)");
        };
        const QString shape = QString::fromStdString(shapeLabel(window.graph()->type({h1, 0}).shape));
        QCOMPARE(edgeLabel(), shape);  // the shape is on the new edge
        QVERIFY(scene->nodeItem(*added)->problem().isEmpty());
        const std::string edited = printGraph(*window.graph());

        // Undo the connection and the drop, redo both.
        window.document()->undoStack()->undo();
        QVERIFY(waitForLayout(*window.graphView()));
        QCOMPARE(edgeLabel(), QString("(no edge)"));
        window.document()->undoStack()->undo();
        QVERIFY(!window.graph()->findNode("tanh"));
        QVERIFY(!window.isWindowModified());
        window.document()->undoStack()->redo();
        window.document()->undoStack()->redo();
        QVERIFY(waitForLayout(*window.graphView()));
        QCOMPARE(printGraph(*window.graph()), edited);
        QCOMPARE(edgeLabel(), shape);

        // Save, reopen: the same graph, the new node where it was dropped.
        const QString path = dir_.path() + "/edited.json";
        QVERIFY2(window.saveFile(path, &error), qPrintable(error));
        QVERIFY(!window.isWindowModified());
        QVERIFY(window.windowTitle().startsWith("edited.json"));
        QCOMPARE(window.recentFiles()->files().value(0), QFileInfo(path).absoluteFilePath());
        MainWindow again;
        QVERIFY2(again.openFile(path, &error), qPrintable(error));
        QCOMPARE(printGraph(*again.graph()), edited);
        QCOMPARE(again.document()->position(*again.graph()->findNode("tanh")), window.document()->position(*added));
    }

    void groupShortcutsActOnTheSelection() {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QString error;
        QVERIFY2(window.openFile(example("mlp.json"), &error), qPrintable(error));
        QVERIFY(waitForLayout(*window.graphView()));
        GraphDocument* doc = window.document();
        const NodeId h1 = *window.graph()->findNode("h1");
        window.graphView()->graphScene()->nodeItem(h1)->setSelected(true);
        window.activateWindow();
        window.graphView()->setFocus();
        QTest::keyClick(&window, Qt::Key_G, Qt::ControlModifier);
        QCOMPARE(doc->groups().size(), 1);
        const QString g = doc->groups().front();
        QCOMPARE(doc->groupOf(h1), g);
        QVERIFY(waitForLayout(*window.graphView()));
        window.graphView()->graphScene()->nodeItem(h1)->setSelected(true);
        window.toggleSelectionGroupsCollapsed();
        QVERIFY(doc->isGroupCollapsed(g));
        QVERIFY(waitForLayout(*window.graphView()));
        window.graphView()->graphScene()->nodeItem(h1)->setSelected(true);
        QTest::keyClick(&window, Qt::Key_G, Qt::ControlModifier | Qt::ShiftModifier);
        QVERIFY(doc->groups().isEmpty());
        doc->undoStack()->undo();
        QCOMPARE(doc->groupOf(h1), g);
        QVERIFY(doc->isGroupCollapsed(g));
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
        QVERIFY(window.close());
    }

    void unsavedChangesPrompt() {
        MainWindow window;
        window.show();
        QString error;
        QVERIFY(window.openFile(example("mlp.json"), &error));
        window.addNodeAtCentre("exp");
        QVERIFY(window.document()->isModified());
        window.setUnsavedChangesAnswer(QMessageBox::Cancel);
        window.newFile();  // cancelled: nothing happens
        QVERIFY(window.graph()->findNode("exp"));
        QVERIFY(!window.close());
        QVERIFY(window.isVisible());
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
        window.newFile();
        QCOMPARE(window.graph()->nodeCount(), std::size_t(0));
        QVERIFY(!window.document()->isModified());
        QVERIFY(window.windowTitle().startsWith("Untitled"));
        QVERIFY(window.close());
    }

    void dropFileOnWindow() {
        MainWindow window;
        window.show();
        auto* mime = new QMimeData;
        mime->setUrls({QUrl::fromLocalFile(example("attention.json"))});
        QVERIFY(dropOn(&window, QPoint(20, 200), mime));
        QCOMPARE(QFileInfo(window.currentFile()).fileName(), QString("attention.json"));
        // and on the canvas
        mime->setUrls({QUrl::fromLocalFile(example("mlp.json"))});
        QVERIFY(dropOn(window.graphView()->viewport(), QPoint(50, 50), mime));
        QCOMPARE(QFileInfo(window.currentFile()).fileName(), QString("mlp.json"));
        // other files are not accepted
        mime->setUrls({QUrl::fromLocalFile(dir_.path() + "/notes.txt")});
        QVERIFY(!dropOn(&window, QPoint(20, 200), mime));
        delete mime;
    }

    // Issue 18: Help had only About.
    void helpHasGettingStartedAndShortcuts() {
        MainWindow window;
        window.show();
        const QString keys = shortcutsHtml(&window);
        for (const char* expected : {"Find Node", "Go Out of Group", "Presentation Mode", "Undo"})
            QVERIFY2(keys.contains(expected), expected);
        QVERIFY(keys.contains(QKeySequence(QKeySequence::Find).toString(QKeySequence::NativeText)));
        QMenu* help = nullptr;
        for (QAction* a : window.menuBar()->actions())
            if (a->text().remove('&') == "Help") help = a->menu();
        QVERIFY(help);
        QAction* start = nullptr;
        for (QAction* a : help->actions())
            if (a->text().remove('&') == "Getting Started") start = a;
        QVERIFY(start);
        QCOMPARE(start->shortcut(), QKeySequence(QKeySequence::HelpContents));
        start->trigger();
        QTextBrowser* page = nullptr;
        QTRY_VERIFY((page = window.findChild<QTextBrowser*>("helpText")));
        QVERIFY(page->toPlainText().contains("Getting started"));
        QVERIFY(page->toPlainText().contains("Examples"));
    }

    // Issue 18: a dark system palette left the canvases light. The canvas follows the palette:
    // dark windows, a dark canvas with light edges; light again after.
    void darkPaletteGivesADarkCanvas() {
        MainWindow window;
        window.resize(1000, 700);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QString error;
        QVERIFY2(window.openFile(example("mlp.json"), &error), qPrintable(error));
        QVERIFY(waitForLayout(*window.graphView()));
        auto backgroundLightness = [&] {
            const QImage shot = window.graphView()->viewport()->grab().toImage();
            return shot.pixelColor(3, 3).lightness();  // a corner: background
        };
        QVERIFY(backgroundLightness() > 200);
        window.setTheme(Theme::Dark, false);
        QCOMPARE(window.theme(), Theme::Dark);
        QTRY_VERIFY(graphDarkMode());
        QTRY_VERIFY(backgroundLightness() < 80);
        // the edges are drawn light on it
        bool lightEdge = false;
        const QImage shot = window.graphView()->viewport()->grab().toImage();
        for (GraphEdgeItem* e : window.graphView()->graphScene()->edgeItems()) {
            const QPoint p = window.graphView()->mapFromScene(e->path().pointAtPercent(0.5));
            if (shot.rect().contains(p)) lightEdge = lightEdge || shot.pixelColor(p).lightness() > 100;
        }
        QVERIFY(lightEdge);
        window.setTheme(Theme::Light, false);
        QTRY_VERIFY(!graphDarkMode());
        QTRY_VERIFY(backgroundLightness() > 200);
        window.setTheme(Theme::System, false);
    }

    // Issue 18: the backward graph's canvas was a 600x100 strip at the default window size. At
    // that size it now gets most of the window's height: the side docks share one tab group.
    void backwardGraphGetsRoom() {
        MainWindow window;  // the default size (1280x800)
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QString error;
        QVERIFY2(window.openFile(example("mlp.json"), &error), qPrintable(error));
        AnalysisPanels* panels = analysisPanels(&window);
        QVERIFY(panels);
        QVERIFY2(panels->showView(QStringLiteral("autodiff"), &error), qPrintable(error));
        QTest::qWait(50);
        const QSize canvas = panels->autodiffView()->backwardView()->viewport()->size();
        QVERIFY2(canvas.width() >= 600 && canvas.height() >= 300,
                 qPrintable(QString("backward graph canvas %1x%2").arg(canvas.width()).arg(canvas.height())));
    }

    // Issue 18: the rewrite timeline opened at step 3 of 6 (the busiest); it opens at the first.
    void rewriteTimelineOpensAtTheFirstStep() {
        MainWindow window;
        window.show();
        QString error;
        QVERIFY2(window.openFile(example("attention.json"), &error), qPrintable(error));
        AnalysisPanels* panels = analysisPanels(&window);
        QVERIFY2(panels->showView(QStringLiteral("rewrite"), &error), qPrintable(error));
        RewriteTimeline* timeline = panels->rewriteTimeline();
        QTRY_VERIFY_WITH_TIMEOUT(timeline->trace() && !timeline->isComputing(), 60000);
        QVERIFY(timeline->stepCount() >= 3);
        QCOMPARE(timeline->currentStep(), 1);
        QVERIFY(timeline->stepText().contains(QString("Step 1/%1").arg(timeline->stepCount())));
    }

    void exports_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("extension");
        for (const char* ext : {"json", "onnx", "dot", "svg", "png"}) {
            QTest::addRow("forward.%s", ext) << int(ExportKind::Forward) << QString(ext);
            QTest::addRow("backward.%s", ext) << int(ExportKind::Backward) << QString(ext);
            QTest::addRow("optimized.%s", ext) << int(ExportKind::Optimized) << QString(ext);
        }
    }

    void exports() {
        QFETCH(int, kind);
        QFETCH(QString, extension);
        MainWindow window;
        QString error;
        QVERIFY(window.openFile(example("mlp.json"), &error));
        // Graphviz is not thread-safe: the engine serializes its own calls, and the DOT parser
        // called below must not run beside the window's layout, so that layout ends first.
        QVERIFY(waitForLayout(*window.graphView()));
        GraphView::layoutThreadPool()->waitForDone();
        const QString path = dir_.path() + QString("/export_%1.%2").arg(kind).arg(extension);
        QVERIFY2(window.exportTo(ExportKind(kind), path, &error), qPrintable(error));
        // The drawings are checked against the graph of the same kind, exported as JSON.
        const QString jsonPath = dir_.path() + QString("/export_%1_reference.json").arg(kind);
        QVERIFY2(window.exportTo(ExportKind(kind), jsonPath, &error), qPrintable(error));
        const Drawn want = expectedDrawing(loadGraphFile(jsonPath.toStdString()));
        if (extension == "dot") {
            const auto got = dotAsGraphvizReadsIt(path);
            QVERIFY2(got, "Graphviz's parser does not read the exported DOT");
            QCOMPARE(got->nodes, want.nodes);
            QCOMPARE(got->edges, want.edges);
        } else if (extension == "svg") {
            QVERIFY2(QSvgRenderer(path).isValid(), "QSvgRenderer does not read the exported SVG");
            const auto got = svgGroups(path);
            QVERIFY2(got, "the exported SVG is not well-formed XML");
            QCOMPARE(got->nodes, want.nodes);
            QCOMPARE(got->edges, want.edges);
        } else if (extension == "png") {
            // Decoded by Qt, with the proportions of the same graph's SVG drawing.
            const QImage png(path);
            QVERIFY2(!png.isNull(), "Qt cannot decode the exported PNG");
            const QString svgPath = dir_.path() + QString("/export_%1_reference.svg").arg(kind);
            QVERIFY2(window.exportTo(ExportKind(kind), svgPath, &error), qPrintable(error));
            const QSizeF svgSize = QSvgRenderer(svgPath).defaultSize();
            QVERIFY(!svgSize.isEmpty());
            const double aspectPng = double(png.width()) / png.height(), aspectSvg = svgSize.width() / svgSize.height();
            QVERIFY2(std::fabs(aspectPng / aspectSvg - 1) < 0.03,
                     qPrintable(QString("PNG %1x%2, SVG %3x%4").arg(png.width()).arg(png.height()).arg(svgSize.width()).arg(svgSize.height())));
            QVERIFY(png.width() >= svgSize.width() * 0.9);  // not a thumbnail
        }
        if (extension == "json" || extension == "onnx") {
            Graph g = loadGraphFile(path.toStdString());
            if (ExportKind(kind) == ExportKind::Backward) {
                bool hasGrad = false;
                for (const auto& o : g.outputs()) hasGrad = hasGrad || o.name.rfind("grad_", 0) == 0;
                QVERIFY(hasGrad);
            } else if (ExportKind(kind) == ExportKind::Forward && extension == "json") {
                verifyGraph(g);
                QCOMPARE(printGraph(g), printGraph(*window.graph()));
            } else if (ExportKind(kind) == ExportKind::Forward) {
                QCOMPARE(g.outputs().size(), window.graph()->outputs().size());
            }
        }
    }

    // The export dialog never proposes the examples folder (read-only once installed), then
    // proposes where the last export went; an export says where it went.
    void exportDialogProposesAWritableFolder() {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QString error;
        QVERIFY2(window.openFile(example("mlp.json"), &error), qPrintable(error));
        const QString proposed = QFileInfo(window.exportSuggestion(ExportKind::Forward)).absolutePath();
        QVERIFY2(proposed != QFileInfo(example("mlp.json")).absolutePath(), qPrintable(proposed));
        QVERIFY2(QFileInfo(proposed).isWritable(), qPrintable(proposed));
        QTemporaryDir out;
        QVERIFY2(window.exportTo(ExportKind::Forward, out.path() + "/mlp.onnx", &error), qPrintable(error));
        QVERIFY(window.statusBar()->currentMessage().contains(out.path() + "/mlp.onnx"));
        QCOMPARE(QFileInfo(window.exportSuggestion(ExportKind::Optimized)).absolutePath(), QFileInfo(out.path()).absoluteFilePath());
        QVERIFY(window.exportSuggestion(ExportKind::Optimized).endsWith("mlp_optimized.json"));
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
        QVERIFY(window.close());
    }

    void exportBackwardNeedsAScalarOutput() {
        MainWindow window;
        Graph g;
        NodeId x = g.addInput("x", {4, 3});
        NodeId r = g.addNode(Op::Relu, {{x, 0}}, {}, "r");
        g.addOutput("y", {r, 0});
        window.showGraph(g, "vector");
        QString error;
        QVERIFY(!window.exportTo(ExportKind::Backward, dir_.path() + "/b.json", &error));
        QVERIFY2(error.contains("scalar") && error.contains("y [4×3]"), qPrintable(error));
        QVERIFY(!QFileInfo::exists(dir_.path() + "/b.json"));
    }

private:
    QTemporaryDir dir_;
};

QTEST_MAIN(TestMainWindowFlow)
#include "tst_main_window_flow.moc"
