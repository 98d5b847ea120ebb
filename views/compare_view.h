#pragma once
// CompareView: two graphs side by side (View > Compare With…), typically a model and its -O2 form
// or two versions of a model. The nodes are matched by the engine's graph diff (by name, then by
// structure); what the second graph removes is red on the left, what it adds green on the right,
// what it changes orange on both, and what is the same on both sides grey, so that the difference
// stands out from the category colours. Panning one canvas pans the other to the same relative place. A
// line above gives both graphs' nodes, kernels and FLOPs and the counts of the diff; for graphs
// with groups (a model's modules), a table gives each group's nodes, FLOPs and bytes on both
// sides (cost/group_costs.h), the changed ones coloured.
#include <QColor>
#include <QString>
#include <QWidget>

#include "ir/graph.h"
#include "ir/graph_diff.h"

class CanvasOverlays;
class GraphView;
class QLabel;
class QScrollBar;
class QTableWidget;

class CompareView : public QWidget {
    Q_OBJECT
public:
    explicit CompareView(QWidget* parent = nullptr);

    /// Compares `before` with `after` (both verified: shape inference has run) and draws them.
    void compare(const adj::Graph& before, const adj::Graph& after, const QString& beforeName, const QString& afterName);

    GraphView* beforeView() const { return before_; }
    GraphView* afterView() const { return after_; }
    CanvasOverlays* beforeMarks() const { return beforeMarks_; }
    CanvasOverlays* afterMarks() const { return afterMarks_; }
    const adj::GraphDiff& diff() const { return diff_; }
    QString summaryText() const;
    /// The per-group cost table (hidden when neither graph has groups).
    QTableWidget* groupTable() const { return groups_; }

    static QColor removedColour() { return QColor(240, 128, 118); }
    static QColor addedColour() { return QColor(122, 204, 122); }
    static QColor changedColour() { return QColor(255, 172, 64); }
    static QColor sameColour() { return QColor(234, 236, 239); }

private:
    /// Keeps `to` at the same relative position as `from` (one axis).
    void follow(QScrollBar* from, QScrollBar* to);
    void showGroupCosts(const adj::Graph& before, const adj::Graph& after);

    GraphView* before_;
    GraphView* after_;
    CanvasOverlays* beforeMarks_;
    CanvasOverlays* afterMarks_;
    QLabel* summary_;
    QLabel* beforeTitle_;
    QLabel* afterTitle_;
    QTableWidget* groups_;
    adj::GraphDiff diff_;
    bool following_ = false;
};
