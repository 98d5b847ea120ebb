#include "parallel/strategies.h"

#include <algorithm>
#include <thread>

#include "base/byte_size.h"
#include "base/errors.h"
#include "parallel/node_profile.h"
#include "parallel/strategy_builders.h"

namespace adj::parallel {

std::optional<StrategyKind> strategyFromName(const std::string& name) {
    if (name == "dp") return StrategyKind::DataParallel;
    if (name == "pp") return StrategyKind::PipelineParallel;
    if (name == "tp") return StrategyKind::TensorParallel;
    if (name == "placement") return StrategyKind::Placement;
    return std::nullopt;
}

const char* strategyName(StrategyKind kind) {
    switch (kind) {
        case StrategyKind::DataParallel: return "dp";
        case StrategyKind::PipelineParallel: return "pp";
        case StrategyKind::TensorParallel: return "tp";
        case StrategyKind::Placement: return "placement";
    }
    return "?";
}

namespace detail {

std::shared_ptr<StepWorkload> makeWorkload(const BuildRequest& request, std::int64_t batch) {
    auto w = std::make_shared<StepWorkload>(buildStepWorkload(request.model, request.options.loss, batch));
    const auto& devices = request.cluster.devices;
    const int measured = int(std::count_if(devices.begin(), devices.end(), [](const ClusterDevice& d) { return d.measured; }));
    if (measured > 0) {
        // (as many at once as the devices, up to the threads this machine has)
        const int threads = std::max(1, int(std::thread::hardware_concurrency()));
        NodeProfile profile = measureNodeSeconds(*w, std::min(measured, threads));
        w->measuredSeconds = std::move(profile.seconds);
        w->measuredRunSeconds = profile.runSeconds;
    }
    return w;
}

NodeId modelNodeOf(const Graph& model, const StepWorkload& w, NodeId id) {
    const auto found = model.findNode(w.graph.node(id).name);
    return found ? *found : kNoNode;
}

double valueBytes(const Graph& g, ValueRef v) {
    const ValueType& t = g.type(v);
    return double(numel(t.shape)) * double(dtypeSize(t.dtype));
}

void addCrossEdge(std::vector<CrossEdge>& edges, const std::string& from, const std::string& to, int fromDevice, int toDevice, double bytes) {
    for (CrossEdge& e : edges)
        if (e.from == from && e.to == to && e.fromDevice == fromDevice && e.toDevice == toDevice) {
            e.bytes += bytes;
            return;
        }
    edges.push_back({from, to, fromDevice, toDevice, bytes});
}

}  // namespace detail

namespace {

std::int64_t chosenBatch(const Graph& model, std::int64_t asked) {
    if (asked > 0) return asked;
    const std::vector<NodeId> inputs = model.inputNodes();
    if (inputs.empty()) return 32;
    const Shape& s = model.node(inputs.front()).declaredShape;
    return !s.empty() && s[0] > 1 ? s[0] : 32;
}

}  // namespace

PartitionResult simulatePartition(const Graph& model, const Cluster& fullCluster, const PartitionOptions& options) {
    const int n = options.devices > 0 ? options.devices : int(fullCluster.devices.size());
    PartitionResult r;
    r.kind = options.kind;
    r.cluster = fullCluster.firstDevices(n);
    r.batch = chosenBatch(model, options.batch);
    r.microbatches = options.kind == StrategyKind::PipelineParallel ? options.microbatches : 1;
    if (options.microbatches < 1) throw Error("--microbatches must be at least 1");
    const detail::BuildRequest request{model, r.cluster, options, r.batch};
    std::vector<double> resident;
    switch (options.kind) {
        case StrategyKind::DataParallel: resident = detail::buildDataParallel(request, r); break;
        case StrategyKind::PipelineParallel: resident = detail::buildPipelineParallel(request, r); break;
        case StrategyKind::TensorParallel: resident = detail::buildTensorParallel(request, r); break;
        case StrategyKind::Placement: resident = detail::buildPlacement(request, r); break;
    }
    r.sim = simulate(r.cluster, r.tasks.tasks(), resident);
    r.stepSeconds = r.sim.stepSeconds;
    for (std::size_t d = 0; d < r.cluster.devices.size(); ++d) {
        const ClusterDevice& device = r.cluster.devices[d];
        r.devices.push_back({device.name, r.sim.busySeconds[d], r.sim.peakBytes[d], device.memoryBytes});
        if (r.overflow.empty() && r.sim.peakBytes[d] > device.memoryBytes)
            r.overflow = device.name + " needs " + readableBytes(std::int64_t(r.sim.peakBytes[d])) + " of its " +
                         readableBytes(std::int64_t(device.memoryBytes));
    }
    for (std::size_t l = 0; l < r.cluster.links.size(); ++l) {
        const ClusterLink& link = r.cluster.links[l];
        r.links.push_back({r.cluster.devices[std::size_t(link.a)].name, r.cluster.devices[std::size_t(link.b)].name, r.sim.linkBytes[l],
                           r.sim.linkBusySeconds[l]});
    }
    return r;
}

std::vector<PartitionResult> compareStrategies(const Graph& model, const Cluster& cluster, const PartitionOptions& options) {
    std::vector<PartitionResult> results;
    std::string firstProblem;
    auto attempt = [&](StrategyKind kind, auto&& adjust) {
        PartitionOptions o = options;
        o.kind = kind;
        adjust(o);
        try {
            results.push_back(simulatePartition(model, cluster, o));
        } catch (const Error& e) {
            // a strategy that does not apply to this model (no matmul for tp, too few layers for pp)
            if (firstProblem.empty()) firstProblem = e.what();
        }
    };
    attempt(StrategyKind::DataParallel, [](PartitionOptions& o) { o.allReduce = AllReduceAlgorithm::Ring; });
    attempt(StrategyKind::DataParallel, [](PartitionOptions& o) { o.allReduce = AllReduceAlgorithm::Tree; });
    attempt(StrategyKind::PipelineParallel, [](PartitionOptions& o) { o.schedule = PipelineSchedule::GPipe; });
    attempt(StrategyKind::PipelineParallel, [](PartitionOptions& o) { o.schedule = PipelineSchedule::OneFOneB; });
    attempt(StrategyKind::TensorParallel, [](PartitionOptions&) {});
    if (results.empty()) throw Error(firstProblem);
    std::stable_sort(results.begin(), results.end(), [](const PartitionResult& a, const PartitionResult& b) {
        if (a.fits() != b.fits()) return a.fits();
        return a.stepSeconds < b.stepSeconds;
    });
    return results;
}

}  // namespace adj::parallel
