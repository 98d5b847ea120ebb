// adjoint-cli diff A B: which nodes the second graph adds, removes and changes against the first
// (matched by name, then by structure: engine/ir/graph_diff.h), with what each change is, the
// FLOPs each changed node gains or loses, and the totals of both graphs (nodes, kernels, FLOPs,
// bytes of the nodes the outputs need), and the cost delta of each group (module) matched by path.
#include <nlohmann/json.hpp>
#include <ostream>

#include "commands.h"
#include "cost/cost_model.h"
#include "cost/group_costs.h"
#include "ir/graph_diff.h"
#include "passes/rewriter.h"

namespace adj::cli {

namespace {

nlohmann::json totalsOf(const Graph& g) {
    const CostSummary c = graphCostSummary(g);
    return {{"nodes", g.nodeCount()}, {"kernels", c.kernels}, {"flops", c.flops}, {"bytes", c.bytes}};
}

std::string signedNumber(double v) { return (v > 0 ? "+" : "") + formatNumber(v); }

std::string joined(const std::vector<std::string>& items, const std::string& sep) {
    std::string s;
    for (const auto& i : items) s += (s.empty() ? "" : sep) + i;
    return s;
}

}  // namespace

int cmdDiff(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--json", false}});
    if (args.positional().size() != 2) throw UsageError("diff needs two graph files: diff A B");
    const std::string pathA = args.positional()[0], pathB = args.positional()[1];
    const Graph a = loadCheckedGraph(pathA), b = loadCheckedGraph(pathB);
    const GraphDiff d = diffGraphs(a, b);

    nlohmann::json changes = nlohmann::json::array();
    for (const NodeChange& c : d.changed)
        changes.push_back({{"name", c.name},
                           {"was", c.formerName},
                           {"what", c.what},
                           {"flops_delta", nodeCost(b, c.after).flops - nodeCost(a, c.before).flops}});
    nlohmann::json changed = nlohmann::json::array();
    for (const NodeChange& c : d.changed) changed.push_back(c.name);
    const nlohmann::json ta = totalsOf(a), tb = totalsOf(b);
    // the cost per group (module), matched by path; only where the graphs have groups
    std::vector<GroupCostDelta> groups = groupCostDeltas(a, b);
    if (groups.size() == 1 && groups.front().group.empty()) groups.clear();
    nlohmann::json groupRows = nlohmann::json::array();
    for (const GroupCostDelta& r : groups)
        groupRows.push_back({{"group", r.group},
                             {"nodes", {{"a", r.nodesBefore}, {"b", r.nodesAfter}}},
                             {"flops", {{"a", r.before.flops}, {"b", r.after.flops}}},
                             {"bytes", {{"a", r.before.bytes()}, {"b", r.after.bytes()}}}});

    if (args.has("--json")) {
        ctx.out << nlohmann::json{{"added", d.added},   {"removed", d.removed}, {"changed", changed},
                                  {"changes", changes}, {"matched", d.matched.size()}, {"totals", {{"a", ta}, {"b", tb}}},
                                  {"groups", groupRows}}
                       .dump()
                << "\n";
        return kOk;
    }
    auto opOf = [](const Graph& g, const std::string& name) { return std::string(opName(g.node(*g.findNode(name)).op)); };
    ctx.out << "A: " << pathA << "\nB: " << pathB << "\n";
    if (d.empty()) ctx.out << "no differences (" << d.matched.size() << " nodes matched)\n";
    for (const auto& n : d.removed) ctx.out << "- " << n << " (" << opOf(a, n) << ")\n";
    for (const auto& n : d.added) ctx.out << "+ " << n << " (" << opOf(b, n) << ")\n";
    for (const NodeChange& c : d.changed) {
        const double delta = nodeCost(b, c.after).flops - nodeCost(a, c.before).flops;
        ctx.out << "~ " << c.name << ": " << joined(c.what, "; ") << (delta != 0 ? " (FLOPs " + signedNumber(delta) + ")" : "") << "\n";
    }
    ctx.out << d.removed.size() << " removed, " << d.added.size() << " added, " << d.changed.size() << " changed, " << d.matched.size()
            << " matched\n";
    for (const char* key : {"nodes", "kernels", "flops", "bytes"}) {
        const double x = ta[key].get<double>(), y = tb[key].get<double>();
        ctx.out << key << ": " << formatNumber(x) << " -> " << formatNumber(y) << " (" << signedNumber(y - x) << ")\n";
    }
    for (const GroupCostDelta& r : groups) {  // the groups whose cost or size changed
        if (r.nodesBefore == r.nodesAfter && r.before.flops == r.after.flops && r.before.bytes() == r.after.bytes()) continue;
        ctx.out << "group " << (r.group.empty() ? std::string("(top level)") : r.group) << ": nodes " << r.nodesBefore << " -> "
                << r.nodesAfter << ", FLOPs " << signedNumber(r.after.flops - r.before.flops) << ", bytes "
                << signedNumber(r.after.bytes() - r.before.bytes()) << "\n";
    }
    return kOk;
}

}  // namespace adj::cli
