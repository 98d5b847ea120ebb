// Tensor parallelism as Megatron-LM splits matmuls (parallel/strategies.h): every device runs the
// whole batch through the graph; matmuls with a weight (and the elementwise ops between a column
// split and a row split) do 1/n of their work on each device; collectives join the pieces.
#include <algorithm>

#include "base/errors.h"
#include "parallel/strategy_builders.h"

namespace adj::parallel::detail {

namespace {

enum class Layout { Replicated, Split };

/// The parameter that input `index` of `id` reads through views, or kNoNode.
NodeId weightParameter(const StepWorkload& w, NodeId id, std::size_t index) {
    const Graph& g = w.graph;
    if (g.node(id).inputs.size() <= index) return kNoNode;
    NodeId at = g.node(id).inputs[index].node;
    while (!isSource(g.node(at).op) && !isKernelOp(g.node(at).op) && !g.node(at).inputs.empty()) at = g.node(at).inputs.front().node;
    return g.node(at).op == Op::Parameter && g.type({at, 0}).shape.size() == 2 ? at : kNoNode;
}

bool isWeightMatmul(const StepWorkload& w, NodeId id) {
    const Op op = w.graph.node(id).op;
    return (op == Op::MatMul || op == Op::Gemm) && weightParameter(w, id, 1) != kNoNode;
}

struct Collective {
    bool gather = false;  // all-gather (forward) or reduce-scatter (backward); else all-reduce
    double bytes = 0;
    std::string label;
};

}  // namespace

std::vector<double> buildTensorParallel(const BuildRequest& request, PartitionResult& r) {
    const Cluster& cluster = request.cluster;
    const int n = int(cluster.devices.size());
    const std::shared_ptr<StepWorkload> workload = makeWorkload(request, request.batch);
    const StepWorkload& w = *workload;
    r.workload = workload;
    const Graph& g = w.graph;
    r.key = "tp";
    r.description = "tensor parallel (Megatron-LM matmul splits), " + std::to_string(n) + " devices, batch " + std::to_string(w.batch);

    // Forward: which nodes split, and the collectives after (or before) each.
    std::vector<Layout> layout(std::size_t(g.idBound()), Layout::Replicated);
    std::vector<double> share(std::size_t(g.idBound()), 1.0);  // of each node's work, per device
    std::vector<std::vector<Collective>> before(std::size_t(g.idBound())), after(std::size_t(g.idBound()));
    std::vector<char> columnSplit(std::size_t(g.idBound()), 0);
    std::vector<char> splitWeight(std::size_t(g.idBound()), 0);
    bool anyWeightMatmul = false;
    const std::vector<NodeId> forward = w.forwardOrder();
    for (NodeId id : forward) {
        const Node& node = g.node(id);
        auto splitInput = [&](const ValueRef& in) { return !isSource(g.node(in.node).op) && layout[std::size_t(in.node)] == Layout::Split; };
        if (isWeightMatmul(w, id)) {
            anyWeightMatmul = true;
            share[std::size_t(id)] = 1.0 / n;
            splitWeight[std::size_t(weightParameter(w, id, 1))] = 1;
            if (splitInput(node.inputs[0])) {  // row split: partial sums, all-reduced
                after[std::size_t(id)].push_back({false, w.outputBytes[std::size_t(id)], "all-reduce " + node.name});
            } else {  // column split: the output stays split
                layout[std::size_t(id)] = Layout::Split;
                columnSplit[std::size_t(id)] = 1;
            }
            continue;
        }
        bool anySplit = false, allSplitOrSource = true;
        for (const ValueRef& in : node.inputs) {
            anySplit = anySplit || splitInput(in);
            allSplitOrSource = allSplitOrSource && (splitInput(in) || isSource(g.node(in.node).op));
        }
        if (!anySplit) continue;
        if (isElementwise(node.op) && allSplitOrSource) {
            layout[std::size_t(id)] = Layout::Split;
            share[std::size_t(id)] = 1.0 / n;
            continue;
        }
        for (const ValueRef& in : node.inputs)
            if (splitInput(in)) before[std::size_t(id)].push_back({true, valueBytes(g, in), "all-gather " + g.node(in.node).name});
    }
    if (!anyWeightMatmul) throw Error("tensor parallelism splits matmuls with a weight (a 2-D parameter); the model has none");
    for (NodeId id : g.nodeIds())
        if (!w.isForward(id) && w.owner[std::size_t(id)] != kNoNode && !isSource(g.node(id).op))
            share[std::size_t(id)] = share[std::size_t(w.owner[std::size_t(id)])];

    std::vector<int> devices(static_cast<std::size_t>(n));
    for (int d = 0; d < n; ++d) devices[std::size_t(d)] = d;
    double saved = 0, parameters = 0;
    for (NodeId id : w.order)
        if (w.saved[std::size_t(id)]) saved += w.outputBytes[std::size_t(id)] * share[std::size_t(id)];
    for (const ParameterGradient& p : w.parameters) parameters += p.bytes * (splitWeight[std::size_t(p.parameter)] ? 1.0 / n : 1.0);

    // Each device's program: runs of nodes between collectives.
    std::vector<int> last(std::size_t(n), -1);
    std::vector<std::vector<NodeId>> run(static_cast<std::size_t>(n));
    bool first = true;
    auto flush = [&](TaskPhase phase, const std::string& label) {
        for (int d = 0; d < n; ++d) {
            SimTask t;
            t.phase = phase;
            t.device = d;
            double seconds = 0;
            for (NodeId id : run[std::size_t(d)]) {
                const ClusterDevice& device = cluster.devices[std::size_t(d)];
                seconds += device.measured ? nodeSeconds(w, id, device) * share[std::size_t(id)] : workSeconds(w.cost[std::size_t(id)] * share[std::size_t(id)], device);
            }
            t.seconds = seconds;
            if (last[std::size_t(d)] >= 0) t.after.push_back(last[std::size_t(d)]);
            if (first) t.allocateBytes = saved;
            t.label = label;
            last[std::size_t(d)] = r.tasks.add(std::move(t));
            run[std::size_t(d)].clear();
        }
        first = false;
    };
    auto collective = [&](const Collective& c, TaskPhase phase) {
        flush(phase, phase == TaskPhase::Forward ? "forward" : "backward");
        const auto done = c.gather ? addAllGather(r.tasks, cluster, devices, c.bytes, last, c.label)
                                   : addAllReduce(r.tasks, cluster, devices, c.bytes, request.options.allReduce, last, c.label);
        for (int d = 0; d < n; ++d) {
            // the next run on each device waits for its piece of the collective
            SimTask wait;
            wait.phase = phase;
            wait.device = d;
            wait.after = done[std::size_t(d)];
            wait.after.push_back(last[std::size_t(d)]);
            wait.label = "wait for " + c.label;
            last[std::size_t(d)] = r.tasks.add(std::move(wait));
        }
    };
    for (NodeId id : forward) {
        for (const Collective& c : before[std::size_t(id)]) collective(c, TaskPhase::Forward);
        for (int d = 0; d < n; ++d) run[std::size_t(d)].push_back(id);
        for (const Collective& c : after[std::size_t(id)]) collective(c, TaskPhase::Forward);
    }
    flush(TaskPhase::Forward, "forward");
    // Backward: a column split all-reduces its input's gradient once the nodes it owns are done; an
    // all-gather becomes a reduce-scatter of the same bytes.
    std::vector<NodeId> backward;
    for (NodeId id : w.order)
        if (!w.isForward(id)) backward.push_back(id);
    std::vector<int> lastOwned(std::size_t(g.idBound()), -1);
    for (std::size_t i = 0; i < backward.size(); ++i) lastOwned[std::size_t(w.owner[std::size_t(backward[i])])] = int(i);
    for (std::size_t i = 0; i < backward.size(); ++i) {
        const NodeId id = backward[i];
        for (int d = 0; d < n; ++d) run[std::size_t(d)].push_back(id);
        const NodeId owner = w.owner[std::size_t(id)];
        if (lastOwned[std::size_t(owner)] != int(i)) continue;
        if (columnSplit[std::size_t(owner)] && !isSource(g.node(g.node(owner).inputs[0].node).op))  // (no gradient for a graph input)
            collective({false, valueBytes(g, g.node(owner).inputs[0]), "all-reduce d_" + g.node(owner).name}, TaskPhase::Backward);
        for (const Collective& c : before[std::size_t(owner)])
            collective({true, c.bytes, "reduce-scatter for " + g.node(owner).name}, TaskPhase::Backward);
    }
    flush(TaskPhase::Backward, "backward");
    for (int d = 0; d < n; ++d) {
        r.tasks.tasks()[std::size_t(last[std::size_t(d)])].releaseBytes = saved;
        r.tasks.compute(d, workSeconds(updateCost(parameters), cluster.devices[std::size_t(d)]), TaskPhase::Update, {last[std::size_t(d)]}, "update");
    }
    for (NodeId id : forward) {
        const NodeId model = modelNodeOf(request.model, w, id);
        if (model != kNoNode) r.deviceOfNode[request.model.node(model).name] = share[std::size_t(id)] < 1.0 ? kSplitDevices : kAllDevices;
    }
    return std::vector<double>(std::size_t(n), 2 * parameters);
}

}  // namespace adj::parallel::detail
