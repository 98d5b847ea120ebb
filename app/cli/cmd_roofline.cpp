#include <nlohmann/json.hpp>
#include <ostream>

#include "base/errors.h"
#include "base/files.h"
#include "commands.h"
#include "cost/machine_model.h"
#include "cost/time_prediction.h"
#include "svg_raster.h"

namespace adj::cli {

int cmdRoofline(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--output", true, false, "-o"}, {"--backend"}, {"--fallback", false}, {"--input", true, true}, {"--measure", false}, {"--repeats"}, {"--json", false}});
    const std::string path = graphArgument(args, "roofline");
    auto outPath = args.value("--output");
    if (!outPath) throw UsageError("roofline needs -o FILE.svg or -o FILE.png");
    const std::string& o = *outPath;
    auto endsWith = [&](const char* ext) { return o.size() >= std::string(ext).size() && o.compare(o.size() - std::string(ext).size(), std::string::npos, ext) == 0; };
    const bool png = endsWith(".png");
    if (!png && !endsWith(".svg")) throw UsageError("roofline writes .svg or .png, got '" + o + "'");
    Graph g = loadCheckedGraph(path);
    // --measure: the median per-node time of several runs on the backend (after a warm-up run),
    // drawn as hollow dots and printed beside the model's prediction
    std::vector<double> micros;
    if (args.has("--measure")) {
        auto exec = makeBackend(args, ctx.err);
        Bindings b = readBindings(args, g);
        for (NodeId id : g.inputNodes()) {  // unbound inputs: a constant fill of the declared shape (index 0)
            const Node& n = g.node(id);
            if (!b.count(n.name))
                b[n.name] = n.declaredDType != DType::F32 ? Tensor::zeros(n.declaredShape, n.declaredDType) : Tensor::full(n.declaredShape, 0.5f);
        }
        const int repeats = countArgument(args, "--repeats", 5, 1, 1000);
        micros = medianNodeMicros(*exec, g, b, repeats);
    }
    const MachineModel m = machineModel();
    const std::string svg = rooflineSvg(g, m, micros);
    if (png) {
        writeSvgAsPng(svg, o);
    } else {
        try {
            writeFileAtomically(o, svg);  // a full disk leaves the previous file whole
        } catch (const Error& e) {
            throw BadInput(e.what());
        }
    }
    const std::vector<NodeTiming> rows = micros.empty() ? std::vector<NodeTiming>{} : predictedVsMeasured(g, m, micros);
    if (args.has("--json")) {
        nlohmann::json j{{"output", o}, {"peak_flops", m.peakFlops}, {"bandwidth", m.bandwidth}, {"threads", m.threads}, {"ridge", m.ridge()}};
        j["nodes"] = nlohmann::json::array();
        for (const auto& r : rows)
            j["nodes"].push_back({{"name", r.name}, {"op", r.op}, {"flops", r.cost.flops}, {"bytes", r.cost.bytes()}, {"intensity", r.cost.intensity()},
                                  {"bound", r.computeBound ? "compute" : "memory"}, {"predicted_us", r.predictedMicros}, {"measured_us", r.measuredMicros}});
        ctx.out << j.dump() << "\n";
        return kOk;
    }
    ctx.out << "wrote " << o << " (peak " << formatNumber(m.peakFlops / 1e9) << " GFLOP/s, " << formatNumber(m.bandwidth / 1e9) << " GB/s)\n";
    if (!rows.empty()) ctx.out << "\npredicted (roofline) against measured time per kernel node:\n" << formatTimingTable(rows);
    return kOk;
}

}  // namespace adj::cli
