#pragma once
// PaletteWidget: every op of the op table (ops.def), grouped by drawing category and searchable.
// Dragging an op onto the canvas carries GraphView::kOpMimeType with the op's name; a
// double-click (or Enter) asks for the op at the centre of the view (opActivated). Adding an op
// to ops.def adds it here with no change to this file.
#include <QWidget>

class QLineEdit;
class QTreeWidget;
class QTreeWidgetItem;

class PaletteWidget : public QWidget {
    Q_OBJECT
public:
    explicit PaletteWidget(QWidget* parent = nullptr);

    QLineEdit* searchField() const { return search_; }
    QTreeWidget* tree() const { return tree_; }
    /// The item of an op (nullptr for unknown names).
    QTreeWidgetItem* opItem(const QString& opName) const;
    /// Shows only ops whose name or group contains `text` (case-insensitive).
    void setFilter(const QString& text);

Q_SIGNALS:
    void opActivated(const QString& opName);

private:
    QLineEdit* search_;
    QTreeWidget* tree_;
};
