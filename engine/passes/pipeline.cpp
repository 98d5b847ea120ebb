#include "passes/pipeline.h"

#include "passes/checkpointing.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include "base/errors.h"
#include "io/json_format.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/passes.h"

namespace adj {

namespace {

using PassFn = std::function<void(Rewriter&)>;

PassFn ruleSetPass(std::function<RuleSet()> make) {
    return [make](Rewriter& rw) { rw.run(make()); };
}

const std::vector<int> kNoSteps;

}  // namespace

const std::vector<int>& PassInfo::steps(int level) const { return level == 1 ? stepsO1 : level == 2 ? stepsO2 : kNoSteps; }

// docs/REWRITES.md describes every rule of every pass.
const std::vector<PassInfo>& passTable() {
    static const std::vector<PassInfo> table = {
        {.name = "constant-folding",
         .description = "nodes whose inputs are all constants are evaluated and become constants",
         .run = ruleSetPass([] { return constantFoldingRules(); }),
         .stepsO1 = {1},
         .stepsO2 = {1, 9}},
        {.name = "recognize-ops",
         .description = "GELU's erf formula and layernorm's moments, as exporters write them, become the op",
         .run = ruleSetPass(opRecognitionRules),
         .stepsO1 = {2},
         .stepsO2 = {2}},
        {.name = "algebraic",
         .description = "x*1, x+0, neg(neg x) and similar -> x; transpose and reshape chains composed",
         .run = ruleSetPass(algebraicRules),
         .stepsO1 = {3},
         .stepsO2 = {3, 10}},
        {.name = "cse",
         .description = "nodes with equal op, attributes and inputs are merged into one",
         .run = ruleSetPass(cseRules),
         .stepsO1 = {4},
         .stepsO2 = {4, 11}},
        {.name = "dce",
         .description = "nodes the outputs do not need are removed",
         .run = runDeadCodeElimination,
         .stepsO1 = {5},
         .stepsO2 = {5, 12, 14},
         .sweep = true},
        {.name = "conv-bn",
         .description = "inference batchnorm folded into the conv2d or linear layer before it",
         .run = ruleSetPass(convBnFoldRules),
         .stepsO1 = {},
         .stepsO2 = {6}},
        {.name = "parallel-matmul",
         .description = "linear layers (matmul or gemm) of one input by source weights merged into one and a split",
         .run = ruleSetPass(parallelMatmulRules),
         .stepsO1 = {},
         .stepsO2 = {7}},
        {.name = "transpose-sinking",
         .description = "transposes moved past elementwise ops toward the outputs, where they cancel",
         .run = ruleSetPass(transposeSinkingRules),
         .stepsO1 = {},
         .stepsO2 = {8}},
        {.name = kFusionPassName,
         .description = "groups of elementwise ops become one fused kernel",
         .run = [](Rewriter& rw) { rw.run(fusionRules(), true); },
         .stepsO1 = {},
         .stepsO2 = {13}},
        {.name = "checkpoint",
         .description = "forward values a backward pass reads are recomputed from sqrt(n) checkpoints: less memory, more FLOPs",
         .run = runCheckpointPass,
         .stepsO1 = {},
         .stepsO2 = {},
         .sweep = true},
    };
    return table;
}

const PassInfo* findPass(const std::string& name) {
    for (const PassInfo& p : passTable())
        if (p.name == name) return &p;
    return nullptr;
}

const std::vector<std::string>& knownPasses() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const PassInfo& p : passTable()) out.push_back(p.name);
        return out;
    }();
    return names;
}

std::vector<std::string> pipelinePasses(int level) {
    std::map<int, std::string> byStep;
    for (const PassInfo& p : passTable())
        for (int step : p.steps(level)) byStep.emplace(step, p.name);
    std::vector<std::string> out;
    for (auto& [step, name] : byStep) out.push_back(std::move(name));
    return out;
}

namespace {

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

void checkPassNames(const std::vector<std::string>& names) {
    for (const auto& n : names)
        if (!findPass(n)) throw std::invalid_argument("unknown pass '" + n + "' (known: " + joined(knownPasses()) + ")");
}

std::string passTableText() {
    std::size_t width = 0;
    for (const PassInfo& p : passTable()) width = std::max(width, p.name.size());
    std::string out;
    for (const PassInfo& p : passTable()) out += "  " + p.name + std::string(width + 2 - p.name.size(), ' ') + p.description + "\n";
    constexpr std::size_t kLineWidth = 100;
    for (int level = 0; level <= kMaxOptLevel; ++level) {
        const auto passes = pipelinePasses(level);
        std::string line = "  -O" + std::to_string(level) + " =";
        if (passes.empty()) line += " nothing";
        for (std::size_t i = 0; i < passes.size(); ++i) {
            const std::string item = " " + passes[i] + (i + 1 < passes.size() ? "," : "");
            if (line.size() + item.size() > kLineWidth) {
                out += line + "\n";
                line = "       ";
            }
            line += item;
        }
        out += line + "\n";
    }
    return out;
}

int parseOptLevel(const std::string& text) {
    std::string t = text;
    if (t.rfind("-O", 0) == 0) t = t.substr(2);
    else if (t.rfind("O", 0) == 0) t = t.substr(1);
    if (t == "0" || t == "1" || t == "2") return t[0] - '0';
    throw std::invalid_argument("unknown optimization level '" + text + "' (use -O0, -O1 or -O2)");
}

OptimizeResult optimizeGraph(Graph& g, const OptimizeOptions& opt) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<std::string> names = opt.passes.empty() ? pipelinePasses(opt.level) : opt.passes;
    checkPassNames(names);
    verifyOrThrow(g);
    OptimizeResult r;
    r.nodesBefore = g.nodeCount();
    r.before = graphCostSummary(g);
    if (opt.trace) {
        opt.trace->initialGraphJson = graphToJson(g, JsonWriteOptions{256, std::int64_t(1) << 20, false});
        if (g.nodeCount() <= kTraceMaxGraphTextNodes) opt.trace->initialGraphText = printGraph(g);
    }
    for (const auto& name : names) {
        const auto p0 = std::chrono::steady_clock::now();
        PassReport rep;
        rep.pass = name;
        rep.nodesBefore = g.nodeCount();
        const PassInfo& pass = *findPass(name);
        Rewriter rw(g, name, opt.trace);
        pass.run(rw);
        rep.visits = pass.sweep ? std::int64_t(rep.nodesBefore) : rw.visits();
        rep.applications = rw.applications();
        rep.nodesAfter = g.nodeCount();
        if (opt.verify) {
            auto problems = verifyGraph(g);
            if (!problems.empty())
                throw GraphError("after pass '" + name + "': " + problems.front().message);
        }
        rep.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - p0).count();
        r.visits += rep.visits;
        r.applications += rep.applications;
        r.passes.push_back(rep);
        if (opt.trace) opt.trace->passes.push_back(rep);
    }
    if (opt.trace) {  // keep the notes about pairs that still exist, once each
        std::set<std::tuple<std::string, std::string, std::string>> seen;
        std::vector<FusionNote> kept;
        for (const auto& n : opt.trace->fusionNotes)
            if (g.findNode(n.producer) && g.findNode(n.consumer) && seen.insert({n.producer, n.consumer, n.reason}).second) kept.push_back(n);
        opt.trace->fusionNotes = std::move(kept);
    }
    r.nodesAfter = g.nodeCount();
    r.after = graphCostSummary(g);
    r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

}  // namespace adj
