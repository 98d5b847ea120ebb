#include "main_window.h"

#include <QFileDialog>

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QScrollBar>
#include <QSettings>
#include <QSignalBlocker>
#include <QStatusBar>
#include <QStyle>
#include <QTimer>
#include <QToolButton>
#include <QUndoView>
#include <QVBoxLayout>
#include <algorithm>
#include <map>

#include "analysis_panels.h"
#include "autosave.h"
#include "base/byte_size.h"
#include "cost/cost_model.h"
#include "cost_panel.h"
#include "example_paths.h"
#include "breadcrumb_bar.h"
#include "find_bar.h"
#include "help_menu.h"
#include "minimap.h"
#include "graph_document.h"
#include "graph_items.h"
#include "graph_view.h"
#include "inspector_widget.h"
#include "ir/node_search.h"
#include "ir/printer.h"
#include "palette_widget.h"
#include "recent_files.h"

namespace {
constexpr int kNodeIdRole = Qt::UserRole + 1;
const QString kTitleSeparator = QString::fromUtf8(" \u2014 ");
const QString kClipboardMime = QStringLiteral("application/x-adjoint-graph");

QString counted(qsizetype n, const QString& one, const QString& many) {
    return QStringLiteral("%1 %2").arg(n).arg(n == 1 ? one : many);
}
}  // namespace

