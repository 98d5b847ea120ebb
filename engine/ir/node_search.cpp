#include "ir/node_search.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "ir/group_tree.h"

namespace adj {

namespace {

std::string lowered(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

std::vector<NodeId> searchNodes(const Graph& graph, std::string_view query) {
    std::string q = lowered(query);
    while (!q.empty() && std::isspace(static_cast<unsigned char>(q.front()))) q.erase(q.begin());
    while (!q.empty() && std::isspace(static_cast<unsigned char>(q.back()))) q.pop_back();
    if (q.empty()) return {};
    std::vector<NodeId> exact, inName, byOp, inScope;
    for (NodeId id : graph.nodeIds()) {
        const Node& n = graph.node(id);
        const std::string name = lowered(n.name);
        if (name == q) exact.push_back(id);
        else if (name.find(q) != std::string::npos) inName.push_back(id);
        else if (lowered(opName(n.op)).find(q) != std::string::npos) byOp.push_back(id);
        else if (lowered(nodeGroup(n)).find(q) != std::string::npos) inScope.push_back(id);
    }
    std::vector<NodeId> out = std::move(exact);
    for (auto* part : {&inName, &byOp, &inScope}) out.insert(out.end(), part->begin(), part->end());
    return out;
}

}  // namespace adj
