#pragma once
// Graph files by kind: loading recognises JSON and ONNX by extension and content; saving picks
// the format from the extension (.json, .onnx, .dot, .svg, .png, and .py: a PyTorch module with
// its parameters in an .npz beside it, io/pytorch_export.h).
#include <string>

#include "io/graphviz.h"
#include "io/onnx_import.h"
#include "ir/graph.h"

namespace adj {

enum class GraphFileKind { Json, Onnx, Dot, Svg, Png, PyTorch, Unknown };

/// By extension (case-insensitive).
GraphFileKind graphFileKindFromExtension(const std::string& path);

/// Loads a .json or .onnx graph. Throws FormatError (message starts with the path). `known`: values
/// of graph inputs that an ONNX file needs while importing (KnownInputs, io/onnx_import.h).
Graph loadGraphFile(const std::string& path, const KnownInputs& known = {});

/// Writes the graph in the format of the extension; `drawing` applies to .dot, .svg and .png.
/// Throws Error for an unknown extension or a failed write; files are replaced atomically.
void saveGraphFile(const Graph& graph, const std::string& path, const DotOptions& drawing = {});

}  // namespace adj
