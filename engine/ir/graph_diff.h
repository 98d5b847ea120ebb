#pragma once
// What changed between two graphs (typically a model and its optimized form, or two versions of
// it): nodes are matched by name first, then, for those left, by structure (the same op and
// attributes reading matched values; sources by op, shape and values), so that a rename is not a
// removal and an addition. A matched node is changed when its op, attributes, inputs, output
// shapes or values differ. Both graphs must have been through shape inference (verifyGraph).
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"

namespace adj {

struct NodeChange {
    std::string name;               // in the second graph
    std::string formerName;         // in the first: differs when the node was renamed
    std::vector<std::string> what;  // "op relu -> tanh", "attributes", "inputs", "shape [2, 3] -> [3, 2]", "values", "renamed from x"
    NodeId before = kNoNode, after = kNoNode;
};

struct GraphDiff {
    std::vector<std::string> added;    // nodes of the second graph with no match, in its topological order
    std::vector<std::string> removed;  // nodes of the first graph with no match, in its topological order
    std::vector<NodeChange> changed;   // matched nodes that differ, in the second graph's order
    std::vector<std::pair<NodeId, NodeId>> matched;  // every match (first graph's id, second's)

    bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

GraphDiff diffGraphs(const Graph& before, const Graph& after);

}  // namespace adj
