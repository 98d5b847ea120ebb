// Soak (label soak): one main window through a long session, as a class or a day at the desk
// would put it through. It opens 200 graphs in a row (the examples, generated graphs of growing
// size, and the real-model ONNX exports of tests/fixtures), edits each (a node added, undone,
// redone, undone), keeps every analysis view open so that each graph is analysed by all of
// them, and starts and stops training 100 times, alternating the CPU and Vulkan backends.
//
// It checks the two faults of state and resources a long session shows:
//   - growth: the resident memory after the first 20 graphs may grow by at most 10% to the end;
//   - leaks of one document into the next: right after a graph opens, nothing of the previous
//     one is on the canvas (no selection, no overlay items); once the views have answered, what
//     each view shows is the analysis of this graph (the autodiff view's forward graph, the
//     rewrite trace's initial graph, the roofline's dots, the fusion groups) and not the last one.
#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QDir>
#include <QFileInfo>
#include <QPushButton>
#include <QSignalSpy>
#include <QLabel>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <malloc.h>
#include <unistd.h>

#include "adjoint_program.h"
#include "analysis_panels.h"
#include "async_analysis.h"
#include "fusion_panel_model.h"
#include "graph_document.h"
#include "graph_scene.h"
#include "graph_view.h"
#include "gui_test_support.h"
#include "io/graph_file.h"
#include "ir/printer.h"
#include "main_window.h"
#include "passes/trace_replay.h"
#include "test_support.h"

using namespace adj;

