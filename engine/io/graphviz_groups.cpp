// A graph's nested groups (ir/group_tree.h) as drawing options (io/graphviz.h): each outermost
// collapsed group one box, each open group a frame inside its parent's.
#include <functional>
#include <map>

#include "io/graphviz.h"
#include "ir/group_tree.h"

namespace adj {

void DotOptions::addGroups(const Graph& graph, GroupDrawing drawing) {
    const GroupTree tree = buildGroupTree(graph);
    std::map<int, int> clusterIndex, collapsedIndex;  // group -> index
    std::function<int(int)> clusterFor = [&](int g) {
        if (auto it = clusterIndex.find(g); it != clusterIndex.end()) return it->second;
        const auto& grp = tree.groups[std::size_t(g)];
        const int parent = grp.parent >= 0 ? clusterFor(grp.parent) : -1;
        const int k = int(clusterNames.size());
        clusterNames.push_back(grp.path);
        clusterParent.resize(clusterNames.size(), -1);
        clusterParent[std::size_t(k)] = parent;
        clusterIndex[g] = k;
        return k;
    };
    for (NodeId id : graph.nodeIds()) {
        if (const int box = drawing != GroupDrawing::FramesOnly ? tree.collapsedAncestor(id) : -1; box >= 0) {
            auto [it, added] = collapsedIndex.emplace(box, int(collapsedNames.size()));
            if (added) {
                const int parent = tree.groups[std::size_t(box)].parent;
                collapsedNames.push_back(tree.groups[std::size_t(box)].path);
                collapsedParent.resize(collapsedNames.size(), -1);
                collapsedParent.back() = parent >= 0 && drawing != GroupDrawing::BoxesOnly ? clusterFor(parent) : -1;
            }
            collapsedInto[id] = it->second;
        } else if (const int g = tree.groupOf(id); g >= 0 && drawing != GroupDrawing::BoxesOnly) {
            clusterOf[id] = clusterFor(g);
        }
    }
}

}  // namespace adj
