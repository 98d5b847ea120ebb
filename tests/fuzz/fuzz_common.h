#pragma once
// What every loader fuzz target does with a graph that loaded: verify it, and when it verifies,
// print it, write it back out as JSON and ONNX and read those again, and write it as a PyTorch
// module. Every adj::Error is an
// expected answer to bad input; anything else (a crash, a sanitizer report, another exception, a
// round trip that changes the printed graph) stops the fuzzer.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/errors.h"
#include "io/json_format.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "io/pytorch_export.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace adj::fuzz {

/// The JSON loader's cap on "init" elements inside the fuzzer: large enough for real examples,
/// small enough that no input costs more than a few milliseconds.
inline constexpr std::int64_t kFuzzMaxInitElements = std::int64_t(1) << 16;

/// Elements of every constant and parameter value of `graph`.
inline std::int64_t storedElements(const Graph& graph) {
    std::int64_t total = 0;
    for (NodeId id : graph.nodeIds())
        if (graph.node(id).value.defined()) total += graph.node(id).value.numel();
    return total;
}

inline void exerciseLoadedGraph(Graph& graph) {
    if (!verifyGraph(graph).empty()) return;
    const std::string printed = printGraph(graph);
    // A round trip costs time in proportion to the stored elements (a 3.5 KB ONNX file whose
    // Resize scales make 2^26-element interpolation matrices spent 30 s writing and reading them
    // as base64, past the fuzzer's 20 s timeout): beyond the JSON reader's fuzzing cap the round
    // trips are left out; the same code runs on the smaller tensors of every other input.
    if (storedElements(graph) > kFuzzMaxInitElements * 4) return;
    const std::string json = graphToJson(graph);
    Graph again = parseGraphJson(json, "round-trip.json", "/nonexistent", kFuzzMaxInitElements * 4);
    if (!verifyGraph(again).empty() || printGraph(again) != printed) {
        std::fprintf(stderr, "JSON round trip changed the graph:\n%s\n---\n%s\n", printed.c_str(),
                     printGraph(again).c_str());
        std::abort();
    }
    try {
        const std::string onnx = graphToOnnx(graph);
        Graph fromOnnx = parseGraphOnnx(onnx, "round-trip.onnx");
        if (!verifyGraph(fromOnnx).empty()) {
            std::fprintf(stderr, "ONNX round trip does not verify:\n%s\n", printed.c_str());
            std::abort();
        }
    } catch (const Error&) {
        // Not every verified graph is expressible in ONNX (the export says which node): fine.
    }
    try {
        (void)pytorchModule(graph, "model.npz");
    } catch (const Error&) {
        // nor in PyTorch (derivative ops; the export names the node)
    }
}

}  // namespace adj::fuzz
