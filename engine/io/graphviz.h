#pragma once
// Graphs drawn through Graphviz: DOT text, rendered files (SVG, PNG, ...) and the "dot" layout read
// back as coordinates for the GUI. Graphviz runs in-process (libgvc / libcgraph), never as a
// subprocess. Graphviz is not thread-safe: every call into it from this file holds one process-wide
// mutex, so that layout may run on a worker thread while the GUI thread renders or exports.
//
// Drawing conventions, shared by the DOT export and the GUI scene (both go through
// nodeCategory() and dotNodeLabelLines()):
//   graph inputs   ellipses               parameters   square boxes, amber fill
//   constants      small grey boxes       ops          rounded boxes, "op name" over "node name",
//   graph outputs  double octagons                     filled by op group (ops.def)
//   edges          tail value -> user, labelled with the value's shape ("4×8") when known.
#include <atomic>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/errors.h"
#include "ir/graph.h"

namespace adj {

struct DotOptions {
    /// Label edges with the value's inferred shape ("4×8"; "scalar" for rank 0) when known.
    bool shapesOnEdges = true;
    /// Show nodeLabelsExtra (the cost model's text for a node) as extra label lines.
    bool costs = false;
    /// Fill nodes with nodeColours (the cost model's arithmetic-intensity colours, "#rrggbb")
    /// instead of their op group's colour.
    bool colourByIntensity = false;
    /// Draw clusterOf / clusterNames (fusion groups) as boxed subgraphs.
    bool clusters = true;
    std::map<NodeId, std::string> nodeLabelsExtra;
    std::map<NodeId, std::string> nodeColours;
    /// Node -> index into clusterNames; nodes absent here are in no cluster.
    std::map<NodeId, int> clusterOf;
    std::vector<std::string> clusterNames;
    /// Nesting of clusters: clusterParent[k] is the cluster that frames cluster k, -1 (or absent)
    /// for a top-level one. A cluster with no node of its own is still drawn around its children.
    std::vector<int> clusterParent;
    /// Collapsed groups (an editor's "group into one node"): node -> index into collapsedNames.
    /// Each group is drawn as one box (pseudo node layoutCollapsedId(k)) labelled with its name and
    /// size; edges inside a group are not drawn, edges crossing its border attach to the box, and
    /// an outside value entering the box several times is drawn once.
    std::map<NodeId, int> collapsedInto;
    std::vector<std::string> collapsedNames;
    /// Extra label lines per collapsed group, separated by '\n' (the GUI's op counts and costs);
    /// may be shorter than collapsedNames.
    std::vector<std::string> collapsedDetails;
    /// The cluster (clusterNames) whose frame holds collapsed group k's box; -1 (or absent): none.
    std::vector<int> collapsedParent;
    /// Frames and boxes are labelled with the last component of a group path ("layer1/layer1.0"
    /// reads "layer1.0"; ir/group_tree.h); the names keep the whole path.
    /// Fills clusterOf, clusterNames, clusterParent, collapsedInto and collapsedNames from the
    /// graph's nested groups (ir/group_tree.h): each outermost collapsed group is one box, each
    /// open group a frame inside its parent's. FramesOnly: every group a frame, none collapsed
    /// (views that mark single nodes: the fusion hulls). BoxesOnly: the collapsed groups' boxes,
    /// no frames: a backward graph's frames (the forward's modules and their adjoints, crossed by
    /// every saved value) make Graphviz 2.42's dot corrupt its heap.
    enum class GroupDrawing { FramesAndBoxes, FramesOnly, BoxesOnly };
    void addGroups(const Graph& graph, GroupDrawing drawing = GroupDrawing::FramesAndBoxes);
    /// The nodes of a backward pass. An edge between two of them is laid out upwards (written
    /// head -> tail with dir=back: the arrow still points the way the value flows), so the
    /// backward pass climbs beside the forward one and each adjoint is ranked next to the value it
    /// belongs to. Laid out downwards, every forward value the backward pass reads becomes an edge
    /// across the whole drawing, and Graphviz places a virtual node on every rank it crosses: for a
    /// chain of n layers O(n^2) of them (20 layers of a small MLP: minutes and gigabytes).
    std::set<NodeId> upwardNodes;
    /// The most placements (estimateLayoutPlacements) layoutGraph lets Graphviz make; 0: no
    /// limit. Over it, layoutGraph lays the graph out without edge labels (which halve the
    /// placements); still over, it throws LayoutTooLarge before Graphviz allocates anything.
    std::size_t placementBudget = 0;
    /// Above this many placements, layoutGraph draws with our own layered layout
    /// (io/layered_layout.h, linear in the drawing) instead of Graphviz, and placementBudget no
    /// longer applies; 0: always Graphviz.
    std::size_t layeredAbove = 0;
    /// Fills upwardNodes with every node of `graph` outside `forwardNodes` (BackwardGraph's).
    void layBackwardPassUpwards(const Graph& graph, const std::vector<NodeId>& forwardNodes);
};

/// The drawing category of a node, from its op's groups in ops.def (normalization wins over
/// nn, so batchnorm is a normalization). Graph outputs have their own category.
enum class NodeCategory { Input, Parameter, Constant, Elementwise, Linear, Reduction, Movement, NeuralNet,
                          Normalization, Output, Other };

NodeCategory nodeCategory(Op op);
/// "input", "parameter", "elementwise", ... (for legends).
std::string_view nodeCategoryName(NodeCategory c);
/// Fill and border colours "#rrggbb": light fills that keep black text readable.
std::string_view nodeCategoryFill(NodeCategory c);
std::string_view nodeCategoryBorder(NodeCategory c);

/// The text lines of a node's label: {op, name} for ops, {name} for inputs and parameters,
/// {"name = 0.5"} for scalar constants; plus nodeLabelsExtra's lines when options.costs.
std::vector<std::string> dotNodeLabelLines(const Graph& graph, NodeId id, const DotOptions& options = {});
/// "4×8", "scalar" for rank 0, "?" for a dynamic (negative) dimension.
std::string shapeLabel(const Shape& shape);
/// The label of an edge carrying `value`: its shape when known, prefixed by "#k " for the
/// outputs of a multi-output node; empty when nothing is known.
std::string dotEdgeLabel(const Graph& graph, ValueRef value);
/// `text` escaped for use inside a double-quoted DOT string (quotes, backslashes, newlines and
/// control characters; invalid UTF-8 bytes become U+FFFD). No surrounding quotes.
std::string dotEscape(std::string_view text);

/// DOT text of the graph (a digraph, top to bottom). DOT node ids are "n<id>" for nodes and
/// "out<k>" for graph output k; names live in the labels, so any name is safe.
std::string graphToDot(const Graph& graph, const DotOptions& options = {});

/// Lays the graph out with "dot" and writes it to `path` in `format`: "svg", "png", or any other
/// format this Graphviz build renders ("pdf", "json", ...); "dot" writes graphToDot's text as is.
/// Writes a temporary file beside `path` and renames it, so `path` is never left half written.
/// Throws Error naming the format or the file on failure.
void renderGraph(const Graph& graph, const std::string& path, const std::string& format,
                 const DotOptions& options = {});
/// As renderGraph, returning the bytes (binary for "png").
std::string renderGraphToString(const Graph& graph, const std::string& format, const DotOptions& options = {});

// ---- layout read back ----
//
// Coordinates are in points (72 per inch), origin at the top left of the drawing, y growing
// downward (Qt's convention). Graph outputs take part in the layout as pseudo nodes whose id is
// layoutOutputId(k) (negative, never kNoNode), so that a view can draw them where Graphviz put
// them; edges into them have toIndex 0. Collapsed groups are pseudo nodes layoutCollapsedId(k);
// an edge keeps the value and the node it connects (from, to, toIndex), and says in fromBox /
// toBox which drawn box it leaves or enters when that is a collapsed group.

/// Id of the pseudo node that stands for graph output `outputIndex`: -2 - outputIndex.
inline constexpr NodeId layoutOutputId(int outputIndex) { return NodeId(-2 - outputIndex); }
/// Id of the pseudo node that stands for collapsed group `groupIndex` (DotOptions::collapsedNames).
inline constexpr NodeId layoutCollapsedId(int groupIndex) { return NodeId(-1000000000 - groupIndex); }
inline constexpr bool isLayoutCollapsedId(NodeId id) { return id <= -1000000000; }
inline constexpr bool isLayoutOutputId(NodeId id) { return id <= -2 && !isLayoutCollapsedId(id); }
/// Any pseudo node: a graph output or a collapsed group.
inline constexpr bool isLayoutPseudoId(NodeId id) { return id <= -2; }
/// The output index of a pseudo node id (isLayoutOutputId(id) must hold).
inline constexpr int layoutOutputIndex(NodeId id) { return int(-2 - id); }
/// The group index of a collapsed pseudo node id (isLayoutCollapsedId(id) must hold).
inline constexpr int layoutCollapsedIndex(NodeId id) { return int(-1000000000 - id); }

struct NodeLayout {
    NodeId id = kNoNode;  // a node id, or layoutOutputId(k)
    double x = 0, y = 0;  // centre
    double width = 0, height = 0;
};

struct EdgeLayout {
    ValueRef from;
    NodeId to = kNoNode;  // a node id, or layoutOutputId(k)
    int toIndex = 0;      // which input of `to`
    /// Cubic Bézier control points from tail to head: p0, c1, c2, p1, c1, c2, p2, ... (3k+1).
    std::vector<std::pair<double, double>> points;
    /// Where the arrowhead's tip is (the spline stops short of the head node by the arrow).
    bool hasArrow = false;
    double arrowX = 0, arrowY = 0;
    /// The edge label (dotEdgeLabel) and the centre Graphviz chose for it.
    std::string label;
    double labelX = 0, labelY = 0;
    /// layoutCollapsedId(k) when the edge leaves (enters) collapsed group k, else kNoNode.
    NodeId fromBox = kNoNode, toBox = kNoNode;
};

/// A cluster (DotOptions::clusterOf) as drawn: its frame, with the label inside at the top.
struct ClusterLayout {
    int index = 0;  // into DotOptions::clusterNames
    std::string name;
    double left = 0, top = 0, width = 0, height = 0;
};

struct GraphLayout {
    std::vector<ClusterLayout> clusters;
    std::vector<NodeLayout> nodes;  // every drawn node, then the collapsed groups, then the graph outputs
    std::vector<EdgeLayout> edges;
    double width = 0, height = 0;   // bounding box of the drawing
    /// True when `cancel` was raised; the layout is then empty.
    bool cancelled = false;
    /// True when the edge labels were left out to keep within DotOptions::placementBudget.
    bool edgeLabelsDropped = false;
    /// True when drawn by the layered layout (DotOptions::layeredAbove), not by Graphviz.
    bool layered = false;
};

/// The placements a canvas may ask of Graphviz. Measured with Debian's Graphviz 2.42 on one core:
/// a 2,100-node MLP needs 11,400 (2 s), a 4,200-node one 22,800 (28 s); the backward graph of a
/// 5,600-node one 46,200 (160 s). The x-coordinate phase grows faster than quadratically.
inline constexpr std::size_t kCanvasPlacementBudget = 25000;
/// Above this many placements a canvas draws with the layered layout: about half a second of
/// Graphviz, where the layered layout takes milliseconds (bench/bench_gui.sh).
inline constexpr std::size_t kCanvasLayeredAbove = 6000;

/// What Graphviz's dot positions in its last phase, bounded before it runs: one place per node,
/// and per edge one for every rank it spans and one for every rank it crosses (twice as many
/// ranks when edges carry labels). Ranks come from a longest-path layering improved by a few
/// sweeps that move nodes towards most of their edges: a feasible ranking. On an acyclic drawing
/// whose edges all weigh the same (those we make) this bounds what dot does, since dot ranks to
/// minimize the edges' total length (exact on chains and trees). Where collapsed groups close a
/// cycle, dot first reverses edges to break it and the figure is an estimate, not a bound.
/// layoutGraph asks dot's own first phase when the figure is over budget. Time and memory of the
/// layout grow with it.
std::size_t estimateLayoutPlacements(const Graph& graph, const DotOptions& options = {});

/// The graph would need more placements than the layout's budget.
class LayoutTooLarge : public Error {
public:
    using Error::Error;
};

/// Runs the "dot" layout on graphToDot(graph, options) and reads the positions back (or, over
/// options.layeredAbove placements, the layered layout: layered set in the result). `cancel`
/// is checked before and after Graphviz runs (Graphviz itself cannot be interrupted). Safe to
/// call from any thread. Throws Error when Graphviz fails, LayoutTooLarge when the graph is over
/// options.placementBudget even without edge labels.
GraphLayout layoutGraph(const Graph& graph, const DotOptions& options = {}, const std::atomic<bool>* cancel = nullptr);

}  // namespace adj
