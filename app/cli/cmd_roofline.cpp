#include <fstream>
#include <ostream>

#include "commands.h"
#include "ir/errors.h"
#include "passes/machine_model.h"

namespace adj::cli {

int cmdRoofline(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--output", true, false, "-o"}, {"--backend"}, {"--fallback", false}, {"--input", true, true}, {"--measure", false}});
    const std::string path = graphArgument(args, "roofline");
    auto outPath = args.value("--output");
    if (!outPath) throw UsageError("roofline needs -o FILE.svg");
    const std::string& o = *outPath;
    auto endsWith = [&](const char* ext) { return o.size() >= std::string(ext).size() && o.compare(o.size() - std::string(ext).size(), std::string::npos, ext) == 0; };
    if (endsWith(".png")) throw BadInput("roofline: PNG output is not supported yet; write .svg (and convert it, e.g. with rsvg-convert)");
    if (!endsWith(".svg")) throw UsageError("roofline writes .svg, got '" + o + "'");
    Graph g = loadCheckedGraph(path);
    std::vector<double> micros;
    if (args.has("--measure")) {  // run once on the backend for measured points
        auto exec = makeBackend(args, ctx.err);
        Bindings b = readBindings(args, g);
        for (NodeId id : g.inputNodes())  // unbound inputs: a constant fill of the declared shape
            if (!b.count(g.node(id).name)) b[g.node(id).name] = Tensor::full(g.node(id).declaredShape, 0.5f);
        micros = exec->run(g, b).nodeMicros;
    }
    const MachineModel m = machineModel();
    std::ofstream f(o, std::ios::binary);
    f << rooflineSvg(g, m, micros);
    if (!f) throw BadInput("cannot write " + o);
    ctx.out << "wrote " << o << " (peak " << formatNumber(m.peakFlops / 1e9) << " GFLOP/s, " << formatNumber(m.bandwidth / 1e9) << " GB/s)\n";
    return kOk;
}

}  // namespace adj::cli
