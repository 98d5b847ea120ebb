#include "compare_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QScrollBar>
#include <QHeaderView>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <map>

#include "canvas_overlays.h"
#include "cost/group_costs.h"
#include "ir/group_tree.h"
#include "cost_panel.h"
#include "graph_view.h"
#include "passes/rewriter.h"

using namespace adj;

namespace {

QString totalsText(const Graph& g) {
    const CostSummary c = graphCostSummary(g);
    return QObject::tr("%1 nodes, %2 kernels, %3 FLOPs, %4 bytes")
        .arg(g.nodeCount())
        .arg(c.kernels)
        .arg(QString::number(c.flops, 'g', 4))
        .arg(QString::number(c.bytes, 'g', 4));
}

QWidget* titled(QLabel* title, GraphView* view, QWidget* parent) {
    auto* box = new QWidget(parent);
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(title);
    layout->addWidget(view, 1);
    return box;
}

}  // namespace

CompareView::CompareView(QWidget* parent)
    : QWidget(parent), before_(new GraphView(this)), after_(new GraphView(this)), beforeMarks_(new CanvasOverlays(before_)),
      afterMarks_(new CanvasOverlays(after_)), summary_(new QLabel(this)), beforeTitle_(new QLabel(this)), afterTitle_(new QLabel(this)),
      groups_(new QTableWidget(this)) {
    setWindowTitle(tr("Compare"));
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(titled(beforeTitle_, before_, split));
    split->addWidget(titled(afterTitle_, after_, split));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(summary_);
    groups_->setObjectName(QStringLiteral("groupCosts"));
    groups_->setColumnCount(4);
    groups_->setHorizontalHeaderLabels({tr("Group"), tr("Nodes"), tr("FLOPs"), tr("Bytes")});
    groups_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    for (int c = 1; c < 4; ++c) groups_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    groups_->verticalHeader()->hide();
    groups_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    groups_->setToolTip(tr("Each group's cost before and after, matched by its path"));
    groups_->hide();
    auto* vertical = new QSplitter(Qt::Vertical, this);
    vertical->addWidget(split);
    vertical->addWidget(groups_);
    vertical->setStretchFactor(0, 4);
    vertical->setStretchFactor(1, 1);
    layout->addWidget(vertical, 1);
    for (auto [a, b] : {std::pair{before_, after_}, std::pair{after_, before_}}) {
        connect(a->horizontalScrollBar(), &QScrollBar::valueChanged, this, [this, a, b] { follow(a->horizontalScrollBar(), b->horizontalScrollBar()); });
        connect(a->verticalScrollBar(), &QScrollBar::valueChanged, this, [this, a, b] { follow(a->verticalScrollBar(), b->verticalScrollBar()); });
    }
}

void CompareView::follow(QScrollBar* from, QScrollBar* to) {
    if (following_) return;
    following_ = true;
    const int range = from->maximum() - from->minimum();
    const double at = range > 0 ? double(from->value() - from->minimum()) / range : 0.0;
    to->setValue(to->minimum() + int(at * (to->maximum() - to->minimum()) + 0.5));
    following_ = false;
}

void CompareView::compare(const Graph& before, const Graph& after, const QString& beforeName, const QString& afterName) {
    diff_ = diffGraphs(before, after);
    std::map<NodeId, QColor> left, right;
    for (const auto& [a, b] : diff_.matched) {
        left[a] = sameColour();
        right[b] = sameColour();
    }
    for (const std::string& name : diff_.removed) left[*before.findNode(name)] = removedColour();
    for (const std::string& name : diff_.added) right[*after.findNode(name)] = addedColour();
    for (const NodeChange& c : diff_.changed) {
        left[c.before] = changedColour();
        right[c.after] = changedColour();
    }
    beforeMarks_->setNodeFills(std::move(left));
    afterMarks_->setNodeFills(std::move(right));
    beforeTitle_->setText(tr("<b>%1</b>: %2").arg(beforeName.toHtmlEscaped(), totalsText(before)));
    afterTitle_->setText(tr("<b>%1</b>: %2").arg(afterName.toHtmlEscaped(), totalsText(after)));
    summary_->setText(summaryText());
    showGroupCosts(before, after);
    before_->showGraph(before);
    after_->showGraph(after);
}

void CompareView::showGroupCosts(const Graph& before, const Graph& after) {
    std::vector<GroupCostDelta> rows = groupCostDeltas(before, after);
    if (rows.size() == 1 && rows.front().group.empty()) rows.clear();
    groups_->setVisible(!rows.empty());
    groups_->setRowCount(int(rows.size()));
    auto cell = [](double a, double b, const QString& unit) {
        const double d = b - a;
        QString text = unit.isEmpty() ? QStringLiteral("%1 \u2192 %2").arg(a).arg(b)
                                      : QStringLiteral("%1 \u2192 %2").arg(formatQuantity(a, unit), formatQuantity(b, unit));
        if (d != 0) text += QStringLiteral(" (%1)").arg(unit.isEmpty() ? (d > 0 ? QStringLiteral("+") : QString()) + QString::number(d) : signedQuantity(d, unit));
        auto* item = new QTableWidgetItem(text);
        item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        if (d != 0) item->setForeground(d < 0 ? QColor(20, 130, 40) : QColor(200, 60, 20));
        return item;
    };
    for (int i = 0; i < int(rows.size()); ++i) {
        const GroupCostDelta& r = rows[std::size_t(i)];
        const QString label = r.group.empty() ? tr("(outside every group)") : QString::fromStdString(groupLabel(r.group));
        auto* name = new QTableWidgetItem(QString(r.depth * 3, QLatin1Char(' ')) + label);
        name->setToolTip(QString::fromStdString(r.group));
        groups_->setItem(i, 0, name);
        groups_->setItem(i, 1, cell(double(r.nodesBefore), double(r.nodesAfter), QString()));
        groups_->setItem(i, 2, cell(r.before.flops, r.after.flops, QStringLiteral("FLOP")));
        groups_->setItem(i, 3, cell(r.before.bytes(), r.after.bytes(), QStringLiteral("B")));
    }
}

QString CompareView::summaryText() const {
    return tr("<span style='background:%1'>&nbsp;%2 removed&nbsp;</span> &nbsp; <span style='background:%3'>&nbsp;%4 added&nbsp;</span> &nbsp; "
              "<span style='background:%5'>&nbsp;%6 changed&nbsp;</span> &nbsp; %7 matched (by name, then by structure)")
        .arg(removedColour().name())
        .arg(diff_.removed.size())
        .arg(addedColour().name())
        .arg(diff_.added.size())
        .arg(changedColour().name())
        .arg(diff_.changed.size())
        .arg(diff_.matched.size());
}
