#pragma once
// GraphScene draws a graph where a GraphLayout (adj::layoutGraph) placed it: rounded boxes
// coloured by op group, edges as the layout's splines with arrowheads and shape labels, graph
// outputs as double octagons. It keeps no reference to the graph: setGraph() copies what the
// items show, so the scene stays valid whatever happens to the graph afterwards.
//
// Nodes whose meta holds a position ("x", "y") are drawn there instead of where the layout put
// them, their edges re-routed. The scene edits nothing itself: dragging nodes, and dragging from
// an output port to an input port, are reported as requests (nodesMoved, connectRequested) for
// the document to carry out.
#include <QGraphicsScene>
#include <QString>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "graph_items.h"
#include "io/graphviz.h"

class GraphScene : public QGraphicsScene {
    Q_OBJECT
public:
    explicit GraphScene(QObject* parent = nullptr);

    /// Replaces the drawing. `layout` must come from layoutGraph on this graph (or an identical
    /// one); nodes and edges it does not place are not drawn. `options` gives the colours
    /// (colourByIntensity) and extra label lines (costs) the layout was made with.
    void setGraph(const adj::Graph& graph, const adj::GraphLayout& layout, const adj::DotOptions& options = {});
    void clearGraph();

    /// The item of a node or of a graph output (adj::layoutOutputId(k)); nullptr when absent.
    GraphNodeItem* nodeItem(adj::NodeId id) const;
    const std::vector<GraphNodeItem*>& nodeItems() const { return nodes_; }
    const std::vector<GraphEdgeItem*>& edgeItems() const { return edges_; }
    /// The drawing's extent (the layout's bounding box), empty when nothing is drawn.
    QRectF graphRect() const { return graphRect_; }

    /// Selected node ids (graph outputs excluded), in drawing order.
    std::vector<adj::NodeId> selectedNodeIds() const;
    /// Selects one node (clearing the rest); kNoNode clears the selection.
    void selectNode(adj::NodeId id);

    /// Verifier problems by node: a red badge with the message as tooltip. Kept across setGraph.
    void setProblems(std::map<adj::NodeId, QString> problems);
    /// Moves a node's item (and re-routes its edges) without a re-layout.
    void moveNodeItem(adj::NodeId id, const QPointF& pos);
    /// Re-routes every edge of a node to its item's current position.
    void rerouteEdges(adj::NodeId id);

Q_SIGNALS:
    /// A node (or output pseudo node) was double-clicked.
    void nodeActivated(adj::NodeId id);
    /// The user dragged nodes to new positions (scene coordinates), released at the end of a drag.
    void nodesMoved(const std::vector<std::pair<adj::NodeId, QPointF>>& moves);
    /// The user dragged from `from`'s output port and released on input `index` of `to`.
    void connectRequested(adj::ValueRef from, adj::NodeId to, int index);

protected:
    void mouseDoubleClickEvent(QGraphicsSceneMouseEvent* event) override;
    void mousePressEvent(QGraphicsSceneMouseEvent* event) override;
    void mouseMoveEvent(QGraphicsSceneMouseEvent* event) override;
    void mouseReleaseEvent(QGraphicsSceneMouseEvent* event) override;

private:
    GraphNodeItem* nodeItemAt(const QPointF& scenePos, GraphNodeItem* except = nullptr) const;
    void rerouteEdge(GraphEdgeItem* edge);
    std::map<adj::NodeId, QString> problems_;
    std::unordered_map<adj::NodeId, std::vector<GraphEdgeItem*>> edgesOf_;
    // dragging nodes: start positions of the selection
    std::map<adj::NodeId, QPointF> dragStart_;
    // dragging a wire from an output port
    GraphNodeItem* wireFrom_ = nullptr;
    int wirePort_ = 0;
    QGraphicsPathItem* wire_ = nullptr;

    std::vector<GraphNodeItem*> nodes_;
    std::vector<GraphEdgeItem*> edges_;
    std::unordered_map<adj::NodeId, GraphNodeItem*> byId_;
    QRectF graphRect_;
};
