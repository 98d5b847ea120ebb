#include "help_menu.h"

#include <QAction>
#include <QDialog>
#include <QDialogButtonBox>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace {

QString plain(QString text) { return text.remove(QLatin1Char('&')).remove(QStringLiteral("\u2026")); }

void addRows(const QMenu* menu, const QString& path, QString& rows) {
    for (QAction* a : menu->actions()) {
        if (a->isSeparator()) continue;
        if (a->menu()) {
            addRows(a->menu(), path + QStringLiteral(" \u203a ") + plain(a->text()), rows);
            continue;
        }
        QStringList keys;
        for (const QKeySequence& k : a->shortcuts()) keys << k.toString(QKeySequence::NativeText).toHtmlEscaped();
        if (keys.isEmpty()) continue;
        rows += QStringLiteral("<tr><td>%1</td><td>%2</td><td><b>%3</b></td></tr>")
                    .arg(path.toHtmlEscaped(), plain(a->text()).toHtmlEscaped(), keys.join(QStringLiteral(", ")));
    }
}

void showPage(QMainWindow* window, const QString& title, const QString& html) {
    auto* dialog = new QDialog(window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(title);
    auto* layout = new QVBoxLayout(dialog);
    auto* text = new QTextBrowser(dialog);
    text->setObjectName(QStringLiteral("helpText"));
    text->setOpenExternalLinks(true);
    text->setHtml(html);
    layout->addWidget(text);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
    layout->addWidget(buttons);
    dialog->resize(640, 560);
    dialog->show();
}

}  // namespace

QString shortcutsHtml(const QMainWindow* window) {
    QString rows;
    for (QAction* a : window->menuBar()->actions())
        if (a->menu()) addRows(a->menu(), plain(a->text()), rows);
    return QObject::tr("<h3>Keyboard shortcuts</h3><table cellspacing=6>%1</table>"
                       "<p>On the canvas: drag the background to pan, Ctrl+wheel or +/- to zoom, 0 for 100 %, "
                       "F to fit; Shift+drag selects with a rubber band; drag from an output port to an input "
                       "port to connect; double-click a group's box to go in; Esc cancels a long layout.</p>")
        .arg(rows);
}

QString gettingStartedHtml() {
    return QObject::tr(
        "<h3>Getting started</h3>"
        "<p><b>Open a graph.</b> File &gt; Examples holds the lecture's graphs (start with <i>mlp</i>); "
        "File &gt; Open reads Adjoint's .json graphs and ONNX models (PyTorch's exports among them). "
        "A large model opens on its modules: double-click a box to go in, use the breadcrumbs above the "
        "canvas or Alt+Up to go out, Ctrl+F to find a node by name, op or module.</p>"
        "<p><b>Draw one.</b> Drag ops from the Palette onto the canvas and connect them by dragging from "
        "an output port (bottom) to an input port (top); set shapes and attributes in the Inspector. "
        "Every edit can be undone (Ctrl+Z), and unsaved work is kept in a recovery file.</p>"
        "<p><b>See what the lecture talks about</b> (the View menu):</p><ul>"
        "<li><b>Autodiff</b>: the backward graph built by reverse mode, the values it saves, and forward "
        "against reverse mode's cost, checked against finite differences;</li>"
        "<li><b>Rewrite Timeline</b>: the optimizer's rewrites one step at a time, with what each saves;</li>"
        "<li><b>Fusion</b>: which elementwise ops run as one kernel, and the code generated for them;</li>"
        "<li><b>Roofline</b>: each kernel's arithmetic intensity against this machine's roofs;</li>"
        "<li><b>Memory</b>, <b>Partition</b> and <b>Training</b>: the buffers over time, a cluster's "
        "schedule, and a model learning live (Start, Speed, Step).</li></ul>"
        "<p><b>Write it out.</b> File &gt; Export writes the graph, its backward graph or its optimized "
        "form as JSON, ONNX, DOT, SVG or PNG; <tt>adjoint-cli</tt> does the same from scripts.</p>");
}

void installHelpMenu(QMainWindow* window, QMenu* help) {
    QAction* a = help->addAction(QObject::tr("&Getting Started"), window,
                                 [window] { showPage(window, QObject::tr("Getting Started"), gettingStartedHtml()); });
    a->setShortcut(QKeySequence::HelpContents);
    help->addAction(QObject::tr("&Keyboard Shortcuts"), window,
                    [window] { showPage(window, QObject::tr("Keyboard Shortcuts"), shortcutsHtml(window)); });
    help->addSeparator();
    help->addAction(QObject::tr("&About Adjoint"), window, [window] {
        QMessageBox::about(window, QObject::tr("About Adjoint"),
                           QObject::tr("<h3>Adjoint %1</h3><p>A computational-graph explorer: automatic differentiation, "
                                       "graph rewrites, fusion and arithmetic intensity, on the CPU and the GPU.</p>")
                               .arg(QStringLiteral(ADJOINT_VERSION)));
    });
}