namespace {
/// The status bar's graph summary. QStatusBar hides it while a message shows; this label also
/// refuses to be shown again meanwhile (a font change, such as presentation mode's, re-shows
/// the status bar's widgets and the two texts would overlap).
class StatusInfoLabel : public QLabel {
public:
    using QLabel::QLabel;
    void setVisible(bool visible) override {
        auto* bar = qobject_cast<QStatusBar*>(parentWidget());
        if (visible && bar && !bar->currentMessage().isEmpty()) return;
        QLabel::setVisible(visible);
    }
};
}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), doc_(new GraphDocument(this)), view_(new GraphView(this)) {
    normalFont_ = QApplication::font();
    normalPalette_ = systemPalette();  // (read once per program: a theme chosen earlier is not the system's)
    findBar_ = new FindBar(this);
    findBar_->hide();
    auto* centre = new QWidget(this);
    auto* centreLayout = new QVBoxLayout(centre);
    centreLayout->setContentsMargins(0, 0, 0, 0);
    centreLayout->setSpacing(0);
    centreLayout->addWidget(findBar_);
    breadcrumbs_ = new BreadcrumbBar(this);
    breadcrumbs_->hide();
    centreLayout->addWidget(breadcrumbs_);
    centreLayout->addWidget(view_, 1);
    setCentralWidget(centre);
    setAcceptDrops(true);

    recent_ = new RecentFiles(this);
    autosave_ = new Autosave(doc_, Autosave::recoveryDir(), this);
    createDocks();
    createActions();

    infoLabel_ = new StatusInfoLabel(tr("Empty graph"), this);
    infoLabel_->setObjectName(QStringLiteral("statusInfo"));
    zoomLabel_ = new QLabel(this);
    zoomLabel_->setMinimumWidth(zoomLabel_->fontMetrics().horizontalAdvance(QStringLiteral("8888 %")));
    zoomLabel_->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    statusBar()->addWidget(infoLabel_, 1);
    // A busy bar and Cancel, shown when a layout takes more than half a second (large graphs).
    layoutBusy_ = new QWidget(this);
    layoutBusy_->setObjectName(QStringLiteral("layoutBusy"));
    auto* busyLayout = new QHBoxLayout(layoutBusy_);
    busyLayout->setContentsMargins(0, 0, 0, 0);
    auto* busyBar = new QProgressBar(layoutBusy_);
    busyBar->setRange(0, 0);
    busyBar->setMaximumWidth(140);
    busyBar->setTextVisible(false);
    auto* cancelLayout = new QToolButton(layoutBusy_);
    cancelLayout->setObjectName(QStringLiteral("cancelLayout"));
    cancelLayout->setText(tr("Cancel"));
    cancelLayout->setToolTip(tr("Stop waiting for this layout (Esc on the canvas)"));
    busyLayout->addWidget(new QLabel(tr("Laying out"), layoutBusy_));
    busyLayout->addWidget(busyBar);
    busyLayout->addWidget(cancelLayout);
    statusBar()->addPermanentWidget(layoutBusy_);
    statusBar()->addPermanentWidget(zoomLabel_);
    layoutBusy_->hide();
    layoutBusyDelay_ = new QTimer(this);
    layoutBusyDelay_->setSingleShot(true);
    layoutBusyDelay_->setInterval(500);
    connect(layoutBusyDelay_, &QTimer::timeout, this, [this] { layoutBusy_->setVisible(view_->isLayoutPending()); });
    connect(cancelLayout, &QToolButton::clicked, view_, &GraphView::cancelLayout);
    connect(view_, &GraphView::layoutStarted, layoutBusyDelay_, qOverload<>(&QTimer::start));
    for (auto signal : {&GraphView::layoutApplied, &GraphView::layoutCancelled})
        connect(view_, signal, this, [this] {
            layoutBusyDelay_->stop();
            layoutBusy_->hide();
        });
    connect(view_, &GraphView::layoutFailed, layoutBusy_, &QWidget::hide);
    connect(view_, &GraphView::layoutCancelled, this, [this] {
        statusBar()->showMessage(tr("Layout cancelled: the canvas shows the last finished drawing "
                                    "(View > Lay Out Again, Ctrl+L, to try again)"),
                                 10000);
        updateStatus();
    });
    const QString canvasHelp = tr("Drag the background to pan, Shift+drag to select with a rubber band; "
                                  "Ctrl+G groups the selection, Ctrl+Shift+G ungroups");
    view_->setStatusTip(canvasHelp);
    infoLabel_->setToolTip(canvasHelp);

    connect(view_, &GraphView::layoutStarted, this, &MainWindow::updateStatus);
    connect(view_, &GraphView::layoutApplied, this, [this] {
        if (!reselect_.empty()) {
            for (adj::NodeId id : reselect_)
                if (auto* item = view_->graphScene()->nodeItem(id)) item->setSelected(true);
            reselect_.clear();
        }
        if (centreAfterLayout_ != adj::kNoNode && view_->graphScene()->nodeItem(centreAfterLayout_)) {
            view_->centerOnNode(centreAfterLayout_);
            view_->graphScene()->selectNode(centreAfterLayout_);
        }
        centreAfterLayout_ = adj::kNoNode;
        updateStatus();
        updateBreadcrumbs();
    });
    connect(view_, &GraphView::layoutFailed, this, [this](const QString& message) {
        auto* item = new QListWidgetItem(style()->standardIcon(QStyle::SP_MessageBoxCritical),
                                         tr("Layout failed: %1").arg(message), diagnostics_);
        item->setData(kNodeIdRole, int(adj::kNoNode));
        diagnosticsDock_->show();
        updateStatus();
    });
    connect(view_, &GraphView::zoomChanged, this,
            [this](double z) { zoomLabel_->setText(QStringLiteral("%1 %").arg(qRound(z * 100))); });
    connect(view_->graphScene(), &QGraphicsScene::selectionChanged, this, [this] {
        updateStatus();
        refreshInspector();
        updateBreadcrumbs();
    });
    connect(breadcrumbs_, &BreadcrumbBar::crumbClicked, this, &MainWindow::goOutTo);
    connect(view_, &GraphView::opDropped, this, &MainWindow::addNodeFromPalette);
    connect(view_, &GraphView::filesDropped, this, [this](const QStringList& files) {
        if (!files.isEmpty()) openFileInteractive(files.front());
    });
    connect(view_->graphScene(), &GraphScene::nodesMoved, this,
            [this](const std::vector<std::pair<adj::NodeId, QPointF>>& moves) { doc_->moveNodes(moves); });
    connect(view_->graphScene(), &GraphScene::connectRequested, this, [this](adj::ValueRef from, adj::NodeId to, int index) {
        doc_->connect(from, to, index);
        statusBar()->showMessage(tr("Connected %1 to input %2 of %3")
                                     .arg(QString::fromStdString(doc_->graph().valueName(from)))
                                     .arg(index)
                                     .arg(QString::fromStdString(doc_->graph().node(to).name)),
                                 4000);
    });
    connect(view_->graphScene(), &GraphScene::groupToggled, this, &MainWindow::toggleGroup);
    connect(view_->graphScene(), &GraphScene::hint, this, [this](const QString& text) { statusBar()->showMessage(text, 6000); });
    connect(findBar_, &FindBar::findRequested, this, [this](const QString& name) { findNode(name); });
    connect(palette_, &PaletteWidget::opActivated, this, [this](const QString& op) { addNodeAtCentre(op); });

    connectDocument();
    resize(1280, 800);
    refreshPanels();
    updateTitle();
    installAnalysisPanels(this, doc_, view_, viewMenu_);
}

void MainWindow::showEvent(QShowEvent* event) {
    // Restored at the first show, so that the docks added after the constructor's own (the
    // analysis panels) get their remembered places too.
    if (!settingsRestored_) {
        settingsRestored_ = true;
        restoreSettings();
    }
    QMainWindow::showEvent(event);
}

MainWindow::~MainWindow() {
    QObject::disconnect(view_->graphScene(), nullptr, this, nullptr);
    QObject::disconnect(doc_, nullptr, this, nullptr);
    // Docks first: panels that draw on the canvas (overlays) may touch it while they go.
    for (QDockWidget* dock : findChildren<QDockWidget*>(QString(), Qt::FindDirectChildrenOnly)) delete dock;
}

