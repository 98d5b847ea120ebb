#pragma once
// Optimization pipelines: -O0 (nothing), -O1 (constant folding, algebraic simplification, CSE,
// DCE), -O2 (-O1, then conv/batchnorm folding, parallel matmul merging, transpose sinking, and
// elementwise fusion), or an explicit list of passes. They work on any graph: forward, backward
// or training step.
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

/// Every pass name an explicit list may use.
const std::vector<std::string>& knownPasses();
/// The passes of -O0, -O1, -O2.
std::vector<std::string> pipelinePasses(int level);
/// Parses "-O2", "O2", "2"; throws std::invalid_argument otherwise.
int parseOptLevel(const std::string& text);

/// Optimizes the graph in place. Throws std::invalid_argument on an unknown pass name and
/// GraphError when the graph (or a pass's result) does not verify.
OptimizeResult optimizeGraph(Graph& graph, const OptimizeOptions& options = {});

}  // namespace adj
