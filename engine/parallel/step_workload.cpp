#include "parallel/step_workload.h"

#include <algorithm>
#include <set>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "ir/verifier.h"
#include "train/training_step.h"

namespace adj::parallel {

std::vector<NodeId> StepWorkload::forwardOrder() const {
    std::vector<NodeId> f;
    for (NodeId id : order)
        if (isForward(id)) f.push_back(id);
    return f;
}

double workSeconds(const Cost& c, const ClusterDevice& device) {
    if (c.flops <= 0 && c.bytes() <= 0) return 0;
    return std::max(c.flops / device.peakFlops, c.bytes() / device.memoryBandwidth) + device.launchSeconds;
}

double nodeSeconds(const StepWorkload& w, NodeId id, const ClusterDevice& device) {
    if (device.measured && std::size_t(id) < w.measuredSeconds.size()) return w.measuredSeconds[std::size_t(id)];
    return workSeconds(w.cost[std::size_t(id)], device);
}

double workSeconds(const StepWorkload& w, const std::vector<NodeId>& nodes, const ClusterDevice& device) {
    double s = 0;
    for (NodeId id : nodes) s += nodeSeconds(w, id, device);
    return s;
}

std::vector<ValueRef> valuesLeaving(const Graph& g, const std::vector<NodeId>& nodes) {
    const std::set<NodeId> inside(nodes.begin(), nodes.end());
    std::set<ValueRef> outputs;
    for (const GraphOutput& o : g.outputs()) outputs.insert(o.value);
    std::vector<ValueRef> leaving;
    for (NodeId id : nodes) {
        const Node& n = g.node(id);
        for (int p = 0; p < n.numOutputs(); ++p) {
            bool leaves = outputs.count({id, p}) != 0;
            for (const Use& u : g.users(id)) leaves = leaves || (!inside.count(u.user) && g.node(u.user).inputs[std::size_t(u.index)].port == p);
            if (leaves) leaving.push_back({id, p});
        }
    }
    return leaving;
}

double taskSeconds(const StepWorkload& w, const std::vector<NodeId>& nodes, const ClusterDevice& device) {
    double seconds = workSeconds(w, nodes, device);
    if (!device.measured || nodes.empty()) return seconds;
    // A task of this machine is one executor run: its fixed cost, and the values that leave the
    // task handed out in buffers of their own (a write of their bytes), which inside the step's
    // one run stayed in its arena.
    double leaving = 0;
    for (const ValueRef& v : valuesLeaving(w.graph, nodes)) {
        const ValueType& t = w.graph.type(v);
        leaving += double(numel(t.shape)) * double(dtypeSize(t.dtype));
    }
    return seconds + w.measuredRunSeconds + leaving / device.memoryBandwidth;
}

Cost updateCost(double bytes) { return Cost{bytes / 4 * 2, bytes * 2, bytes}; }

StepWorkload buildStepWorkload(const Graph& model, train::LossKind loss, std::int64_t batch) {
    StepWorkload w;
    w.batch = batch;
    w.loss = loss;
    Graph lossGraph = train::buildLossGraph(model, loss, batch);
    std::vector<std::string> parameters;
    for (NodeId id : lossGraph.parameterNodes()) parameters.push_back(lossGraph.node(id).name);
    if (parameters.empty()) throw Error("the model has no parameters: a training step has nothing to update");
    BackwardGraph bw = buildBackward(lossGraph, "loss", {parameters, false, true});
    verifyOrThrow(bw.graph);
    w.graph = std::move(bw.graph);
    const Graph& g = w.graph;
    const std::size_t bound = std::size_t(g.idBound());
    w.forward.assign(bound, 0);
    for (NodeId id : bw.forwardNodes)
        if (g.contains(id)) w.forward[std::size_t(id)] = 1;
    w.cost.assign(bound, Cost{});
    w.outputBytes.assign(bound, 0);
    w.owner.assign(bound, kNoNode);
    w.saved.assign(bound, 0);
    w.position.assign(bound, -1);
    std::vector<int>& position = w.position;
    for (NodeId id : g.liveTopoOrder()) {
        const Node& n = g.node(id);
        for (int p = 0; p < n.numOutputs(); ++p) {
            const ValueType& t = g.type({id, p});
            w.outputBytes[std::size_t(id)] += double(numel(t.shape)) * double(dtypeSize(t.dtype));
        }
        if (isSource(n.op)) continue;
        position[std::size_t(id)] = int(w.order.size());
        w.order.push_back(id);
        w.cost[std::size_t(id)] = nodeCost(g, id);
    }
    // Owners: forward nodes own themselves; a source belongs to its first forward user (a
    // parameter lives where it is first used); a backward node belongs to the forward node whose
    // rule made it, or, summing a parameter's gradient, to the parameter's owner (so that the
    // partial gradients of a weight used in two places flow back to where it lives, never
    // against the backward pass), or else to the latest owner among its inputs.
    NodeId lastForward = kNoNode;
    for (NodeId id : w.order)
        if (w.isForward(id)) {
            w.owner[std::size_t(id)] = id;
            lastForward = id;
        }
    auto firstUserOwner = [&](NodeId source, bool forwardOnly) {
        NodeId owner = kNoNode;
        for (const Use& u : g.users(source)) {
            if (forwardOnly && !w.isForward(u.user)) continue;
            const NodeId o = w.owner[std::size_t(u.user)];
            if (o != kNoNode && (owner == kNoNode || position[std::size_t(o)] < position[std::size_t(owner)])) owner = o;
        }
        return owner;
    };
    for (NodeId id : g.nodeIds())
        if (isSource(g.node(id).op)) w.owner[std::size_t(id)] = firstUserOwner(id, true);
    for (NodeId id : w.order) {
        if (w.isForward(id)) continue;
        const NodeId made = std::size_t(id) < bw.madeFor.size() ? bw.madeFor[std::size_t(id)] : kNoNode;
        NodeId owner = kNoNode;
        if (made != kNoNode && g.contains(made) && w.isForward(made))
            owner = isSource(g.node(made).op) ? w.owner[std::size_t(made)] : made;
        if (owner == kNoNode)
            for (const ValueRef& in : g.node(id).inputs) {
                const NodeId o = w.owner[std::size_t(in.node)];
                if (o != kNoNode && (owner == kNoNode || position[std::size_t(o)] > position[std::size_t(owner)])) owner = o;
            }
        w.owner[std::size_t(id)] = owner != kNoNode ? owner : lastForward;
    }
    for (NodeId id : g.nodeIds())  // sources only backward nodes read (the seed, constants of rules)
        if (isSource(g.node(id).op) && w.owner[std::size_t(id)] == kNoNode) w.owner[std::size_t(id)] = firstUserOwner(id, false);
    // What the backward pass keeps: forward values it reads, traced through views to the node
    // that holds the memory.
    for (NodeId id : w.order) {
        if (w.isForward(id)) continue;
        for (const ValueRef& in : g.node(id).inputs) {
            NodeId holder = in.node;
            while (w.isForward(holder) && !isSource(g.node(holder).op) && w.cost[std::size_t(holder)].bytesWritten <= 0 &&
                   !g.node(holder).inputs.empty())
                holder = g.node(holder).inputs.front().node;
            if (w.isForward(holder) && !isSource(g.node(holder).op)) w.saved[std::size_t(holder)] = 1;
        }
    }
    for (std::size_t i = 0; i < bw.wrt.size(); ++i) {
        ParameterGradient p;
        p.name = bw.wrt[i];
        p.parameter = *g.findNode(p.name);
        for (const GraphOutput& o : g.outputs())
            if (o.name == bw.gradientOutputs[i]) {
                p.gradient = o.value.node;
                p.value = o.value;
            }
        p.bytes = w.outputBytes[std::size_t(p.parameter)];
        w.parameterBytes += p.bytes;
        w.parameters.push_back(p);
    }
    std::stable_sort(w.parameters.begin(), w.parameters.end(), [&](const ParameterGradient& a, const ParameterGradient& b) {
        return position[std::size_t(a.gradient)] < position[std::size_t(b.gradient)];
    });
    return w;
}

}  // namespace adj::parallel
