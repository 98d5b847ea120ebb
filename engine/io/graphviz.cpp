#include "io/graphviz.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <tuple>
#include <unordered_map>

#include "base/errors.h"
#include "base/files.h"
#include "io/layered_layout.h"
#include "ir/group_tree.h"

namespace adj {
namespace {

// Font and sizes of the drawing. Scene units are points, so the GUI draws with the same numbers
// (fontconfig resolves "Helvetica" for both pango and Qt).
constexpr const char* kFont = "Helvetica";
constexpr int kNodeFontSize = 13;
constexpr int kSmallFontSize = 10;
constexpr int kEdgeFontSize = 10;

// ---------------------------------------------------------------------------------------------
// Graphviz session: one process-wide lock, errors captured instead of printed.

std::mutex& graphvizMutex() {
    static std::mutex m;
    return m;
}

/// Concatenation without `"literal" + std::string&&` (GCC 12 warns falsely about it, -Wrestrict).
template <class... Parts>
std::string concat(const Parts&... parts) {
    std::string s;
    (s.append(std::string_view(parts)), ...);
    return s;
}

std::string* g_capturedErrors = nullptr;  // guarded by graphvizMutex()

int captureGraphvizError(char* message) {
    if (g_capturedErrors && message) *g_capturedErrors += message;
    return 0;
}

/// Graphviz's messages without their "Error: " prefixes, trimmed to a readable length.
std::string firstLines(const std::string& text, std::size_t maxChars = 400) {
    std::string t;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        pos = end == std::string::npos ? text.size() : end + 1;
        for (const char* prefix : {"Error: ", "Warning: "})
            if (line.rfind(prefix, 0) == 0) line.erase(0, std::string_view(prefix).size());
        if (line.empty()) continue;
        if (!t.empty()) t += "; ";
        t += line;
    }
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    if (t.size() > maxChars) t = t.substr(0, maxChars) + "...";
    return t;
}

class GraphvizSession {
public:
    GraphvizSession() : lock_(graphvizMutex()) {
        previousHandler_ = agseterrf(&captureGraphvizError);
        g_capturedErrors = &errors_;
        agreseterrors();
        gvc_ = sharedContext();
        if (!gvc_) {
            restore();
            throw Error("Graphviz: could not create a context");
        }
    }
    ~GraphvizSession() {
        if (graph_) {
            if (laidOut_) gvFreeLayout(gvc_, graph_);
            agclose(graph_);
        }
        restore();
    }
    GraphvizSession(const GraphvizSession&) = delete;
    GraphvizSession& operator=(const GraphvizSession&) = delete;

