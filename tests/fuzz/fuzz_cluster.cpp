// libFuzzer target: the partitioner's cluster file (engine/parallel/cluster), then what a cluster
// feeds: its JSON written back must read back the same, and one training step of a small MLP is
// simulated on its first devices under data and pipeline parallelism (errors allowed, crashes,
// hangs and sanitizer reports not).
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/errors.h"
#include "parallel/cluster.h"
#include "parallel/strategies.h"

namespace {

const adj::Graph& model() {
    static const adj::Graph g = [] {
        adj::Graph m;
        adj::ValueRef h{m.addInput("x", {8, 4}), 0};
        for (int l = 0; l < 3; ++l) {
            const adj::NodeId w = m.addParameter("w" + std::to_string(l), adj::Tensor::full({4, 4}, 0.1f));
            h = {m.addNode(adj::Op::MatMul, {h, {w, 0}}, {}, "fc" + std::to_string(l)), 0};
            if (l < 2) h = {m.addNode(adj::Op::Relu, {h}, {}, "relu" + std::to_string(l)), 0};
        }
        m.addOutput("logits", h);
        return m;
    }();
    return g;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    adj::parallel::Cluster cluster;
    try {
        cluster = adj::parallel::parseCluster(text, "fuzz.json");
    } catch (const adj::Error&) {
        return 0;
    }
    // (the round trip of a file near the 65,536-link limit is megabytes of JSON: seconds under the
    // sanitizers, which would read as a timeout; those files are still parsed and simulated)
    if (cluster.links.size() <= 4096) {
        const adj::parallel::Cluster again = adj::parallel::parseCluster(adj::parallel::clusterJson(cluster), "again.json");  // must not throw
        if (again.devices.size() != cluster.devices.size() || again.links.size() != cluster.links.size()) __builtin_trap();
    }
    const int devices = int(cluster.devices.size() < 4 ? cluster.devices.size() : 4);
    for (adj::parallel::StrategyKind kind : {adj::parallel::StrategyKind::DataParallel, adj::parallel::StrategyKind::PipelineParallel}) {
        adj::parallel::PartitionOptions options;
        options.kind = kind;
        options.devices = devices;
        options.batch = 8;
        options.microbatches = 2;
        try {
            const adj::parallel::PartitionResult r = adj::parallel::simulatePartition(model(), cluster, options);
            if (!(r.stepSeconds >= 0)) __builtin_trap();
        } catch (const adj::Error&) {
        }
    }
    return 0;
}