const adj::Graph* MainWindow::graph() const { return &doc_->graph(); }

QString MainWindow::currentFile() const { return doc_->filePath(); }

void MainWindow::connectDocument() {
    connect(doc_, &GraphDocument::graphChanged, this, [this] {
        relayout();
        refreshPanels();
    });
    connect(doc_, &GraphDocument::nodeChanged, this, [this](adj::NodeId) {
        relayout();
        refreshPanels();
    });
    connect(doc_, &GraphDocument::nodeMoved, this, [this](adj::NodeId id) {
        if (doc_->graph().contains(id)) view_->graphScene()->moveNodeItem(id, doc_->position(id));
    });
    connect(doc_, &GraphDocument::diagnosticsChanged, this, [this] {
        std::map<adj::NodeId, QString> problems;
        for (const adj::Diagnostic& d : doc_->diagnostics()) {
            if (d.node == adj::kNoNode) continue;
            QString& text = problems[d.node];
            if (!text.isEmpty()) text += QLatin1Char('\n');
            text += QString::fromStdString(d.message);
        }
        view_->graphScene()->setProblems(std::move(problems));
    });
    connect(doc_, &GraphDocument::modifiedChanged, this, [this](bool modified) {
        setWindowModified(modified);
        updateTitle();
    });
    connect(doc_, &GraphDocument::filePathChanged, this, [this](const QString& path) {
        if (!path.isEmpty()) displayName_ = QFileInfo(path).fileName();
        updateTitle();
    });
}

namespace {
/// Drawing options of the main canvas: the document's nested groups (ir/group_tree.h), each
/// outermost collapsed one drawn as one box that says what it holds (its most frequent ops, its
/// FLOPs and bytes), each open one as a frame inside its parent's.
/// A backward graph whose nodes are in groups (its modules and their adjoints, d_<module>).
bool hasGroupedBackwardNodes(const adj::Graph& graph) {
    for (adj::NodeId id : graph.nodeIds()) {
        const auto& meta = graph.node(id).meta;
        auto role = meta.find("role");
        if (role != meta.end() && role->second == "backward" && meta.count(adj::kGroupKey)) return true;
    }
    return false;
}

adj::DotOptions canvasOptions(const adj::Graph& graph) {
    adj::DotOptions options;
    options.addGroups(graph);
    // The frames of a backward graph's modules, crossed by every saved value, make Graphviz 2.42's
    // dot corrupt its heap (reproduced on a ResNet-18's): our layered layout draws them instead.
    if (!options.clusterNames.empty() && hasGroupedBackwardNodes(graph)) options.layeredAbove = 1;
    std::vector<adj::Cost> cost(options.collapsedNames.size());
    std::vector<std::map<std::string, int>> ops(options.collapsedNames.size());
    for (const auto& [id, k] : options.collapsedInto) {
        const adj::Node& n = graph.node(id);
        if (adj::isSource(n.op)) continue;
        ++ops[std::size_t(k)][std::string(adj::opName(n.op))];
        if (!n.outputs.empty()) cost[std::size_t(k)] += adj::nodeCost(graph, id);
    }
    for (std::size_t k = 0; k < options.collapsedNames.size(); ++k) {
        std::vector<std::pair<int, std::string>> counts;
        for (const auto& [op, count] : ops[k]) counts.push_back({-count, op});
        std::sort(counts.begin(), counts.end());
        QStringList top;
        for (std::size_t i = 0; i < counts.size() && i < 3; ++i)
            top << QStringLiteral("%1 %2").arg(-counts[i].first).arg(QString::fromStdString(counts[i].second));
        if (counts.size() > 3) top << QStringLiteral("\u2026");
        const QString details = top.join(QStringLiteral(", ")) + QStringLiteral("\n") +
                                formatQuantity(cost[k].flops, QStringLiteral("FLOP")) + QStringLiteral(" \u00b7 ") +
                                QString::fromStdString(adj::readableBytes(std::int64_t(cost[k].bytes())));
        options.collapsedDetails.push_back(details.toStdString());
    }
    return options;
}
}  // namespace

void MainWindow::relayout() {
    const auto selected = view_->graphScene()->selectedNodeIds();
    if (!selected.empty() && reselect_.empty()) reselect_ = selected;
    view_->showGraph(doc_->graph(), canvasOptions(doc_->graph()), !freshGraph_);
    freshGraph_ = false;
}

