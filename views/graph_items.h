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

class GraphNodeItem : public QGraphicsItem {
public:
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
    bool hovered_ = false;
};

class GraphEdgeItem : public QGraphicsItem {
public:
    enum { Type = UserType + 2 };

    explicit GraphEdgeItem(const adj::EdgeLayout& layout);

    int type() const override { return Type; }
    adj::ValueRef from() const { return from_; }
    adj::NodeId to() const { return to_; }
    int toIndex() const { return toIndex_; }
    QString label() const { return label_; }
    const QPainterPath& path() const { return path_; }

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    adj::ValueRef from_;
    adj::NodeId to_;
    int toIndex_;
    QPainterPath path_;
    QPolygonF arrow_;
    QString label_;
    QRectF labelRect_;
    QPainterPath labelPath_;
    QRectF bounds_;
};
