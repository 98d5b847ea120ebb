#include "passes/passes.h"

namespace adj {

void runDeadCodeElimination(Rewriter& rw) {
    Graph& g = rw.graph();
    std::vector<char> live(std::size_t(g.idBound()), 0);
    for (NodeId id : g.liveTopoOrder()) live[std::size_t(id)] = 1;
    std::vector<NodeId> dead;
    for (NodeId id : g.nodeIds())
        if (!live[std::size_t(id)] && g.node(id).op != Op::Input) dead.push_back(id);  // inputs are the interface
    // remove users before what they use: the cascade removes each dead node once it has no users
    std::vector<NodeId> roots;
    for (NodeId id : dead) {
        if (g.users(id).empty()) roots.push_back(id);
    }
    rw.removeDead("dead-code", roots);
}

}  // namespace adj
