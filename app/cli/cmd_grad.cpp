#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "passes/checkpointing.h"
#include "memory_limit.h"
#include "autodiff/forward_mode.h"
#include "autodiff/numeric.h"
#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "commands.h"
#include "io/npy.h"
#include "runtime/bindings.h"

namespace adj::cli {

std::vector<std::string> wrtNames(const Args& args, const Graph& g) {
    std::string spec = args.value("--wrt").value_or("all");
    std::vector<std::string> names;
    if (spec == "all") {
        for (NodeId id : g.inputNodes())
            if (g.node(id).declaredDType == DType::F32) names.push_back(g.node(id).name);  // not integer indices
        for (NodeId id : g.parameterNodes()) names.push_back(g.node(id).name);
        return names;
    }
    std::stringstream ss(spec);
    std::string item;
    // (a name given twice counts once: the fuzzer found "w,w,w,..." making one backward graph
    // with hundreds of identical outputs, seconds of work for one gradient)
    while (std::getline(ss, item, ','))
        if (!item.empty() && std::find(names.begin(), names.end(), item) == names.end()) names.push_back(item);
    if (names.empty()) throw UsageError("--wrt needs names (or 'all')");
    for (const auto& n : names) {
        auto id = g.findNode(n);
        if (!id || (g.node(*id).op != Op::Input && g.node(*id).op != Op::Parameter))
            throw BadInput("--wrt " + n + ": the graph has no input or parameter named '" + n + "'");
    }
    return names;
}

std::string outputArgument(const Args& args, const Graph& g) {
    auto of = args.value("--of");
    if (!of) throw UsageError("grad needs --of OUTPUT (a scalar output of the graph)");
    for (const auto& o : g.outputs())
        if (o.name == *of) return *of;
    std::string names;
    for (const auto& o : g.outputs()) names += (names.empty() ? "" : ", ") + o.name;
    throw BadInput("--of " + *of + ": the graph has no output named '" + *of + "' (outputs: " + names + ")");
}

int cmdGrad(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--of"}, {"--wrt"}, {"--mode"}, {"--input", true, true}, {"--out"}, {"--backend"}, {"--fallback", false},
                     {"--memory-limit"}, {"--checkpoint"}, {"--json", false}});
    const std::string path = graphArgument(args, "grad");
    const std::string mode = args.value("--mode").value_or("reverse");
    if (mode != "reverse" && mode != "forward" && mode != "numeric") throw UsageError("--mode must be reverse, forward or numeric, got '" + mode + "'");
    if (mode == "forward" && args.has("--memory-limit")) throw UsageError("--memory-limit goes with --mode reverse or numeric");
    if (args.has("--checkpoint") && mode != "reverse") throw UsageError("--checkpoint goes with --mode reverse");
    const std::optional<CheckpointPolicy> requested = checkpointPolicyArgument(args);
    CheckpointPolicy checkpoint;
    Graph g = loadCheckedGraph(path, args);
    const std::string of = outputArgument(args, g);
    const std::vector<std::string> wrt = wrtNames(args, g);
    Bindings bindings = readBindings(args, g);
    auto exec = makeBackend(args, ctx.err);
    const std::string dir = args.value("--out").value_or(".");

    std::vector<Tensor> grads, errors;
    std::int64_t passes = 0, peakBytes = 0, plannedPeak = 0;
    std::size_t recomputed = 0;
    ScheduleOrder order = ScheduleOrder::Topological;
    const auto t0 = std::chrono::steady_clock::now();
    try {
        specializeToBindings(g, bindings);
        for (NodeId id : g.inputNodes())
            if (!bindings.count(g.node(id).name))
                throw Error("graph input '" + g.node(id).name + "' has no binding (give it with --input " + g.node(id).name + "=FILE.npy)");
        checkMemoryFits(g, bindings, path);
        if (mode == "reverse") {
            BackwardGraph bw = buildBackward(g, of, {wrt, false, false});
            std::optional<ValueRef> loss;
            for (const auto& o : g.outputs())
                if (o.name == of) loss = o.value;
            const MemoryFit fit = fitMemoryLimit(args, bw.graph, loss, requested, bindings, path);
            checkMemoryFits(bw.graph, bindings, path);
            order = fit.order;
            checkpoint = fit.checkpoint;
            recomputed = fit.recomputed;
            plannedPeak = fit.plannedPeak;
            RunOptions options;
            options.schedule = order;
            RunResult r = exec->run(bw.graph, bindings, options);
            grads = r.outputs;
            peakBytes = r.peakLiveBytes;
            passes = 1;
        } else if (mode == "numeric") {
            // each evaluation runs the forward graph, in the topological order
            Graph forward = g;
            const MemoryFit fit = fitMemoryLimit(args, forward, std::nullopt, std::nullopt, bindings, path);
            plannedPeak = fit.plannedPeak;
            if (fit.order != ScheduleOrder::Topological)
                throw BadInput(path + ": the forward graph fits --memory-limit only in the min-peak order, which numeric mode does not use "
                                      "(--mode reverse does)");
            peakBytes = plannedPeak;
        }
        if (mode == "forward") {
            int runs = 0;
            grads = forwardModeGradient(g, of, wrt, bindings, *exec, 1024, &runs);
            passes = runs;
        } else if (mode == "numeric") {
            NumericGradient n = numericGradient(g, of, wrt, bindings, *exec);
            grads = n.gradients;
            errors = n.errors;
            passes = n.evaluations;
        }
    } catch (const Error& e) {
        throw BadInput(path + ": " + e.what());
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ensureDirectory(dir);
    nlohmann::json j{{"backend", exec->name()}, {"device", exec->deviceName()}, {"mode", mode}, {"of", of}, {"passes", passes}, {"ms", ms},
                     {"peak_bytes", mode == "forward" ? nlohmann::json(nullptr) : nlohmann::json(peakBytes)},
                     {"planned_peak_bytes", mode == "forward" ? nlohmann::json(nullptr) : nlohmann::json(plannedPeak)},
                     {"order", std::string(scheduleOrderName(order))},
                     {"checkpoint", checkpointPolicyName(checkpoint)},
                     {"recomputed", recomputed}};
    j["gradients"] = nlohmann::json::array();
    for (std::size_t i = 0; i < wrt.size(); ++i) {
        const std::string file = dir + "/" + fileNameFor("grad_" + wrt[i]) + ".npy";
        try {
            writeNpy(file, grads[i]);
        } catch (const Error& e) {
            throw BadInput(e.what());
        }
        double maxAbs = 0;
        for (float v : grads[i].toVector()) maxAbs = std::max(maxAbs, double(std::fabs(v)));
        nlohmann::json entry{{"name", wrt[i]}, {"file", file}, {"shape", grads[i].shape()}, {"max_abs", maxAbs}};
        if (!errors.empty()) {
            double maxErr = 0;
            for (float v : errors[i].toVector()) maxErr = std::max(maxErr, double(v));
            entry["max_error"] = maxErr;
            const std::string errFile = dir + "/" + fileNameFor("grad_error_" + wrt[i]) + ".npy";
            writeNpy(errFile, errors[i]);
            entry["error_file"] = errFile;
        }
        j["gradients"].push_back(entry);
        if (!args.has("--json")) {
            ctx.out << "grad_" << wrt[i] << " " << shapeToString(grads[i].shape()) << " -> " << file;
            if (!errors.empty()) ctx.out << "  (numeric, max error " << formatNumber(entry["max_error"].get<double>()) << ")";
            ctx.out << "\n";
        }
    }
    if (args.has("--json")) ctx.out << j.dump() << "\n";
    else ctx.out << mode << " mode: " << passes << (mode == "numeric" ? " evaluations" : " pass(es)") << ", " << formatNumber(ms) << " ms\n";
    return kOk;
}

}  // namespace adj::cli
