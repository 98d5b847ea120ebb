#include "fusion_panel.h"

#include <QFontDatabase>
#include <QIcon>
#include <QLabel>
#include <QListWidget>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QSplitter>
#include <QTabWidget>
#include <QVBoxLayout>

#include "canvas_overlays.h"
#include "cost_panel.h"
#include "graph_view.h"
#include "ir/group_tree.h"
#include "runtime/vulkan/fusion_codegen.h"

QColor FusionPanel::groupColour(int index) {
    static const QColor colours[] = {QColor(66, 133, 244), QColor(234, 67, 53), QColor(52, 168, 83), QColor(251, 140, 0),
                                     QColor(142, 68, 173), QColor(0, 150, 136), QColor(233, 30, 99), QColor(121, 85, 72)};
    return colours[index % int(std::size(colours))];
}

FusionPanel::FusionPanel(QWidget* parent)
    : QWidget(parent), view_(new GraphView(this)), overlays_(new CanvasOverlays(view_)), list_(new QListWidget(this)),
      source_(new QPlainTextEdit(this)), glsl_(new QPlainTextEdit(this)), cost_(new QLabel(this)), notes_(new QLabel(this)),
      busy_(new QLabel(tr("Computing the fusion groups…"), this)),
      compute_([this](FusionAnalysis&& a) { setAnalysis(std::move(a)); }, [this](const QString& m) { showFailure(m); }) {
    setObjectName(QStringLiteral("fusionPanel"));
    auto* side = new QWidget(this);
    auto* sideLayout = new QVBoxLayout(side);
    sideLayout->setContentsMargins(0, 0, 0, 0);
    sideLayout->addWidget(new QLabel(tr("Fusion groups (click a hull or a row)"), side));
    busy_->setStyleSheet(QStringLiteral("color: #5a6270; font-style: italic;"));
    busy_->hide();
    sideLayout->addWidget(busy_);
    list_->setMaximumHeight(150);
    sideLayout->addWidget(list_);
    cost_->setWordWrap(true);
    cost_->setTextFormat(Qt::RichText);
    sideLayout->addWidget(cost_);
    auto* tabs = new QTabWidget(side);
    for (QPlainTextEdit* text : {source_, glsl_}) {
        text->setReadOnly(true);
        text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
        text->setLineWrapMode(QPlainTextEdit::NoWrap);
    }
    tabs->addTab(source_, tr("CPU kernel"));
    tabs->addTab(glsl_, tr("Vulkan GLSL"));
    sideLayout->addWidget(tabs, 1);
    notes_->setWordWrap(true);
    sideLayout->addWidget(notes_);

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(view_);
    split->addWidget(side);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({700, 520});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(split);

    connect(overlays_, &CanvasOverlays::hullClicked, this, &FusionPanel::selectGroup);
    connect(list_, &QListWidget::currentRowChanged, this, &FusionPanel::selectGroup);
    // the selected group's hull in view once the drawing is there
    connect(view_, &GraphView::layoutApplied, this, [this] { scrollToGroup(list_->currentRow()); });
}

int FusionPanel::selectedGroup() const { return list_->currentRow(); }

bool FusionPanel::setGraph(const adj::Graph& graph, QString* error) {
    setBusy(false);
    return compute_.runNow([&graph] { return analyseFusion(graph); }, error);
}

void FusionPanel::request(std::shared_ptr<const adj::Graph> graph) {
    setBusy(true);
    compute_.start([graph = std::move(graph)] { return analyseFusion(*graph); });
}

void FusionPanel::setBusy(bool busy) { busy_->setVisible(busy); }

void FusionPanel::showFailure(const QString& message) {
    setBusy(false);
    analysis_.reset();
    list_->clear();
    overlays_->clearAll();
    view_->clearGraph();
    source_->clear();
    glsl_->clear();
    notes_->clear();
    cost_->setText(tr("<b>Cannot analyse fusion:</b> %1").arg(message.toHtmlEscaped()));
    Q_EMIT analysisChanged();
    Q_EMIT failed(message);
}

