#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QKeySequence>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QStatusBar>
#include <QStyle>

#include "example_paths.h"
#include "graph_view.h"
#include "io/json_format.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace {
constexpr int kNodeIdRole = Qt::UserRole + 1;
const QString kTitleSeparator = QString::fromUtf8(" \u2014 ");

QString counted(qsizetype n, const QString& one, const QString& many) {
    return QStringLiteral("%1 %2").arg(n).arg(n == 1 ? one : many);
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), view_(new GraphView(this)) {
    setWindowTitle(QStringLiteral("Adjoint"));
    setCentralWidget(view_);
    createDocks();
    createActions();

    infoLabel_ = new QLabel(tr("No graph"), this);
    zoomLabel_ = new QLabel(this);
    zoomLabel_->setMinimumWidth(zoomLabel_->fontMetrics().horizontalAdvance(QStringLiteral("8888 %")));
    zoomLabel_->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    statusBar()->addWidget(infoLabel_, 1);
    statusBar()->addPermanentWidget(zoomLabel_);

    connect(view_, &GraphView::layoutStarted, this, &MainWindow::updateStatus);
    connect(view_, &GraphView::layoutApplied, this, &MainWindow::updateStatus);
    connect(view_, &GraphView::layoutFailed, this, [this](const QString& message) {
        auto* item = new QListWidgetItem(style()->standardIcon(QStyle::SP_MessageBoxCritical),
                                         tr("Layout failed: %1").arg(message), diagnostics_);
        item->setData(kNodeIdRole, int(adj::kNoNode));
        diagnosticsDock_->show();
        updateStatus();
    });
    connect(view_, &GraphView::zoomChanged, this,
            [this](double z) { zoomLabel_->setText(QStringLiteral("%1 %").arg(qRound(z * 100))); });
    connect(view_->graphScene(), &QGraphicsScene::selectionChanged, this, &MainWindow::updateStatus);

    resize(1280, 800);
}

MainWindow::~MainWindow() = default;

void MainWindow::createDocks() {
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
    splitDockWidget(textDock_, diagnosticsDock_, Qt::Vertical);
    resizeDocks({textDock_}, {420}, Qt::Horizontal);
    resizeDocks({textDock_, diagnosticsDock_}, {560, 160}, Qt::Vertical);
}

void MainWindow::createActions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open\u2026"), this, &MainWindow::openFileDialog);
    open->setShortcut(QKeySequence::Open);
    examplesMenu_ = file->addMenu(tr("Open &Example"));
    populateExamplesMenu();
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows);
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);

    QMenu* viewMenu = menuBar()->addMenu(tr("&View"));
    QAction* fit = viewMenu->addAction(tr("&Fit to Window"), view_, &GraphView::fitToWindow);
    fit->setShortcut(QKeySequence(Qt::Key_F));
    QAction* zoomIn = viewMenu->addAction(tr("Zoom &In"), view_, &GraphView::zoomIn);
    zoomIn->setShortcuts({QKeySequence::ZoomIn, QKeySequence(Qt::CTRL | Qt::Key_Equal)});
    QAction* zoomOut = viewMenu->addAction(tr("Zoom &Out"), view_, &GraphView::zoomOut);
    zoomOut->setShortcut(QKeySequence::ZoomOut);
    QAction* actual = viewMenu->addAction(tr("&Actual Size"), view_, &GraphView::resetZoom);
    actual->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    viewMenu->addSeparator();
    viewMenu->addAction(textDock_->toggleViewAction());
    viewMenu->addAction(diagnosticsDock_->toggleViewAction());

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Adjoint"), this, [this] {
        QMessageBox::about(this, tr("About Adjoint"),
                           tr("<h3>Adjoint %1</h3><p>A computational-graph explorer: automatic differentiation, "
                              "graph rewrites, fusion and arithmetic intensity, on the CPU and the GPU.</p>")
                               .arg(QStringLiteral(ADJOINT_VERSION)));
    });
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

bool MainWindow::openFile(const QString& path, QString* error) {
    try {
        adj::Graph g = adj::loadGraphJson(QFile::encodeName(path).toStdString());
        currentFile_ = QFileInfo(path).absoluteFilePath();
        showGraph(std::move(g), QFileInfo(path).fileName());
        return true;
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}

void MainWindow::openFileInteractive(const QString& path) {
    QString error;
    QApplication::setOverrideCursor(Qt::WaitCursor);
    const bool ok = openFile(path, &error);
    QApplication::restoreOverrideCursor();
    if (!ok) QMessageBox::warning(this, tr("Cannot open graph"), tr("Cannot open %1:\n\n%2").arg(QDir::toNativeSeparators(path), error));
}

void MainWindow::openFileDialog() {
    QString dir = currentFile_.isEmpty() ? examplesDir() : QFileInfo(currentFile_).absolutePath();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Graph"), dir, tr("Graphs (*.json);;All files (*)"));
    if (!path.isEmpty()) openFileInteractive(path);
}

void MainWindow::showGraph(adj::Graph graph, const QString& displayName) {
    std::vector<adj::Diagnostic> problems;
    try {
        problems = adj::verifyGraph(graph);
    } catch (const std::exception& e) {
        problems.push_back({adj::kNoNode, e.what()});
    }
    QString printed;
    try {
        printed = QString::fromStdString(adj::printGraph(graph));
    } catch (const std::exception& e) {
        printed = tr("(cannot print this graph: %1)").arg(QString::fromStdString(e.what()));
    }
    text_->setPlainText(printed);

    diagnostics_->clear();
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
    diagnosticCount_ = int(problems.size());
    diagnosticsDock_->setWindowTitle(problems.empty() ? tr("Diagnostics") : tr("Diagnostics (%1)").arg(problems.size()));

    graph_ = std::make_unique<adj::Graph>(std::move(graph));
    displayName_ = displayName;
    setWindowTitle(QStringLiteral("Adjoint") + kTitleSeparator + displayName);
    view_->showGraph(*graph_);
    updateStatus();
}

void MainWindow::updateStatus() {
    if (!graph_) {
        infoLabel_->setText(tr("No graph"));
        return;
    }
    QString text = displayName_ + kTitleSeparator + counted(qsizetype(graph_->nodeCount()), tr("node"), tr("nodes")) +
                   QStringLiteral(", ") + counted(qsizetype(graph_->outputs().size()), tr("output"), tr("outputs"));
    if (diagnosticCount_ > 0) text += QStringLiteral(", ") + counted(diagnosticCount_, tr("problem"), tr("problems"));
    if (view_->isLayoutPending()) {
        text += QStringLiteral(" \u2014 ") + tr("laying out\u2026");
    } else {
        const auto selected = view_->graphScene()->selectedNodeIds();
        if (selected.size() == 1 && graph_->contains(selected.front())) {
            try {
                text += QStringLiteral("   |   ") + QString::fromStdString(adj::printNode(*graph_, selected.front()));
            } catch (const std::exception&) {
            }
        }
    }
    infoLabel_->setText(text);
}

void MainWindow::onDiagnosticActivated(QListWidgetItem* item) {
    if (!item || !graph_) return;
    const adj::NodeId id = item->data(kNodeIdRole).toInt();
    if (graph_->contains(id)) view_->centerOnNode(id);
}