    /// Parses DOT text into this session's graph (freed with the session).
    Agraph_t* read(const std::string& dot) {
        graph_ = agmemread(dot.c_str());
        if (!graph_) throw Error(concat("Graphviz could not read the generated DOT text: ", firstLines(errors_)));
        return graph_;
    }
    void layout() {
        if (gvLayout(gvc_, graph_, "dot") != 0) throw Error(concat("Graphviz layout failed: ", firstLines(errors_)));
        laidOut_ = true;
    }
    /// Ranks the graph read last (dot's first phase only: its "phase" attribute) and returns the
    /// nodes dot's last phase would position: each node, and per edge 2 * span - 1 (a virtual
    /// node on each rank it crosses, a slack node on each it spans). Closes the graph: read()
    /// the text again to lay it out.
    std::size_t rankedPlacements() {
        char phase[] = "phase", one[] = "1";
        agattr(graph_, AGRAPH, phase, one);
        layout();
        std::size_t places = 0;
        for (Agnode_t* n = agfstnode(graph_); n; n = agnxtnode(graph_, n)) {
            ++places;
            for (Agedge_t* e = agfstout(graph_, n); e; e = agnxtout(graph_, e))
                places += 2 * std::size_t(std::max(1, std::abs(ND_rank(aghead(e)) - ND_rank(agtail(e))))) - 1;
        }
        gvFreeLayout(gvc_, graph_);
        agclose(graph_);
        graph_ = nullptr;
        laidOut_ = false;
        return places;
    }
    std::string render(const std::string& format) {
        char* data = nullptr;
        unsigned int length = 0;
        errors_.clear();
        if (gvRenderData(gvc_, graph_, format.c_str(), &data, &length) != 0 || !data) {
            if (data) gvFreeRenderData(data);
            std::string why = firstLines(errors_);
            throw Error(concat("Graphviz cannot render the format '", format, "'", why.empty() ? "" : ": ", why));
        }
        std::string out(data, length);
        gvFreeRenderData(data);
        return out;
    }

private:
    /// One context for the whole process, never freed: Graphviz 2.43's pango plugin keeps a
    /// pointer into the context's font cache across contexts (a use-after-free once a context
    /// is freed and another one made), and loading the plugins once is cheaper anyway.
    static GVC_t* sharedContext() {
        static GVC_t* context = gvContext();
        return context;
    }
    void restore() {
        agseterrf(previousHandler_);
        g_capturedErrors = nullptr;
    }
    std::unique_lock<std::mutex> lock_;
    agusererrf previousHandler_ = nullptr;
    std::string errors_;
    GVC_t* gvc_ = nullptr;
    Agraph_t* graph_ = nullptr;
    bool laidOut_ = false;
};

// ---------------------------------------------------------------------------------------------
// DOT generation

std::string dotQuoted(std::string_view text) { return concat("\"", dotEscape(text), "\""); }

std::string nodeDotId(NodeId id) {
    if (isLayoutCollapsedId(id)) return concat("grp", std::to_string(layoutCollapsedIndex(id)));
    return isLayoutOutputId(id) ? concat("out", std::to_string(layoutOutputIndex(id))) : concat("n", std::to_string(id));
}

std::string formatScalar(float v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", double(v));
    return buf;
}

std::vector<std::string> splitLines(const std::string& text) {
    std::vector<std::string> lines;
    std::string cur;
    for (char c : text) {
        if (c == '\n') {
            lines.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) lines.push_back(cur);
    return lines;
}

std::string joinLabel(const std::vector<std::string>& lines) {
    std::string label;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i) label += "\\n";
        label += dotEscape(lines[i]);
    }
    return label;
}

/// One edge of the drawing; `id` is the DOT edge id used to find it again after layout.
struct EdgeSpec {
    ValueRef from;
    NodeId to;
    int toIndex;
    std::string id;
    std::string label;
    NodeId fromBox = kNoNode, toBox = kNoNode;  // collapsed groups it leaves / enters
    bool upward = false;                        // written head -> tail (DotOptions::upwardNodes)
};

std::string clusterName(const DotOptions& options, int c) {
    return c >= 0 && std::size_t(c) < options.clusterNames.size() ? options.clusterNames[std::size_t(c)]
                                                                 : concat("group ", std::to_string(c));
}

/// The cluster framing cluster c, -1 for a top-level one (or a parent that does not exist).
int clusterParentOf(const DotOptions& options, int c) {
    if (c < 0 || std::size_t(c) >= options.clusterParent.size()) return -1;
    const int p = options.clusterParent[std::size_t(c)];
    return p >= 0 && std::size_t(p) < options.clusterNames.size() && p != c ? p : -1;
}

/// The collapsed-group box drawing a node, or kNoNode when the node is drawn itself.
NodeId collapsedBox(const DotOptions& options, NodeId id) {
    auto it = options.collapsedInto.find(id);
    if (it == options.collapsedInto.end() || it->second < 0 || std::size_t(it->second) >= options.collapsedNames.size())
        return kNoNode;
    return layoutCollapsedId(it->second);
}

std::string nodeAttributes(const Graph& graph, NodeId id, const DotOptions& options) {
    const Node& n = graph.node(id);
    NodeCategory cat = nodeCategory(n.op);
    std::string fill(nodeCategoryFill(cat));
    if (options.colourByIntensity) {
        auto it = options.nodeColours.find(id);
        if (it != options.nodeColours.end() && !it->second.empty()) fill = it->second;
    }
    std::string a = concat("label=\"", joinLabel(dotNodeLabelLines(graph, id, options)), "\"");
    switch (cat) {
    case NodeCategory::Input: a += ", shape=ellipse, style=filled"; break;
    case NodeCategory::Parameter: a += ", shape=box, style=filled"; break;
    case NodeCategory::Constant:
        a += ", shape=box, style=filled, fontsize=" + std::to_string(kSmallFontSize) +
             ", height=0.25, width=0.3, margin=\"0.06,0.03\"";
        break;
    default: a += ", shape=box, style=\"rounded,filled\""; break;
    }
    a += ", fillcolor=" + dotQuoted(fill) + ", color=" + dotQuoted(std::string(nodeCategoryBorder(cat)));
    return a;
}

