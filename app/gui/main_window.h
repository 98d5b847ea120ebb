#pragma once
// The main window: the canvas (GraphView) in the middle showing the document's graph, the op
// palette on the left, the inspector, the printed graph, the diagnostics and the undo history on
// the right. It owns the GraphDocument (graph + undo stack); every edit made here, on the canvas
// or in the docks goes through the document, and the views redraw from the document's signals.
//
// Files: New, Open (.json/.onnx), Save, Save As (atomic), recent files, drops of .json/.onnx,
// the unsaved-changes prompt, Export of the forward, backward or optimized graph, and autosave
// with recovery (Autosave). Presentation mode (F5) enlarges fonts and raises contrast.
// Other views add docks through viewMenu() and document() (app/gui/analysis_panels.h).
#include <QMainWindow>
#include <QMessageBox>
#include <QPointF>
#include <vector>

#include "export_graph.h"
#include "ir/graph.h"
#include "theme.h"

class Autosave;
class BreadcrumbBar;
class CompareView;
class FindBar;
class GraphDocument;
class GraphView;
class InspectorWidget;
class PaletteWidget;
class QAction;
class QDockWidget;
class QLabel;
class QTimer;
class QListWidget;
class QListWidgetItem;
class QMenu;
class QPlainTextEdit;
class RecentFiles;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    GraphDocument* document() const { return doc_; }
    GraphView* graphView() const { return view_; }
    QMenu* viewMenu() const { return viewMenu_; }
    QMenu* editMenu() const { return editMenu_; }
    PaletteWidget* palette() const { return palette_; }
    InspectorWidget* inspector() const { return inspector_; }
    FindBar* findBar() const { return findBar_; }
    /// The row above the canvas that says which group one is in (group_navigation.cpp).
    BreadcrumbBar* breadcrumbs() const { return breadcrumbs_; }
    Autosave* autosave() const { return autosave_; }
    RecentFiles* recentFiles() const { return recent_; }
    QPlainTextEdit* graphTextView() const { return text_; }
    QListWidget* diagnosticsView() const { return diagnostics_; }
    /// The document's graph (always present; empty for a new document).
    const adj::Graph* graph() const;
    QString currentFile() const;

    /// Loads a graph file (.json or .onnx) into the document. Shows no dialog: on failure
    /// returns false with the message in *error and leaves the document as it was.
    bool openFile(const QString& path, QString* error = nullptr);
    /// Shows a graph already in memory as a new untitled document named `displayName`.
    void showGraph(adj::Graph graph, const QString& displayName);
    /// Saves the document to `path` (no dialog); adds it to the recent files.
    bool saveFile(const QString& path, QString* error = nullptr);
    /// Writes the forward, backward or optimized graph to `path` (format from the extension).
    bool exportTo(ExportKind kind, const QString& path, QString* error = nullptr);
    /// Where the export dialog proposes to write: the last export's folder, else the graph's own
    /// (never the examples folder, read-only once installed), else the user's documents.
    QString exportSuggestion(ExportKind kind) const;
    /// View > Compare With…: the document's graph beside the graph in `path`, in a window of its
    /// own; null with *error when either does not load or verify.
    CompareView* compareWith(const QString& path, QString* error = nullptr);
    /// View > Compare With Optimized (-O2): the document's graph beside its -O2 form.
    CompareView* compareWithOptimized(QString* error = nullptr);

    /// Adds a node of the named op at a scene position (a palette drop) and selects it.
    adj::NodeId addNodeFromPalette(const QString& opName, const QPointF& scenePos);
    /// Adds it at the centre of the visible canvas (a palette double-click).
    adj::NodeId addNodeAtCentre(const QString& opName);
    /// Selects and shows the best node matching the text (adj::searchNodes: name, op, group),
    /// the next one when asked again; opens the collapsed groups around it. False when none matches.
    bool findNode(const QString& query);
    /// Where one is in the group hierarchy: the frame holding the selection (a selected collapsed
    /// box: the frame it is drawn in), else the group last gone into or out to; "" at the top.
    QString currentGroupPath() const;

    /// Asks to save unsaved changes; true when it is fine to go on (saved or discarded).
    bool maybeSave();
    /// For tests: the answer the unsaved-changes prompt gives without showing (Save, Discard or
    /// Cancel); NoButton (the default) asks the user.
    void setUnsavedChangesAnswer(QMessageBox::StandardButton answer) { promptAnswer_ = answer; }
    /// Offers the newest autosave left by a crashed session, if any. `autoAnswer` Yes or No
    /// answers without a dialog (tests, $ADJOINT_RECOVERY=accept|discard). True when recovered.
    bool offerRecovery(QMessageBox::StandardButton autoAnswer = QMessageBox::NoButton);

    bool isPresentationMode() const { return presentation_; }
    Theme theme() const { return theme_; }

