#pragma once
// The adjoint program as a library function, so that a test driver can run exactly what the
// shipped program runs and add its own steps once the window is up.
//   adjoint [FILE]                      opens FILE (.json or .onnx), or the default example
//   adjoint --screenshot OUT.png [FILE] opens, waits for the layout, saves the window, exits
//   adjoint --view NAME [...]           also opens an analysis view (autodiff, rewrite, fusion,
//                                       roofline, training); with --screenshot, once it is drawn
//   adjoint --separate [FILE]           a program of its own even when Adjoint runs (otherwise
//                                       FILE opens in a new window of the running one)
//
// At start, unsaved changes left by a session that did not exit cleanly are offered for
// recovery (a dialog; $ADJOINT_RECOVERY=accept|discard answers without one).
#include <functional>

class MainWindow;
class QApplication;

/// What a program built on the editor adds to its start.
struct AdjointProgramHooks {
    /// Runs from the event loop once the window is shown and the file (or a recovered graph) is
    /// open; not with --screenshot. Returning false ends the program with exit status 3.
    std::function<bool(MainWindow&)> afterStart;
};

/// Process-wide settings of the program, made in main() before QApplication starts threads (and
/// by tests that stand for the program; glibc fixes its arena limit when a second thread first
/// allocates, so later calls change nothing): glibc's malloc with one arena for all threads. Every
/// thread that allocates (the analysis and layout pools, training workers, oneTBB's, lavapipe's)
/// otherwise gets an arena of its own, up to eight per core, and the free pages stranded between
/// live blocks of each stay resident: a long session's footprint then follows how many arenas it
/// has touched, not what it holds (tst_soak, 200 graphs and 100 training runs: from 155 MB to
/// 175 MB with the default; with two arenas flat on average but readings 144 to 159 MB apart;
/// with one, 137.8 to 139.2 MB, every reading within 2 MB; docs/RELIABILITY.md). Small blocks
/// still come from each thread's own cache (tcache) without taking the arena's lock.
void configureAdjointProcess();

/// Names the application, reads `app`'s command line, shows the main window and runs the event
/// loop; returns the exit status (2 for a bad command line, 1 when a screenshot fails).
int runAdjointProgram(QApplication& app, const AdjointProgramHooks& hooks = {});
