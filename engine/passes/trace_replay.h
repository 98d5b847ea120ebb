#pragma once
// Replays a RewriteTrace (passes/rewriter.h) to rebuild the graph at any step: the rewrite
// timeline draws it, and the rewrite-trace fuzz target checks that a trace rebuilds its result. The trace carries the graph before the first step (JSON) and, per step, the
// nodes added (with their inputs by value name, attributes and small tensor values), the uses
// rewired and the nodes removed: enough to rebuild the structure and shapes without running the
// passes again. Constants whose values were omitted from the trace (more than kTraceMaxValues
// elements) come back as zeros of their shape: right for drawing, not for running.
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/rewriter.h"

namespace adj {

struct ReplayedStep {
    /// The graph after steps [0, k), plus step k's added nodes and rewiring, with step k's removed
    /// nodes still present (unused), so that one drawing shows both.
    Graph graph;
    std::vector<NodeId> added;
    std::vector<NodeId> removed;
};

/// The graph before the first step. Throws Error when the trace's JSON does not parse.
Graph replayInitialGraph(const RewriteTrace& trace);
/// Applies one step to `graph` (the graph before it). With `removeNodes` false the removed nodes
/// stay. Throws GraphError naming the step when the trace does not fit the graph.
void replayStep(Graph& graph, const RewriteStep& step, bool removeNodes = true);
/// The drawing of step `k` (0-based); the returned graph is verified (types on every node).
ReplayedStep replayTo(const RewriteTrace& trace, int k);
/// The graph after all steps `[0, count)`, verified.
Graph replayAfter(const RewriteTrace& trace, int count);

}  // namespace adj
