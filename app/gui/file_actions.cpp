// MainWindow's file handling: new, open, save, save as, export, drops, the unsaved-changes
// prompt, recovery after a crash, and closing.
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFile>
#include <QFileInfo>
#include <QMimeData>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>

#include "autosave.h"
#include "compare_view.h"
#include "io/graph_file.h"
#include "ir/verifier.h"
#include "example_paths.h"
#include "graph_document.h"
#include "graph_view.h"
#include "main_window.h"
#include "recent_files.h"

namespace {

QStringList droppedGraphFiles(const QMimeData* mime) {
    QStringList out;
    if (!mime || !mime->hasUrls()) return out;
    for (const QUrl& url : mime->urls()) {
        const QString suffix = QFileInfo(url.toLocalFile()).suffix().toLower();
        if (url.isLocalFile() && (suffix == QLatin1String("json") || suffix == QLatin1String("onnx"))) out << url.toLocalFile();
    }
    return out;
}

}  // namespace

bool MainWindow::openFile(const QString& path, QString* error) {
    freshGraph_ = true;
    if (!doc_->load(path, error)) {
        freshGraph_ = false;
        return false;
    }
    displayName_ = QFileInfo(path).fileName();
    recent_->add(path);
    updateTitle();
    statusBar()->showMessage(tr("Opened %1").arg(QDir::toNativeSeparators(path)), 4000);
    return true;
}

void MainWindow::showGraph(adj::Graph graph, const QString& displayName) {
    freshGraph_ = true;
    displayName_ = displayName;
    doc_->setGraph(std::move(graph));
    updateTitle();
}

bool MainWindow::saveFile(const QString& path, QString* error) {
    if (!doc_->save(path, error)) return false;
    recent_->add(path);
    autosave_->discard();
    statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(path)), 4000);
    return true;
}

bool MainWindow::exportTo(ExportKind kind, const QString& path, QString* error) {
    QApplication::setOverrideCursor(Qt::WaitCursor);
    const bool ok = exportGraph(doc_->graph(), kind, path, error);
    QApplication::restoreOverrideCursor();
    if (ok) {
        statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(path)), 8000);
        QSettings().setValue(QStringLiteral("export/lastDirectory"), QFileInfo(path).absolutePath());
    }
    return ok;
}

namespace {
/// A window of its own for a comparison, parented to the main window (closed with it).
CompareView* openComparison(QWidget* owner, const adj::Graph& before, const adj::Graph& after, const QString& beforeName, const QString& afterName) {
    auto* view = new CompareView(owner);
    view->setWindowFlag(Qt::Window);
    view->setAttribute(Qt::WA_DeleteOnClose);
    view->setWindowTitle(QObject::tr("Compare %1 with %2").arg(beforeName, afterName));
    view->resize(1400, 800);
    view->compare(before, after, beforeName, afterName);
    view->show();
    return view;
}
}  // namespace

CompareView* MainWindow::compareWith(const QString& path, QString* error) {
    try {
        adj::Graph before = *graph(), after = adj::loadGraphFile(QFile::encodeName(path).toStdString());
        adj::verifyOrThrow(before);
        adj::verifyOrThrow(after);
        const QString name = displayName_.isEmpty() ? tr("this graph") : displayName_;
        return openComparison(this, before, after, name, QFileInfo(path).fileName());
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return nullptr;
    }
}

CompareView* MainWindow::compareWithOptimized(QString* error) {
    try {
        adj::Graph before = *graph();
        adj::verifyOrThrow(before);
        adj::Graph after = graphForExport(before, ExportKind::Optimized);
        adj::verifyOrThrow(after);
        const QString name = displayName_.isEmpty() ? tr("this graph") : displayName_;
        return openComparison(this, before, after, name, tr("%1 at -O2").arg(name));
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return nullptr;
    }
}

void MainWindow::newFile() {
    if (!maybeSave()) return;
    freshGraph_ = true;
    displayName_.clear();
    doc_->newDocument();
    updateTitle();
}

void MainWindow::openFileInteractive(const QString& path) {
    if (!maybeSave()) return;
    QString error;
    QApplication::setOverrideCursor(Qt::WaitCursor);
    const bool ok = openFile(path, &error);
    QApplication::restoreOverrideCursor();
    if (!ok) {
        recent_->remove(path);
        QMessageBox::warning(this, tr("Cannot open graph"), tr("Cannot open %1:\n\n%2").arg(QDir::toNativeSeparators(path), error));
    }
}

void MainWindow::openFileDialog() {
    const QString dir = doc_->filePath().isEmpty() ? examplesDir() : QFileInfo(doc_->filePath()).absolutePath();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Graph"), dir,
                                                      tr("Graphs (*.json *.onnx);;Adjoint graphs (*.json);;ONNX models (*.onnx);;All files (*)"));
    if (!path.isEmpty()) openFileInteractive(path);
}

bool MainWindow::save() {
    const QString path = doc_->filePath();
    // Examples and ONNX files are saved as a new JSON file rather than overwritten in place.
    if (path.isEmpty() || QFileInfo(path).suffix().toLower() != QLatin1String("json") ||
        (!examplesDir().isEmpty() && QFileInfo(path).absolutePath() == QFileInfo(examplesDir()).absoluteFilePath()))
        return saveAs();
    QString error;
    if (saveFile(path, &error)) return true;
    QMessageBox::warning(this, tr("Cannot save graph"), error);
    return false;
}