std::string buildDot(const Graph& graph, const DotOptions& options, std::vector<EdgeSpec>* edgesOut) {
    std::vector<NodeId> order;
    try {
        order = graph.topoOrder();
    } catch (const std::exception&) {
        order = graph.nodeIds();  // a cycle: Graphviz draws it anyway
    }

    std::ostringstream out;
    out << "// Generated by Adjoint\n";
    out << "digraph " << dotQuoted(graph.name.empty() ? "graph" : graph.name) << " {\n";
    out << "  graph [rankdir=TB, charset=\"UTF-8\", fontname=\"" << kFont
        << "\", nodesep=0.45, ranksep=0.45, pad=0.2];\n";
    out << "  node [fontname=\"" << kFont << "\", fontsize=" << kNodeFontSize
        << ", penwidth=1.2, margin=\"0.14,0.06\"];\n";
    out << "  edge [fontname=\"" << kFont << "\", fontsize=" << kEdgeFontSize
        << ", color=\"#5f6b7a\", fontcolor=\"#37414d\", arrowsize=0.7, penwidth=1.1];\n";

    // Nodes, grouped into clusters when asked: one DOT statement per drawn node or collapsed
    // box, by the cluster it sits in (-1: none). A collapsed group's box sits in the frame of the
    // group around it (collapsedParent).
    std::map<int, std::vector<std::string>> statements;
    std::map<int, int> collapsedSize;
    for (NodeId id : order) {
        if (NodeId box = collapsedBox(options, id); box != kNoNode) {
            ++collapsedSize[layoutCollapsedIndex(box)];
            continue;
        }
        auto it = options.clusters ? options.clusterOf.find(id) : options.clusterOf.end();
        const int c = it != options.clusterOf.end() ? it->second : -1;
        statements[c].push_back(concat(dotQuoted(nodeDotId(id)), " [", nodeAttributes(graph, id, options), "];"));
    }
    for (const auto& [k, size] : collapsedSize) {
        std::vector<std::string> lines{groupLabel(options.collapsedNames[std::size_t(k)]),
                                       concat(std::to_string(size), size == 1 ? " node" : " nodes")};
        if (std::size_t(k) < options.collapsedDetails.size()) {
            std::istringstream details(options.collapsedDetails[std::size_t(k)]);
            for (std::string line; std::getline(details, line);)
                if (!line.empty()) lines.push_back(line);
        }
        const int frame = options.clusters && std::size_t(k) < options.collapsedParent.size() &&
                                  options.collapsedParent[std::size_t(k)] >= 0 &&
                                  std::size_t(options.collapsedParent[std::size_t(k)]) < options.clusterNames.size()
                              ? options.collapsedParent[std::size_t(k)]
                              : -1;
        statements[frame].push_back(concat(dotQuoted(nodeDotId(layoutCollapsedId(k))), " [label=\"", joinLabel(lines),
                                           "\", shape=box, style=\"rounded,filled,bold\", margin=\"0.3,0.08\", "
                                           "fillcolor=\"#f4f1ea\", color=\"#5b5346\"];"));
    }
    // Clusters nest (clusterParent): each is written inside its parent, and an ancestor with no
    // statement of its own is written for the sake of its children.
    std::map<int, std::vector<int>> innerClusters;
    std::set<int> drawnClusters;
    for (const auto& [c, lines] : statements)
        for (int k = c; k >= 0 && drawnClusters.insert(k).second;) {
            const int parent = clusterParentOf(options, k);
            innerClusters[parent].push_back(k);
            k = parent;
        }
    std::function<void(int, int)> writeCluster = [&](int c, int indent) {
        const std::string pad(std::size_t(indent) * 2, ' ');
        if (c >= 0) {
            out << pad << "subgraph " << dotQuoted(concat("cluster_", std::to_string(c))) << " {\n";
            out << pad << "  graph [label=" << dotQuoted(groupLabel(clusterName(options, c)))
                << ", style=\"rounded,dashed\", color=\"#8a94a3\", fontsize=" << kSmallFontSize << ", fontcolor=\"#4a5360\"];\n";
        }
        const std::string inner = c >= 0 ? pad + "  " : pad;
        if (auto it = innerClusters.find(c); it != innerClusters.end())
            for (int k : it->second) writeCluster(k, indent + (c >= 0 ? 1 : 0));
        if (auto it = statements.find(c); it != statements.end())
            for (const std::string& line : it->second) out << inner << line << "\n";
        if (c >= 0) out << pad << "}\n";
    };
    writeCluster(-1, 1);

    const auto& outputs = graph.outputs();
    for (std::size_t k = 0; k < outputs.size(); ++k) {
        NodeCategory cat = NodeCategory::Output;
        out << "  " << dotQuoted(nodeDotId(layoutOutputId(int(k)))) << " [label=" << dotQuoted(outputs[k].name)
            << ", shape=doubleoctagon, style=filled, fillcolor=" << dotQuoted(std::string(nodeCategoryFill(cat)))
            << ", color=" << dotQuoted(std::string(nodeCategoryBorder(cat))) << "];\n";
    }

    // Edges: one per node input, then one per graph output. Inside a collapsed group none; into
    // one, once per outside value.
    std::vector<EdgeSpec> edges;
    std::set<std::pair<ValueRef, NodeId>> intoBox;
    auto addEdge = [&](ValueRef v, NodeId to, int toIndex, std::string id) {
        EdgeSpec e{v, to, toIndex, std::move(id), {}, collapsedBox(options, v.node), collapsedBox(options, to)};
        if (e.fromBox != kNoNode && e.fromBox == e.toBox) return;
        if (e.toBox != kNoNode && !intoBox.insert({v, e.toBox}).second) return;
        if (options.shapesOnEdges) e.label = dotEdgeLabel(graph, v);
        e.upward = e.fromBox == kNoNode && e.toBox == kNoNode && options.upwardNodes.count(v.node) && options.upwardNodes.count(to);
        edges.push_back(std::move(e));
    };
    for (NodeId id : order) {
        const Node& n = graph.node(id);
        for (std::size_t i = 0; i < n.inputs.size(); ++i) {
            ValueRef v = n.inputs[i];
            if (!graph.contains(v.node)) continue;  // a dangling input (being edited)
            addEdge(v, id, int(i),
                    concat("e", std::to_string(v.node), "_", std::to_string(v.port), "_", std::to_string(id), "_",
                           std::to_string(i)));
        }
    }
    for (std::size_t k = 0; k < outputs.size(); ++k) {
        ValueRef v = outputs[k].value;
        if (!graph.contains(v.node)) continue;
        addEdge(v, layoutOutputId(int(k)), 0,
                concat("e", std::to_string(v.node), "_", std::to_string(v.port), "_out", std::to_string(k)));
    }
    for (const EdgeSpec& e : edges) {
        const std::string tail = dotQuoted(nodeDotId(e.fromBox != kNoNode ? e.fromBox : e.from.node));
        const std::string head = dotQuoted(nodeDotId(e.toBox != kNoNode ? e.toBox : e.to));
        out << "  " << (e.upward ? head : tail) << " -> " << (e.upward ? tail : head) << " [";
        if (e.upward) out << "dir=back, ";
        if (!e.label.empty()) out << "label=" << dotQuoted(e.label) << ", ";
        out << "id=" << dotQuoted(e.id) << "];\n";
    }
    out << "}\n";
    if (edgesOut) *edgesOut = std::move(edges);
    return out.str();
}

