#pragma once
// What each group (a model's module, ir/group_tree.h) costs in two graphs, matched by path:
// the cost delta per group that the compare view and `adjoint-cli diff` show beside the node
// diff. A node counts in its group and in every group around it; nodes in no group count under
// the path "" (the graph's top level). Only the nodes the outputs need are counted, as in
// graphCost.
#include <cstddef>
#include <string>
#include <vector>

#include "cost/cost_model.h"
#include "ir/graph.h"

namespace adj {

struct GroupCostDelta {
    std::string group;  // the path, "" for nodes in no group
    int depth = 0;      // 0 for a top-level group (and for "")
    Cost before, after;
    std::size_t nodesBefore = 0, nodesAfter = 0;
};

/// One row per group path found in either graph (both verified), parents before their children
/// in the order of first appearance; "" first when some node is in no group.
std::vector<GroupCostDelta> groupCostDeltas(const Graph& before, const Graph& after);

}  // namespace adj
