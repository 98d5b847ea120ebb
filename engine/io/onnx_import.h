#pragma once
// ONNX import: reads an ONNX model (ONNX's own protobuf schema, opsets 11 to 17 of the default
// domain, plus this project's custom domain "ai.adjoint") into a Graph. docs/ONNX.md lists the ops
// and how each one maps onto the op table.
//
// What becomes what:
//   - float graph inputs -> Input nodes; a dynamic dimension (dim_param, or a dim with neither
//     value nor name) becomes a symbolic dimension (Node::dimNames) with the default size 1, bound
//     to the actual size at run time (specializeToBindings);
//   - float initializers -> Parameter nodes under their own names (the gradients of `grad --wrt
//     all`); float Constant nodes -> Constant nodes;
//   - every other node -> one node of the table named after its ONNX output (a few ONNX ops become
//     several nodes: the last one carries the output's name); Identity and inference-mode
//     Dropout are dropped and their uses rewired; a Split node is named after the ONNX node (or its
//     first output) and its outputs are its ports;
//   - graph outputs keep their ONNX names (GraphOutput::name), whatever node computes them.
//
// Integer tensors (shapes, axes, indices) never become nodes: the importer evaluates them while
// reading (Shape, Gather, Unsqueeze, Concat, Slice, Cast, integer arithmetic, ...), and folds them
// into the attributes of the ops that consume them (Reshape's shape, Slice's starts/ends, Split's
// sizes, Squeeze/Unsqueeze/Reduce axes, Expand's shape, Pad's pads, Gather's indices). Such an input
// computed from float values is an error naming the node. Shape arithmetic that depends on a
// dynamic dimension is evaluated at the default binding and at two probe bindings, so that a
// Reshape target such as [seq, batch * heads, 8] is recognised as depending on "batch" and written
// with -1 (or 0 where it copies the input's dimension), valid for every batch size.
//
// Errors: every problem throws FormatError whose message starts with `where` (the file name) and
// names the place: "m.onnx: node '/fc/Gemm' (Gemm): inner dimensions do not match ...". Ops outside
// the supported set are reported together, every type with its node names, in one message. A
// malformed file (empty, not protobuf, truncated, a cycle, an undefined value, an initializer whose
// data does not match its dims, negative or absurd dims, bad attributes) never crashes and never
// allocates more than the file's own data holds.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace adj {

/// Values of graph inputs known before importing, by input name (adjoint-cli's run, grad,
/// jacobian and bench read small --input files for this). An op that needs such an input while
/// importing (a Reshape's shape, a reduction's axes, Slice's starts, Trilu's k, Resize's scales
/// or sizes, ConstantOfShape's shape) reads its value from here, and the graph is specialized to
/// it, as it is to the sizes bound to dynamic dimensions; without a value such a file is refused
/// with an error naming the input. Every other use still reads the input when the graph runs.
using KnownInputs = std::map<std::string, Tensor>;

/// Reads an .onnx file. Throws FormatError ("model.onnx: ...").
Graph loadGraphOnnx(const std::string& path, const KnownInputs& known = {});

/// Parses the bytes of an ONNX model; `where` starts every error message.
Graph parseGraphOnnx(std::string_view bytes, const std::string& where, const KnownInputs& known = {});

/// True when the bytes parse as an ONNX ModelProto with a graph (for recognising files by content).
bool looksLikeOnnx(const std::string& bytes);

/// The ONNX op types (default domain) the importer reads, sorted.
std::vector<std::string> onnxImportedOps();

}  // namespace adj