void MainWindow::createDocks() {
    palette_ = new PaletteWidget(this);
    paletteDock_ = new QDockWidget(tr("Palette"), this);
    paletteDock_->setObjectName(QStringLiteral("paletteDock"));
    paletteDock_->setWidget(palette_);
    addDockWidget(Qt::LeftDockWidgetArea, paletteDock_);

    inspector_ = new InspectorWidget(this);
    inspectorDock_ = new QDockWidget(tr("Inspector"), this);
    inspectorDock_->setObjectName(QStringLiteral("inspectorDock"));
    inspectorDock_->setWidget(inspector_);
    addDockWidget(Qt::RightDockWidgetArea, inspectorDock_);
    connect(inspector_, &InspectorWidget::renameRequested, this, [this](adj::NodeId id, const QString& name) {
        if (!doc_->rename(id, name)) inspector_->refuse(tr("The name '%1' is taken.").arg(name));
    });
    connect(inspector_, &InspectorWidget::attributeRequested, this,
            [this](adj::NodeId id, const QString& name, const adj::AttrValue& v) { doc_->setAttribute(id, name, v); });
    connect(inspector_, &InspectorWidget::attributeClearRequested, this,
            [this](adj::NodeId id, const QString& name) { doc_->removeAttribute(id, name); });
    connect(inspector_, &InspectorWidget::shapeRequested, this,
            [this](adj::NodeId id, const adj::Shape& shape) { doc_->setSourceShape(id, shape); });

    text_ = new QPlainTextEdit(this);
    text_->setReadOnly(true);
    text_->setLineWrapMode(QPlainTextEdit::NoWrap);
    text_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    text_->setPlaceholderText(tr("The graph's text form appears here."));
    textDock_ = new QDockWidget(tr("Graph Text"), this);
    textDock_->setObjectName(QStringLiteral("graphTextDock"));
    textDock_->setWidget(text_);
    addDockWidget(Qt::RightDockWidgetArea, textDock_);

    diagnostics_ = new QListWidget(this);
    diagnostics_->setWordWrap(true);
    diagnostics_->setAlternatingRowColors(true);
    connect(diagnostics_, &QListWidget::itemActivated, this, &MainWindow::onDiagnosticActivated);
    connect(diagnostics_, &QListWidget::itemClicked, this, &MainWindow::onDiagnosticActivated);
    diagnosticsDock_ = new QDockWidget(tr("Diagnostics"), this);
    diagnosticsDock_->setObjectName(QStringLiteral("diagnosticsDock"));
    diagnosticsDock_->setWidget(diagnostics_);
    addDockWidget(Qt::RightDockWidgetArea, diagnosticsDock_);

    auto* history = new QUndoView(doc_->undoStack(), this);
    history->setEmptyLabel(tr("<opened>"));
    historyDock_ = new QDockWidget(tr("History"), this);
    historyDock_->setObjectName(QStringLiteral("historyDock"));
    historyDock_->setWidget(history);
    addDockWidget(Qt::RightDockWidgetArea, historyDock_);

    tabifyDockWidget(textDock_, historyDock_);
    textDock_->raise();
    splitDockWidget(inspectorDock_, textDock_, Qt::Vertical);
    splitDockWidget(textDock_, diagnosticsDock_, Qt::Vertical);
    resizeDocks({paletteDock_}, {190}, Qt::Horizontal);
    resizeDocks({inspectorDock_}, {380}, Qt::Horizontal);
    resizeDocks({inspectorDock_, textDock_, diagnosticsDock_}, {260, 340, 140}, Qt::Vertical);
}