namespace {

constexpr int kGraphs = 200;
constexpr int kWarmGraphs = 20;
constexpr int kTrainingRuns = 100;

// Resident memory of this process in bytes (/proc/self/statm), after handing the heap's free
// pages back (malloc_trim): what the process holds, not what the allocator keeps cached.
double residentBytes() {
    malloc_trim(0);
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return double(resident) * double(sysconf(_SC_PAGESIZE));
}

// Where the resident memory is, for the log: anonymous and file-backed pages (/proc/self/status),
// and the bytes the heap has handed out (mallinfo2), so that growth can be told from fragmentation.
QString memoryBreakdown() {
    std::ifstream status("/proc/self/status");
    std::string line;
    QStringList parts;
    while (std::getline(status, line))
        if (line.rfind("RssAnon:", 0) == 0 || line.rfind("RssFile:", 0) == 0 || line.rfind("Threads:", 0) == 0)
            parts << QString::fromStdString(line).simplified();
    QStringList threads;
    for (const QFileInfo& task : QDir(QStringLiteral("/proc/self/task")).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(task.filePath() + QStringLiteral("/comm"));
        if (comm.open(QIODevice::ReadOnly)) threads << QString::fromUtf8(comm.readAll()).trimmed();
    }
    threads.sort();
    parts << QStringLiteral("threads: ") + threads.join(QLatin1Char(' '));
    const struct mallinfo2 heap = mallinfo2();
    parts << QStringLiteral("heap in use: %1 MB").arg(double(heap.uordblks + heap.hblkhd) / 1e6, 0, 'f', 1);
    return parts.join(QStringLiteral(", "));
}

// Resident kB by mapping (/proc/self/smaps: each library, [heap], [anon], [stack]...), summed over
// the mappings of the same name: where growth is, when there is some.
std::map<std::string, long> residentByMapping() {
    std::ifstream smaps("/proc/self/smaps");
    std::map<std::string, long> kb;
    std::string line, current;
    while (std::getline(smaps, line)) {
        std::istringstream in(line);
        std::string first;
        in >> first;
        if (first == "Rss:") {
            long v = 0;
            in >> v;
            kb[current] += v;
        } else if (!first.empty() && first.back() != ':' && first.find('-') != std::string::npos) {
            std::string perms, offset, dev, inode, name;
            in >> perms >> offset >> dev >> inode >> name;
            current = name.empty() ? "[anonymous]" : name;
        }
    }
    return kb;
}

QString mappingGrowth(const std::map<std::string, long>& before, const std::map<std::string, long>& after) {
    std::vector<std::pair<long, std::string>> growth;
    for (const auto& [name, kb] : after) {
        const auto it = before.find(name);
        growth.emplace_back(kb - (it == before.end() ? 0 : it->second), name);
    }
    std::sort(growth.begin(), growth.end(), std::greater<>());
    QStringList lines{QStringLiteral("resident growth by mapping (kB):")};
    for (std::size_t i = 0; i < std::min<std::size_t>(10, growth.size()); ++i)
        lines << QStringLiteral("  %1  %2").arg(growth[i].first, 8).arg(QString::fromStdString(growth[i].second));
    return lines.join(QLatin1Char('\n'));
}

// The same once the work in flight has finished (the analyses' pool idle, its results applied):
// the two measurements compare what the session keeps, not what one graph's analyses hold for
// the moment.
double settledResidentBytes() {
    analysisThreadPool()->waitForDone(60000);
    GraphView::layoutThreadPool()->waitForDone(60000);
    QCoreApplication::processEvents();
    analysisThreadPool()->waitForDone(60000);
    GraphView::layoutThreadPool()->waitForDone(60000);
    QCoreApplication::processEvents();
    return residentBytes();
}

// A generated graph: an MLP of `layers` tanh layers of width `width` on a [8, width] input, with
// a chain of elementwise ops after each layer, so that every view has work (fusion groups,
// rewrites, a backward graph). Written as adjoint-graph JSON, opened like any file.
std::string writeGeneratedGraph(const QString& dir, int index, int layers, int width) {
    Graph g;
    g.name = "generated_" + std::to_string(index);
    auto v = [](NodeId id) { return ValueRef{id, 0}; };
    ValueRef h = v(g.addInput("x", {8, width}));
    for (int l = 0; l < layers; ++l) {
        const std::string s = std::to_string(l);
        const ValueRef w = v(g.addParameter("w" + s, Tensor::full({width, width}, 0.01f * float(1 + (l % 5)))));
        const ValueRef b = v(g.addParameter("b" + s, Tensor::full({width}, 0.1f)));
        h = v(g.addNode(Op::Add, {v(g.addNode(Op::MatMul, {h, w}, {}, "mm" + s)), b}, {}, "bias" + s));
        h = v(g.addNode(Op::Tanh, {h}, {}, "tanh" + s));
        h = v(g.addNode(Op::Mul, {h, h}, {}, "sq" + s));
    }
    g.addOutput("loss", v(g.addNode(Op::Sum, {h}, {}, "loss")));
    const std::string path = (dir + QStringLiteral("/generated_%1.json").arg(index)).toStdString();
    saveGraphFile(g, path);
    return path;
}

// Whether the dashboard offers `backend` (the Vulkan choice is disabled until the device probe
// has found a device).
bool backendSelectable(TrainingDashboard& dashboard, const QString& backend) {
    auto* model = qobject_cast<QStandardItemModel*>(dashboard.backendChoice()->model());
    const int row = dashboard.backendChoice()->findText(backend);
    return model && row >= 0 && model->item(row)->isEnabled();
}

std::set<std::string> nodeNames(const Graph& g) {
    std::set<std::string> names;
    for (NodeId id : g.nodeIds()) names.insert(g.node(id).name);
    return names;
}

}  // namespace

