#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <ostream>

#include "base/errors.h"
#include "commands.h"
#include "cost/machine_model.h"
#include "ir/group_tree.h"
#include "passes/rewriter.h"
#include "runtime/memory_plan.h"

namespace adj::cli {

namespace {

/// The memory plan for the declared input shapes, or nothing (with the reason) when the graph
/// cannot be planned.
std::optional<MemoryPlan> declaredMemoryPlan(const Graph& g, std::string& why) {
    try {
        return planMemory(g);
    } catch (const Error& e) {
        why = e.what();
        return std::nullopt;
    }
}

}  // namespace

int cmdInfo(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--json", false}, {"--costs", false}});
    const std::string path = graphArgument(args, "info");
    Graph g = loadCheckedGraph(path);
    const auto order = g.topoOrder();
    // costs: per node FLOPs, bytes, intensity and, against this machine's ridge point (a cached
    // calibration, see cost/machine_model.h), compute- or memory-bound
    const bool costs = args.has("--costs") || args.has("--json");
    MachineModel machine;
    if (costs) machine = machineModel();
    auto bound = [&](const Cost& c) { return c.bytes() <= 0 && c.flops <= 0 ? "-" : machine.computeBound(c) ? "compute" : "memory"; };
    std::map<std::string, int> opCounts;
    std::int64_t paramCount = 0;
    for (NodeId id : order) {
        const Node& n = g.node(id);
        ++opCounts[std::string(opName(n.op))];
        if (n.op == Op::Parameter) paramCount += n.value.numel();
    }
    std::string noPlan;
    const std::optional<MemoryPlan> plan = declaredMemoryPlan(g, noPlan);
    if (args.has("--json")) {
        nlohmann::json j;
        j["name"] = g.name;
        j["nodes"] = g.nodeCount();
        j["ops"] = opCounts;
        j["parameter_count"] = paramCount;
        for (NodeId id : g.inputNodes()) {
            const Node& n = g.node(id);
            nlohmann::json dims = nlohmann::json::array();
            for (std::size_t d = 0; d < n.declaredShape.size(); ++d)
                dims.push_back(d < n.dimNames.size() && !n.dimNames[d].empty() ? nlohmann::json(n.dimNames[d]) : nlohmann::json(n.declaredShape[d]));
            j["inputs"].push_back({{"name", n.name}, {"shape", n.declaredShape}, {"dims", dims}, {"dtype", std::string(dtypeName(n.declaredDType))}});
        }
        for (NodeId id : g.parameterNodes()) j["parameters"].push_back({{"name", g.node(id).name}, {"shape", g.node(id).value.shape()}});
        for (const auto& o : g.outputs()) j["outputs"].push_back({{"name", o.name}, {"value", g.valueName(o.value)}, {"shape", g.type(o.value).shape}});
        for (NodeId id : order) {
            const Node& n = g.node(id);
            nlohmann::json shapes = nlohmann::json::array();
            for (const auto& t : n.outputs) shapes.push_back(t.shape);
            const Cost c = nodeCost(g, id);
            j["node_list"].push_back({{"name", n.name}, {"op", std::string(opName(n.op))}, {"shapes", shapes}, {"flops", c.flops},
                                      {"bytes", c.bytes()}, {"intensity", c.intensity()}, {"bound", bound(c)},
                                      {"predicted_us", machine.predictSeconds(c) * 1e6}, {"group", nodeGroup(n)}});
        }
        // the name-scope hierarchy (ir/group_tree.h), outer groups first
        const GroupTree tree = buildGroupTree(g);
        j["groups"] = nlohmann::json::array();
        for (const auto& grp : tree.groups) {
            Cost c;
            for (NodeId id : tree.members(int(&grp - tree.groups.data()))) c += nodeCost(g, id);
            nlohmann::json children = nlohmann::json::array();
            for (int k : grp.children) children.push_back(tree.groups[std::size_t(k)].path);
            j["groups"].push_back({{"path", grp.path},
                                   {"parent", grp.parent >= 0 ? nlohmann::json(tree.groups[std::size_t(grp.parent)].path) : nlohmann::json()},
                                   {"children", children}, {"nodes", grp.size}, {"flops", c.flops}, {"bytes", c.bytes()}});
        }
        const CostSummary total = graphCostSummary(g);
        j["cost"] = {{"flops", total.flops}, {"bytes", total.bytes}, {"kernels", total.kernels}, {"intensity", total.intensity()}};
        if (plan)
            j["memory"] = {{"planned_peak_bytes", plan->plannedPeakBytes()}, {"arena_bytes", plan->arenaBytes},
                           {"output_bytes", plan->ownBytes}, {"no_reuse_bytes", plan->noReuseBytes},
                           {"lower_bound_bytes", plan->lowerBoundBytes}};
        else
            j["memory"] = nullptr;
        j["machine"] = {{"peak_flops", machine.peakFlops}, {"bandwidth", machine.bandwidth}, {"threads", machine.threads}, {"ridge", machine.ridge()}};
        ctx.out << j.dump() << "\n";
        return kOk;
    }
    ctx.out << "graph " << (g.name.empty() ? "unnamed" : g.name) << ": " << g.nodeCount() << " nodes, " << paramCount << " parameter values\n";
    ctx.out << "ops:";
    for (const auto& [op, k] : opCounts) ctx.out << " " << op << "×" << k;
    ctx.out << "\n";
    if (const GroupTree tree = buildGroupTree(g); !tree.groups.empty()) {
        ctx.out << "groups: " << tree.groups.size() << ", top level:";
        for (int r : tree.roots) ctx.out << " " << tree.groups[std::size_t(r)].path << " (" << tree.groups[std::size_t(r)].size << ")";
        ctx.out << "\n";
    }
    ctx.out << "\n";
    std::size_t width = 4;
    for (NodeId id : order) width = std::max(width, g.node(id).name.size());
    for (NodeId id : order) {
        const Node& n = g.node(id);
        std::string name = n.name;
        name.resize(width, ' ');
        std::string op(opName(n.op));
        op.resize(16, ' ');
        ctx.out << "  " << name << "  " << op;
        std::string shapes;
        for (std::size_t i = 0; i < n.outputs.size(); ++i) shapes += (i ? ", " : "") + shapeToString(n.outputs[i].shape);
        if (costs) {
            shapes.resize(std::max<std::size_t>(shapes.size(), 18), ' ');
            const Cost c = nodeCost(g, id);
            ctx.out << shapes << "  " << formatNumber(c.flops) << " FLOP, " << formatNumber(c.bytes()) << " B, "
                    << formatNumber(c.intensity()) << " FLOP/B, " << bound(c);
        } else {
            ctx.out << shapes;
        }
        ctx.out << "\n";
    }
    if (costs) {
        const CostSummary t = graphCostSummary(g);
        ctx.out << "\ncost: " << formatNumber(t.flops) << " FLOP, " << formatNumber(t.bytes) << " B, " << t.kernels << " kernels, "
                << formatNumber(t.intensity()) << " FLOP/B; machine: " << formatNumber(machine.peakFlops / 1e9) << " GFLOP/s, "
                << formatNumber(machine.bandwidth / 1e9) << " GB/s, ridge " << formatNumber(machine.ridge()) << " FLOP/B\n";
    }
    if (plan)
        ctx.out << "\nmemory: planned peak " << std::to_string(plan->plannedPeakBytes()) << " B (arena "
                << std::to_string(plan->arenaBytes) << " B + outputs " << std::to_string(plan->ownBytes) << " B), no reuse "
                << std::to_string(plan->noReuseBytes) << " B, lower bound " << std::to_string(plan->lowerBoundBytes) << " B\n";
    else
        ctx.out << "\nmemory: not planned (" << noPlan << ")\n";
    ctx.out << "\noutputs:";
    for (const auto& o : g.outputs()) ctx.out << " " << o.name << " " << shapeToString(g.type(o.value).shape);
    ctx.out << "\n";
    return kOk;
}

}  // namespace adj::cli