public Q_SLOTS:
    void newFile();
    /// File > Open: asks for a file and opens it, reporting failure in a message box.
    void openFileDialog();
    /// Opens `path` (after the unsaved-changes prompt), reporting failure in a message box.
    void openFileInteractive(const QString& path);
    bool save();
    bool saveAs();
    void exportDialog(ExportKind kind);
    void copySelection();
    void cutSelection();
    void paste();
    void deleteSelection();
    void selectAll();
    /// Makes the selected nodes' first outputs graph outputs.
    void markSelectionAsOutput();
    /// Ctrl+G: puts the selected nodes into a new editor group (GraphDocument::groupNodes).
    void groupSelection();
    /// Ctrl+Shift+G: dissolves the groups of the selected nodes.
    void ungroupSelection();
    /// Collapses the groups of the selected nodes, or expands them when they are all collapsed.
    void toggleSelectionGroupsCollapsed();
    /// A breadcrumb: goes out to the group `groupPath` ("" the whole graph): the group one is in
    /// below it is collapsed again (one undo step) and its box selected. On the current group:
    /// scrolls its frame into view.
    void goOutTo(const QString& groupPath);
    /// Alt+Up: one level out.
    void goOutOneLevel();
    /// Toggles large fonts and high contrast for the whole window; remembered in QSettings
    /// unless `remember` is false (the --presentation option of one run).
    void setPresentationMode(bool on, bool remember = true);
    /// View > Theme: the system's palette, light or dark, for the window, its canvases and
    /// charts; remembered in QSettings "theme" unless `remember` is false.
    void setTheme(Theme theme, bool remember = true);

protected:
    void showEvent(QShowEvent* event) override;
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void createDocks();
    void createActions();
    void populateExamplesMenu();
    void populateRecentMenu();
    void connectDocument();
    void relayout();
    void refreshPanels();
    void refreshInspector();
    void updateTitle();
    void updateStatus();
    void onDiagnosticActivated(QListWidgetItem* item);
    void updateBreadcrumbs();
    /// A group's box or frame was double-clicked: collapse or expand it, and follow.
    void toggleGroup(const QString& group);
    void restoreSettings();
    void saveSettings();

    GraphDocument* doc_;
    GraphView* view_;
    Autosave* autosave_ = nullptr;
    RecentFiles* recent_ = nullptr;
    PaletteWidget* palette_ = nullptr;
    InspectorWidget* inspector_ = nullptr;
    FindBar* findBar_ = nullptr;
    BreadcrumbBar* breadcrumbs_ = nullptr;
    /// The group last gone into (double-click) or out to (a breadcrumb), for the breadcrumbs
    /// while nothing is selected.
    QString enteredGroup_;
    QPlainTextEdit* text_ = nullptr;
    QListWidget* diagnostics_ = nullptr;
    QDockWidget* paletteDock_ = nullptr;
    QDockWidget* inspectorDock_ = nullptr;
    QDockWidget* textDock_ = nullptr;
    QDockWidget* diagnosticsDock_ = nullptr;
    QDockWidget* historyDock_ = nullptr;
    QMenu* editMenu_ = nullptr;
    QMenu* viewMenu_ = nullptr;
    QMenu* examplesMenu_ = nullptr;
    QMenu* recentMenu_ = nullptr;
    QAction* presentationAction_ = nullptr;
    QLabel* infoLabel_ = nullptr;
    QLabel* zoomLabel_ = nullptr;
    /// Shown in the status bar while a layout takes long: a busy bar and its Cancel button.
    QWidget* layoutBusy_ = nullptr;
    QTimer* layoutBusyDelay_ = nullptr;
    QString displayName_;
    bool freshGraph_ = true;
    bool presentation_ = false;
    Theme theme_ = Theme::System;
    std::vector<QAction*> themeActions_;  // System, Light, Dark
    bool settingsRestored_ = false;
    QFont normalFont_;
    QPalette normalPalette_;
    std::vector<adj::NodeId> reselect_;
    /// A node found inside a collapsed group: centred on once the expanded drawing is laid out.
    adj::NodeId centreAfterLayout_ = adj::kNoNode;
    /// Find: the last query and which of its matches is shown (Enter again moves on).
    QString findQuery_;
    int findIndex_ = 0;
    QMessageBox::StandardButton promptAnswer_ = QMessageBox::NoButton;
};
