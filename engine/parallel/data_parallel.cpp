// Data parallelism (parallel/strategies.h): the whole step on every device over a 1/n share of
// the batch; gradients all-reduced in buckets while the backward pass goes on; then the update.
#include <algorithm>

#include "base/byte_size.h"
#include "base/errors.h"
#include "parallel/strategy_builders.h"

namespace adj::parallel::detail {

std::vector<double> buildDataParallel(const BuildRequest& request, PartitionResult& r) {
    const Cluster& cluster = request.cluster;
    const int n = int(cluster.devices.size());
    if (request.batch % n != 0)
        throw Error("data parallelism: the batch of " + std::to_string(request.batch) + " rows does not split evenly over " + std::to_string(n) +
                    " devices (--batch)");
    auto shared = makeWorkload(request, request.batch / n);
    const StepWorkload& w = *shared;
    r.workload = shared;
    r.key = std::string("dp-") + allReduceName(request.options.allReduce);
    r.description = "data parallel, " + std::string(allReduceName(request.options.allReduce)) + " all-reduce, " + std::to_string(n) +
                    " devices x " + std::to_string(w.batch) + " rows";

    // Buckets of gradients in the order the backward pass completes them.
    const std::vector<int>& position = w.position;
    struct Bucket {
        double bytes = 0;
        int lastPosition = -1;
    };
    std::vector<Bucket> buckets;
    for (const ParameterGradient& p : w.parameters) {
        if (buckets.empty() || buckets.back().bytes >= request.options.bucketBytes) {
            buckets.emplace_back();
            r.buckets.emplace_back();
        }
        buckets.back().bytes += p.bytes;
        r.buckets.back().push_back(p.name);
        buckets.back().lastPosition = std::max(buckets.back().lastPosition, position[std::size_t(p.gradient)]);
    }

    const std::vector<NodeId> forward = w.forwardOrder();
    std::vector<NodeId> backward;
    for (NodeId id : w.order)
        if (!w.isForward(id)) backward.push_back(id);
    double savedBytes = 0;
    for (NodeId id : w.order)
        if (w.saved[std::size_t(id)]) savedBytes += w.outputBytes[std::size_t(id)];

    std::vector<int> devices(static_cast<std::size_t>(n));
    for (int d = 0; d < n; ++d) devices[std::size_t(d)] = d;
    // readyOn[k][d]: the task on device d after which bucket k's gradients are complete.
    std::vector<std::vector<int>> readyOn(buckets.size(), std::vector<int>(std::size_t(n), -1));
    std::vector<int> lastBackward(std::size_t(n), -1);
    for (int d = 0; d < n; ++d) {
        const ClusterDevice& device = cluster.devices[std::size_t(d)];
        SimTask f;
        f.phase = TaskPhase::Forward;
        f.device = d;
        f.seconds = taskSeconds(w, forward, device);
        f.allocateBytes = savedBytes;
        f.label = "forward";
        f.nodes = forward;
        int previous = r.tasks.add(std::move(f));
        std::size_t next = 0;
        auto segment = [&](std::vector<NodeId> nodes, const std::string& label) {
            SimTask b;
            b.phase = TaskPhase::Backward;
            b.device = d;
            b.seconds = taskSeconds(w, nodes, device);
            b.after = {previous};
            b.label = label;
            b.nodes = std::move(nodes);
            previous = r.tasks.add(std::move(b));
        };
        for (std::size_t k = 0; k < buckets.size(); ++k) {
            std::vector<NodeId> nodes;
            while (next < backward.size() && position[std::size_t(backward[next])] <= buckets[k].lastPosition) nodes.push_back(backward[next++]);
            segment(std::move(nodes), "backward to bucket " + std::to_string(k + 1));
            readyOn[k][std::size_t(d)] = previous;
        }
        if (next < backward.size() || buckets.empty()) segment(std::vector<NodeId>(backward.begin() + std::ptrdiff_t(next), backward.end()), "backward");
        r.tasks.tasks()[std::size_t(previous)].releaseBytes = savedBytes;
        lastBackward[std::size_t(d)] = previous;
    }
    std::vector<std::vector<int>> updateAfter(static_cast<std::size_t>(n));
    for (int d = 0; d < n; ++d) updateAfter[std::size_t(d)].push_back(lastBackward[std::size_t(d)]);
    for (std::size_t k = 0; k < buckets.size(); ++k) {
        const auto done = addAllReduce(r.tasks, cluster, devices, buckets[k].bytes, request.options.allReduce, readyOn[k],
                                       "all-reduce bucket " + std::to_string(k + 1) + " (" + readableBytes(std::int64_t(buckets[k].bytes)) + ")",
                                       TaskPhase::Collective, int(k));
        for (int d = 0; d < n; ++d)
            for (int t : done[std::size_t(d)]) updateAfter[std::size_t(d)].push_back(t);
    }
    for (int d = 0; d < n; ++d)
        r.tasks.compute(d, workSeconds(updateCost(w.parameterBytes), cluster.devices[std::size_t(d)]), TaskPhase::Update, updateAfter[std::size_t(d)],
                        "update");

    r.gradientBytes = w.parameterBytes;
    std::vector<double> sent(std::size_t(n), 0);
    for (const SimTask& t : r.tasks.tasks())
        if (t.kind == TaskKind::Transfer && t.phase == TaskPhase::Collective) sent[std::size_t(t.device)] += t.bytes;
    r.allReduceBytesPerDevice = *std::max_element(sent.begin(), sent.end());
    for (NodeId id : w.order) {
        const NodeId m = modelNodeOf(request.model, w, id);
        if (m != kNoNode && w.isForward(id)) r.deviceOfNode[request.model.node(m).name] = kAllDevices;
    }
    return std::vector<double>(std::size_t(n), 2 * w.parameterBytes);
}

}  // namespace adj::parallel::detail
