#include "adjoint_program.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QMessageBox>
#include <QTimer>
#include <cstdio>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <memory>
#include <optional>
#include <utility>

#include "analysis_panels.h"
#include "autosave.h"
#include "base/time_budget.h"
#include "example_paths.h"
#include "graph_view.h"
#include "main_window.h"
#include "single_instance.h"

namespace {

void printError(const QString& message) { std::fprintf(stderr, "adjoint: %s\n", qPrintable(message)); }

}  // namespace

void configureAdjointProcess() {
#if defined(__GLIBC__)
    mallopt(M_ARENA_MAX, 1);
#endif
}

int runAdjointProgram(QApplication& app, const AdjointProgramHooks& hooks) {
    QApplication::setApplicationName(QStringLiteral("Adjoint"));
    QApplication::setOrganizationName(QStringLiteral("Adjoint"));
    QApplication::setApplicationVersion(QStringLiteral(ADJOINT_VERSION));
    // the installed desktop entry and icon (resources/packaging) name the windows
    QGuiApplication::setDesktopFileName(QStringLiteral("adjoint"));
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("adjoint")));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Adjoint, a computational-graph explorer."));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                  QStringLiteral("Save a picture of the window to <png> once the graph is laid out, then exit."),
                                  QStringLiteral("png"));
    parser.addOption(screenshot);
    QCommandLineOption viewOption(QStringLiteral("view"),
                                  QStringLiteral("Open an analysis view once the graph is shown (with --screenshot: picture it): "
                                                 "autodiff, rewrite, fusion, roofline or training."),
                                  QStringLiteral("name"));
    parser.addOption(viewOption);
    QCommandLineOption presentationOption(QStringLiteral("presentation"),
                                          QStringLiteral("Start in presentation mode (large fonts, high contrast; F5 "
                                                         "toggles it) without remembering it for later runs."));
    parser.addOption(presentationOption);
    QCommandLineOption timeoutOption(QStringLiteral("timeout"),
                                     QStringLiteral("With --screenshot: the most seconds the run may take (default 60); past it, an "
                                                    "error and exit status 1, whatever is still computing."),
                                     QStringLiteral("seconds"), QStringLiteral("60"));
    parser.addOption(timeoutOption);
    QCommandLineOption separateOption(QStringLiteral("separate"),
                                      QStringLiteral("Run as a program of its own even when Adjoint already runs (by default the "
                                                     "file opens in a new window of the running one; so does $ADJOINT_SEPARATE=1)."));
    parser.addOption(separateOption);
    parser.addPositionalArgument(QStringLiteral("file"), QStringLiteral("Graph file to open (default: the mlp example)."),
                                 QStringLiteral("[file]"));
    parser.process(app);

    const QStringList args = parser.positionalArguments();
    if (args.size() > 1) {
        printError(QStringLiteral("expected at most one file, got %1").arg(args.size()));
        return 2;
    }
    QString path = args.isEmpty() ? defaultExamplePath() : args.front();
    const bool takeScreenshot = parser.isSet(screenshot);
    const QString shotPath = parser.value(screenshot);
    bool timeoutOk = false;
    const double timeoutSeconds = parser.value(timeoutOption).toDouble(&timeoutOk);
    if (!timeoutOk || !(timeoutSeconds > 0)) {
        printError(QStringLiteral("--timeout takes a positive number of seconds, got '%1'").arg(parser.value(timeoutOption)));
        return 2;
    }
    // A screenshot run ends in time even when a layout or an analysis would not (Graphviz cannot be
    // interrupted): armed before the window, so that it also covers the window's teardown.
    std::optional<adj::TimeBudget> budget;
    if (takeScreenshot)
        budget.emplace(timeoutSeconds, "adjoint: error: the screenshot " + adj::timeBudgetExceeded(timeoutSeconds));

    // A file opened while Adjoint runs goes to the running program, in a new window. Not for a
    // screenshot, a test driver (hooks) or --separate: those are programs of their own.
    std::unique_ptr<SingleInstance> instance;
    if (!takeScreenshot && !hooks.afterStart && !parser.isSet(separateOption) && qEnvironmentVariable("ADJOINT_SEPARATE") != "1") {
        instance = std::make_unique<SingleInstance>();
        if (instance->forwardToRunning(args.isEmpty() ? QStringList{} : QStringList{args.front()})) return 0;
    }

    MainWindow window;
    const QString viewName = parser.value(viewOption);
    AnalysisPanels* panels = analysisPanels(&window);
    if (!viewName.isEmpty()) {
        if (!panels || !AnalysisPanels::viewNames().contains(viewName)) {
            printError(QStringLiteral("unknown view '%1' (expected one of %2)")
                           .arg(viewName, AnalysisPanels::viewNames().join(QStringLiteral(", "))));
            return 2;
        }
        window.resize(1600, 1000);
        panels->setTrainingStartsWhenShown(takeScreenshot);  // a picture of training shows a run
        // Open the view once the document's graph is on the canvas.
        auto opened = std::make_shared<bool>(false);
        QObject::connect(window.graphView(), &GraphView::layoutApplied, panels, [panels, viewName, opened] {
            if (std::exchange(*opened, true)) return;
            QString error;
            if (!panels->showView(viewName, &error)) {
                printError(error);
                if (QApplication::arguments().contains(QStringLiteral("--screenshot"))) QApplication::exit(1);
            }
        });
    }
    window.show();
    // (after show: a status message shown before would not hide the status bar's label)
    if (parser.isSet(presentationOption)) window.setPresentationMode(true, false);

    if (takeScreenshot) {
        // Grab once the layout (or the analysis view) is on screen (the budget gives up for it).
        auto grabber = [&] {
            QTimer::singleShot(300, &app, [&] {
                if (!window.grab().save(shotPath, "PNG")) {
                    printError(QStringLiteral("cannot write %1").arg(shotPath));
                    QApplication::exit(1);
                    return;
                }
                QApplication::exit(0);
            });
        };
        if (viewName.isEmpty()) QObject::connect(window.graphView(), &GraphView::layoutApplied, &app, grabber);
        else QObject::connect(panels, &AnalysisPanels::viewReady, &app, grabber);
        if (panels)
            QObject::connect(panels, &AnalysisPanels::viewFailed, &app, [](const QString& view, const QString& message) {
                printError(QStringLiteral("%1 view: %2").arg(view, message));
                QApplication::exit(1);
            });
        QObject::connect(window.graphView(), &GraphView::layoutFailed, &app, [](const QString& message) {
            printError(QStringLiteral("layout failed: %1").arg(message));
            QApplication::exit(1);
        });
        if (path.isEmpty()) {
            printError(QStringLiteral("no file given and no default example found"));
            return 1;
        }
        QString error;
        if (!window.openFile(path, &error)) {
            printError(error);
            return 1;
        }
        return app.exec();
    }

    bool recovered = false;
    if (!Autosave::findRecoveries(window.autosave()->dir()).empty()) {
        printError(QStringLiteral("offering to recover unsaved changes"));
        const QString how = qEnvironmentVariable("ADJOINT_RECOVERY");
        const auto answer = how == QLatin1String("accept")    ? QMessageBox::Yes
                            : how == QLatin1String("discard") ? QMessageBox::No
                                                              : QMessageBox::NoButton;
        recovered = window.offerRecovery(answer);
        if (recovered) printError(QStringLiteral("recovered unsaved changes"));
    }
    if (!recovered && !path.isEmpty()) {
        QString error;
        if (!window.openFile(path, &error))
            QTimer::singleShot(0, &window, [&window, path, error] {
                QMessageBox::warning(&window, QObject::tr("Cannot open graph"),
                                     QObject::tr("Cannot open %1:\n\n%2").arg(path, error));
            });
    }
    if (instance && instance->listen())
        QObject::connect(instance.get(), &SingleInstance::filesRequested, &window, [&window](const QStringList& paths) {
            if (paths.isEmpty()) {  // started again without a file: come forward
                QWidget* front = QApplication::activeWindow() ? QApplication::activeWindow() : &window;
                front->show();
                front->raise();
                front->activateWindow();
                return;
            }
            for (const QString& p : paths) {
                auto* other = new MainWindow;
                other->setAttribute(Qt::WA_DeleteOnClose);
                other->show();
                other->raise();
                other->activateWindow();
                QString error;
                if (!other->openFile(p, &error))
                    QMessageBox::warning(other, QObject::tr("Cannot open graph"), QObject::tr("Cannot open %1:\n\n%2").arg(p, error));
            }
        });
    if (hooks.afterStart)
        QTimer::singleShot(0, &window, [&window, &hooks] {
            if (!hooks.afterStart(window)) QApplication::exit(3);
        });
    return app.exec();
}
