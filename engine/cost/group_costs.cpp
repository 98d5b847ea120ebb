#include "cost/group_costs.h"

#include <algorithm>
#include <map>

#include "ir/group_tree.h"

namespace adj {

namespace {

struct Tally {
    std::vector<GroupCostDelta>* rows;
    std::map<std::string, std::size_t>* index;
    GroupCostDelta& row(const std::string& path, int depth) {
        auto [it, added] = index->emplace(path, rows->size());
        if (added) {
            GroupCostDelta r;
            r.group = path;
            r.depth = depth;
            rows->push_back(r);
        }
        return (*rows)[it->second];
    }
};

void count(const Graph& g, bool isAfter, Tally& tally) {
    for (NodeId id : g.liveTopoOrder()) {
        const Cost c = nodeCost(g, id);
        const std::vector<std::string> parts = groupPathComponents(nodeGroup(g.node(id)));
        auto add = [&](GroupCostDelta& r) {
            (isAfter ? r.after : r.before) += c;
            ++(isAfter ? r.nodesAfter : r.nodesBefore);
        };
        if (parts.empty()) {
            add(tally.row("", 0));
            continue;
        }
        std::string path;
        for (std::size_t k = 0; k < parts.size(); ++k) {
            path += (k ? "/" : "") + parts[k];
            add(tally.row(path, int(k)));
        }
    }
}

}  // namespace

std::vector<GroupCostDelta> groupCostDeltas(const Graph& before, const Graph& after) {
    std::vector<GroupCostDelta> rows;
    std::map<std::string, std::size_t> index;
    Tally tally{&rows, &index};
    count(before, false, tally);
    count(after, true, tally);
    // "" (the top level's loose nodes) first, then the groups as first met: a parent before its
    // children, since a path's prefixes are met before it
    std::stable_partition(rows.begin(), rows.end(), [](const GroupCostDelta& r) { return r.group.empty(); });
    return rows;
}

}  // namespace adj
