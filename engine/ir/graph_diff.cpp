#include "ir/graph_diff.h"

#include <map>
#include <optional>
#include <tuple>

namespace adj {

namespace {

bool sameValues(const Tensor& x, const Tensor& y) {
    if (x.defined() != y.defined()) return false;
    if (!x.defined()) return true;
    return x.shape() == y.shape() && x.toVector() == y.toVector();
}

std::vector<Shape> outputShapes(const Node& n) {
    std::vector<Shape> s;
    for (const ValueType& t : n.outputs) s.push_back(t.shape);
    return s;
}

std::string shapesText(const std::vector<Shape>& shapes) {
    std::string s;
    for (const Shape& x : shapes) s += (s.empty() ? "" : ", ") + shapeToString(x);
    return s.empty() ? "[]" : s;
}

class Matcher {
public:
    Matcher(const Graph& a, const Graph& b) : a_(a), b_(b) {}

    GraphDiff run() {
        const std::vector<NodeId> orderA = a_.topoOrder(), orderB = b_.topoOrder();
        for (NodeId ib : orderB)  // by name
            if (auto ia = a_.findNode(b_.node(ib).name)) link(*ia, ib);
        // by structure, in topological order so that inputs are matched before their users: the
        // candidates are the unmatched nodes of the first graph with the same op reading the same
        // values (sources: the same op and shape), looked up by that key
        std::multimap<Key, NodeId> candidates;
        for (NodeId ia : orderA)
            if (!bOf_.count(ia)) candidates.emplace(keyOf(a_.node(ia), a_.node(ia).inputs), ia);
        for (NodeId ib : orderB) {
            if (aOf_.count(ib)) continue;
            const Node& nb = b_.node(ib);
            std::vector<ValueRef> inputs;
            bool mapped = true;
            for (const ValueRef& v : nb.inputs) {
                const auto w = inFirst(v);
                mapped = mapped && w.has_value();
                if (w) inputs.push_back(*w);
            }
            if (!mapped) continue;
            const auto [first, last] = candidates.equal_range(keyOf(nb, inputs));
            for (auto it = first; it != last; ++it)
                if (!bOf_.count(it->second) && sameStructure(it->second, ib)) {
                    link(it->second, ib);
                    break;
                }
        }
        GraphDiff d;
        for (NodeId ia : orderA)
            if (!bOf_.count(ia)) d.removed.push_back(a_.node(ia).name);
        for (NodeId ib : orderB) {
            auto it = aOf_.find(ib);
            if (it == aOf_.end()) {
                d.added.push_back(b_.node(ib).name);
                continue;
            }
            d.matched.emplace_back(it->second, ib);
            NodeChange c = compare(it->second, ib);
            if (!c.what.empty()) d.changed.push_back(std::move(c));
        }
        return d;
    }

private:
    /// The op, the values read (in the first graph's ids) and, for sources, the shape.
    using Key = std::tuple<int, std::vector<std::pair<NodeId, int>>, Shape>;
    static Key keyOf(const Node& n, const std::vector<ValueRef>& inputs) {
        std::vector<std::pair<NodeId, int>> in;
        for (const ValueRef& v : inputs) in.emplace_back(v.node, v.port);
        return {int(n.op), std::move(in), isSource(n.op) ? n.declaredShape : Shape{}};
    }

    void link(NodeId ia, NodeId ib) {
        aOf_[ib] = ia;
        bOf_[ia] = ib;
    }

    /// The value of the first graph that `v` (of the second) corresponds to, when its producer is matched.
    std::optional<ValueRef> inFirst(ValueRef v) const {
        auto it = aOf_.find(v.node);
        if (it == aOf_.end()) return std::nullopt;
        return ValueRef{it->second, v.port};
    }

    bool sameInputs(const Node& na, const Node& nb) const {
        if (na.inputs.size() != nb.inputs.size()) return false;
        for (std::size_t k = 0; k < na.inputs.size(); ++k) {
            const auto v = inFirst(nb.inputs[k]);
            if (!v || !(*v == na.inputs[k])) return false;
        }
        return true;
    }

    bool sameStructure(NodeId ia, NodeId ib) const {
        const Node &na = a_.node(ia), &nb = b_.node(ib);
        if (na.op != nb.op || !(na.attrs == nb.attrs)) return false;
        if (isSource(na.op)) return na.declaredShape == nb.declaredShape && na.declaredDType == nb.declaredDType && outputShapes(na) == outputShapes(nb) && sameValues(na.value, nb.value);
        return sameInputs(na, nb);
    }

    NodeChange compare(NodeId ia, NodeId ib) const {
        const Node &na = a_.node(ia), &nb = b_.node(ib);
        NodeChange c{nb.name, na.name, {}, ia, ib};
        if (na.name != nb.name) c.what.push_back("renamed from " + na.name);
        if (na.op != nb.op) c.what.push_back("op " + std::string(opName(na.op)) + " -> " + std::string(opName(nb.op)));
        if (!(na.attrs == nb.attrs)) c.what.push_back("attributes");
        if (!sameInputs(na, nb)) c.what.push_back("inputs");
        const std::vector<Shape> sa = outputShapes(na), sb = outputShapes(nb);
        if (sa != sb) c.what.push_back("shape " + shapesText(sa) + " -> " + shapesText(sb));
        if (!sameValues(na.value, nb.value)) c.what.push_back("values");
        return c;
    }

    const Graph& a_;
    const Graph& b_;
    std::map<NodeId, NodeId> aOf_, bOf_;  // second graph's id -> first's, first's -> second's
};

}  // namespace

GraphDiff diffGraphs(const Graph& before, const Graph& after) { return Matcher(before, after).run(); }

}  // namespace adj