void FusionPanel::setAnalysis(FusionAnalysis&& analysis) {
    setBusy(false);
    analysis_ = std::make_unique<FusionAnalysis>(std::move(analysis));
    std::vector<NodeHull> hulls;
    const QSignalBlocker block(list_);
    list_->clear();
    for (int i = 0; i < groupCount(); ++i) {
        const FusionGroup& g = analysis_->groups[std::size_t(i)];
        hulls.push_back(NodeHull{g.members, groupColour(i), QString::fromStdString(g.name)});
        QPixmap swatch(14, 14);
        swatch.fill(groupColour(i));
        // the module the group lies in (the innermost group holding its members), when it has one
        std::string scope = g.members.empty() ? std::string() : adj::nodeGroup(analysis_->graph.node(g.members.front()));
        for (adj::NodeId m : g.members) scope = adj::commonGroupPath(scope, adj::nodeGroup(analysis_->graph.node(m)));
        // (inside a module, the name without the module's scopes, which follow it)
        QString text = tr("%1 — %2 ops").arg(QString::fromStdString(adj::nameWithinGroup(g.name, scope))).arg(g.members.size());
        if (!scope.empty()) text += tr(" · in %1").arg(QString::fromStdString(scope));
        list_->addItem(new QListWidgetItem(QIcon(swatch), text));
    }
    overlays_->clearAll();
    overlays_->setHulls(std::move(hulls));
    // the model's modules as frames, all open: a hull marks single nodes
    adj::DotOptions drawing;
    drawing.addGroups(analysis_->graph, adj::DotOptions::GroupDrawing::FramesOnly);
    view_->showGraph(analysis_->graph, drawing);
    QStringList notes;
    for (const adj::FusionNote& n : analysis_->notes)
        notes << tr("%1 → %2 not fused: %3").arg(QString::fromStdString(n.producer), QString::fromStdString(n.consumer),
                                                  QString::fromStdString(n.reason));
    if (notes.size() > 6) notes = notes.mid(0, 6) << tr("… and %1 more").arg(analysis_->notes.size() - 6);
    notes_->setText(notes.join(QLatin1Char('\n')));
    source_->clear();
    glsl_->clear();
    cost_->setText(groupCount() == 0 ? tr("No elementwise ops to fuse in this graph.") : QString());
    if (groupCount() > 0) {
        list_->setCurrentRow(0);
        selectGroup(0);
    }
    Q_EMIT analysisChanged();
}

void FusionPanel::selectGroup(int index) {
    if (!analysis_ || index < 0 || index >= groupCount()) return;
    if (list_->currentRow() != index) {
        const QSignalBlocker block(list_);
        list_->setCurrentRow(index);
    }
    const FusionGroup& g = analysis_->groups[std::size_t(index)];
    try {
        source_->setPlainText(QString::fromStdString(fusedKernelSource(g)));
    } catch (const std::exception& e) {
        source_->setPlainText(tr("// cannot show the program: %1").arg(QString::fromUtf8(e.what())));
    }
    try {
        glsl_->setPlainText(QString::fromStdString(adj::generateFusedKernelSource(g.program, g.inputCount)));
    } catch (const std::exception& e) {
        glsl_->setPlainText(tr("// cannot generate GLSL: %1").arg(QString::fromUtf8(e.what())));
    }
    const QString flop = QStringLiteral("FLOP"), byte = QStringLiteral("B");
    cost_->setText(tr("<b>%1</b>: %2, %3 moved (intensity %4 FLOP/B)<br>unfused: %5 kernels, %6 moved (intensity %7)")
                       .arg(QString::fromStdString(g.name).toHtmlEscaped(), formatQuantity(g.fused.flops, flop),
                            formatQuantity(g.fused.bytes(), byte))
                       .arg(g.fused.intensity(), 0, 'f', 3)
                       .arg(g.members.size())
                       .arg(formatQuantity(g.unfused.bytes(), byte))
                       .arg(g.unfused.intensity(), 0, 'f', 3));
    // Emphasize the selected hull by drawing it last with its label.
    overlays_->setNodeMarks(0, {});
    std::map<adj::NodeId, NodeMark> marks;
    for (adj::NodeId id : g.members) marks[id] = NodeMark{groupColour(index).darker(130), false, QString()};
    overlays_->setNodeMarks(0, std::move(marks));
    scrollToGroup(index);
}

void FusionPanel::scrollToGroup(int index) {
    if (!analysis_ || index < 0 || index >= groupCount()) return;
    QRectF hull;
    for (adj::NodeId id : analysis_->groups[std::size_t(index)].members)
        if (const GraphNodeItem* item = view_->graphScene()->nodeItem(id))
            hull = hull.isNull() ? item->sceneBoundingRect() : hull.united(item->sceneBoundingRect());
    if (hull.isNull()) return;  // not drawn yet: layoutApplied scrolls
    view_->bringIntoView(hull);
}
