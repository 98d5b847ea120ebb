#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "base/errors.h"
#include "base/files.h"
#include "commands.h"
#include "io/graph_file.h"
#include "passes/pipeline.h"

namespace adj::cli {

namespace {

std::vector<std::string> splitList(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

}  // namespace

OptimizeOptions optimizeOptionsFrom(const std::string& levelText, const std::string& passList) {
    OptimizeOptions o;
    try {
        if (!levelText.empty()) o.level = parseOptLevel(levelText);
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }
    if (!passList.empty()) {
        o.passes = splitList(passList);
        try {
            checkPassNames(o.passes);
        } catch (const std::invalid_argument& e) {
            throw UsageError(e.what());
        }
    }
    return o;
}

OptimizeResult optimizeOrFail(Graph& graph, const OptimizeOptions& options, const std::string& path) {
    try {
        return optimizeGraph(graph, options);
    } catch (const Error& e) {
        throw BadInput(path + ": " + e.what());
    }
}

int cmdOptimize(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--output", true, false, "-o"}, {"-O0", false}, {"-O1", false}, {"-O2", false}, {"--passes"}, {"--trace"}, {"--json", false}});
    const std::string path = graphArgument(args, "optimize");
    auto outPath = args.value("--output");
    if (!outPath) throw UsageError("optimize needs -o FILE");
    int levels = int(args.has("-O0")) + int(args.has("-O1")) + int(args.has("-O2"));
    if (levels > 1) throw UsageError("give one of -O0, -O1, -O2");
    std::string level = args.has("-O0") ? "-O0" : args.has("-O1") ? "-O1" : "-O2";
    if (levels && args.has("--passes")) throw UsageError("give either a level or --passes");
    OptimizeOptions opt = optimizeOptionsFrom(level, args.value("--passes").value_or(""));
    Graph g = loadCheckedGraph(path);
    RewriteTrace trace;
    if (args.has("--trace")) opt.trace = &trace;
    const OptimizeResult r = optimizeOrFail(g, opt, path);
    saveGraphOrFail(g, *outPath);
    if (auto tp = args.value("--trace")) {
        try {
            writeFileAtomically(*tp, trace.toJson() + "\n");
        } catch (const Error& e) {
            throw BadInput(e.what());
        }
    }
    if (args.has("--json")) {
        nlohmann::json j{{"nodes_before", r.nodesBefore}, {"nodes_after", r.nodesAfter},
                         {"kernels_before", r.before.kernels}, {"kernels_after", r.after.kernels},
                         {"flops_before", r.before.flops}, {"flops_after", r.after.flops},
                         {"bytes_before", r.before.bytes}, {"bytes_after", r.after.bytes},
                         {"visits", r.visits}, {"applications", r.applications}, {"ms", r.ms}};
        nlohmann::json passes = nlohmann::json::array();
        for (const auto& p : r.passes)
            passes.push_back({{"pass", p.pass}, {"visits", p.visits}, {"applications", p.applications}, {"nodes_after", p.nodesAfter}, {"ms", p.ms}});
        j["passes"] = passes;
        ctx.out << j.dump() << "\n";
        return kOk;
    }
    ctx.out << "nodes " << r.nodesBefore << " -> " << r.nodesAfter << ", kernels " << r.before.kernels << " -> " << r.after.kernels
            << ", FLOPs " << formatNumber(r.before.flops) << " -> " << formatNumber(r.after.flops) << ", bytes "
            << formatNumber(r.before.bytes) << " -> " << formatNumber(r.after.bytes) << " (" << r.applications << " rewrites, "
            << r.visits << " visits, " << formatNumber(r.ms) << " ms)\n";
    ctx.out << "wrote " << *outPath << "\n";
    return kOk;
}

}  // namespace adj::cli
