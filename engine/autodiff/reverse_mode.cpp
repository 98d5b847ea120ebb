#include "autodiff/reverse_mode.h"

#include <algorithm>
#include <set>

#include "autodiff/vjp_rules.h"
#include "base/errors.h"
#include "ir/group_tree.h"
#include "ir/verifier.h"

namespace adj {

namespace {
bool isSet(ValueRef v) { return v.node != kNoNode; }

void markAdjoint(Graph& g, ValueRef adjoint, ValueRef of, std::map<NodeId, ValueRef>* adjointOf) {
    Node& n = g.node(adjoint.node);
    if (n.meta.count("adjoint_of")) return;  // already the adjoint of another value (e.g. a passed-through seed)
    n.meta["adjoint_of"] = g.valueName(of);
    if (adjointOf) (*adjointOf)[adjoint.node] = of;
}
// Each backward node joins the adjoint of its forward node's group (adjointGroupPath), collapsed
// where that group is: a model's blocks stay blocks in its backward graph.
void inheritForwardGroups(BackwardGraph& r) {
    Graph& g = r.graph;
    for (NodeId id : g.nodeIds()) {
        if (std::size_t(id) >= r.madeFor.size()) continue;
        const NodeId from = r.madeFor[std::size_t(id)];
        if (from == kNoNode || from == id || !g.contains(from)) continue;
        const std::string group = nodeGroup(g.node(from));
        if (group.empty()) continue;
        const std::vector<bool> levels = nodeCollapsedLevels(g.node(from));
        Node& n = g.node(id);
        n.meta[kGroupKey] = adjointGroupPath(group);
        setNodeCollapsedLevels(n, levels);
    }
}

}  // namespace

std::vector<ValueRef> backpropagate(GraphBuilder& b, const std::vector<NodeId>& order, const std::map<ValueRef, ValueRef>& seeds,
                                    const std::vector<ValueRef>& targets, std::map<NodeId, ValueRef>* adjointOf, std::vector<NodeId>* madeFor) {
    Graph& g = b.graph();
    // Only nodes that depend on a target need adjoints.
    std::set<NodeId> targetNodes;
    for (const auto& t : targets) targetNodes.insert(t.node);
    std::set<NodeId> needed = targetNodes;
    for (NodeId id : order) {
        const Node& n = g.node(id);
        bool need = targetNodes.count(id) != 0;
        for (const auto& in : n.inputs) need = need || needed.count(in.node) != 0;
        if (need) needed.insert(id);
    }

    std::map<ValueRef, std::vector<ValueRef>> contributions;
    for (const auto& [v, s] : seeds) contributions[v].push_back(s);
    std::map<ValueRef, ValueRef> complete;
    const std::string savedPrefix = b.prefix();

    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        const NodeId id = *it;
        if (!needed.count(id)) continue;
        const NodeId firstMade = g.idBound();
        const Node& n = g.node(id);
        std::vector<ValueRef> outGrads(std::size_t(n.numOutputs()));
        bool any = false;
        for (int p = 0; p < n.numOutputs(); ++p) {
            auto c = contributions.find(ValueRef{id, p});
            if (c == contributions.end() || c->second.empty()) continue;
            ValueRef total = c->second.front();
            if (c->second.size() > 1) {
                b.setPrefix("");
                for (std::size_t k = 1; k < c->second.size(); ++k)
                    total = b.op(Op::Add, {total, c->second[k]}, {}, "adj_" + g.valueName({id, p}));
            }
            markAdjoint(g, total, ValueRef{id, p}, adjointOf);
            complete[ValueRef{id, p}] = total;
            outGrads[std::size_t(p)] = total;
            any = true;
        }
        if (!any || isSource(n.op)) {
            if (madeFor) {  // the sum of a source's adjoint (a parameter's gradient)
                madeFor->resize(std::size_t(g.idBound()), kNoNode);
                for (NodeId made = firstMade; made < g.idBound(); ++made) (*madeFor)[std::size_t(made)] = id;
            }
            continue;
        }
        b.setPrefix("d_" + n.name + ".");
        std::vector<ValueRef> inGrads = vjpRule(b, g.node(id), outGrads);
        const Node& again = g.node(id);
        for (std::size_t i = 0; i < again.inputs.size() && i < inGrads.size(); ++i)
            if (isSet(inGrads[i]) && needed.count(again.inputs[i].node)) contributions[again.inputs[i]].push_back(inGrads[i]);
        if (madeFor) {
            madeFor->resize(std::size_t(g.idBound()), kNoNode);
            for (NodeId made = firstMade; made < g.idBound(); ++made) (*madeFor)[std::size_t(made)] = id;
        }
    }
    b.setPrefix(savedPrefix);

    // Targets outside `order` (leaves of a decomposition) are summed here.
    std::vector<ValueRef> result;
    for (const auto& t : targets) {
        auto c = complete.find(t);
        if (c != complete.end()) {
            result.push_back(c->second);
            continue;
        }
        auto k = contributions.find(t);
        if (k == contributions.end() || k->second.empty()) {
            result.push_back(ValueRef{});
            continue;
        }
        ValueRef total = k->second.front();
        for (std::size_t i = 1; i < k->second.size(); ++i) total = b.add(total, k->second[i]);
        complete[t] = total;
        result.push_back(total);
    }
    return result;
}