void MainWindow::createActions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* a = file->addAction(tr("&New"), this, &MainWindow::newFile);
    a->setShortcut(QKeySequence::New);
    a = file->addAction(tr("&Open\u2026"), this, &MainWindow::openFileDialog);
    a->setShortcut(QKeySequence::Open);
    recentMenu_ = file->addMenu(tr("Open &Recent"));
    connect(recent_, &RecentFiles::changed, this, &MainWindow::populateRecentMenu);
    populateRecentMenu();
    examplesMenu_ = file->addMenu(tr("Open &Example"));
    populateExamplesMenu();
    file->addSeparator();
    a = file->addAction(tr("&Save"), this, &MainWindow::save);
    a->setShortcut(QKeySequence::Save);
    a = file->addAction(tr("Save &As\u2026"), this, &MainWindow::saveAs);
    a->setShortcut(QKeySequence::SaveAs);
    QMenu* exportMenu = file->addMenu(tr("&Export"));
    a = exportMenu->addAction(tr("&Forward Graph\u2026"), this, [this] { exportDialog(ExportKind::Forward); });
    a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    exportMenu->addAction(tr("&Backward Graph\u2026"), this, [this] { exportDialog(ExportKind::Backward); });
    exportMenu->addAction(tr("&Optimized Graph (-O2)\u2026"), this, [this] { exportDialog(ExportKind::Optimized); });
    file->addSeparator();
    a = file->addAction(tr("&Quit"), this, &QWidget::close);
    a->setShortcut(QKeySequence::Quit);
    a->setMenuRole(QAction::QuitRole);

    editMenu_ = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = doc_->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = doc_->undoStack()->createRedoAction(this, tr("&Redo"));
    redo->setShortcuts({QKeySequence::Redo, QKeySequence(Qt::CTRL | Qt::Key_Y)});
    editMenu_->addAction(undo);
    editMenu_->addAction(redo);
    editMenu_->addSeparator();
    a = editMenu_->addAction(tr("Cu&t"), this, &MainWindow::cutSelection);
    a->setShortcut(QKeySequence::Cut);
    a = editMenu_->addAction(tr("&Copy"), this, &MainWindow::copySelection);
    a->setShortcut(QKeySequence::Copy);
    a = editMenu_->addAction(tr("&Paste"), this, &MainWindow::paste);
    a->setShortcut(QKeySequence::Paste);
    a = editMenu_->addAction(tr("&Delete"), this, &MainWindow::deleteSelection);
    a->setShortcuts({QKeySequence::Delete, QKeySequence(Qt::Key_Backspace)});
    a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    view_->addAction(a);  // Delete acts on the canvas only, not in text fields
    a = editMenu_->addAction(tr("Select &All"), this, &MainWindow::selectAll);
    a->setShortcut(QKeySequence::SelectAll);
    a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    view_->addAction(a);
    editMenu_->addSeparator();
    editMenu_->addAction(tr("Mark as &Output"), this, &MainWindow::markSelectionAsOutput);
    a = editMenu_->addAction(tr("&Group"), this, &MainWindow::groupSelection);
    a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_G));
    a = editMenu_->addAction(tr("&Ungroup"), this, &MainWindow::ungroupSelection);
    a->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_G));
    editMenu_->addAction(tr("Collapse/E&xpand Group"), this, &MainWindow::toggleSelectionGroupsCollapsed);
    a = editMenu_->addAction(tr("Go &Out of Group"), this, &MainWindow::goOutOneLevel);
    a->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Up));
    a->setStatusTip(tr("Collapse the group you are in and select its box (the breadcrumbs above the canvas)"));
    a = editMenu_->addAction(tr("&Find Node\u2026"), findBar_, &FindBar::activate);
    a->setShortcut(QKeySequence::Find);

    viewMenu_ = menuBar()->addMenu(tr("&View"));
    a = viewMenu_->addAction(tr("&Fit to Window"), view_, &GraphView::fitToWindow);
    a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    a = viewMenu_->addAction(tr("Zoom &In"), view_, &GraphView::zoomIn);
    a->setShortcuts({QKeySequence::ZoomIn, QKeySequence(Qt::CTRL | Qt::Key_Equal)});
    a = viewMenu_->addAction(tr("Zoom &Out"), view_, &GraphView::zoomOut);
    a->setShortcut(QKeySequence::ZoomOut);
    a = viewMenu_->addAction(tr("&Actual Size"), view_, &GraphView::resetZoom);
    a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
    a = viewMenu_->addAction(tr("&Lay Out Again"), this, [this] { relayout(); });
    a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    a->setStatusTip(tr("Lay the graph out again (after a cancelled layout)"));
    viewMenu_->addSeparator();
    viewMenu_->addAction(tr("&Compare With\u2026"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Compare With"), QString(), tr("Graphs (*.json *.onnx);;All files (*)"));
        QString error;
        if (!path.isEmpty() && !compareWith(path, &error)) QMessageBox::warning(this, tr("Cannot compare"), error);
    });
    viewMenu_->addAction(tr("Compare With &Optimized (-O2)"), this, [this] {
        QString error;
        if (!compareWithOptimized(&error)) QMessageBox::warning(this, tr("Cannot compare"), error);
    });
    viewMenu_->addSeparator();
    a = viewMenu_->addAction(tr("&Minimap"));
    a->setCheckable(true);
    a->setChecked(true);
    a->setStatusTip(tr("An overview of a drawing larger than the window, in its corner: click it to go there"));
    connect(a, &QAction::toggled, this, [this](bool on) { view_->minimap()->setWanted(on); });
    QMenu* themes = viewMenu_->addMenu(tr("&Theme"));
    auto* themeGroup = new QActionGroup(this);
    for (Theme t : {Theme::System, Theme::Light, Theme::Dark}) {
        QAction* choice = themes->addAction(t == Theme::System ? tr("As the &System") : t == Theme::Light ? tr("&Light") : tr("&Dark"));
        choice->setCheckable(true);
        choice->setChecked(t == theme_);
        themeGroup->addAction(choice);
        connect(choice, &QAction::triggered, this, [this, t] { setTheme(t); });
        themeActions_.push_back(choice);
    }
    presentationAction_ = viewMenu_->addAction(tr("&Presentation Mode"));
    presentationAction_->setCheckable(true);
    presentationAction_->setShortcut(QKeySequence(Qt::Key_F5));
    presentationAction_->setShortcutContext(Qt::ApplicationShortcut);
    connect(presentationAction_, &QAction::toggled, this, [this](bool on) { setPresentationMode(on); });
    viewMenu_->addSeparator();
    for (QDockWidget* dock : {paletteDock_, inspectorDock_, textDock_, diagnosticsDock_, historyDock_})
        viewMenu_->addAction(dock->toggleViewAction());

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    installHelpMenu(this, help);
}