/// base/files.h's atomic write, with this file's own wording of its errors.
void writeRenderedFile(const std::string& path, const std::string& bytes) {
    try {
        writeFileAtomically(path, bytes);
    } catch (const FileError& e) {
        if (e.step() == FileError::Step::Create) throw Error("cannot write '" + path + "': cannot create a file in its folder");
        if (e.step() == FileError::Step::Replace) throw Error("cannot write '" + path + "': " + e.reason());
        throw Error("cannot write '" + path + "': write failed (disk full?)");
    }
}

bool isCancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(std::memory_order_relaxed); }

/// estimateLayoutPlacements on the edges buildDot wrote (an upward edge counts as written).
std::size_t estimatePlacements(const std::vector<EdgeSpec>& edges, std::size_t drawnNodes, bool labels) {
    std::unordered_map<NodeId, std::size_t> index;
    std::vector<std::pair<std::size_t, std::size_t>> arcs;  // tail, head as in the DOT text
    auto at = [&](NodeId id) { return index.try_emplace(id, index.size()).first->second; };
    for (const EdgeSpec& e : edges) {
        const NodeId from = e.fromBox != kNoNode ? e.fromBox : e.from.node, to = e.toBox != kNoNode ? e.toBox : e.to;
        const std::size_t a = at(from), b = at(to);
        if (a != b) arcs.emplace_back(e.upward ? b : a, e.upward ? a : b);
    }
    const std::size_t n = index.size();
    std::vector<std::vector<std::size_t>> out(n), in(n);
    for (const auto& [a, b] : arcs) {
        out[a].push_back(b);
        in[b].push_back(a);
    }
    // Kahn's order; nodes on a cycle (Graphviz reverses one of its edges) come last.
    std::vector<std::size_t> order, waiting(n);
    for (std::size_t v = 0; v < n; ++v)
        if (!(waiting[v] = in[v].size())) order.push_back(v);
    for (std::size_t k = 0; k < order.size(); ++k)
        for (std::size_t w : out[order[k]])
            if (!--waiting[w]) order.push_back(w);
    std::vector<char> placed(n, 0);
    for (std::size_t v : order) placed[v] = 1;
    for (std::size_t v = 0; v < n; ++v)
        if (!placed[v]) order.push_back(v);
    // Longest-path ranks, then a few sweeps that move each node to the end of its slack where
    // more of its edges are (a leaf follows its one parent, a lone source its one child). Every
    // step keeps the ranking feasible and shortens the edges' total length or keeps it.
    auto leaf = [&](std::size_t v) { return out[v].empty() && in[v].size() == 1; };
    auto root = [&](std::size_t v) { return in[v].empty() && out[v].size() == 1; };
    std::vector<std::int64_t> rank(n, 0);
    for (std::size_t v : order)
        for (std::size_t u : in[v]) rank[v] = std::max(rank[v], rank[u] + 1);
    for (int sweep = 0; sweep < 3; ++sweep) {
        for (auto it = order.rbegin(); it != order.rend(); ++it) {
            const std::size_t v = *it;
            if (out[v].size() < in[v].size()) continue;
            std::int64_t hi = INT64_MAX;
            for (std::size_t w : out[v])
                if (!leaf(w)) hi = std::min(hi, rank[w] - 1);
            if (hi != INT64_MAX) rank[v] = hi;
        }
        for (std::size_t v : order) {
            if (in[v].size() <= out[v].size()) continue;
            std::int64_t lo = INT64_MIN;
            for (std::size_t u : in[v])
                if (!root(u)) lo = std::max(lo, rank[u] + 1);
            if (lo != INT64_MIN) rank[v] = lo;
        }
        for (std::size_t v : order) {
            if (leaf(v)) rank[v] = rank[in[v].front()] + 1;
            else if (root(v)) rank[v] = rank[out[v].front()] - 1;
        }
    }
    // One place per node; per edge one per rank it spans (its slack node) and one per rank it
    // crosses (virtual nodes); labels double the ranks.
    std::size_t places = std::max(drawnNodes, n);
    for (const auto& [a, b] : arcs) {
        const std::size_t span = std::size_t(std::max<std::int64_t>(1, std::llabs(rank[b] - rank[a]))) * (labels ? 2 : 1);
        places += 2 * span - 1;
    }
    return places;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string shapeLabel(const Shape& shape) {
    if (shape.empty()) return "scalar";
    std::string s;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += "\u00d7";
        s += shape[i] < 0 ? "?" : std::to_string(shape[i]);
    }
    return s;
}

