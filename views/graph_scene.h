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
//
// Collapsed groups (DotOptions::collapsedInto) are drawn as one item, id adj::layoutCollapsedId(k),
// that stands for each of its members: nodeItem(member) is the group's item, selecting it selects
// its members (selectedNodeIds), and double-clicking it asks for the group to be expanded
// (groupToggled). Expanded groups (DotOptions::clusterOf) are drawn as dashed frames around
// their nodes; double-clicking a frame's title asks for the group to be collapsed. Its ports are the values crossing its border: one input port per outside
// value read inside, one output port per inside value read outside; wires may start from its
// output ports, but not end in it (which member would get the input is not visible).
#include <QGraphicsScene>
#include <QString>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "graph_items.h"
#include "io/graphviz.h"

/// The position a node's meta pins it to ("x", "y", scene coordinates); false when it has none.
bool metaPosition(const adj::Node& n, QPointF* out);

class GraphScene : public QGraphicsScene {
    Q_OBJECT
public:
    explicit GraphScene(QObject* parent = nullptr);

    /// Replaces the drawing. `layout` must come from layoutGraph on this graph (or an identical
    /// one); nodes and edges it does not place are not drawn. `options` gives the colours
    /// (colourByIntensity) and extra label lines (costs) the layout was made with.
    void setGraph(const adj::Graph& graph, const adj::GraphLayout& layout, const adj::DotOptions& options = {});
    void clearGraph();

    /// The item of a node or of a graph output (adj::layoutOutputId(k)); for a member of a
    /// collapsed group, the group's item; nullptr when absent.
    GraphNodeItem* nodeItem(adj::NodeId id) const;
    /// Members of a collapsed group's item (empty for any other id), in id order.
    std::vector<adj::NodeId> collapsedMembers(adj::NodeId boxId) const;
    /// The group name of a collapsed group's item, empty for any other id.
    QString collapsedName(adj::NodeId boxId) const;
    const std::vector<GraphNodeItem*>& nodeItems() const { return nodes_; }
    const std::vector<GraphEdgeItem*>& edgeItems() const { return edges_; }
    /// The frames of expanded groups (the layout's clusters).
    const std::vector<GraphClusterItem*>& clusterItems() const { return clusters_; }
    /// The drawing's extent (the layout's bounding box), empty when nothing is drawn.
    QRectF graphRect() const { return graphRect_; }

    /// Selected node ids (graph outputs excluded, collapsed groups as their members), in drawing order.
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
    /// A collapsed group's box or an expanded group's title was double-clicked: collapse or expand it.
    void groupToggled(const QString& group);
    /// A short explanation for the status bar (e.g. why a wire was not connected).
    void hint(const QString& text);
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
    struct CollapsedGroup {
        QString name;
        std::vector<adj::NodeId> members;
        std::vector<adj::ValueRef> inputs;   // outside values read inside: input port k
        std::vector<adj::ValueRef> outputs;  // inside values read outside: output port k
    };
    GraphNodeItem* nodeItemAt(const QPointF& scenePos, GraphNodeItem* except = nullptr) const;
    void rerouteEdge(GraphEdgeItem* edge);
    /// The value an output port of an item sends (a collapsed group's ports map to its members).
    adj::ValueRef portValue(const GraphNodeItem* item, int port) const;
    std::map<adj::NodeId, CollapsedGroup> collapsed_;
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
    std::vector<GraphClusterItem*> clusters_;
    std::unordered_map<adj::NodeId, GraphNodeItem*> byId_;
    QRectF graphRect_;
};
