#pragma once
// The graphics items of a drawn graph: one GraphNodeItem per node (and per graph output), one
// GraphEdgeItem per edge. Items copy what they show (labels, shapes, colours) when made, so that
// they never point into the engine's graph. Coordinates are the layout's points (72 per inch).
#include <QColor>
#include <QFont>
#include <QGraphicsItem>
#include <QPainterPath>
#include <QStringList>

#include "io/graphviz.h"

/// Fonts of the drawing, in scene units (pixel sizes), matched to the DOT text's font sizes so
/// that labels fit the boxes Graphviz measured.
QFont graphNodeFont();
QFont graphSmallFont();
QFont graphEdgeFont();
/// The op-group colours of engine/io/graphviz.h as QColors.
QColor graphFillColour(adj::NodeCategory category);
QColor graphBorderColour(adj::NodeCategory category);
/// Presentation mode (classrooms): thicker lines and darker colours for every item; the view
/// also magnifies. Items read it when they paint.
void setGraphPresentationMode(bool on);
bool graphPresentationMode();
/// A dark canvas (the system's dark palette; GraphView follows its palette): a dark background,
/// light edges, edge labels and frames; nodes keep their light fills and dark text. Presentation
/// mode stays light (a projector's white).
void setGraphDarkMode(bool on);
bool graphDarkMode();
/// The canvas's background colour in the current mode.
QColor graphBackgroundColour();

class GraphNodeItem : public QGraphicsItem {
public:
    /// Below this scale (a 13 px label drawn under 4 px) items are drawn without text, ports or
    /// arrowheads, edges as hairlines: level of detail for thousands of visible nodes.
    static constexpr double kDetailedAbove = 0.3;
    enum { Type = UserType + 1 };

    /// `lines`: the label (dotNodeLabelLines); the first is bold for ops. `fill` overrides the
    /// category's fill when valid.
    GraphNodeItem(adj::NodeId id, adj::NodeCategory category, QStringList lines, const adj::NodeLayout& layout,
                  QColor fill = {});

    int type() const override { return Type; }
    adj::NodeId nodeId() const { return id_; }
    adj::NodeCategory category() const { return category_; }
    const QStringList& lines() const { return lines_; }
    /// The node's box around its centre (the item's origin).
    QRectF box() const { return box_; }

    /// Ports drawn on the box: `inputs` slots along the top edge, `outputs` along the bottom.
    /// Dragging from an output port to an input port connects them (GraphScene).
    void setPorts(int inputs, int outputs);
    int inputPortCount() const { return inputPorts_; }
    int outputPortCount() const { return outputPorts_; }
    /// Centre of a port in item coordinates.
    QPointF inputPortPos(int index) const;
    QPointF outputPortPos(int port) const;
    /// The port under an item-coordinate point, -1 when none (generous hit areas).
    int inputPortAt(const QPointF& itemPos) const;
    int outputPortAt(const QPointF& itemPos) const;
    /// The input slot nearest to an item-coordinate point, -1 when the node has no slots.
    int nearestInputPort(const QPointF& itemPos) const;

    /// A verifier problem: a red badge on the node with `message` as its tooltip; empty clears.
    void setProblem(const QString& message);
    QString problem() const { return problem_; }
    /// Paints the node with `fill` instead of its own colour (intensity or bound colouring);
    /// an invalid colour restores the original.
    void setFillOverride(const QColor& fill);
    QColor fillOverride() const { return fillOverride_; }
    /// Draws the item as a collapsed group: a stack of cards with an expand mark in its corner,
    /// not movable (the layout places it; expanding brings the members back).
    void setCollapsedGroup(bool on);
    bool isCollapsedGroup() const { return collapsedGroup_; }

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

protected:
    void hoverEnterEvent(QGraphicsSceneHoverEvent* event) override;
    void hoverLeaveEvent(QGraphicsSceneHoverEvent* event) override;

private:
    QPainterPath outline() const;
    adj::NodeId id_;
    adj::NodeCategory category_;
    QStringList lines_;
    QRectF box_;
    QColor fill_;
    QColor border_;
    QColor fillOverride_;
    bool hovered_ = false;
    bool collapsedGroup_ = false;
    int inputPorts_ = 0;
    int outputPorts_ = 0;
    QString problem_;
    QString baseToolTip_;
};

class GraphEdgeItem : public QGraphicsItem {
public:
    enum { Type = UserType + 2 };

    explicit GraphEdgeItem(const adj::EdgeLayout& layout);

    int type() const override { return Type; }
    adj::ValueRef from() const { return from_; }
    adj::NodeId to() const { return to_; }
    int toIndex() const { return toIndex_; }
    /// The collapsed group the edge leaves / enters (adj::layoutCollapsedId), else adj::kNoNode.
    adj::NodeId fromBox() const { return fromBox_; }
    adj::NodeId toBox() const { return toBox_; }
    QString label() const { return label_; }
    const QPainterPath& path() const { return path_; }
    /// Replaces the layout's spline by a curve from `tail` to `head` (scene coordinates), for
    /// an edge whose end nodes were moved by hand.
    void reroute(const QPointF& tail, const QPointF& head);

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    void setGeometry(QPainterPath path, QPolygonF arrow, QPointF labelAt);
    adj::ValueRef from_;
    adj::NodeId to_;
    int toIndex_;
    adj::NodeId fromBox_, toBox_;
    QPainterPath path_;
    QLineF ends_;  // the path's first and last points (drawn alone at low detail)
    QPolygonF arrow_;
    QString label_;
    QRectF labelRect_;
    QPainterPath labelPath_;
    QRectF bounds_;
};

/// The frame of an expanded group (adj::ClusterLayout): a dashed rounded rectangle behind its
/// nodes, the group's name and a collapse mark in its title strip at the top.
class GraphClusterItem : public QGraphicsItem {
public:
    enum { Type = UserType + 3 };
    /// Height of the title strip (scene units): double-clicking there collapses the group.
    static constexpr double kTitleHeight = 20;

    explicit GraphClusterItem(const adj::ClusterLayout& layout);

    int type() const override { return Type; }
    QString name() const { return name_; }
    QRectF frame() const { return frame_; }
    /// True when a scene point lies in the title strip.
    bool titleContains(const QPointF& scenePos) const;

    QRectF boundingRect() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    QString name_;   // the group path
    QString label_;  // its last component, drawn as the title
    QRectF frame_;
};