void MainWindow::populateExamplesMenu() {
    examplesMenu_->clear();
    const QString dir = examplesDir();
    const QStringList files = dir.isEmpty() ? QStringList()
                                            : QDir(dir).entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
    for (const QString& f : files) {
        const QString path = dir + QLatin1Char('/') + f;
        examplesMenu_->addAction(QFileInfo(f).completeBaseName(), this, [this, path] { openFileInteractive(path); });
    }
    examplesMenu_->setEnabled(!files.isEmpty());
}

void MainWindow::populateRecentMenu() {
    recentMenu_->clear();
    const QStringList files = recent_->files();
    for (int i = 0; i < files.size(); ++i) {
        const QString path = files[i];
        QAction* a = recentMenu_->addAction(QStringLiteral("&%1 %2").arg(i + 1).arg(QFileInfo(path).fileName()), this,
                                            [this, path] { openFileInteractive(path); });
        a->setToolTip(QDir::toNativeSeparators(path));
        a->setStatusTip(QDir::toNativeSeparators(path));
    }
    if (!files.isEmpty()) {
        recentMenu_->addSeparator();
        recentMenu_->addAction(tr("&Clear Menu"), recent_, &RecentFiles::clear);
    }
    recentMenu_->setEnabled(!files.isEmpty());
}

void MainWindow::refreshPanels() {
    const adj::Graph& g = doc_->graph();
    QString printed;
    try {
        printed = QString::fromStdString(adj::printGraph(g));
    } catch (const std::exception& e) {
        printed = tr("(cannot print this graph: %1)").arg(QString::fromStdString(e.what()));
    }
    const int scroll = text_->verticalScrollBar()->value();
    text_->setPlainText(printed);
    text_->verticalScrollBar()->setValue(scroll);

    diagnostics_->clear();
    const auto& problems = doc_->diagnostics();
    for (const adj::Diagnostic& d : problems) {
        auto* item = new QListWidgetItem(style()->standardIcon(QStyle::SP_MessageBoxWarning),
                                         QString::fromStdString(d.message), diagnostics_);
        item->setData(kNodeIdRole, int(d.node));
        item->setToolTip(QString::fromStdString(d.message));
    }
    if (problems.empty()) {
        auto* item = new QListWidgetItem(tr("No problems found."), diagnostics_);
        item->setFlags(Qt::ItemIsEnabled);
        item->setData(kNodeIdRole, int(adj::kNoNode));
    }
    diagnosticsDock_->setWindowTitle(problems.empty() ? tr("Diagnostics") : tr("Diagnostics (%1)").arg(problems.size()));

    QStringList names;
    for (adj::NodeId id : g.nodeIds()) names << QString::fromStdString(g.node(id).name);
    findBar_->setNames(names);
    refreshInspector();
    updateStatus();
}

void MainWindow::refreshInspector() {
    const auto selected = view_->graphScene()->selectedNodeIds();
    adj::NodeId id = selected.size() == 1 ? selected.front() : adj::kNoNode;
    // While a re-layout is pending the scene is stale: keep showing the inspected node.
    if (id == adj::kNoNode && view_->isLayoutPending()) id = inspector_->nodeId();
    if (id == adj::kNoNode || !doc_->graph().contains(id)) {
        inspector_->clear();
        return;
    }
    QString problem;
    for (const adj::Diagnostic& d : doc_->diagnostics())
        if (d.node == id) problem += (problem.isEmpty() ? QString() : QStringLiteral("\n")) + QString::fromStdString(d.message);
    inspector_->showNode(doc_->graph(), id, problem);
}

void MainWindow::updateTitle() {
    QString name = doc_->filePath().isEmpty() ? (displayName_.isEmpty() ? tr("Untitled") : displayName_)
                                              : QFileInfo(doc_->filePath()).fileName();
    setWindowTitle(name + QStringLiteral("[*]") + kTitleSeparator + QStringLiteral("Adjoint"));
    setWindowModified(doc_->isModified());
    setWindowFilePath(doc_->filePath());
}

void MainWindow::updateStatus() {
    const adj::Graph& g = doc_->graph();
    const int problems = int(doc_->diagnostics().size());
    QString text = counted(qsizetype(g.nodeCount()), tr("node"), tr("nodes")) + QStringLiteral(", ") +
                   counted(qsizetype(g.outputs().size()), tr("output"), tr("outputs"));
    if (problems > 0) text += QStringLiteral(", ") + counted(problems, tr("problem"), tr("problems"));
    if (view_->isLayoutPending()) {
        text += kTitleSeparator + tr("laying out\u2026");
    } else {
        const auto selected = view_->graphScene()->selectedNodeIds();
        if (selected.size() == 1 && g.contains(selected.front())) {
            try {
                text += QStringLiteral("   |   ") + QString::fromStdString(adj::printNode(g, selected.front()));
            } catch (const std::exception&) {
            }
        } else if (selected.size() > 1) {
            text += QStringLiteral("   |   ") + tr("%1 selected").arg(selected.size());
        }
    }
    infoLabel_->setText(text);
}

