#include "cost/time_prediction.h"

#include "base/median.h"

#include <algorithm>
#include <cstdio>
#include <sstream>


namespace adj {

std::vector<double> medianNodeMicros(Executor& executor, const Graph& graph, const Bindings& bindings, int repeats) {
    executor.run(graph, bindings);  // warm-up
    std::vector<std::vector<double>> samples;
    for (int r = 0; r < std::max(1, repeats); ++r) {
        const std::vector<double> micros = executor.run(graph, bindings).nodeMicros;
        samples.resize(micros.size());
        for (std::size_t i = 0; i < micros.size(); ++i) samples[i].push_back(micros[i]);
    }
    std::vector<double> medians(samples.size(), 0.0);
    for (std::size_t i = 0; i < samples.size(); ++i) medians[i] = median(samples[i]);
    return medians;
}

std::vector<NodeTiming> predictedVsMeasured(const Graph& g, const MachineModel& machine, const std::vector<double>& micros) {
    std::vector<NodeTiming> rows;
    for (NodeId id : g.liveTopoOrder()) {
        const Node& n = g.node(id);
        if (!isKernelOp(n.op)) continue;
        NodeTiming t;
        t.cost = nodeCost(g, id);
        if (t.cost.bytes() <= 0) continue;  // views move nothing and take no kernel
        t.id = id;
        t.name = n.name;
        t.op = std::string(opName(n.op));
        t.computeBound = machine.computeBound(t.cost);
        t.predictedMicros = machine.predictSeconds(t.cost) * 1e6;
        t.measuredMicros = std::size_t(id) < micros.size() ? micros[std::size_t(id)] : 0.0;
        rows.push_back(t);
    }
    return rows;
}

std::string formatTimingTable(const std::vector<NodeTiming>& rows) {
    std::size_t nameWidth = 4, opWidth = 2;
    for (const auto& r : rows) nameWidth = std::max(nameWidth, r.name.size()), opWidth = std::max(opWidth, r.op.size());
    std::ostringstream s;
    char line[512];
    std::snprintf(line, sizeof line, "%-*s  %-*s  %-7s  %12s  %12s  %9s\n", int(nameWidth), "node", int(opWidth), "op", "bound", "predicted us",
                  "measured us", "meas/pred");
    s << line;
    double predicted = 0, measured = 0;
    for (const auto& r : rows) {
        std::snprintf(line, sizeof line, "%-*s  %-*s  %-7s  %12.2f  %12.2f  %9.2f\n", int(nameWidth), r.name.c_str(), int(opWidth), r.op.c_str(),
                      r.computeBound ? "compute" : "memory", r.predictedMicros, r.measuredMicros, r.ratio());
        s << line;
        predicted += r.predictedMicros;
        measured += r.measuredMicros;
    }
    std::snprintf(line, sizeof line, "%-*s  %-*s  %-7s  %12.2f  %12.2f  %9.2f\n", int(nameWidth), "total", int(opWidth), "", "", predicted, measured,
                  predicted > 0 ? measured / predicted : 0.0);
    s << line;
    return s.str();
}

}  // namespace adj
