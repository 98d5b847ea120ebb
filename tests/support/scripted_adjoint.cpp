// adjoint-scripted: the adjoint program (runAdjointProgram, the same start as the shipped binary:
// command line, recovery offer, file opening) driven by $ADJOINT_TEST_SCRIPT once the window is
// up, for tests of the whole program (tst_autosave kills it and starts it again). The script is
// commands separated by ';':
//   add OP NAME               adds a node through the document (an undoable edit)
//   connect VALUE NODE INDEX  connects a value to an input of a node
//   dump PATH                 writes the printed graph, "modified: yes|no" and "file: PATH"
//   save                      triggers File > Save (the action that Ctrl+S triggers)
//   autosave                  writes the recovery file now (what the autosave timer does)
//   quit                      closes the window, discarding changes (a clean exit)
// A command it cannot read or carry out ends the program with exit status 3.
#include <QAction>
#include <QApplication>
#include <QFile>
#include <QMessageBox>
#include <cstdio>

#include "adjoint_program.h"
#include "autosave.h"
#include "graph_document.h"
#include "ir/printer.h"
#include "main_window.h"

namespace {

bool scriptError(const QString& message) {
    std::fprintf(stderr, "adjoint: test script: %s\n", qPrintable(message));
    return false;
}

/// Runs the script on the window; false (after printing why) on a bad command.
bool runTestScript(MainWindow& window, const QString& script) {
    GraphDocument* doc = window.document();
    for (const QString& raw : script.split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
        const QStringList w = raw.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts);
        if (w.isEmpty()) continue;
        if (w[0] == QLatin1String("add") && w.size() == 3) {
            const auto op = adj::opFromName(w[1].toStdString());
            if (!op) return scriptError(QStringLiteral("unknown op %1").arg(w[1]));
            doc->addNode(*op, QPointF(0, 0), w[2]);
        } else if (w[0] == QLatin1String("connect") && w.size() == 4) {
            const auto v = doc->graph().findValue(w[1].toStdString());
            const auto n = doc->graph().findNode(w[2].toStdString());
            if (!v || !n) return scriptError(QStringLiteral("cannot connect %1 to %2").arg(w[1], w[2]));
            doc->connect(*v, *n, w[3].toInt());
        } else if (w[0] == QLatin1String("dump") && w.size() == 2) {
            QFile f(w[1]);
            if (!f.open(QIODevice::WriteOnly)) return scriptError(QStringLiteral("cannot write %1").arg(w[1]));
            f.write(adj::printGraph(doc->graph()).c_str());
            f.write(doc->isModified() ? "modified: yes\n" : "modified: no\n");
            f.write(("file: " + doc->filePath().toStdString() + "\n").c_str());
        } else if (w[0] == QLatin1String("save") && w.size() == 1) {
            QAction* save = nullptr;
            for (QAction* a : window.findChildren<QAction*>())
                if (a->shortcut() == QKeySequence(QKeySequence::Save)) save = a;
            if (!save) return scriptError(QStringLiteral("no action has the Save shortcut"));
            save->trigger();
        } else if (w[0] == QLatin1String("autosave") && w.size() == 1) {
            QString error;
            if (!window.autosave()->saveNow(&error)) return scriptError(error);
        } else if (w[0] == QLatin1String("quit") && w.size() == 1) {
            window.setUnsavedChangesAnswer(QMessageBox::Discard);
            window.close();
        } else {
            return scriptError(QStringLiteral("cannot read '%1'").arg(raw.trimmed()));
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    configureAdjointProcess();
    QApplication app(argc, argv);
    const QString script = qEnvironmentVariable("ADJOINT_TEST_SCRIPT");
    AdjointProgramHooks hooks;
    if (!script.isEmpty()) hooks.afterStart = [script](MainWindow& window) { return runTestScript(window, script); };
    return runAdjointProgram(app, hooks);
}
