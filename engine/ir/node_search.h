#pragma once
// Finding nodes the way a person asks for them: by a piece of the name, by op ("conv"), or by a
// scope ("layer2.1"), case-insensitively, nodes inside collapsed groups included.
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace adj {

/// The nodes matching `query`, best first: the node named exactly so, then nodes whose name
/// contains it, then nodes whose op's name contains it, then nodes whose group path (ir/group_tree.h)
/// contains it; each kind in id order, each node once. Empty for an empty query.
std::vector<NodeId> searchNodes(const Graph& graph, std::string_view query);

}  // namespace adj
