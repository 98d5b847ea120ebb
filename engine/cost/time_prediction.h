#pragma once
// The roofline's prediction held against the clock: for each kernel node (fusion groups
// included), the time the machine model predicts, max(FLOPs / peak, bytes / bandwidth), and the
// time the executor measures, the median over several runs after a warm-up run (the first run
// pays for page faults and caches that a training loop pays once).
#include <string>
#include <vector>

#include "cost/cost_model.h"
#include "cost/machine_model.h"
#include "runtime/executor.h"

namespace adj {

struct NodeTiming {
    NodeId id = kNoNode;
    std::string name;
    std::string op;
    Cost cost;
    bool computeBound = false;
    double predictedMicros = 0;
    double measuredMicros = 0;
    /// measured / predicted: how far the node stays below its roof (1 = on the roof).
    double ratio() const { return predictedMicros > 0 ? measuredMicros / predictedMicros : 0.0; }
};

/// Per node wall time in microseconds (indexed by node id), the median of `repeats` runs after one
/// warm-up run.
std::vector<double> medianNodeMicros(Executor& executor, const Graph& graph, const Bindings& bindings, int repeats = 5);

/// One row per kernel node that moves memory, in schedule order. `nodeMicros` comes from
/// medianNodeMicros (or RunResult::nodeMicros) of the same graph.
std::vector<NodeTiming> predictedVsMeasured(const Graph& graph, const MachineModel& machine, const std::vector<double>& nodeMicros);

/// The rows as an aligned text table with a total line.
std::string formatTimingTable(const std::vector<NodeTiming>& rows);

}  // namespace adj
