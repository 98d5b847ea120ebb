#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "commands.h"

namespace adj::cli {

int cmdInfo(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--json", false}});
    const std::string path = graphArgument(args, "info");
    Graph g = loadCheckedGraph(path);
    const auto order = g.topoOrder();
    std::map<std::string, int> opCounts;
    std::int64_t paramCount = 0;
    for (NodeId id : order) {
        const Node& n = g.node(id);
        ++opCounts[std::string(opName(n.op))];
        if (n.op == Op::Parameter) paramCount += n.value.numel();
    }
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
            j["inputs"].push_back({{"name", n.name}, {"shape", n.declaredShape}, {"dims", dims}});
        }
        for (NodeId id : g.parameterNodes()) j["parameters"].push_back({{"name", g.node(id).name}, {"shape", g.node(id).value.shape()}});
        for (const auto& o : g.outputs()) j["outputs"].push_back({{"name", o.name}, {"value", g.valueName(o.value)}, {"shape", g.type(o.value).shape}});
        for (NodeId id : order) {
            const Node& n = g.node(id);
            nlohmann::json shapes = nlohmann::json::array();
            for (const auto& t : n.outputs) shapes.push_back(t.shape);
            j["node_list"].push_back({{"name", n.name}, {"op", std::string(opName(n.op))}, {"shapes", shapes}});
        }
        ctx.out << j.dump() << "\n";
        return kOk;
    }
    ctx.out << "graph " << (g.name.empty() ? "unnamed" : g.name) << ": " << g.nodeCount() << " nodes, " << paramCount << " parameter values\n";
    ctx.out << "ops:";
    for (const auto& [op, k] : opCounts) ctx.out << " " << op << "×" << k;
    ctx.out << "\n\n";
    std::size_t width = 4;
    for (NodeId id : order) width = std::max(width, g.node(id).name.size());
    for (NodeId id : order) {
        const Node& n = g.node(id);
        std::string name = n.name;
        name.resize(width, ' ');
        std::string op(opName(n.op));
        op.resize(16, ' ');
        ctx.out << "  " << name << "  " << op;
        for (std::size_t i = 0; i < n.outputs.size(); ++i) ctx.out << (i ? ", " : "") << shapeToString(n.outputs[i].shape);
        ctx.out << "\n";
    }
    ctx.out << "\noutputs:";
    for (const auto& o : g.outputs()) ctx.out << " " << o.name << " " << shapeToString(g.type(o.value).shape);
    ctx.out << "\n";
    return kOk;
}

}  // namespace adj::cli
