// The desk at scale: one graph opened as the program opens it, timed from the process's start.
//
//   xvfb-run -a -s "-screen 0 1600x1000x24" build/bench/bench_gui [--open-only] GRAPH   (one JSON line)
//
// bench/bench_gui.sh runs it on generated scoped graphs of 1k, 10k and 100k nodes
// (bench/make_scoped_graph.py), several rounds interleaved, and prints the medians.
//   launch_s       process start (the kernel's start time of this process) to the first paint of
//                  the laid-out graph with the event loop idle again: what a user waits for
//   layout_s       openFile() to the layout applied (import, checks, layout, scene)
//   expand_s       every group expanded (one undo step): to the new drawing applied
//   pan_fit_ms     median time of a synchronous repaint while panning the whole expanded drawing
//                  fitted in the window (every node visible, drawn at low detail)
//   pan_100_ms     the same at 100 % (labels, ports and arrowheads drawn)
//   visible_nodes  boxes drawn when fitted, expanded
#include <QApplication>
#include <QElapsedTimer>
#include <QScrollBar>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "graph_document.h"
#include "graph_scene.h"
#include "graph_view.h"
#include "main_window.h"

namespace {

/// Seconds since this process started (its start time in /proc/self/stat, in clock ticks since
/// boot, against CLOCK_BOOTTIME).
double secondsSinceProcessStart() {
    std::ifstream stat("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) return -1;
    std::vector<std::string> fields;
    std::string field;
    for (std::size_t i = close + 2; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == ' ') {
            fields.push_back(field);
            field.clear();
        } else {
            field += text[i];
        }
    }
    // fields[0] is the state (field 3): the start time is field 22
    if (fields.size() < 20) return -1;
    const double started = std::stod(fields[19]) / double(sysconf(_SC_CLK_TCK));
    timespec now{};
    clock_gettime(CLOCK_BOOTTIME, &now);
    return double(now.tv_sec) + double(now.tv_nsec) * 1e-9 - started;
}

bool waitFor(GraphView& view, int timeoutMs) {
    QElapsedTimer clock;
    clock.start();
    while (view.isLayoutPending() && clock.elapsed() < timeoutMs) QApplication::processEvents(QEventLoop::AllEvents, 20);
    return !view.isLayoutPending();
}

double medianOf(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

/// Pans across the drawing, repainting synchronously: the median milliseconds per frame.
double panFrameMs(GraphView& view, int frames) {
    std::vector<double> ms;
    QScrollBar* h = view.horizontalScrollBar();
    QScrollBar* v = view.verticalScrollBar();
    for (int f = 0; f < frames; ++f) {
        h->setValue(h->minimum() + (h->maximum() - h->minimum()) * (f % 20) / 19);
        v->setValue(v->minimum() + (v->maximum() - v->minimum()) * (f / 20 % 2));
        QElapsedTimer t;
        t.start();
        view.viewport()->repaint();
        ms.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    return medianOf(ms);
}

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    const bool openOnly = argc == 3 && std::string(argv[1]) == "--open-only";
    if (argc != 2 && !openOnly) {
        std::fprintf(stderr, "usage: bench_gui [--open-only] GRAPH\n");
        return 2;
    }
    const char* path = argv[argc - 1];
    MainWindow window;
    window.resize(1600, 1000);
    window.show();
    GraphView& view = *window.graphView();
    QElapsedTimer clock;
    clock.start();
    QString error;
    if (!window.openFile(QString::fromLocal8Bit(path), &error)) {
        std::fprintf(stderr, "bench_gui: %s\n", qPrintable(error));
        return 1;
    }
    if (!waitFor(view, 600000)) return 1;
    const double layoutSeconds = double(clock.nsecsElapsed()) * 1e-9;
    view.viewport()->repaint();
    QApplication::processEvents();
    const double launchSeconds = secondsSinceProcessStart();
    if (openOnly) {  // the real-model check: how long until the model is on screen
        std::printf("{\"graph\": \"%s\", \"nodes\": %zu, \"launch_s\": %.3f, \"layout_s\": %.3f, \"boxes\": %zu, \"layered\": %s}\n",
                    path, window.graph()->nodeCount(), launchSeconds, layoutSeconds, view.graphScene()->nodeItems().size(),
                    view.graphScene()->nodeItems().size() > 0 && view.isLayered() ? "true" : "false");
        window.setUnsavedChangesAnswer(QMessageBox::Discard);
        return 0;
    }

    // everything expanded, fitted: every node in view
    GraphDocument* doc = window.document();
    std::vector<QString> all;
    for (const QString& g : doc->groups()) all.push_back(g);
    clock.restart();
    doc->setGroupsCollapsed(all, false);
    if (!waitFor(view, 600000)) return 1;
    const double expandSeconds = double(clock.nsecsElapsed()) * 1e-9;
    view.fitToWindow();
    QApplication::processEvents();
    const auto visible = view.graphScene()->nodeItems().size();
    const double panFit = panFrameMs(view, 40);
    view.resetZoom();
    QApplication::processEvents();
    const double pan100 = panFrameMs(view, 40);
    std::printf("{\"graph\": \"%s\", \"nodes\": %zu, \"launch_s\": %.3f, \"layout_s\": %.3f, \"expand_s\": %.3f, "
                "\"pan_fit_ms\": %.2f, \"pan_100_ms\": %.2f, \"visible_nodes\": %zu}\n",
                path, window.graph()->nodeCount(), launchSeconds, layoutSeconds, expandSeconds, panFit, pan100, visible);
    window.setUnsavedChangesAnswer(QMessageBox::Discard);
    return 0;
}