std::string dotEdgeLabel(const Graph& graph, ValueRef value) {
    if (!graph.contains(value.node)) return {};
    const Node& n = graph.node(value.node);
    const std::string port = n.numOutputs() > 1 ? concat("#", std::to_string(value.port)) : std::string();
    if (value.port < 0 || std::size_t(value.port) >= n.outputs.size()) return port;
    const ValueType& t = n.outputs[std::size_t(value.port)];
    // a value that is not float32 says its type (ids, masks, shapes): "i64 4×16"
    const std::string shape = (t.dtype != DType::F32 ? std::string(dtypeName(t.dtype)) + " " : std::string()) + shapeLabel(t.shape);
    return port.empty() ? shape : port + " " + shape;
}

std::vector<std::string> dotNodeLabelLines(const Graph& graph, NodeId id, const DotOptions& options) {
    const Node& n = graph.node(id);
    std::vector<std::string> lines;
    // inside a group's frame, the name without the scopes the frame already says
    std::string name = n.name;
    if (auto c = options.clusterOf.find(id); options.clusters && c != options.clusterOf.end() && c->second >= 0 &&
                                             std::size_t(c->second) < options.clusterNames.size())
        name = nameWithinGroup(n.name, options.clusterNames[std::size_t(c->second)]);
    if (n.op == Op::Input || n.op == Op::Parameter) {
        lines.push_back(name);
    } else if (n.op == Op::Constant) {
        if (n.value.defined() && n.value.numel() == 1 && n.value.dtype() == DType::F32)
            lines.push_back(name + " = " + formatScalar(n.value.flatAt(0)));
        else
            lines.push_back(name);
    } else {
        lines.push_back(std::string(opName(n.op)));
        lines.push_back(name);
    }
    if (options.costs) {
        auto it = options.nodeLabelsExtra.find(id);
        if (it != options.nodeLabelsExtra.end())
            for (auto& l : splitLines(it->second)) lines.push_back(l);
    }
    return lines;
}

