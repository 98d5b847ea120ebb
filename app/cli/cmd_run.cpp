#include <chrono>
#include <nlohmann/json.hpp>
#include <ostream>

#include "base/errors.h"
#include "commands.h"
#include "io/npy.h"

namespace adj::cli {

int cmdRun(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--input", true, true}, {"--out", true}, {"--backend", true}, {"--fallback", false}, {"--json", false}});
    const std::string path = graphArgument(args, "run");
    Graph g = loadCheckedGraph(path, args);
    Bindings bindings = readBindings(args, g);
    checkMemoryFits(g, bindings, path);
    auto exec = makeBackend(args, ctx.err);
    const auto t0 = std::chrono::steady_clock::now();
    RunResult r;
    try {
        r = exec->run(g, bindings);
    } catch (const Error& e) {
        throw BadInput(path + ": " + e.what());
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const std::string dir = args.value("--out").value_or(".");
    ensureDirectory(dir);
    nlohmann::json j;
    j["backend"] = exec->name();
    j["device"] = exec->deviceName();
    j["ms"] = ms;
    j["outputs"] = nlohmann::json::array();
    for (std::size_t i = 0; i < g.outputs().size(); ++i) {
        const auto& o = g.outputs()[i];
        const std::string file = dir + "/" + fileNameFor(o.name) + ".npy";
        try {
            writeNpy(file, r.outputs[i]);
        } catch (const Error& e) {
            throw BadInput(e.what());
        }
        j["outputs"].push_back({{"name", o.name}, {"file", file}, {"shape", r.outputs[i].shape()}});
        if (!args.has("--json")) ctx.out << o.name << " " << shapeToString(r.outputs[i].shape()) << " -> " << file << "\n";
    }
    if (args.has("--json")) ctx.out << j.dump() << "\n";
    return kOk;
}

}  // namespace adj::cli
