// Placement by hand (parallel/strategies.h): each node on the device its "device" meta names;
// every node is its own task, every value read on another device is sent there once.
#include <algorithm>
#include <cstdlib>
#include <map>

#include "base/errors.h"
#include "parallel/strategy_builders.h"

namespace adj::parallel::detail {

namespace {

/// The device a model node's meta names, or -1 when it names none.
int metaDevice(const Node& node, const Cluster& cluster) {
    const auto it = node.meta.find(kDeviceMetaKey);
    if (it == node.meta.end() || it->second.empty()) return -1;
    const std::string& text = it->second;
    for (std::size_t d = 0; d < cluster.devices.size(); ++d)
        if (cluster.devices[d].name == text) return int(d);
    char* end = nullptr;
    const long index = std::strtol(text.c_str(), &end, 10);
    if (end && *end == '\0' && index >= 0 && index < long(cluster.devices.size())) return int(index);
    std::string names;
    for (const ClusterDevice& d : cluster.devices) names += (names.empty() ? "" : ", ") + d.name;
    throw Error("node '" + node.name + "': device '" + text + "' is not one of the cluster's (" + names + ", or 0 to " +
                std::to_string(cluster.devices.size() - 1) + ")");
}

}  // namespace

std::vector<double> buildPlacement(const BuildRequest& request, PartitionResult& r) {
    const Cluster& cluster = request.cluster;
    const int n = int(cluster.devices.size());
    const std::shared_ptr<StepWorkload> workload = makeWorkload(request, request.batch);
    const StepWorkload& w = *workload;
    r.workload = workload;
    const Graph& g = w.graph;
    r.key = "placement";
    r.description = "placement by hand, " + std::to_string(n) + " devices, batch " + std::to_string(w.batch);

    const std::vector<int>& position = w.position;
    std::vector<int> deviceOf(std::size_t(g.idBound()), 0);
    for (NodeId id : w.forwardOrder()) {
        const NodeId model = modelNodeOf(request.model, w, id);
        int d = model != kNoNode ? metaDevice(request.model.node(model), cluster) : -1;
        if (d < 0) {  // with its latest input that has a device
            NodeId latest = kNoNode;
            for (const ValueRef& in : g.node(id).inputs)
                if (position[std::size_t(in.node)] >= 0 && (latest == kNoNode || position[std::size_t(in.node)] > position[std::size_t(latest)]))
                    latest = in.node;
            d = latest != kNoNode ? deviceOf[std::size_t(latest)] : 0;
        }
        deviceOf[std::size_t(id)] = d;
    }
    for (NodeId id : g.nodeIds())
        if (!w.isForward(id) || isSource(g.node(id).op))
            if (w.owner[std::size_t(id)] != kNoNode) deviceOf[std::size_t(id)] = deviceOf[std::size_t(w.owner[std::size_t(id)])];

    // Forward nodes first, then backward, each its own task on its device.
    std::vector<NodeId> sequence = w.forwardOrder();
    for (NodeId id : w.order)
        if (!w.isForward(id)) sequence.push_back(id);
    std::vector<int> taskOf(std::size_t(g.idBound()), -1);
    std::vector<int> lastOn(std::size_t(n), -1);
    std::vector<double> saved(std::size_t(n), 0), parameters(std::size_t(n), 0);
    for (NodeId id : sequence) {
        const int d = deviceOf[std::size_t(id)];
        SimTask t;
        t.phase = w.isForward(id) ? TaskPhase::Forward : TaskPhase::Backward;
        t.device = d;
        t.seconds = nodeSeconds(w, id, cluster.devices[std::size_t(d)]);
        if (w.saved[std::size_t(id)]) {
            t.allocateBytes = w.outputBytes[std::size_t(id)];
            saved[std::size_t(d)] += t.allocateBytes;
        }
        t.label = g.node(id).name;
        taskOf[std::size_t(id)] = lastOn[std::size_t(d)] = r.tasks.add(std::move(t));
    }
    for (int d = 0; d < n; ++d)
        if (lastOn[std::size_t(d)] >= 0) r.tasks.tasks()[std::size_t(lastOn[std::size_t(d)])].releaseBytes = saved[std::size_t(d)];
    std::map<std::pair<ValueRef, int>, int> sent;
    for (NodeId id : sequence) {
        const int to = deviceOf[std::size_t(id)];
        for (const ValueRef& in : g.node(id).inputs) {
            if (isSource(g.node(in.node).op)) continue;
            const int from = deviceOf[std::size_t(in.node)];
            if (from == to) {
                r.tasks.tasks()[std::size_t(taskOf[std::size_t(id)])].after.push_back(taskOf[std::size_t(in.node)]);
                continue;
            }
            auto [it, fresh] = sent.try_emplace({in, to}, -1);
            if (fresh) {
                const double bytes = valueBytes(g, in);
                it->second = r.tasks.send(cluster, from, to, bytes, TaskPhase::Activation,
                                          {taskOf[std::size_t(in.node)]}, g.valueName(in));
                const NodeId fromModel = modelNodeOf(request.model, w, w.owner[std::size_t(in.node)]);
                const NodeId toModel = modelNodeOf(request.model, w, w.owner[std::size_t(id)]);
                if (fromModel != kNoNode && toModel != kNoNode)
                    addCrossEdge(r.crossEdges, request.model.node(fromModel).name, request.model.node(toModel).name, from, to, bytes);
            }
            r.tasks.tasks()[std::size_t(taskOf[std::size_t(id)])].after.push_back(it->second);
        }
    }
    for (const ParameterGradient& p : w.parameters) parameters[std::size_t(deviceOf[std::size_t(p.parameter)])] += p.bytes;
    for (int d = 0; d < n; ++d) {
        std::vector<int> after;
        if (lastOn[std::size_t(d)] >= 0) after.push_back(lastOn[std::size_t(d)]);
        r.tasks.compute(d, workSeconds(updateCost(parameters[std::size_t(d)]), cluster.devices[std::size_t(d)]), TaskPhase::Update, after, "update");
    }
    for (NodeId id : w.forwardOrder()) {
        const NodeId model = modelNodeOf(request.model, w, id);
        if (model != kNoNode) r.deviceOfNode[request.model.node(model).name] = deviceOf[std::size_t(id)];
    }
    std::vector<double> resident(static_cast<std::size_t>(n));
    for (int d = 0; d < n; ++d) resident[std::size_t(d)] = 2 * parameters[std::size_t(d)];
    return resident;
}

}  // namespace adj::parallel::detail