std::string dotEscape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c == '"') out += "\\\"";
            else if (c == '\\') out += "\\\\";
            else if (c == '\n') out += "\\n";
            else if (c < 0x20 || c == 0x7f) out += ' ';
            else out += char(c);
            ++i;
            continue;
        }
        // A UTF-8 sequence: copy it when well formed, otherwise one replacement character per byte.
        std::size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = len != 0 && i + len <= n;
        for (std::size_t k = 1; ok && k < len; ++k) ok = (s[i + k] & 0xC0) == 0x80;
        if (ok) {
            std::uint32_t cp = c & (0x7F >> len);
            for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
            static constexpr std::uint32_t minCp[5] = {0, 0, 0x80, 0x800, 0x10000};
            ok = cp >= minCp[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        }
        if (ok) {
            out.append(reinterpret_cast<const char*>(s + i), len);
            i += len;
        } else {
            out += "\uFFFD";
            ++i;
        }
    }
    return out;
}

void DotOptions::layBackwardPassUpwards(const Graph& graph, const std::vector<NodeId>& forwardNodes) {
    const std::set<NodeId> forward(forwardNodes.begin(), forwardNodes.end());
    upwardNodes.clear();
    for (NodeId id : graph.nodeIds())
        if (!forward.count(id)) upwardNodes.insert(id);
}

std::string graphToDot(const Graph& graph, const DotOptions& options) { return buildDot(graph, options, nullptr); }

std::string renderGraphToString(const Graph& graph, const std::string& format, const DotOptions& options) {
    std::string dot = buildDot(graph, options, nullptr);
    if (format == "dot") return dot;
    GraphvizSession session;
    session.read(dot);
    session.layout();
    return session.render(format);
}

void renderGraph(const Graph& graph, const std::string& path, const std::string& format, const DotOptions& options) {
    writeRenderedFile(path, renderGraphToString(graph, format, options));
}

std::size_t estimateLayoutPlacements(const Graph& graph, const DotOptions& options) {
    std::vector<EdgeSpec> edges;
    buildDot(graph, options, &edges);
    return estimatePlacements(edges, graph.nodeCount() + graph.outputs().size(), options.shapesOnEdges);
}

