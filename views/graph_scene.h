#pragma once
// GraphScene draws a graph where a GraphLayout (adj::layoutGraph) placed it: rounded boxes
// coloured by op group, edges as the layout's splines with arrowheads and shape labels, graph
// outputs as double octagons. It keeps no reference to the graph: setGraph() copies what the
// items show, so the scene stays valid whatever happens to the graph afterwards.
#include <QGraphicsScene>
#include <unordered_map>
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

Q_SIGNALS:
    /// A node (or output pseudo node) was double-clicked.
    void nodeActivated(adj::NodeId id);

protected:
    void mouseDoubleClickEvent(QGraphicsSceneMouseEvent* event) override;

private:
    std::vector<GraphNodeItem*> nodes_;
    std::vector<GraphEdgeItem*> edges_;
    std::unordered_map<adj::NodeId, GraphNodeItem*> byId_;
    QRectF graphRect_;
};
