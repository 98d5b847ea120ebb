#pragma once
// The project's JSON graph format ("adjoint-graph", version 1), described in docs/FORMAT.md with
// a JSON Schema in docs/graph.schema.json.
//
//   {"format": "adjoint-graph", "version": 1, "name": "mlp",
//    "inputs":     [{"name": "x", "shape": [4, 2], "dims": ["N", null]}],
//    "parameters": [{"name": "w1", "shape": [2, 8], "values": [...]}],
//    "nodes":      [{"name": "h", "op": "matmul", "inputs": ["x", "w1"]}, ...],
//    "outputs":    [{"name": "y", "value": "r"}]}
//
// Tensor data is inline "values", "base64" (little-endian float32) or a "file" range in a sidecar
// (<json stem>.bin next to the JSON); parameters and constants may instead carry an "init" with
// the project's own deterministic generator (see initTensor below).
//
// Loading never crashes and never allocates more than the file (and its sidecar) hold, apart
// from "init" tensors, which are capped at kJsonMaxInitElements. Every problem throws
// FormatError whose message starts with the file name (`where`) and names the place:
// "model.json: nodes[3].inputs must be an array of strings", "model.json: node 'h': input 'q'
// is not defined". Loading checks the structure, op names, and attribute names and types
// (against the schema in ops.def). Arity, required attributes, shapes and cycles are the
// verifier's concern: a cycle or a half-built graph loads, so that an editor can reopen it.
//
// Saving is exact: load(save(g)) has the same nodes (names, ops, inputs, attributes, meta), input
// shapes and dimension names, bit-identical parameter and constant values, and outputs, created
// in the same order (node ids may be renumbered when g has holes). Saves are atomic.
#include <cstdint>
#include <string>

#include "ir/graph.h"

namespace adj {

/// How tensors are written. Readers accept every encoding for every size.
struct JsonWriteOptions {
    /// Tensors with at most this many elements (and all of them finite) are written as "values".
    std::int64_t inlineMaxElements = 256;
    /// Larger tensors of at most this many bytes are written as "base64"; still larger ones go to
    /// the sidecar file (saveGraphJson) or to base64 when there is no file (graphToJson).
    std::int64_t base64MaxBytes = std::int64_t(1) << 20;
    /// Indent nested levels (one entry per line in the sections); false writes one line.
    bool pretty = true;
};

/// Largest element count of one tensor made from an "init" (2^28 floats = 1 GiB), and of all of
/// a file's init tensors together: a few bytes of JSON must not ask for more memory than that.
inline constexpr std::int64_t kJsonMaxInitElements = std::int64_t(1) << 28;

/// Reads a graph file; the sidecar, if any, is looked up next to it.
Graph loadGraphJson(const std::string& path);
/// Parses graph JSON text. `where` starts every error message (a file name); sidecar paths are
/// resolved against `baseDir` (the current directory when empty). `maxInitElements` caps the
/// elements of all "init" tensors together (the fuzzer lowers it to keep each input cheap).
Graph parseGraphJson(const std::string& text, const std::string& where, const std::string& baseDir = {},
                     std::int64_t maxInitElements = kJsonMaxInitElements);
/// Writes the graph to `path` atomically; tensors too large for base64 go to "<stem>.bin" next
/// to it (also written atomically, before the JSON). Throws FormatError on I/O failure, and on
/// graphs that cannot be written (a parameter without a value, a non-f32 tensor).
void saveGraphJson(const Graph& graph, const std::string& path, const JsonWriteOptions& options = {});
/// The JSON text of a graph, without a sidecar (large tensors are written as base64).
std::string graphToJson(const Graph& graph, const JsonWriteOptions& options = {});

/// The kinds of "init" (see docs/FORMAT.md for the exact algorithm).
enum class InitKind { Normal, Uniform, Zeros, Ones };
/// A tensor filled by the project's deterministic generator: splitmix64 seeded with `seed`;
/// Normal uses Box-Muller on pairs of draws (mean `a`, standard deviation `b`), Uniform draws in
/// [a, b). Identical on every platform and standard library.
Tensor initTensor(const Shape& shape, InitKind kind, double a, double b, std::uint64_t seed);

}  // namespace adj