BackwardGraph buildBackward(const Graph& forward, const std::string& of, const BackwardOptions& options) {
    BackwardGraph r;
    r.graph = forward;
    Graph& g = r.graph;
    {
        auto diags = verifyGraph(g);
        if (!diags.empty()) throw GraphError(diags.front().message);
    }
    const GraphOutput* out = nullptr;
    for (const auto& o : g.outputs())
        if (o.name == of) out = &o;
    if (!out) {
        std::string names;
        for (const auto& o : g.outputs()) names += (names.empty() ? "" : ", ") + o.name;
        throw GraphError("the graph has no output named '" + of + "' (outputs: " + names + ")");
    }
    const ValueRef ofValue = out->value;
    const Shape outShape = g.type(ofValue).shape;
    if (!options.seedInput && numel(outShape) != 1)
        throw GraphError("output '" + of + "' has shape " + shapeToString(outShape) + "; reverse mode needs a scalar (or a seeded adjoint)");

    r.forwardNodes = g.nodeIds();
    std::vector<NodeId> order;
    {
        std::set<NodeId> anc;
        std::vector<NodeId> stack{ofValue.node};
        while (!stack.empty()) {
            NodeId id = stack.back();
            stack.pop_back();
            if (!anc.insert(id).second) continue;
            for (const auto& in : g.node(id).inputs) stack.push_back(in.node);
        }
        for (NodeId id : g.topoOrder())
            if (anc.count(id)) order.push_back(id);
    }

    std::vector<std::string> wrt = options.wrt;
    if (wrt.empty()) {
        for (NodeId id : g.inputNodes())
            if (g.node(id).declaredDType == DType::F32) wrt.push_back(g.node(id).name);  // integer indices have no derivative
        for (NodeId id : g.parameterNodes()) wrt.push_back(g.node(id).name);
    }
    std::vector<ValueRef> targets;
    for (const auto& name : wrt) {
        auto id = g.findNode(name);
        if (!id || (g.node(*id).op != Op::Input && g.node(*id).op != Op::Parameter))
            throw GraphError("cannot differentiate with respect to '" + name + "': it is not a graph input or parameter");
        if (g.node(*id).op == Op::Input && g.node(*id).declaredDType != DType::F32)
            throw GraphError("cannot differentiate with respect to '" + name + "': it holds integer indices (" +
                             std::string(dtypeName(g.node(*id).declaredDType)) + "), which have no derivative");
        targets.push_back({*id, 0});
    }
    r.wrt = wrt;

    GraphBuilder b(g);
    ValueRef seed;
    if (options.seedInput) {
        NodeId s = g.addInput(g.freshName("seed_" + of), outShape);
        seed = {s, 0};
    } else {
        seed = b.constant(Tensor::full(outShape, 1.f), "seed_" + of);
    }
    g.node(seed.node).meta["role"] = "backward";
    g.node(seed.node).meta["seed_of"] = g.valueName(ofValue);  // the loss, for recomputation (passes/checkpointing.h)

    std::vector<ValueRef> grads = backpropagate(b, order, {{ofValue, seed}}, targets, &r.adjointOf, &r.madeFor);
    r.madeFor.resize(std::size_t(g.idBound()), kNoNode);
    r.madeFor[std::size_t(seed.node)] = ofValue.node;

    std::vector<GraphOutput> outs;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        ValueRef gv = grads[i];
        if (!isSet(gv)) gv = b.zerosLike(g.type(targets[i]).shape);
        outs.push_back({"grad_" + wrt[i], gv});
        r.gradientOutputs.push_back("grad_" + wrt[i]);
    }
    if (options.keepForwardOutputs)
        for (const auto& o : forward.outputs()) outs.push_back(o);
    g.setOutputs(outs);

    // Drop backward nodes that no output needs (rules may build adjoints nobody asked for).
    std::set<NodeId> forwardSet(r.forwardNodes.begin(), r.forwardNodes.end());
    std::set<NodeId> live;
    for (NodeId id : g.liveTopoOrder()) live.insert(id);
    std::vector<NodeId> ids = g.nodeIds();
    for (auto it = ids.rbegin(); it != ids.rend(); ++it)
        if (!forwardSet.count(*it) && !live.count(*it) && g.node(*it).op != Op::Input) g.removeNodeForce(*it);
    for (auto it = r.adjointOf.begin(); it != r.adjointOf.end();) it = g.contains(it->first) ? std::next(it) : r.adjointOf.erase(it);

    std::set<ValueRef> saved;
    for (NodeId id : g.nodeIds()) {
        if (forwardSet.count(id)) continue;
        g.node(id).meta["role"] = "backward";
        for (const auto& in : g.node(id).inputs)
            if (forwardSet.count(in.node) && g.node(in.node).op != Op::Constant) saved.insert(in);
    }
    r.savedValues.assign(saved.begin(), saved.end());
    for (const auto& v : r.savedValues) g.node(v.node).meta["saved"] = "1";
    inheritForwardGroups(r);
    return r;
}

}  // namespace adj
