#include "autodiff/forward_mode.h"

#include <set>

#include "base/errors.h"
#include "ir/verifier.h"

namespace adj {

namespace {
bool isSet(ValueRef v) { return v.node != kNoNode; }
}  // namespace

std::map<ValueRef, ValueRef> forwardPropagate(GraphBuilder& b, const std::vector<NodeId>& order, std::map<ValueRef, ValueRef> tangents,
                                              std::int64_t k, std::map<NodeId, ValueRef>* tangentOf) {
    Graph& g = b.graph();
    const std::string savedPrefix = b.prefix();
    for (NodeId id : order) {
        const Node& n = g.node(id);
        if (isSource(n.op)) continue;
        std::vector<ValueRef> ins;
        bool any = false;
        for (const auto& in : n.inputs) {
            auto it = tangents.find(in);
            ins.push_back(it == tangents.end() ? ValueRef{} : it->second);
            any = any || it != tangents.end();
        }
        if (!any) continue;
        b.setPrefix("t_" + n.name + ".");
        for (int p = 0; p < n.numOutputs(); ++p) {
            ValueRef t = jvpRule(b, g.node(id), ins, p, k);
            if (!isSet(t)) continue;
            tangents[ValueRef{id, p}] = t;
            Node& tn = g.node(t.node);
            if (!tn.meta.count("tangent_of")) {
                tn.meta["tangent_of"] = g.valueName({id, p});
                if (tangentOf) (*tangentOf)[t.node] = ValueRef{id, p};
            }
        }
    }
    b.setPrefix(savedPrefix);
    return tangents;
}

JvpGraph buildJvp(const Graph& forward, const std::vector<std::string>& of, const std::vector<std::string>& wrtIn, std::int64_t k) {
    if (k < 1 || k > (1 << 20)) throw GraphError("forward mode needs between 1 and 2^20 tangent directions, got " + std::to_string(k));
    JvpGraph r;
    r.graph = forward;
    r.directions = k;
    Graph& g = r.graph;
    {
        auto diags = verifyGraph(g);
        if (!diags.empty()) throw GraphError(diags.front().message);
    }
    std::vector<std::string> wrt = wrtIn;
    if (wrt.empty()) {
        for (NodeId id : g.inputNodes())
            if (g.node(id).declaredDType == DType::F32) wrt.push_back(g.node(id).name);  // integer indices have no derivative
        for (NodeId id : g.parameterNodes()) wrt.push_back(g.node(id).name);
    }
    r.wrt = wrt;
    std::vector<GraphOutput> outs;
    if (of.empty()) outs = g.outputs();
    else
        for (const auto& name : of) {
            bool found = false;
            for (const auto& o : g.outputs())
                if (o.name == name) {
                    outs.push_back(o);
                    found = true;
                }
            if (!found) throw GraphError("the graph has no output named '" + name + "'");
        }
    const std::vector<NodeId> order = g.topoOrder();
    std::map<ValueRef, ValueRef> seeds;
    for (const auto& name : wrt) {
        auto id = g.findNode(name);
        if (!id || (g.node(*id).op != Op::Input && g.node(*id).op != Op::Parameter))
            throw GraphError("cannot differentiate with respect to '" + name + "': it is not a graph input or parameter");
        if (g.node(*id).op == Op::Input && g.node(*id).declaredDType != DType::F32)
            throw GraphError("cannot differentiate with respect to '" + name + "': it holds integer indices (" +
                             std::string(dtypeName(g.node(*id).declaredDType)) + "), which have no derivative");
        Shape s{k};
        const Shape& ps = g.type({*id, 0}).shape;
        s.insert(s.end(), ps.begin(), ps.end());
        NodeId t = g.addInput(g.freshName("tangent_" + name), s);
        g.node(t).outputs = {ValueType{s, DType::F32}};
        g.node(t).meta["tangent_of"] = name;
        r.tangentInputs.push_back(g.node(t).name);
        seeds[{*id, 0}] = {t, 0};
    }
    GraphBuilder b(g);
    auto tangents = forwardPropagate(b, order, seeds, k, &r.tangentOf);
    std::vector<GraphOutput> newOuts = g.outputs();
    for (const auto& o : outs) {
        auto it = tangents.find(o.value);
        ValueRef t;
        if (it != tangents.end()) t = it->second;
        else {
            Shape s{k};
            const Shape& ps = g.type(o.value).shape;
            s.insert(s.end(), ps.begin(), ps.end());
            t = b.zerosLike(s);
        }
        newOuts.push_back({"tangent_" + o.name, t});
        r.tangentOutputs.push_back("tangent_" + o.name);
    }
    g.setOutputs(newOuts);
    for (NodeId id : g.nodeIds())
        if (id >= forward.idBound()) g.node(id).meta["role"] = "tangent";
    return r;
}

std::vector<Tensor> forwardModeGradient(const Graph& forward, const std::string& of, const std::vector<std::string>& wrt, const Bindings& bindings,
                                        Executor& executor, std::int64_t chunk, int* runs) {
    Graph probe = forward;
    verifyOrThrow(probe);
    std::vector<Shape> shapes;
    std::int64_t total = 0;
    for (const auto& name : wrt) {
        auto id = probe.findNode(name);
        if (!id) throw GraphError("cannot differentiate with respect to '" + name + "': no such input or parameter");
        auto bound = bindings.find(name);
        shapes.push_back(bound != bindings.end() ? bound->second.shape() : probe.type({*id, 0}).shape);
        total += numel(shapes.back());
    }
    std::vector<Tensor> grads;
    for (const auto& s : shapes) grads.push_back(Tensor::zeros(s));
    if (runs) *runs = 0;
    if (total == 0) return grads;
    chunk = std::max<std::int64_t>(1, std::min(chunk, total));
    // One JVP graph per chunk size (the last chunk may be smaller).
    std::map<std::int64_t, JvpGraph> graphs;
    for (std::int64_t start = 0; start < total; start += chunk) {
        const std::int64_t k = std::min(chunk, total - start);
        auto it = graphs.find(k);
        if (it == graphs.end()) it = graphs.emplace(k, buildJvp(forward, {of}, wrt, k)).first;
        const JvpGraph& jg = it->second;
        Bindings b = bindings;
        std::int64_t offset = 0;
        for (std::size_t i = 0; i < wrt.size(); ++i) {
            const std::int64_t n = numel(shapes[i]);
            Shape ts{k};
            ts.insert(ts.end(), shapes[i].begin(), shapes[i].end());
            Tensor t = Tensor::zeros(ts);
            float* d = t.data();
            for (std::int64_t dir = 0; dir < k; ++dir) {
                const std::int64_t e = start + dir - offset;  // the one-hot element of this direction
                if (e >= 0 && e < n) d[dir * n + e] = 1.f;
            }
            b[jg.tangentInputs[i]] = t;
            offset += n;
        }
        RunResult res = executor.run(jg.graph, b);
        if (runs) ++*runs;
        // the tangent output of a scalar function is [k] (or [k, 1, ...]): entry dir is d f / d x_(start+dir)
        const Tensor& tout = res.outputs.back();
        if (tout.numel() != k) throw GraphError("output '" + of + "' is not a scalar: forward-mode gradients need one");
        std::vector<float> v = tout.toVector();
        for (std::int64_t dir = 0; dir < k; ++dir) {
            std::int64_t e = start + dir;
            for (std::size_t i = 0; i < wrt.size(); ++i) {
                const std::int64_t n = numel(shapes[i]);
                if (e < n) {
                    grads[i].data()[e] = v[std::size_t(dir)];
                    break;
                }
                e -= n;
            }
        }
    }
    return grads;
}

}  // namespace adj
