#include "passes/pipeline.h"

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

const std::map<std::string, PassFn>& passTable() {
    static const std::map<std::string, PassFn> table = {
        {"constant-folding", ruleSetPass([] { return constantFoldingRules(); })},
        {"algebraic", ruleSetPass(algebraicRules)},
        {"cse", ruleSetPass(cseRules)},
        {"dce", runDeadCodeElimination},
        {"conv-bn", ruleSetPass(convBnFoldRules)},
        {"parallel-matmul", ruleSetPass(parallelMatmulRules)},
        {"transpose-sinking", ruleSetPass(transposeSinkingRules)},
        {"fusion", [](Rewriter& rw) { rw.run(fusionRules(), true); }},
    };
    return table;
}

}  // namespace

const std::vector<std::string>& knownPasses() {
    static const std::vector<std::string> names = {"constant-folding", "algebraic", "cse", "dce", "conv-bn", "parallel-matmul", "transpose-sinking", "fusion"};
    return names;
}

std::vector<std::string> pipelinePasses(int level) {
    if (level <= 0) return {};
    std::vector<std::string> p = {"constant-folding", "algebraic", "cse", "dce"};
    if (level >= 2) {
        for (const char* s : {"conv-bn", "parallel-matmul", "transpose-sinking", "constant-folding", "algebraic", "cse", "dce", "fusion", "dce"})
            p.push_back(s);
    }
    return p;
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
    for (const auto& n : names)
        if (!passTable().count(n)) {
            std::string known;
            for (const auto& k : knownPasses()) known += (known.empty() ? "" : ", ") + k;
            throw std::invalid_argument("unknown pass '" + n + "' (known: " + known + ")");
        }
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
        Rewriter rw(g, name, opt.trace);
        passTable().at(name)(rw);
        rep.visits = name == "dce" ? std::int64_t(rep.nodesBefore) : rw.visits();
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