namespace {

/// The drawing's boxes with sizes estimated from their labels (Helvetica's mean advance: about
/// 0.55 of the font size), laid out by layeredLayout.
GraphLayout layeredDrawing(const Graph& graph, const DotOptions& options, const std::vector<EdgeSpec>& specs) {
    auto textWidth = [](const std::vector<std::string>& lines, double fontSize) {
        std::size_t longest = 0;
        for (const auto& l : lines) longest = std::max(longest, l.size());
        return double(longest) * fontSize * 0.58;
    };
    std::vector<LayeredBox> boxes;
    std::map<int, int> collapsedSize;
    for (NodeId id : graph.nodeIds()) {
        if (NodeId box = collapsedBox(options, id); box != kNoNode) {
            ++collapsedSize[layoutCollapsedIndex(box)];
            continue;
        }
        const auto lines = dotNodeLabelLines(graph, id, options);
        const bool constant = graph.node(id).op == Op::Constant;
        const double font = constant ? kSmallFontSize : kNodeFontSize;
        auto c = options.clusters ? options.clusterOf.find(id) : options.clusterOf.end();
        boxes.push_back({id, textWidth(lines, font) + (constant ? 10 : 24), double(lines.size()) * font * 1.25 + (constant ? 6 : 12),
                         c != options.clusterOf.end() ? c->second : -1});
    }
    for (const auto& [k, size] : collapsedSize) {
        std::vector<std::string> lines{groupLabel(options.collapsedNames[std::size_t(k)]), std::to_string(size) + " nodes"};
        if (std::size_t(k) < options.collapsedDetails.size()) {
            std::istringstream details(options.collapsedDetails[std::size_t(k)]);
            for (std::string line; std::getline(details, line);) lines.push_back(line);
        }
        const int frame = std::size_t(k) < options.collapsedParent.size() ? options.collapsedParent[std::size_t(k)] : -1;
        boxes.push_back({layoutCollapsedId(k), textWidth(lines, kNodeFontSize) + 40, double(lines.size()) * kNodeFontSize * 1.25 + 16,
                         options.clusters ? frame : -1});
    }
    for (std::size_t k = 0; k < graph.outputs().size(); ++k)
        boxes.push_back({layoutOutputId(int(k)), textWidth({graph.outputs()[k].name}, kNodeFontSize) + 44, 36, -1});
    std::vector<LayeredEdge> edges;
    edges.reserve(specs.size());
    for (const EdgeSpec& spec : specs) {
        LayeredEdge e;
        e.edge.from = spec.from;
        e.edge.to = spec.to;
        e.edge.toIndex = spec.toIndex;
        e.edge.label = spec.label;
        e.edge.fromBox = spec.fromBox;
        e.edge.toBox = spec.toBox;
        e.tail = spec.fromBox != kNoNode ? spec.fromBox : spec.from.node;
        e.head = spec.toBox != kNoNode ? spec.toBox : spec.to;
        edges.push_back(std::move(e));
    }
    std::vector<std::string> names = options.clusters ? options.clusterNames : std::vector<std::string>{};
    return layeredLayout(boxes, std::move(edges), names, options.clusterParent);
}

}  // namespace

