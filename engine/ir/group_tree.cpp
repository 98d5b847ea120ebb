#include "ir/group_tree.h"

#include <algorithm>
#include <map>
#include <set>

namespace adj {

std::vector<std::string> groupPathComponents(std::string_view path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size() && parts.size() < kMaxGroupDepth) {
        const std::size_t slash = path.find('/', start);
        const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
        if (end > start) parts.emplace_back(path.substr(start, end - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return parts;
}

namespace {

std::string joinPath(const std::vector<std::string>& parts, std::size_t count) {
    std::string path;
    for (std::size_t i = 0; i < count && i < parts.size(); ++i) path += (i ? "/" : "") + parts[i];
    return path;
}

}  // namespace

std::string groupLabel(std::string_view path) {
    const auto parts = groupPathComponents(path);
    return parts.empty() ? std::string() : parts.back();
}

std::string commonGroupPath(std::string_view a, std::string_view b) {
    const auto pa = groupPathComponents(a);
    const auto pb = groupPathComponents(b);
    std::size_t n = 0;
    while (n < pa.size() && n < pb.size() && pa[n] == pb[n]) ++n;
    return joinPath(pa, n);
}

std::string adjointGroupPath(std::string_view forwardPath) {
    std::string out;
    for (const std::string& part : groupPathComponents(forwardPath)) out += (out.empty() ? "d_" : "/d_") + part;
    return out;
}

bool isWithinGroup(std::string_view path, std::string_view group) {
    if (group.empty() || path.size() < group.size() || path.substr(0, group.size()) != group) return false;
    return path.size() == group.size() || path[group.size()] == '/';
}

std::string nodeGroup(const Node& n) {
    auto it = n.meta.find(kGroupKey);
    return it == n.meta.end() ? std::string() : joinPath(groupPathComponents(it->second), std::size_t(-1));
}

std::vector<bool> nodeCollapsedLevels(const Node& n) {
    const std::size_t depth = groupPathComponents(nodeGroup(n)).size();
    std::vector<bool> levels(depth, false);
    auto it = n.meta.find(kGroupCollapsedKey);
    if (it == n.meta.end() || depth == 0) return levels;
    const std::string& v = it->second;
    if (v.size() == depth) {
        for (std::size_t i = 0; i < depth; ++i) levels[i] = v[i] == '1';
    } else if (v == "1") {
        levels.back() = true;  // the one-level form: the innermost group
    }
    return levels;
}

void setNodeCollapsedLevels(Node& n, const std::vector<bool>& levels) {
    if (std::find(levels.begin(), levels.end(), true) == levels.end()) {
        n.meta.erase(kGroupCollapsedKey);
        return;
    }
    std::string v;
    for (bool b : levels) v += b ? '1' : '0';
    n.meta[kGroupCollapsedKey] = v;
}

std::string scopeOfName(std::string_view name) {
    if (name.find('/') == std::string_view::npos) return {};
    auto parts = groupPathComponents(name);
    if (!parts.empty()) parts.pop_back();
    return joinPath(parts, parts.size());
}

namespace {

/// "Relu_output_0", "BatchNormalization_output_12": the name an exporter made from an op type.
bool isOutputSuffix(std::string_view part) {
    const std::size_t at = part.rfind("_output_");
    if (at == std::string_view::npos || at == 0 || at + 8 == part.size()) return false;
    return std::all_of(part.begin() + std::ptrdiff_t(at + 8), part.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string nameWithinGroup(std::string_view name, std::string_view group) {
    const std::string label = groupLabel(group);
    if (label.empty()) return std::string(name);
    if (name.find('/') != std::string_view::npos) {
        auto parts = groupPathComponents(name);
        auto at = std::find(parts.rbegin(), parts.rend(), label);
        if (at == parts.rend()) return std::string(name);
        std::vector<std::string> rest(at.base(), parts.end());
        if (rest.size() >= 2 && isOutputSuffix(rest.back())) rest.pop_back();
        return rest.empty() ? std::string(name) : joinPath(rest, rest.size());
    }
    // dotted module paths of parameters: "net.layer1.0.bn1.weight" in "layer1.0"
    const std::string dotted = label + ".";
    for (std::size_t at = name.rfind(dotted); at != std::string_view::npos; at = at ? name.rfind(dotted, at - 1) : std::string_view::npos) {
        if ((at == 0 || name[at - 1] == '.') && at + dotted.size() < name.size()) return std::string(name.substr(at + dotted.size()));
        if (at == 0) break;
    }
    return std::string(name);
}

int GroupTree::groupOf(NodeId id) const {
    auto it = innermost.find(id);
    return it == innermost.end() ? -1 : it->second;
}

int GroupTree::find(std::string_view path) const {
    auto it = byPath.find(std::string(path));
    return it == byPath.end() ? -1 : it->second;
}

int GroupTree::collapsedAncestor(NodeId id) const {
    int outermost = -1;
    for (int g = groupOf(id); g >= 0; g = groups[std::size_t(g)].parent)
        if (groups[std::size_t(g)].collapsed) outermost = g;
    return outermost;
}

std::vector<NodeId> GroupTree::members(int g) const {
    std::vector<NodeId> out;
    std::vector<int> stack{g};
    while (!stack.empty()) {
        const Group& grp = groups[std::size_t(stack.back())];
        stack.pop_back();
        out.insert(out.end(), grp.nodes.begin(), grp.nodes.end());
        stack.insert(stack.end(), grp.children.begin(), grp.children.end());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::size_t GroupTree::visibleCount(const Graph& graph) const {
    std::size_t count = 0;
    std::set<int> boxes;
    for (NodeId id : graph.nodeIds()) {
        const int box = collapsedAncestor(id);
        if (box < 0) ++count;
        else boxes.insert(box);
    }
    return count + boxes.size();
}

GroupTree buildGroupTree(const Graph& graph) {
    GroupTree tree;
    for (NodeId id : graph.nodeIds()) {
        const Node& n = graph.node(id);
        const auto parts = groupPathComponents(nodeGroup(n));
        if (parts.empty()) continue;
        const std::vector<bool> levels = nodeCollapsedLevels(n);
        int parent = -1;
        for (std::size_t d = 0; d < parts.size(); ++d) {
            const std::string path = joinPath(parts, d + 1);
            auto [it, added] = tree.byPath.emplace(path, int(tree.groups.size()));
            if (added) {
                GroupTree::Group g;
                g.path = path;
                g.label = parts[d];
                g.parent = parent;
                g.depth = int(d);
                tree.groups.push_back(std::move(g));
                if (parent < 0) tree.roots.push_back(it->second);
                else tree.groups[std::size_t(parent)].children.push_back(it->second);
            }
            GroupTree::Group& g = tree.groups[std::size_t(it->second)];
            ++g.size;
            if (levels[d]) g.collapsed = true;
            parent = it->second;
        }
        tree.groups[std::size_t(parent)].nodes.push_back(id);
        tree.innermost[id] = parent;
    }
    return tree;
}

namespace {

/// Writes every node's collapsed levels from the tree's groups.
void writeCollapsedLevels(Graph& graph, const GroupTree& tree) {
    for (NodeId id : graph.nodeIds()) {
        Node& n = graph.node(id);
        std::vector<int> chain;
        for (int g = tree.groupOf(id); g >= 0; g = tree.groups[std::size_t(g)].parent) chain.push_back(g);
        std::reverse(chain.begin(), chain.end());
        std::vector<bool> levels;
        for (int g : chain) levels.push_back(tree.groups[std::size_t(g)].collapsed);
        setNodeCollapsedLevels(n, levels);
    }
}

void setNodeGroup(Node& n, const std::string& path) {
    if (path.empty()) n.meta.erase(kGroupKey);
    else n.meta[kGroupKey] = path;
}

}  // namespace

void tidyImportedGroups(Graph& graph) {
    const GroupTree before = buildGroupTree(graph);
    std::set<std::string> wasCollapsed;
    for (const auto& g : before.groups)
        if (g.collapsed) wasCollapsed.insert(g.path);

    // Computing nodes per group, nested ones included (sources join their users' groups below).
    std::map<std::string, std::size_t> computing;
    for (NodeId id : graph.nodeIds()) {
        const Node& n = graph.node(id);
        if (isSource(n.op)) continue;
        const auto parts = groupPathComponents(nodeGroup(n));
        for (std::size_t d = 1; d <= parts.size(); ++d) ++computing[joinPath(parts, d)];
    }
    // A group of fewer than two is dissolved; a group that holds nothing but one inner group takes
    // that group's contents (one frame, not two around the same nodes).
    std::map<std::string, std::set<std::string>> childrenOf;
    std::set<std::string> holdsNodes;
    for (NodeId id : graph.nodeIds()) {
        const Node& n = graph.node(id);
        if (isSource(n.op)) continue;
        auto parts = groupPathComponents(nodeGroup(n));
        while (!parts.empty() && computing[joinPath(parts, parts.size())] < 2) parts.pop_back();
        if (parts.empty()) continue;
        holdsNodes.insert(joinPath(parts, parts.size()));
        for (std::size_t d = 1; d < parts.size(); ++d) childrenOf[joinPath(parts, d)].insert(joinPath(parts, d + 1));
    }
    for (NodeId id : graph.nodeIds()) {
        Node& n = graph.node(id);
        if (isSource(n.op)) {
            setNodeGroup(n, {});
            n.meta.erase(kGroupCollapsedKey);
            continue;
        }
        auto parts = groupPathComponents(nodeGroup(n));
        while (!parts.empty() && computing[joinPath(parts, parts.size())] < 2) parts.pop_back();
        std::vector<std::string> kept;
        std::vector<bool> levels;
        for (std::size_t d = 1; d <= parts.size(); ++d) {
            const std::string path = joinPath(parts, d);
            const std::string parent = joinPath(parts, d - 1);
            const bool onlyChild = d > 1 && !holdsNodes.count(parent) && childrenOf[parent].size() == 1;
            if (onlyChild) {  // merged into its parent, which holds nothing else
                if (wasCollapsed.count(path) && !levels.empty()) levels.back() = true;
                continue;
            }
            kept.push_back(parts[d - 1]);
            levels.push_back(wasCollapsed.count(path) > 0);
        }
        setNodeGroup(n, joinPath(kept, kept.size()));
        setNodeCollapsedLevels(n, levels);
    }
    // Parameters and constants: the innermost group holding all their users.
    for (NodeId id : graph.nodeIds()) {
        Node& n = graph.node(id);
        if (n.op != Op::Parameter && n.op != Op::Constant) continue;
        const auto& uses = graph.users(id);
        if (uses.empty()) continue;
        std::vector<std::string> common;
        bool first = true;
        for (const Use& u : uses) {
            const auto parts = groupPathComponents(nodeGroup(graph.node(u.user)));
            if (first) {
                common = parts;
                first = false;
                continue;
            }
            std::size_t k = 0;
            while (k < common.size() && k < parts.size() && common[k] == parts[k]) ++k;
            common.resize(k);
        }
        setNodeGroup(n, joinPath(common, common.size()));
    }
    // collapsed levels of the sources follow their groups
    writeCollapsedLevels(graph, buildGroupTree(graph));
}

std::vector<std::string> collapseGroupsToFit(Graph& graph, std::size_t maxVisible) {
    GroupTree tree = buildGroupTree(graph);
    if (tree.visibleCount(graph) <= maxVisible || tree.roots.empty()) return {};
    for (int r : tree.roots) tree.groups[std::size_t(r)].collapsed = true;
    std::size_t visible = tree.visibleCount(graph);
    // Level by level: a whole level opens or none of it does, so that blocks of one kind look alike.
    std::vector<int> level = tree.roots;
    while (!level.empty()) {
        std::size_t opened = visible;
        std::vector<int> next;
        for (int g : level) {
            const auto& grp = tree.groups[std::size_t(g)];
            opened += grp.nodes.size() + grp.children.size() - 1;  // its own nodes and a box per inner group
            next.insert(next.end(), grp.children.begin(), grp.children.end());
        }
        if (opened > maxVisible) break;
        for (int g : level) tree.groups[std::size_t(g)].collapsed = false;
        for (int c : next) tree.groups[std::size_t(c)].collapsed = true;
        visible = opened;
        level = std::move(next);
    }
    writeCollapsedLevels(graph, tree);
    std::vector<std::string> collapsed;
    for (const auto& grp : tree.groups)
        if (grp.collapsed && (grp.parent < 0 || !tree.groups[std::size_t(grp.parent)].collapsed)) collapsed.push_back(grp.path);
    return collapsed;
}

}  // namespace adj
