#include "palette_widget.h"

#include <QHeaderView>
#include <QLineEdit>
#include <QMimeData>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <map>

#include "graph_items.h"
#include "graph_view.h"
#include "io/graphviz.h"
#include "ir/op.h"

namespace {

constexpr int kOpRole = Qt::UserRole + 1;

QString qstr(std::string_view s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }

/// A tree whose drags carry the op's name.
class OpTree : public QTreeWidget {
public:
    using QTreeWidget::QTreeWidget;

protected:
    QStringList mimeTypes() const override { return {QLatin1String(GraphView::kOpMimeType)}; }
    QMimeData* mimeData(const QList<QTreeWidgetItem*>& items) const override {
        if (items.isEmpty() || items.front()->data(0, kOpRole).toString().isEmpty()) return nullptr;
        auto* mime = new QMimeData;
        mime->setData(QLatin1String(GraphView::kOpMimeType), items.front()->data(0, kOpRole).toString().toUtf8());
        mime->setText(items.front()->data(0, kOpRole).toString());
        return mime;
    }
};

QString arityText(const adj::OpInfo& info) {
    if (info.maxInputs < 0) return QObject::tr("%1 or more inputs").arg(info.minInputs);
    if (info.minInputs == info.maxInputs) return QObject::tr("%n input(s)", nullptr, info.minInputs);
    return QObject::tr("%1 to %2 inputs").arg(info.minInputs).arg(info.maxInputs);
}

}  // namespace

PaletteWidget::PaletteWidget(QWidget* parent) : QWidget(parent), search_(new QLineEdit(this)), tree_(new OpTree(this)) {
    search_->setPlaceholderText(tr("Search ops"));
    search_->setClearButtonEnabled(true);
    tree_->setHeaderHidden(true);
    tree_->setDragEnabled(true);
    tree_->setDragDropMode(QAbstractItemView::DragOnly);
    tree_->setSelectionMode(QAbstractItemView::SingleSelection);
    tree_->setRootIsDecorated(true);
    tree_->setUniformRowHeights(true);

    std::map<int, QTreeWidgetItem*> groups;
    for (const adj::OpInfo& info : adj::allOps()) {
        const adj::NodeCategory cat = adj::nodeCategory(info.op);
        QTreeWidgetItem*& group = groups[int(cat)];
        if (!group) {
            group = new QTreeWidgetItem(QStringList{qstr(adj::nodeCategoryName(cat))});
            group->setFlags(Qt::ItemIsEnabled);
            QFont f = group->font(0);
            f.setBold(true);
            group->setFont(0, f);
        }
        auto* item = new QTreeWidgetItem(group, QStringList{qstr(info.name)});
        item->setData(0, kOpRole, qstr(info.name));
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled);
        QPixmap swatch(12, 12);
        swatch.fill(graphFillColour(cat));
        item->setIcon(0, QIcon(swatch));
        QString tip = QStringLiteral("<b>%1</b> — %2<br>%3").arg(qstr(info.name), qstr(info.doc).toHtmlEscaped(), arityText(info));
        if (!info.onnx.empty()) tip += QStringLiteral("<br>ONNX: %1").arg(qstr(info.onnx));
        for (const adj::AttrSpec& a : info.attrs) {
            tip += QStringLiteral("<br>%1: %2%3").arg(QString::fromStdString(a.name), qstr(adj::attrTypeName(a.type)),
                                                     a.required ? tr(" (required)")
                                                                : (a.defaultText.empty() ? QString()
                                                                                         : QStringLiteral(" = ") + QString::fromStdString(a.defaultText)));
            for (const adj::AttrConstraint& c : a.constraints) tip += QStringLiteral(" (%1)").arg(QString::fromStdString(c.text()).toHtmlEscaped());
        }
        item->setToolTip(0, tip);
    }
    for (auto& [cat, group] : groups) tree_->addTopLevelItem(group);
    tree_->expandAll();

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(search_);
    layout->addWidget(tree_);

    connect(search_, &QLineEdit::textChanged, this, &PaletteWidget::setFilter);
    connect(tree_, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item) {
        const QString op = item ? item->data(0, kOpRole).toString() : QString();
        if (!op.isEmpty()) Q_EMIT opActivated(op);
    });
    connect(search_, &QLineEdit::returnPressed, this, [this] {
        // Enter in the search field adds the only (or first) op shown.
        for (int g = 0; g < tree_->topLevelItemCount(); ++g) {
            QTreeWidgetItem* group = tree_->topLevelItem(g);
            if (group->isHidden()) continue;
            for (int i = 0; i < group->childCount(); ++i)
                if (!group->child(i)->isHidden()) {
                    Q_EMIT opActivated(group->child(i)->data(0, kOpRole).toString());
                    return;
                }
        }
    });
}

QTreeWidgetItem* PaletteWidget::opItem(const QString& opName) const {
    for (int g = 0; g < tree_->topLevelItemCount(); ++g) {
        QTreeWidgetItem* group = tree_->topLevelItem(g);
        for (int i = 0; i < group->childCount(); ++i)
            if (group->child(i)->data(0, kOpRole).toString() == opName) return group->child(i);
    }
    return nullptr;
}

void PaletteWidget::setFilter(const QString& text) {
    const QString needle = text.trimmed();
    for (int g = 0; g < tree_->topLevelItemCount(); ++g) {
        QTreeWidgetItem* group = tree_->topLevelItem(g);
        const bool groupMatches = !needle.isEmpty() && group->text(0).contains(needle, Qt::CaseInsensitive);
        int shown = 0;
        for (int i = 0; i < group->childCount(); ++i) {
            QTreeWidgetItem* item = group->child(i);
            const bool show = needle.isEmpty() || groupMatches || item->text(0).contains(needle, Qt::CaseInsensitive);
            item->setHidden(!show);
            shown += show ? 1 : 0;
        }
        group->setHidden(shown == 0);
    }
}