class TestSoak : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { test::isolateApplication(dir_.path(), "tst_soak"); }

    void longSession() {
        // The graphs, by kind: examples, generated, real-model exports.
        const QString examples = QString(ADJOINT_SOURCE_DIR) + "/resources/examples/";
        std::vector<std::string> files;
        for (const char* name : {"mlp.json", "attention.json", "conv_bn_relu.json", "digits_mlp.json", "elementwise_chain.json",
                                 "scalar_function.json", "spirals_mlp.json"})
            files.push_back((examples + name).toStdString());
        // (Up to 7 layers: a deeper chain's backward graph takes Graphviz's dot 15-40 s to lay out,
        // a fault of its own, docs/RELIABILITY.md.)
        for (int i = 0; i < 6; ++i) files.push_back(writeGeneratedGraph(dir_.path(), i, 2 + i, 8 + 4 * i));
        const QString onnx = QString(ADJOINT_SOURCE_DIR) + "/tests/fixtures/onnx/";
        for (const char* name : {"mlp/model.onnx", "cnn/model.onnx", "transformer/model.onnx", "activations/model.onnx",
                                 "opsets/sweep_opset13.onnx", "opsets/sweep_opset17.onnx"})
            files.push_back((onnx + name).toStdString());

        MainWindow window;
        window.resize(1400, 900);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        AnalysisPanels* panels = analysisPanels(&window);
        QVERIFY(panels);
        const QStringList views = {QStringLiteral("autodiff"), QStringLiteral("rewrite"), QStringLiteral("fusion"),
                                   QStringLiteral("roofline")};
        QString error;
        std::map<QString, int> failures;

        QSignalSpy ready(panels, &AnalysisPanels::viewReady);
        QSignalSpy failed(panels, &AnalysisPanels::viewFailed);
        double warmResident = 0;
        std::map<std::string, long> warmMappings;
        int trainingRuns = 0;
        std::map<std::string, double> secondsPerFile;  // where the time goes, printed at the end
        QElapsedTimer clock;
        for (int i = 0; i < kGraphs; ++i) {
            clock.start();
            const std::string& file = files[std::size_t(i) % files.size()];
            const QString label = QStringLiteral("graph %1 (%2)").arg(i).arg(QFileInfo(QString::fromStdString(file)).fileName());
            QVERIFY2(window.openFile(QString::fromStdString(file), &error), qPrintable(label + ": " + error));

            // Nothing of the previous graph is on the canvas.
            QVERIFY2(window.graphView()->graphScene()->selectedItems().isEmpty(), qPrintable(label + ": a selection survived"));
            QVERIFY2(panels->canvasOverlays()->itemCount() == 0, qPrintable(label + ": overlay items of the previous graph"));

            // An edit: add a node, undo, redo, undo (the document is back to the file's graph).
            QVERIFY(test::waitForLayout(*window.graphView()));
            const std::string printed = printGraph(*window.graph());
            QVERIFY(window.addNodeAtCentre(QStringLiteral("relu")) != kNoNode);
            QUndoStack* undo = window.document()->undoStack();
            undo->undo();
            undo->redo();
            undo->undo();
            QCOMPARE(printGraph(*window.graph()), printed);

            // Every view, opened in turn, answers for this graph (drawn, or a failure it names).
            QStringList slow;  // views that took over a second, for the log
            for (const QString& v : views) {
                QElapsedTimer viewClock;
                viewClock.start();
                ready.clear();
                failed.clear();
                QVERIFY2(panels->showView(v, &error), qPrintable(label + ": " + error));
                QVERIFY2(QTest::qWaitFor([&] { return !ready.isEmpty() || !failed.isEmpty(); }, 120000),
                         qPrintable(label + ": the " + v + " view did not answer"));
                if (!failed.isEmpty()) ++failures[v];
                if (viewClock.elapsed() > 1000) slow << QStringLiteral("%1 %2 ms").arg(v).arg(viewClock.elapsed());
            }
            if (!slow.isEmpty()) qInfo("%s: %s", qPrintable(label), qPrintable(slow.join(", ")));
            // What they show is this graph's analysis.
            const Graph& g = *window.graph();
            const auto lines = sortedPrintedLines(printed);
            // (The analysed copy may add a sum that makes a non-scalar output a loss: a superset.)
            if (const AutodiffAnalysis* a = panels->autodiffView()->analysis(); a && a->order == 1) {
                const auto shown = sortedPrintedLines(printGraph(a->forward));
                QVERIFY2(std::includes(shown.begin(), shown.end(), lines.begin(), lines.end()),
                         qPrintable(label + ": the autodiff view shows another graph:\n" +
                                    QString::fromStdString(printGraph(a->forward) + "\n---\n" + printed)));
            }
            if (const RewriteTrace* t = panels->rewriteTimeline()->trace()) {
                const std::string shown = printGraph(replayInitialGraph(*t));
                QVERIFY2(sortedPrintedLines(shown) == lines,
                         qPrintable(label + ": the rewrite timeline shows another graph:\n" + QString::fromStdString(shown + "\n---\n" + printed)));
            }
            const std::set<std::string> names = nodeNames(g);
            for (const RooflineDot& dot : panels->rooflineChart()->dots()) {
                const std::string name = dot.label.section(QLatin1Char(' '), 0, 0).toStdString();
                QVERIFY2(names.count(name), qPrintable(label + ": a roofline dot of another graph: " + dot.label));
            }
            if (panels->fusionPanel()->analysis()) {
                QCOMPARE(panels->fusionPanel()->groupCount(), int(analyseFusion(g).groups.size()));
            }

            // Training: on the trainable example, start and stop, alternating the backends.
            // (Showing the training view starts nothing: each run below is started with Start.)
            if (QFileInfo(QString::fromStdString(file)).fileName() == QLatin1String("spirals_mlp.json") && trainingRuns < kTrainingRuns) {
                QVERIFY2(panels->showView(QStringLiteral("training"), &error), qPrintable(error));
                TrainingDashboard* dashboard = panels->trainingDashboard();
                TrainingController* controller = panels->trainingController();
                const int runsHere = kTrainingRuns / (kGraphs / int(files.size())) + 1;
                for (int r = 0; r < runsHere && trainingRuns < kTrainingRuns; ++r, ++trainingRuns) {
                    const QString backend = trainingRuns % 2 ? QStringLiteral("Vulkan") : QStringLiteral("CPU");
                    if (backend == QLatin1String("Vulkan"))
                        QVERIFY2(QTest::qWaitFor([&] { return backendSelectable(*dashboard, backend); }, 60000),
                                 "no Vulkan device for training (lavapipe: mesa-vulkan-drivers)");
                    dashboard->backendChoice()->setCurrentText(backend);
                    dashboard->stepsBox()->setValue(1000000);  // still running when Stop is clicked
                    int stepped = 0;
                    const auto counting = connect(controller, &TrainingController::snapshotReady,
                                                  [&stepped](const TrainingSnapshot& s) { stepped += s.running && s.step >= 1; });
                    QTest::mouseClick(dashboard->startButton(), Qt::LeftButton);
                    const bool steppedInTime = QTest::qWaitFor([&] { return stepped > 0; }, 60000);
                    disconnect(counting);
                    QVERIFY2(steppedInTime,
                             qPrintable(QStringLiteral("training run %1 (%2) made no step").arg(trainingRuns).arg(backend)));
                    QVERIFY2(dashboard->stopButton()->isEnabled(),
                             qPrintable(QStringLiteral("training run %1 (%2): Stop is disabled (running: %3; %4)")
                                            .arg(trainingRuns)
                                            .arg(backend)
                                            .arg(controller->isRunning())
                                            .arg(dashboard->statusLabel()->text())));
                    QTest::mouseClick(dashboard->stopButton(), Qt::LeftButton);
                    QVERIFY2(QTest::qWaitFor([&] { return !controller->isRunning(); }, 30000),
                             qPrintable(QStringLiteral("training run %1 (%2) did not stop").arg(trainingRuns).arg(backend)));
                }
            }
            if (i + 1 == kWarmGraphs) {
                warmResident = settledResidentBytes();
                warmMappings = residentByMapping();
            }
            secondsPerFile[QFileInfo(QString::fromStdString(file)).fileName().toStdString()] += double(clock.elapsed()) / 1000.0;
            if ((i + 1) % 20 == 0) qInfo("%d graphs, %.1f MB resident (%s)", i + 1, residentBytes() / 1e6, qPrintable(memoryBreakdown()));
        }
        for (const auto& [name, seconds] : secondsPerFile) qInfo("%6.1f s  %s", seconds, name.c_str());
        QCOMPARE(trainingRuns, kTrainingRuns);
        QVERIFY2(!panels->trainingController()->isRunning(), "a training run is still going at the end");
        for (const auto& [v, n] : failures) qInfo("the %s view declined %d of the graphs", qPrintable(v), n);
        const double endResident = settledResidentBytes();
        qInfo("resident memory after %d graphs: %.1f MB; after %d graphs and %d training runs: %.1f MB (%+.1f%%)", kWarmGraphs,
              warmResident / 1e6, kGraphs, trainingRuns, endResident / 1e6, 100 * (endResident / warmResident - 1));
        if (endResident > 1.10 * warmResident) qInfo("%s", qPrintable(mappingGrowth(warmMappings, residentByMapping())));
        QVERIFY2(endResident <= 1.10 * warmResident, "the resident memory grew by more than 10% after the first 20 graphs");
    }

private:
    QTemporaryDir dir_;
};

// As the program's main(): the process settings (malloc arenas) before QApplication starts any
// thread, since glibc fixes its arena limit when the first thread allocates.
int main(int argc, char** argv) {
    configureAdjointProcess();
    QApplication app(argc, argv);
    app.setAttribute(Qt::AA_Use96Dpi, true);
    TestSoak test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}
#include "tst_soak.moc"
