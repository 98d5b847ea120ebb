#pragma once
// Optimization pipelines: -O0 (nothing), -O1 (constant folding, algebraic simplification, CSE,
// DCE), -O2 (-O1, then conv/batchnorm folding, parallel matmul merging, transpose sinking, and
// elementwise fusion), or an explicit list of passes. They work on any graph: forward, backward
// or training step.
#include <functional>
#include <string>
#include <vector>

#include "passes/rewriter.h"

namespace adj {

struct OptimizeOptions {
    int level = 2;
    /// When not empty: these passes in this order, instead of the level's.
    std::vector<std::string> passes;
    /// Run the verifier after every pass (throws GraphError naming the pass on a problem).
    bool verify = true;
    /// Where to record the rewrites; may be null.
    RewriteTrace* trace = nullptr;
};

struct OptimizeResult {
    std::vector<PassReport> passes;
    CostSummary before, after;
    std::size_t nodesBefore = 0, nodesAfter = 0;
    std::int64_t visits = 0;
    std::int64_t applications = 0;
    double ms = 0;
};

/// The highest optimization level (-O0 .. -O2).
inline constexpr int kMaxOptLevel = 2;
/// The name of the elementwise fusion pass (the fusion panel runs the -O2 passes before it, then
/// it alone).
inline constexpr const char* kFusionPassName = "fusion";

/// One optimization pass. passTable() is the one list of passes: --passes validation, the -O
/// pipelines, the CLI's help and errors and the GUI's pass picker all read it.
struct PassInfo {
    /// What --passes, traces and reports call it.
    std::string name;
    /// One line, for help texts and tooltips.
    std::string description;
    std::function<void(Rewriter&)> run;
    /// Where the pass runs in the -O1 and -O2 pipelines: step numbers from 1 (a pass may run
    /// more than once); empty when the level leaves it out. -O0 runs nothing.
    std::vector<int> stepsO1, stepsO2;
    /// One sweep over the whole graph instead of a worklist: its report counts a visit per node.
    bool sweep = false;
    /// stepsO1 or stepsO2 (nothing for level 0).
    const std::vector<int>& steps(int level) const;
};

/// Every pass, in the order they are listed to people.
const std::vector<PassInfo>& passTable();
/// The pass of that name, or null.
const PassInfo* findPass(const std::string& name);
/// Every pass name an explicit list may use, in table order.
const std::vector<std::string>& knownPasses();
/// The passes of -O0, -O1, -O2, in the order they run.
std::vector<std::string> pipelinePasses(int level);
/// Throws std::invalid_argument "unknown pass 'x' (known: a, b, ...)" for the first unknown name.
void checkPassNames(const std::vector<std::string>& names);
/// The table for people: one line a pass (name and description), then one line a level
/// ("-O1 = constant-folding, ..."), each indented by two spaces and ending in a newline.
std::string passTableText();
/// Parses "-O2", "O2", "2"; throws std::invalid_argument otherwise.
int parseOptLevel(const std::string& text);

/// Optimizes the graph in place. Throws std::invalid_argument on an unknown pass name and
/// GraphError when the graph (or a pass's result) does not verify.
OptimizeResult optimizeGraph(Graph& graph, const OptimizeOptions& options = {});

}  // namespace adj