void MainWindow::onDiagnosticActivated(QListWidgetItem* item) {
    if (!item) return;
    const adj::NodeId id = item->data(kNodeIdRole).toInt();
    if (doc_->graph().contains(id)) view_->centerOnNode(id);
}

adj::NodeId MainWindow::addNodeFromPalette(const QString& opName, const QPointF& scenePos) {
    const auto op = adj::opFromName(opName.toStdString());
    if (!op) {
        statusBar()->showMessage(tr("Unknown op '%1'").arg(opName), 4000);
        return adj::kNoNode;
    }
    // The re-layout that follows draws the new node under the cursor, the rest around it.
    const QPointF at = view_->viewportTransform().map(scenePos);
    const adj::NodeId id = doc_->addNode(*op, scenePos);
    view_->anchorNextLayout(id, at);
    reselect_ = {id};
    statusBar()->showMessage(tr("Added %1").arg(QString::fromStdString(doc_->graph().node(id).name)), 4000);
    return id;
}

adj::NodeId MainWindow::addNodeAtCentre(const QString& opName) {
    return addNodeFromPalette(opName, view_->mapToScene(view_->viewport()->rect().center()));
}

bool MainWindow::findNode(const QString& query) {
    const std::vector<adj::NodeId> matches = adj::searchNodes(doc_->graph(), query.toStdString());
    if (matches.empty()) {
        findBar_->setStatus(tr("not found"));
        statusBar()->showMessage(tr("No node matches '%1' (by name, op or group)").arg(query), 4000);
        return false;
    }
    // Enter again on the same text moves on to the next match
    findIndex_ = query == findQuery_ ? (findIndex_ + 1) % int(matches.size()) : 0;
    findQuery_ = query;
    const adj::NodeId id = matches[std::size_t(findIndex_)];
    findBar_->setStatus(matches.size() == 1 ? QString() : tr("%1 of %2").arg(findIndex_ + 1).arg(matches.size()));
    statusBar()->showMessage(tr("Found %1 (%2)").arg(QString::fromStdString(doc_->graph().node(id).name),
                                                    QString::fromUtf8(adj::opName(doc_->graph().node(id).op).data())),
                             4000);
    if (!doc_->drawnGroupOf(id).isEmpty() && doc_->isGroupCollapsed(doc_->drawnGroupOf(id))) {
        // inside a collapsed group: open the way to it, and go there once it is drawn
        centreAfterLayout_ = id;
        doc_->revealNode(id);
        return true;
    }
    if (!view_->graphScene()->nodeItem(id)) return false;
    view_->centerOnNode(id);
    view_->graphScene()->selectNode(id);
    return true;
}

void MainWindow::copySelection() {
    const auto ids = view_->graphScene()->selectedNodeIds();
    if (ids.empty()) return;
    const QString json = doc_->copyNodes(ids);
    auto* mime = new QMimeData;
    mime->setData(kClipboardMime, json.toUtf8());
    mime->setText(json);
    QApplication::clipboard()->setMimeData(mime);
    statusBar()->showMessage(tr("Copied %n node(s)", nullptr, int(ids.size())), 4000);
}

void MainWindow::cutSelection() {
    copySelection();
    deleteSelection();
}

void MainWindow::paste() {
    const QMimeData* mime = QApplication::clipboard()->mimeData();
    if (!mime) return;
    const QString json = mime->hasFormat(kClipboardMime) ? QString::fromUtf8(mime->data(kClipboardMime)) : mime->text();
    if (json.trimmed().isEmpty()) return;
    QString error;
    const auto ids = doc_->pasteNodes(json, QPointF(30, 30), &error);
    if (ids.empty()) {
        statusBar()->showMessage(tr("Cannot paste: %1").arg(error), 6000);
        return;
    }
    reselect_ = ids;
    statusBar()->showMessage(tr("Pasted %n node(s)", nullptr, int(ids.size())), 4000);
}

void MainWindow::deleteSelection() {
    const auto ids = view_->graphScene()->selectedNodeIds();
    if (ids.empty()) return;
    doc_->removeNodes(ids);
    statusBar()->showMessage(tr("Deleted %n node(s)", nullptr, int(ids.size())), 4000);
}

void MainWindow::selectAll() {
    for (GraphNodeItem* item : view_->graphScene()->nodeItems()) item->setSelected(true);
}

