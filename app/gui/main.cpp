// adjoint: the desktop app.
//   adjoint [FILE.json]                 opens FILE, or the default example (mlp.json)
//   adjoint --screenshot OUT.png [FILE] opens, waits for the layout, saves the window, exits
#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>
#include <QTimer>
#include <cstdio>

#include "example_paths.h"
#include "graph_view.h"
#include "main_window.h"

namespace {

void printError(const QString& message) { std::fprintf(stderr, "adjoint: %s\n", qPrintable(message)); }

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Adjoint"));
    QApplication::setOrganizationName(QStringLiteral("Adjoint"));
    QApplication::setApplicationVersion(QStringLiteral(ADJOINT_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Adjoint, a computational-graph explorer."));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                  QStringLiteral("Save a picture of the window to <png> once the graph is laid out, then exit."),
                                  QStringLiteral("png"));
    parser.addOption(screenshot);
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

    MainWindow window;
    window.show();

    if (takeScreenshot) {
        // Grab once the layout is on screen; give up after a minute.
        QObject::connect(window.graphView(), &GraphView::layoutApplied, &app, [&] {
            QTimer::singleShot(200, &app, [&] {
                if (!window.grab().save(shotPath, "PNG")) {
                    printError(QStringLiteral("cannot write %1").arg(shotPath));
                    QApplication::exit(1);
                    return;
                }
                QApplication::exit(0);
            });
        });
        QObject::connect(window.graphView(), &GraphView::layoutFailed, &app, [](const QString& message) {
            printError(QStringLiteral("layout failed: %1").arg(message));
            QApplication::exit(1);
        });
        QTimer::singleShot(60000, &app, [] {
            printError(QStringLiteral("timed out waiting for the layout"));
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

    if (!path.isEmpty()) {
        QString error;
        if (!window.openFile(path, &error))
            QTimer::singleShot(0, &window, [&window, path, error] {
                QMessageBox::warning(&window, QObject::tr("Cannot open graph"),
                                     QObject::tr("Cannot open %1:\n\n%2").arg(path, error));
            });
    }
    return app.exec();
}
