#pragma once
// The main window: the graph view in the middle, the printed graph and the verifier's
// diagnostics in docks on the right, File and View menus, the node count in the status bar.
//
// Until the document (GraphDocument, with its undo stack) lands, the window holds the graph it
// loaded; views still receive copies only.
#include <QMainWindow>
#include <memory>

#include "ir/graph.h"

class GraphView;
class QAction;
class QDockWidget;
class QLabel;
class QListWidget;
class QListWidgetItem;
class QMenu;
class QPlainTextEdit;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Loads a graph file (JSON), verifies it and shows it. Shows no dialog: on failure returns
    /// false with the message in *error and leaves the current graph on screen.
    bool openFile(const QString& path, QString* error = nullptr);
    /// Shows a graph already in memory under `displayName` (verifies it first).
    void showGraph(adj::Graph graph, const QString& displayName);

    GraphView* graphView() const { return view_; }
    /// The graph on screen; nullptr before the first one.
    const adj::Graph* graph() const { return graph_.get(); }
    QString currentFile() const { return currentFile_; }
    QPlainTextEdit* graphTextView() const { return text_; }
    QListWidget* diagnosticsView() const { return diagnostics_; }

public Q_SLOTS:
    /// File > Open: asks for a file and opens it, reporting failure in a message box.
    void openFileDialog();
    /// Opens `path`, reporting failure in a message box.
    void openFileInteractive(const QString& path);

private:
    void createActions();
    void createDocks();
    void populateExamplesMenu();
    void updateStatus();
    void onDiagnosticActivated(QListWidgetItem* item);

    GraphView* view_;
    QPlainTextEdit* text_ = nullptr;
    QListWidget* diagnostics_ = nullptr;
    QDockWidget* textDock_ = nullptr;
    QDockWidget* diagnosticsDock_ = nullptr;
    QMenu* examplesMenu_ = nullptr;
    QLabel* infoLabel_ = nullptr;
    QLabel* zoomLabel_ = nullptr;
    std::unique_ptr<adj::Graph> graph_;
    QString currentFile_;
    QString displayName_;
    int diagnosticCount_ = 0;
};
