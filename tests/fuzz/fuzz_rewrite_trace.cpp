// libFuzzer target: the optimizer and its rewrite trace (engine/passes). A graph read from the
// input (adjoint-graph JSON) that verifies is optimized at -O2 with a trace; then
//   - every pass must leave a graph that verifies (optimizeGraph throws GraphError otherwise),
//   - the trace must be JSON that parses,
//   - replaying the trace (passes/trace_replay, what the rewrite timeline draws) must rebuild the
//     optimized graph: the same printed nodes.
// An input graph that does not load or verify is an expected answer; anything else stops the fuzzer.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/errors.h"
#include "fuzz_common.h"
#include "passes/pipeline.h"
#include "ir/printer.h"
#include "passes/trace_replay.h"

namespace {

[[noreturn]] void finding(const char* what, const std::string& graph, const std::string& detail) {
    std::fprintf(stderr, "%s\n--- graph ---\n%s\n--- detail ---\n%s\n", what, graph.c_str(), detail.c_str());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    adj::Graph graph;
    try {
        graph = adj::parseGraphJson(text, "fuzz.json", "/nonexistent", adj::fuzz::kFuzzMaxInitElements);
    } catch (const adj::Error&) {
        return 0;
    }
    if (!adj::verifyGraph(graph).empty()) return 0;
    const std::string before = adj::printGraph(graph);

    adj::RewriteTrace trace;
    adj::OptimizeOptions options;
    options.level = 2;
    options.trace = &trace;
    try {
        adj::optimizeGraph(graph, options);
    } catch (const adj::Error& e) {
        finding("a pass broke a graph that verified", before, e.what());
    }
    const std::string traceJson = trace.toJson(false);
    if (!nlohmann::json::accept(traceJson)) finding("the rewrite trace is not JSON", before, traceJson);
    try {
        const adj::Graph replayed = adj::replayAfter(trace, int(trace.steps.size()));
        if (adj::sortedPrintedLines(adj::printGraph(replayed)) != adj::sortedPrintedLines(adj::printGraph(graph)))
            finding("replaying the trace does not rebuild the optimized graph", before,
                    adj::printGraph(replayed) + "\n--- optimized ---\n" + adj::printGraph(graph));
    } catch (const adj::Error& e) {
        finding("the rewrite trace does not replay", before, e.what());
    }
    return 0;
}
