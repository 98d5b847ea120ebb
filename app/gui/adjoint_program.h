#pragma once
// The adjoint program as a library function, so that a test driver can run exactly what the
// shipped program runs and add its own steps once the window is up.
//   adjoint [FILE]                      opens FILE (.json or .onnx), or the default example
//   adjoint --screenshot OUT.png [FILE] opens, waits for the layout, saves the window, exits
//   adjoint --view NAME [...]           also opens an analysis view (autodiff, rewrite, fusion,
//                                       roofline, training); with --screenshot, once it is drawn
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

/// Names the application, reads `app`'s command line, shows the main window and runs the event
/// loop; returns the exit status (2 for a bad command line, 1 when a screenshot fails).
int runAdjointProgram(QApplication& app, const AdjointProgramHooks& hooks = {});