GraphLayout layoutGraph(const Graph& graph, const DotOptions& requested, const std::atomic<bool>* cancel) {
    GraphLayout result;
    if (isCancelled(cancel)) {
        result.cancelled = true;
        return result;
    }
    DotOptions options = requested;
    std::vector<EdgeSpec> edges;
    std::string dot = buildDot(graph, options, &edges);

    GraphvizSession session;
    if (isCancelled(cancel)) {  // the wait for the lock may have been long
        result.cancelled = true;
        return result;
    }
    // Within budget by the upper bound, or by dot's own ranks (its first phase, quick) when the
    // bound is over; over even then, without edge labels; over again, refused.
    auto placements = [&] {
        const std::size_t bound = estimatePlacements(edges, graph.nodeCount() + graph.outputs().size(), options.shapesOnEdges);
        if (bound <= options.placementBudget) return bound;
        session.read(dot);
        return session.rankedPlacements();
    };
    if (options.layeredAbove) {
        // far over: no need to ask dot's ranking (itself seconds on tens of thousands of nodes)
        const std::size_t bound = estimatePlacements(edges, graph.nodeCount() + graph.outputs().size(), options.shapesOnEdges);
        if (bound > 4 * options.layeredAbove || (bound > options.layeredAbove && placements() > options.layeredAbove)) {
            if (isCancelled(cancel)) {
                result.cancelled = true;
                return result;
            }
            return layeredDrawing(graph, options, edges);
        }
    }
    if (options.placementBudget) {
        std::size_t need = placements();
        if (need > options.placementBudget && options.shapesOnEdges) {
            options.shapesOnEdges = false;
            result.edgeLabelsDropped = true;
            dot = buildDot(graph, options, &edges);
            need = placements();
        }
        if (need > options.placementBudget)
            throw LayoutTooLarge(concat("too large to lay out: Graphviz would place ", std::to_string(need),
                                        " nodes and edge bends (", std::to_string(graph.nodeCount()),
                                        " nodes, and one for every rank an edge crosses), over the budget of ",
                                        std::to_string(options.placementBudget),
                                        "; collapse groups, or export the drawing with adjoint-cli export"));
        if (isCancelled(cancel)) {
            result.cancelled = true;
            return result;
        }
    }
    Agraph_t* g = session.read(dot);
    session.layout();
    if (isCancelled(cancel)) {
        result.cancelled = true;
        return result;
    }

    const boxf bb = GD_bb(g);
    const double x0 = bb.LL.x, top = bb.UR.y;
    result.width = bb.UR.x - bb.LL.x;
    result.height = bb.UR.y - bb.LL.y;
    auto at = [&](pointf p) { return std::pair<double, double>{p.x - x0, top - p.y}; };

    auto addNode = [&](NodeId id) {
        std::string name = nodeDotId(id);
        Agnode_t* n = agnode(g, name.data(), 0);
        if (!n) return;
        auto [x, y] = at(ND_coord(n));
        result.nodes.push_back({id, x, y, ND_width(n) * 72.0, ND_height(n) * 72.0});
    };
    for (NodeId id : graph.nodeIds()) addNode(id);  // (members of collapsed groups are not in the DOT graph)
    for (std::size_t k = 0; k < options.collapsedNames.size(); ++k) addNode(layoutCollapsedId(int(k)));
    for (std::size_t k = 0; k < graph.outputs().size(); ++k) addNode(layoutOutputId(int(k)));

    // Clusters, outer ones first (a nested cluster is a subgraph of its parent's subgraph).
    std::function<void(Agraph_t*)> readClusters = [&](Agraph_t* parent) {
        for (Agraph_t* sub = agfstsubg(parent); sub; sub = agnxtsubg(sub)) {
            const std::string subName = agnameof(sub);
            if (subName.rfind("cluster_", 0) != 0) continue;
            const int c = std::atoi(subName.c_str() + 8);
            const boxf cb = GD_bb(sub);
            ClusterLayout cl;
            cl.index = c;
            cl.name = clusterName(options, c);
            std::tie(cl.left, cl.top) = at(pointf{cb.LL.x, cb.UR.y});
            cl.width = cb.UR.x - cb.LL.x;
            cl.height = cb.UR.y - cb.LL.y;
            result.clusters.push_back(std::move(cl));
            readClusters(sub);
        }
    };
    if (options.clusters) readClusters(g);

    std::map<std::string, Agedge_t*> byId;
    char idAttr[] = "id";
    for (Agnode_t* n = agfstnode(g); n; n = agnxtnode(g, n))
        for (Agedge_t* e = agfstout(g, n); e; e = agnxtout(g, e)) byId[agget(e, idAttr) ? agget(e, idAttr) : ""] = e;

    for (const EdgeSpec& spec : edges) {
        EdgeLayout el;
        el.from = spec.from;
        el.to = spec.to;
        el.toIndex = spec.toIndex;
        el.label = spec.label;
        el.fromBox = spec.fromBox;
        el.toBox = spec.toBox;
        auto it = byId.find(spec.id);
        if (it != byId.end()) {
            Agedge_t* e = it->second;
            if (const splines* spl = ED_spl(e)) {
                for (int b = 0; b < spl->size; ++b) {
                    const bezier& bz = spl->list[b];
                    // Joined pieces share their end points: skip the repeated one.
                    for (int p = (el.points.empty() ? 0 : 1); p < bz.size; ++p) el.points.push_back(at(bz.list[p]));
                    // An upward edge's arrow (dir=back) is at the start of Graphviz's spline.
                    if (spec.upward ? bz.sflag : bz.eflag) {
                        el.hasArrow = true;
                        std::tie(el.arrowX, el.arrowY) = at(spec.upward ? bz.sp : bz.ep);
                    }
                }
                // Graphviz's spline runs from the DOT tail: for an upward edge, from our head.
                if (spec.upward) std::reverse(el.points.begin(), el.points.end());
            }
            if (const textlabel_t* lab = ED_label(e)) std::tie(el.labelX, el.labelY) = at(lab->pos);
        }
        result.edges.push_back(std::move(el));
    }
    return result;
}

}  // namespace adj

// Pango, which Graphviz uses to measure and draw text, leaves fontconfig's caches unreachable at
// exit, and Graphviz 2.43 itself leaks a few small blocks from its own allocator (gmalloc) in its
// layout and render plugins, with every graph freed on our side (agclose, gvFreeLayout,
// gvFreeRenderData). Tell LeakSanitizer (ASan builds only) that those are not ours to fix.
#if defined(__SANITIZE_ADDRESS__)
#define ADJ_GRAPHVIZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ADJ_GRAPHVIZ_ASAN 1
#endif
#endif
#ifdef ADJ_GRAPHVIZ_ASAN
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\nleak:libgvc.so\n"; }
#endif
