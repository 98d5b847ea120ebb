#pragma once
// CanvasOverlays draws analysis marks over a GraphView without touching the graph it shows:
// node outlines and badges (hovered adjoints, saved tensors, rewrite highlights), translucent
// hulls around groups of nodes (fusion groups), node fill colours (intensity, bound) and edge
// emphasis (adjoint magnitudes). The marks are kept as data and drawn again after every layout,
// so a re-layout of the graph keeps them where their node ids still exist.
//
// It also reports which node the mouse is over (nodeHovered), so that two canvases can be linked.
#include <QColor>
#include <QObject>
#include <QPointer>
#include <QString>
#include <map>
#include <vector>

#include "ir/graph.h"

class GraphView;
class QGraphicsObject;

struct NodeMark {
    QColor colour;
    bool dashed = false;
    /// Short text drawn above the node's top-right corner ("saved", "+", "−").
    QString badge;
};

struct NodeHull {
    std::vector<adj::NodeId> nodes;
    QColor colour;
    QString label;
};

class CanvasOverlays : public QObject {
    Q_OBJECT
public:
    explicit CanvasOverlays(GraphView* view);

    GraphView* view() const { return view_; }

    /// Marks of one layer replace that layer's marks; layers let independent features (hover,
    /// saved tensors) mark the same canvas.
    void setNodeMarks(int layer, std::map<adj::NodeId, NodeMark> marks);
    void setHulls(std::vector<NodeHull> hulls);
    /// Fill colours for nodes (GraphNodeItem::setFillOverride); an empty map restores the colours.
    void setNodeFills(std::map<adj::NodeId, QColor> fills);
    /// Edge emphasis: value -> weight in [0, 1] (width and colour grow with it).
    void setEdgeWeights(std::map<adj::ValueRef, double> weights, QColor colour = QColor(200, 40, 120));
    const std::map<adj::ValueRef, double>& edgeWeights() const { return edgeWeights_; }
    void clearAll();

    const std::vector<NodeHull>& hulls() const { return hulls_; }
    /// The marks of one layer (empty when none).
    std::map<adj::NodeId, NodeMark> nodeMarks(int layer) const {
        auto it = marks_.find(layer);
        return it == marks_.end() ? std::map<adj::NodeId, NodeMark>{} : it->second;
    }
    /// Number of overlay items now on the canvas (for tests).
    int itemCount() const;
    /// The node under the mouse, kNoNode when none.
    adj::NodeId hoveredNode() const { return hovered_; }

public Q_SLOTS:
    /// Draws every mark again (called after each layout).
    void redraw();
    /// Sets the hovered node as if the mouse were over it (linking, tests); emits nodeHovered.
    void setHoveredNode(adj::NodeId id);

Q_SIGNALS:
    void nodeHovered(adj::NodeId id);
    void hullClicked(int index);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void removeItems();

    GraphView* view_;
    std::map<int, std::map<adj::NodeId, NodeMark>> marks_;
    std::vector<NodeHull> hulls_;
    std::map<adj::NodeId, QColor> fills_;
    std::map<adj::ValueRef, double> edgeWeights_;
    QColor edgeColour_;
    std::vector<QPointer<QGraphicsObject>> items_;
    adj::NodeId hovered_ = adj::kNoNode;
};
