// Pipeline parallelism (parallel/strategies.h): contiguous stages of equal work, micro-batches
// scheduled as GPipe or 1F1B, activations and adjoints sent across the cuts.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "base/errors.h"
#include "parallel/strategy_builders.h"

namespace adj::parallel::detail {

namespace {

/// Stage of each forward node (by position in `work`): the contiguous split into `stages` parts,
/// each with at least one node with work, whose largest part is smallest (a binary search on that
/// largest part, each candidate filled greedily). Nodes without work (views) go with the node
/// before them.
std::vector<int> cutStages(const std::vector<double>& work, int stages) {
    std::vector<double> working;
    for (double x : work)
        if (x > 0) working.push_back(x);
    auto fill = [&](double cap) {  // the start of each part, greedily
        std::vector<std::size_t> starts{0};
        double run = 0;
        for (std::size_t i = 0; i < working.size(); ++i) {
            if (run + working[i] > cap && run > 0) {
                starts.push_back(i);
                run = 0;
            }
            run += working[i];
        }
        return starts;
    };
    double low = *std::max_element(working.begin(), working.end()), high = 0;
    for (double x : working) high += x;
    for (int iteration = 0; iteration < 100 && high - low > 1e-12 * high; ++iteration) {
        const double mid = (low + high) / 2;
        (int(fill(mid).size()) <= stages ? high : low) = mid;
    }
    std::vector<std::size_t> starts = fill(high);
    // Fewer parts than stages: split the part with the most nodes, its last node becoming a part.
    while (int(starts.size()) < stages) {
        std::size_t best = 0, bestSize = 0;
        for (std::size_t k = 0; k < starts.size(); ++k) {
            const std::size_t size = (k + 1 < starts.size() ? starts[k + 1] : working.size()) - starts[k];
            if (size > bestSize) best = k, bestSize = size;
        }
        const std::size_t end = best + 1 < starts.size() ? starts[best + 1] : working.size();
        starts.insert(starts.begin() + std::ptrdiff_t(best) + 1, end - 1);
    }
    std::vector<int> stage(work.size(), 0);
    int s = 0;
    for (std::size_t i = 0, k = 0; i < work.size(); ++i) {
        if (work[i] > 0) {
            while (std::size_t(s) + 1 < starts.size() && starts[std::size_t(s) + 1] <= k) ++s;
            ++k;
        }
        stage[i] = s;
    }
    return stage;
}

}  // namespace

std::vector<double> buildPipelineParallel(const BuildRequest& request, PartitionResult& r) {
    const Cluster& cluster = request.cluster;
    const int stages = int(cluster.devices.size());
    const int m = request.options.microbatches;
    if (request.batch % m != 0)
        throw Error("pipeline parallelism: the batch of " + std::to_string(request.batch) + " rows does not split evenly into " + std::to_string(m) +
                    " micro-batches (--batch, --microbatches)");
    auto shared = makeWorkload(request, request.batch / m);
    const StepWorkload& w = *shared;
    r.workload = shared;
    const bool gpipe = request.options.schedule == PipelineSchedule::GPipe;
    r.key = gpipe ? "pp-gpipe" : "pp-1f1b";
    r.description = "pipeline parallel, " + std::string(gpipe ? "GPipe" : "1F1B") + ", " + std::to_string(stages) + " stages, " + std::to_string(m) +
                    " micro-batches of " + std::to_string(w.batch) + " rows";

    const Graph& g = w.graph;
    const std::vector<NodeId> forward = w.forwardOrder();
    std::map<NodeId, std::vector<NodeId>> backwardOf;
    for (NodeId id : w.order)
        if (!w.isForward(id)) backwardOf[w.owner[std::size_t(id)]].push_back(id);
    const ClusterDevice& reference = cluster.devices.front();
    std::vector<double> work(forward.size(), 0);
    std::size_t withWork = 0;
    for (std::size_t i = 0; i < forward.size(); ++i) {
        work[i] = nodeSeconds(w, forward[i], reference);
        if (auto it = backwardOf.find(forward[i]); it != backwardOf.end()) work[i] += workSeconds(w, it->second, reference);
        withWork += work[i] > 0;
    }
    if (int(withWork) < stages)
        throw Error("pipeline parallelism: the model has " + std::to_string(withWork) + " nodes with work, too few for " + std::to_string(stages) +
                    " stages");
    const std::vector<int> cut = cutStages(work, stages);
    std::vector<int> stageOf(std::size_t(g.idBound()), 0);
    for (std::size_t i = 0; i < forward.size(); ++i) stageOf[std::size_t(forward[i])] = cut[i];
    for (NodeId id : g.nodeIds()) {
        const NodeId owner = w.owner[std::size_t(id)];
        if (owner != kNoNode && !w.isForward(id)) stageOf[std::size_t(id)] = stageOf[std::size_t(owner)];
        if (owner != kNoNode && isSource(g.node(id).op)) stageOf[std::size_t(id)] = stageOf[std::size_t(owner)];
    }

    std::vector<std::vector<NodeId>> forwardNodes(static_cast<std::size_t>(stages)), backwardNodes(static_cast<std::size_t>(stages));
    std::vector<double> saved(std::size_t(stages), 0), parameters(std::size_t(stages), 0);
    for (NodeId id : w.order) {
        const int s = stageOf[std::size_t(id)];
        (w.isForward(id) ? forwardNodes : backwardNodes)[std::size_t(s)].push_back(id);
        if (w.saved[std::size_t(id)]) saved[std::size_t(s)] += w.outputBytes[std::size_t(id)];
    }
    for (const ParameterGradient& p : w.parameters) parameters[std::size_t(stageOf[std::size_t(p.parameter)])] += p.bytes;

    // The compute tasks first, in each device's schedule order; the transfers after, wired in.
    std::vector<std::vector<int>> f(std::size_t(stages), std::vector<int>(std::size_t(m), -1)), b = f;
    for (int s = 0; s < stages; ++s) {
        const ClusterDevice& device = cluster.devices[std::size_t(s)];
        const double forwardSeconds = taskSeconds(w, forwardNodes[std::size_t(s)], device);
        const double backwardSeconds = taskSeconds(w, backwardNodes[std::size_t(s)], device);
        auto addForward = [&](int k) {
            SimTask t;
            t.phase = TaskPhase::Forward;
            t.device = s;
            t.seconds = forwardSeconds;
            t.allocateBytes = saved[std::size_t(s)];
            t.microbatch = k;
            t.label = "F" + std::to_string(k + 1);
            t.nodes = forwardNodes[std::size_t(s)];
            f[std::size_t(s)][std::size_t(k)] = r.tasks.add(std::move(t));
        };
        auto addBackward = [&](int k) {
            SimTask t;
            t.phase = TaskPhase::Backward;
            t.device = s;
            t.seconds = backwardSeconds;
            t.releaseBytes = saved[std::size_t(s)];
            t.microbatch = k;
            t.label = "B" + std::to_string(k + 1);
            t.nodes = backwardNodes[std::size_t(s)];
            t.after = {f[std::size_t(s)][std::size_t(k)]};
            b[std::size_t(s)][std::size_t(k)] = r.tasks.add(std::move(t));
        };
        if (gpipe) {
            for (int k = 0; k < m; ++k) addForward(k);
            for (int k = m - 1; k >= 0; --k) addBackward(k);
        } else {
            const int warmup = std::min(stages - s - 1, m);
            for (int k = 0; k < warmup; ++k) addForward(k);
            for (int k = 0; k < m - warmup; ++k) {
                addForward(warmup + k);
                addBackward(k);
            }
            for (int k = m - warmup; k < m; ++k) addBackward(k);
        }
    }
    for (int s = 0; s < stages; ++s) {
        std::vector<int> after(b[std::size_t(s)].begin(), b[std::size_t(s)].end());
        r.tasks.compute(s, workSeconds(updateCost(parameters[std::size_t(s)]), cluster.devices[std::size_t(s)]), TaskPhase::Update, after, "update");
    }

    // What crosses a cut: each value once per stage that reads it, sent after the task that makes
    // it and before the first task that reads it.
    struct Crossing {
        double bytes = 0;
        bool readByForward = false;
        NodeId reader = kNoNode;
    };
    std::map<std::tuple<NodeId, int, int>, Crossing> crossings;  // (node, port, reading stage)
    for (NodeId id : w.order) {
        for (const ValueRef& in : g.node(id).inputs) {
            if (isSource(g.node(in.node).op)) continue;
            const int from = stageOf[std::size_t(in.node)], to = stageOf[std::size_t(id)];
            if (from == to) continue;
            Crossing& c = crossings[{in.node, in.port, to}];
            c.bytes = valueBytes(g, in);
            c.readByForward = c.readByForward || w.isForward(id);
            if (c.reader == kNoNode) c.reader = id;
        }
    }
    // Sum the bytes per (from, to, kind) so that one transfer per micro-batch carries them.
    std::map<std::tuple<int, int, int>, double> sends;  // kind 0: forward to forward, 1: forward to backward, 2: backward to backward
    std::map<std::tuple<int, int, int>, std::vector<ValueRef>> carried;
    for (const auto& [key, c] : crossings) {
        const auto [node, port, to] = key;
        (void)port;
        const int from = stageOf[std::size_t(node)];
        const int kind = w.isForward(node) ? (c.readByForward ? 0 : 1) : 2;
        sends[{from, to, kind}] += c.bytes;
        carried[{from, to, kind}].push_back({node, port});
        const NodeId fromModel = modelNodeOf(request.model, w, w.owner[std::size_t(node)]);
        const NodeId toModel = modelNodeOf(request.model, w, w.owner[std::size_t(c.reader)]);
        if (fromModel != kNoNode && toModel != kNoNode)
            addCrossEdge(r.crossEdges, request.model.node(fromModel).name, request.model.node(toModel).name, from, to, c.bytes * m);
    }
    for (int k = 0; k < m; ++k)
        for (const auto& [key, bytes] : sends) {
            const auto [from, to, kind] = key;
            const int source = kind == 2 ? b[std::size_t(from)][std::size_t(k)] : f[std::size_t(from)][std::size_t(k)];
            const int sink = kind == 0 ? f[std::size_t(to)][std::size_t(k)] : b[std::size_t(to)][std::size_t(k)];
            const int sent = r.tasks.send(cluster, from, to, bytes, TaskPhase::Activation, {source},
                                          std::string(kind == 2 ? "adjoints" : "activations") + " " + std::to_string(k + 1), k);
            if (sent >= 0) {
                r.tasks.tasks()[std::size_t(sink)].after.push_back(sent);
                r.tasks.tasks()[std::size_t(sent)].values = carried[key];
            }
        }

    for (NodeId id : forward) {
        const NodeId model = modelNodeOf(request.model, w, id);
        if (model != kNoNode) r.deviceOfNode[request.model.node(model).name] = stageOf[std::size_t(id)];
    }
    std::vector<double> resident(static_cast<std::size_t>(stages));
    for (int s = 0; s < stages; ++s) resident[std::size_t(s)] = 2 * parameters[std::size_t(s)];
    return resident;
}

}  // namespace adj::parallel::detail