void MainWindow::markSelectionAsOutput() {
    const auto ids = view_->graphScene()->selectedNodeIds();
    if (ids.empty()) return;
    doc_->undoStack()->beginMacro(tr("Mark as output"));
    for (adj::NodeId id : ids) doc_->addOutput(adj::ValueRef{id, 0});
    doc_->undoStack()->endMacro();
}

namespace {
QStringList groupsOf(const GraphDocument& doc, const std::vector<adj::NodeId>& ids) {
    QStringList out;
    for (adj::NodeId id : ids) {
        const QString g = doc.drawnGroupOf(id);
        if (!g.isEmpty() && !out.contains(g)) out.push_back(g);
    }
    return out;
}
}  // namespace

void MainWindow::groupSelection() {
    const QString g = doc_->groupNodes(view_->graphScene()->selectedNodeIds());
    if (!g.isEmpty()) statusBar()->showMessage(tr("Grouped as %1 (Ctrl+Shift+G ungroups)").arg(g), 4000);
}

void MainWindow::ungroupSelection() {
    const QStringList gs = groupsOf(*doc_, view_->graphScene()->selectedNodeIds());
    if (gs.isEmpty()) return;
    doc_->undoStack()->beginMacro(tr("Ungroup"));
    for (const QString& g : gs) doc_->ungroup(g);
    doc_->undoStack()->endMacro();
}

void MainWindow::toggleSelectionGroupsCollapsed() {
    const QStringList gs = groupsOf(*doc_, view_->graphScene()->selectedNodeIds());
    if (gs.isEmpty()) return;
    bool allCollapsed = true;
    for (const QString& g : gs) allCollapsed = allCollapsed && doc_->isGroupCollapsed(g);
    doc_->undoStack()->beginMacro(allCollapsed ? tr("Expand") : tr("Collapse"));
    for (const QString& g : gs) doc_->setGroupCollapsed(g, !allCollapsed);
    doc_->undoStack()->endMacro();
}

void MainWindow::setPresentationMode(bool on, bool remember) {
    {
        const QSignalBlocker quiet(presentationAction_);  // (its toggled signal calls this)
        presentationAction_->setChecked(on);
    }
    if (on == presentation_) return;
    presentation_ = on;
    if (on) {
        QFont big = normalFont_;
        if (big.pointSizeF() > 0) big.setPointSizeF(big.pointSizeF() * 1.6);
        else big.setPixelSize(qRound(big.pixelSize() * 1.6));
        QApplication::setFont(big);
        QPalette p;
        p.setColor(QPalette::Window, Qt::white);
        p.setColor(QPalette::WindowText, Qt::black);
        p.setColor(QPalette::Base, Qt::white);
        p.setColor(QPalette::AlternateBase, QColor(0xee, 0xee, 0xee));
        p.setColor(QPalette::Text, Qt::black);
        p.setColor(QPalette::Button, QColor(0xf0, 0xf0, 0xf0));
        p.setColor(QPalette::ButtonText, Qt::black);
        p.setColor(QPalette::Highlight, QColor(0x00, 0x3c, 0xb4));
        p.setColor(QPalette::HighlightedText, Qt::white);
        p.setColor(QPalette::ToolTipBase, Qt::white);
        p.setColor(QPalette::ToolTipText, Qt::black);
        QApplication::setPalette(p);
    } else {
        QApplication::setFont(normalFont_);
        QApplication::setPalette(normalPalette_);
    }
    QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    if (on) fixed.setPointSizeF(fixed.pointSizeF() * 1.6);
    text_->setFont(fixed);
    view_->setPresentationMode(on);
    if (remember) QSettings().setValue(QStringLiteral("presentationMode"), on);
    statusBar()->showMessage(on ? tr("Presentation mode on (F5 to leave)") : tr("Presentation mode off"), 4000);
}

void MainWindow::restoreSettings() {
    QSettings s;
    if (s.contains(QStringLiteral("window/geometry"))) restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
    if (s.contains(QStringLiteral("window/state"))) restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    // $ADJOINT_THEME (system, light, dark) for one run, else the one chosen last
    const QString theme = qEnvironmentVariableIsSet("ADJOINT_THEME") ? qEnvironmentVariable("ADJOINT_THEME")
                                                                      : s.value(QStringLiteral("theme")).toString();
    setTheme(themeFromName(theme), false);
    if (s.value(QStringLiteral("presentationMode"), false).toBool()) setPresentationMode(true);
}

void MainWindow::setTheme(Theme theme, bool remember) {
    theme_ = theme;
    for (std::size_t i = 0; i < themeActions_.size(); ++i) {
        const QSignalBlocker quiet(themeActions_[i]);
        themeActions_[i]->setChecked(int(i) == int(theme));
    }
    normalPalette_ = themePalette(theme);
    if (!presentation_) QApplication::setPalette(normalPalette_);
    if (remember) QSettings().setValue(QStringLiteral("theme"), themeName(theme));
}

void MainWindow::saveSettings() {
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
}
