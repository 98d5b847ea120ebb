#include <chrono>
#include <nlohmann/json.hpp>
#include <ostream>

#include "autodiff/forward_mode.h"
#include "autodiff/mode_costs.h"
#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "commands.h"
#include "io/npy.h"
#include "runtime/bindings.h"

namespace adj::cli {

namespace {
nlohmann::json modeJson(const ModeCost& c) { return {{"passes", c.passes}, {"flops", c.flops}, {"peak_bytes", c.peakBytes}}; }
}  // namespace

int cmdJacobian(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--of"}, {"--wrt"}, {"--mode"}, {"--input", true, true}, {"--out"}, {"--backend"}, {"--fallback", false}, {"--json", false}});
    const std::string path = graphArgument(args, "jacobian");
    const std::string mode = args.value("--mode").value_or("reverse");
    if (mode != "reverse" && mode != "forward") throw UsageError("--mode must be forward or reverse, got '" + mode + "'");
    if (!args.has("--wrt")) throw UsageError("jacobian needs --wrt NAME (one graph input or parameter)");
    Graph g = loadCheckedGraph(path, args);
    const std::string of = outputArgument(args, g);
    const auto wrtList = wrtNames(args, g);
    if (wrtList.size() != 1) throw UsageError("jacobian takes one --wrt name");
    const std::string wrt = wrtList.front();
    Bindings bindings = readBindings(args, g);
    checkMemoryFits(g, bindings, path);
    auto exec = makeBackend(args, ctx.err);
    const std::string dir = args.value("--out").value_or(".");

    Tensor jac;
    AutodiffCostReport costs;
    std::int64_t passes = 0;
    const auto t0 = std::chrono::steady_clock::now();
    try {
        specializeToBindings(g, bindings);
        Shape os, ws = g.type({*g.findNode(wrt), 0}).shape;
        for (const auto& o : g.outputs())
            if (o.name == of) os = g.type(o.value).shape;
        const std::int64_t m = numel(os), n = numel(ws);
        if (m * n > (std::int64_t(1) << 26)) throw Error("the Jacobian would have " + std::to_string(m * n) + " entries; that is too many to write");
        Shape js = os;
        js.insert(js.end(), ws.begin(), ws.end());
        jac = Tensor::zeros(js);
        if (mode == "forward") {
            JvpGraph jg = buildJvp(g, {of}, {wrt}, std::max<std::int64_t>(1, n));
            Shape ts{std::max<std::int64_t>(1, n)};
            ts.insert(ts.end(), ws.begin(), ws.end());
            Tensor eye = Tensor::zeros(ts);
            for (std::int64_t i = 0; i < n; ++i) eye.data()[i * n + i] = 1.f;
            Bindings b = bindings;
            b[jg.tangentInputs[0]] = eye;
            RunResult r = exec->run(jg.graph, b);
            const std::vector<float> t = r.outputs.back().toVector();  // [n, m]
            for (std::int64_t i = 0; i < m; ++i)
                for (std::int64_t j = 0; j < n; ++j) jac.data()[i * n + j] = t[std::size_t(j * m + i)];
            passes = 1;
        } else {
            BackwardGraph bw = buildBackward(g, of, {{wrt}, true, false});
            std::string seedName;
            for (NodeId id : bw.graph.inputNodes())
                if (bw.graph.node(id).name.rfind("seed_", 0) == 0) seedName = bw.graph.node(id).name;
            for (std::int64_t i = 0; i < m; ++i) {
                Bindings b = bindings;
                Tensor seed = Tensor::zeros(os);
                seed.data()[i] = 1.f;
                b[seedName] = seed;
                RunResult r = exec->run(bw.graph, b);
                const std::vector<float> row = r.outputs[0].toVector();
                std::copy(row.begin(), row.end(), jac.data() + i * n);
            }
            passes = m;
        }
        costs = autodiffCosts(g, of, {wrt});
    } catch (const Error& e) {
        throw BadInput(path + ": " + e.what());
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ensureDirectory(dir);
    const std::string file = dir + "/" + fileNameFor("jacobian_" + of + "_" + wrt) + ".npy";
    try {
        writeNpy(file, jac);
    } catch (const Error& e) {
        throw BadInput(e.what());
    }
    if (args.has("--json")) {
        nlohmann::json j{{"backend", exec->name()}, {"device", exec->deviceName()}, {"mode", mode}, {"of", of}, {"wrt", wrt},
                         {"file", file}, {"shape", jac.shape()}, {"passes", passes}, {"ms", ms}};
        j["cost"] = {{"inputs", costs.inputs}, {"outputs", costs.outputs}, {"forward_pass_flops", costs.forwardPass.flops},
                     {"forward", modeJson(costs.forwardMode)}, {"forward_vectorized", modeJson(costs.forwardVectorized)},
                     {"reverse", modeJson(costs.reverseMode)}, {"numeric", modeJson(costs.numeric)},
                     {"forward_nodes", costs.forwardNodes}, {"backward_nodes", costs.backwardNodes}};
        ctx.out << j.dump() << "\n";
        return kOk;
    }
    ctx.out << "jacobian d" << of << "/d" << wrt << " " << shapeToString(jac.shape()) << " -> " << file << " (" << mode << " mode, " << passes
            << " pass(es))\n";
    ctx.out << "cost of the whole Jacobian (n = " << costs.inputs << " inputs, m = " << costs.outputs << " outputs):\n";
    ctx.out << "  forward mode    " << costs.forwardMode.passes << " passes, " << formatNumber(costs.forwardMode.flops) << " FLOPs\n";
    ctx.out << "  forward, vectorized  1 pass, " << formatNumber(costs.forwardVectorized.flops) << " FLOPs\n";
    ctx.out << "  reverse mode    " << costs.reverseMode.passes << " passes, " << formatNumber(costs.reverseMode.flops) << " FLOPs\n";
    ctx.out << "  finite differences " << costs.numeric.passes << " evaluations, " << formatNumber(costs.numeric.flops) << " FLOPs\n";
    ctx.out << "  backward graph: " << costs.backwardNodes << " nodes for " << costs.forwardNodes << " forward nodes\n";
    return kOk;
}

}  // namespace adj::cli
