#pragma once
// Nested groups of nodes: the name-scope hierarchy of an imported model (PyTorch's module paths,
// ONNX names such as "/layer1/layer1.0/conv1/Conv") and the groups a user makes in the editor.
//
// A node's group is its meta "group": a path of scopes separated by '/' ("layer1/layer1.0"); the
// node belongs to that group and to every group its path passes through ("layer1"). Which groups
// are drawn collapsed is the nodes' meta "group_collapsed": one '0' or '1' per level of the path,
// outermost first ("10": "layer1" collapsed, "layer1/layer1.0" open). A lone "1" on a deeper path
// is the one-level form older files wrote: the innermost group collapsed. Everything here is
// node metadata: it travels through save, load, copy, undo and the optimizer's rewrites without
// changing what the graph computes.
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"

namespace adj {

inline constexpr const char* kGroupKey = "group";
inline constexpr const char* kGroupCollapsedKey = "group_collapsed";

/// Groups nest at most this deep; deeper scopes of a name are ignored (a hostile file's name of
/// thousands of '/' costs no more than a real one's).
inline constexpr std::size_t kMaxGroupDepth = 32;

/// "a/b/c" -> {"a", "b", "c"}; empty components are dropped, and those past kMaxGroupDepth.
std::vector<std::string> groupPathComponents(std::string_view path);
/// The last component of a path: what a frame or a collapsed box is labelled with.
std::string groupLabel(std::string_view path);
/// True when `path` is `group` or lies inside it ("a/b" is within "a", "ab" is not).
bool isWithinGroup(std::string_view path, std::string_view group);
/// The node's group path ("" when in none).
std::string nodeGroup(const Node& n);
/// Which levels of the node's group path are collapsed, outermost first (one per level).
std::vector<bool> nodeCollapsedLevels(const Node& n);
/// Writes the node's collapsed levels (erases the key when none is collapsed).
void setNodeCollapsedLevels(Node& n, const std::vector<bool>& levels);

/// The innermost group holding both paths ("a/b/c" and "a/b/d" -> "a/b"; "" when none).
std::string commonGroupPath(std::string_view a, std::string_view b);

/// The group of the nodes that compute a group's adjoint in a backward graph: the forward path
/// with each scope marked as its adjoint, "layer1/layer1.0" -> "d_layer1/d_layer1.0" (the backward
/// nodes' names read "d_<node>." the same way). A backward graph's groups mirror the forward's.
std::string adjointGroupPath(std::string_view forwardPath);

/// The scope path a node name carries: "/layer1/layer1.0/conv1/Conv" and
/// "layer1/layer1.0/conv1/Conv_output_0" give "layer1/layer1.0/conv1" (the last component names
/// the op itself); a name without '/' gives "".
std::string scopeOfName(std::string_view name);

/// A node's name as read inside the frame of its group: the scopes the frame already says are
/// left out ("/net/layer1/layer1.0/relu_1/Relu_output_0" in "net/layer1/layer1.0" reads "relu_1",
/// "net.layer1.0.bn1.weight" reads "bn1.weight"); the name itself when it does not lie in the group.
std::string nameWithinGroup(std::string_view name, std::string_view group);

/// The groups of a graph as a tree.
struct GroupTree {
    struct Group {
        std::string path;   // "layer1/layer1.0"
        std::string label;  // "layer1.0"
        int parent = -1;
        int depth = 0;                // 0 for a top-level group
        std::vector<int> children;    // in order of first appearance
        std::vector<NodeId> nodes;    // direct members, in id order
        std::size_t size = 0;         // members, those of nested groups included
        bool collapsed = false;       // drawn as one box (when no enclosing group is)
    };
    std::vector<Group> groups;  // a parent always before its children
    std::vector<int> roots;
    /// The node's innermost group, -1 when it is in none.
    int groupOf(NodeId id) const;
    /// The group with this path, -1 when there is none.
    int find(std::string_view path) const;
    /// The outermost collapsed group holding the node (what draws it), -1 when it is drawn itself.
    int collapsedAncestor(NodeId id) const;
    /// Every node of group g and of the groups inside it, in id order.
    std::vector<NodeId> members(int g) const;
    /// The nodes drawn: nodes outside every collapsed group, plus one box per outermost collapsed group.
    std::size_t visibleCount(const Graph& graph) const;

    std::unordered_map<NodeId, int> innermost;
    std::unordered_map<std::string, int> byPath;
};

GroupTree buildGroupTree(const Graph& graph);

/// Tidies the groups an importer wrote from names: a group holding fewer than two nodes in all is
/// dissolved into its parent (a scope per op would only add frames), a group holding nothing but
/// one inner group takes that group's contents (features.1 around features.1.0), and each parameter and
/// constant joins the innermost group that holds all its users, so that a collapsed block takes its
/// weights with it. Leaves collapsed levels consistent with the shortened paths (none collapsed).
void tidyImportedGroups(Graph& graph);

/// Collapses groups so that at most `maxVisible` boxes are drawn, when the drawing is larger:
/// every top-level group collapsed, then one level of the tree after another opened, a whole level
/// at a time (blocks of one kind look alike), while the drawing stays within `maxVisible`.
/// Does nothing when the drawing already fits. Returns the groups left collapsed (outermost).
std::vector<std::string> collapseGroupsToFit(Graph& graph, std::size_t maxVisible);

/// The drawing's size above which opening a graph collapses its outer groups: about what a
/// canvas shows readably at once (a ResNet-18 opens on its stem and eight blocks).
inline constexpr std::size_t kOpenCollapsedAbove = 100;

}  // namespace adj