bool MainWindow::saveAs() {
    QString suggestion = doc_->filePath().isEmpty() ? QDir::homePath() + QStringLiteral("/untitled.json") : doc_->filePath();
    if (QFileInfo(suggestion).suffix().toLower() != QLatin1String("json"))
        suggestion = QFileInfo(suggestion).absolutePath() + QLatin1Char('/') + QFileInfo(suggestion).completeBaseName() + QStringLiteral(".json");
    if (!examplesDir().isEmpty() && QFileInfo(suggestion).absolutePath() == QFileInfo(examplesDir()).absoluteFilePath())
        suggestion = QDir::homePath() + QLatin1Char('/') + QFileInfo(suggestion).fileName();
    QString path = QFileDialog::getSaveFileName(this, tr("Save Graph As"), suggestion, tr("Adjoint graphs (*.json);;ONNX models (*.onnx)"));
    if (path.isEmpty()) return false;
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".json");
    QString error;
    if (saveFile(path, &error)) return true;
    QMessageBox::warning(this, tr("Cannot save graph"), error);
    return false;
}

QString MainWindow::exportSuggestion(ExportKind kind) const {
    static const char* const kinds[] = {"forward", "backward", "optimized"};
    const QString stem = doc_->filePath().isEmpty() ? QStringLiteral("graph") : QFileInfo(doc_->filePath()).completeBaseName();
    // where the last export went; else beside the graph, unless that is the examples (read-only
    // once installed) or not writable; else the user's documents
    auto usable = [](const QString& dir) { return !dir.isEmpty() && QFileInfo(dir).isDir() && QFileInfo(dir).isWritable(); };
    QString dir = QSettings().value(QStringLiteral("export/lastDirectory")).toString();
    if (!usable(dir)) {
        dir = doc_->filePath().isEmpty() ? QString() : QFileInfo(doc_->filePath()).absolutePath();
        const bool examples = !examplesDir().isEmpty() && dir == QFileInfo(examplesDir()).absoluteFilePath();
        if (examples || !usable(dir)) dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
        if (!usable(dir)) dir = QDir::homePath();
    }
    return dir + QLatin1Char('/') + stem + QLatin1Char('_') + QLatin1String(kinds[int(kind)]) + QStringLiteral(".json");
}

void MainWindow::exportDialog(ExportKind kind) {
    QString path = QFileDialog::getSaveFileName(
        this, tr("Export Graph"), exportSuggestion(kind),
        tr("Adjoint graph (*.json);;ONNX model (*.onnx);;Graphviz DOT (*.dot);;SVG image (*.svg);;PNG image (*.png);;"
           "PyTorch module (*.py)"));
    if (path.isEmpty()) return;
    QString error;
    if (!exportTo(kind, path, &error)) QMessageBox::warning(this, tr("Cannot export graph"), error);
}

bool MainWindow::maybeSave() {
    if (!doc_->isModified()) return true;
    QMessageBox::StandardButton answer = promptAnswer_;
    if (answer == QMessageBox::NoButton)
        answer = QMessageBox::warning(this, tr("Unsaved changes"),
                                      tr("%1 has unsaved changes. Save them?").arg(doc_->displayName()),
                                      QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Save) return save();
    return answer == QMessageBox::Discard;
}

bool MainWindow::offerRecovery(QMessageBox::StandardButton autoAnswer) {
    const auto found = Autosave::findRecoveries(autosave_->dir());
    if (found.empty()) return false;
    const Autosave::Recovery& r = found.front();
    const QString name = r.originalPath.isEmpty() ? tr("an untitled graph") : QFileInfo(r.originalPath).fileName();
    QMessageBox::StandardButton answer = autoAnswer;
    if (answer == QMessageBox::NoButton)
        answer = QMessageBox::question(this, tr("Recover unsaved changes?"),
                                       tr("Adjoint did not close normally. Unsaved changes to %1 were kept (%2).\n\n"
                                          "Recover them?")
                                           .arg(name, QLocale().toString(r.saved.toLocalTime(), QLocale::ShortFormat)),
                                       QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes);
    if (answer != QMessageBox::Yes) {
        for (const auto& other : found) Autosave::remove(other);
        return false;
    }
    freshGraph_ = true;
    QString error;
    if (!Autosave::restore(r, doc_, &error)) {
        QMessageBox::warning(this, tr("Cannot recover"), error);
        return false;
    }
    for (std::size_t i = 1; i < found.size(); ++i) Autosave::remove(found[i]);
    displayName_ = r.originalPath.isEmpty() ? tr("Recovered") : QFileInfo(r.originalPath).fileName();
    updateTitle();
    autosave_->saveNow();  // the recovered changes are this session's to protect now
    statusBar()->showMessage(tr("Recovered unsaved changes to %1").arg(name), 6000);
    return true;
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (!maybeSave()) {
        event->ignore();
        return;
    }
    saveSettings();
    autosave_->discard();
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (!droppedGraphFiles(event->mimeData()).isEmpty()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QStringList files = droppedGraphFiles(event->mimeData());
    if (files.isEmpty()) return;
    event->acceptProposedAction();
    openFileInteractive(files.front());
}
