#include "io/graph_file.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "base/errors.h"
#include "base/files.h"
#include "io/graphviz.h"
#include "io/json_format.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "io/pytorch_export.h"

namespace adj {

GraphFileKind graphFileKindFromExtension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (ext == ".json") return GraphFileKind::Json;
    if (ext == ".onnx") return GraphFileKind::Onnx;
    if (ext == ".dot" || ext == ".gv") return GraphFileKind::Dot;
    if (ext == ".svg") return GraphFileKind::Svg;
    if (ext == ".png") return GraphFileKind::Png;
    if (ext == ".py") return GraphFileKind::PyTorch;
    return GraphFileKind::Unknown;
}

namespace {
// JSON starts with '{' after optional whitespace; anything else is taken for ONNX (protobuf).
bool looksLikeJson(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    char c;
    while (f.get(c))
        if (!std::isspace(static_cast<unsigned char>(c))) return c == '{';
    return false;
}
}  // namespace

Graph loadGraphFile(const std::string& path, const KnownInputs& known) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw FormatError(path + ": no such file");
    if (std::filesystem::is_directory(path, ec)) throw FormatError(path + ": is a directory, not a graph file");
    const GraphFileKind kind = graphFileKindFromExtension(path);
    if (kind == GraphFileKind::Json || (kind != GraphFileKind::Onnx && looksLikeJson(path))) return loadGraphJson(path);
    if (kind == GraphFileKind::Onnx) return loadGraphOnnx(path, known);
    // Another extension: ONNX when the content parses as an ONNX model.
    std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec && size > 0 && size < (std::uintmax_t(1) << 31)) {
        const std::string bytes = readFileBytes(path);
        if (looksLikeOnnx(bytes)) return parseGraphOnnx(bytes, path, known);
    }
    throw FormatError(path + ": not a graph file (expected .json or .onnx)");
}

void saveGraphFile(const Graph& graph, const std::string& path, const DotOptions& drawing) {
    switch (graphFileKindFromExtension(path)) {
        case GraphFileKind::Json: saveGraphJson(graph, path); return;
        case GraphFileKind::Dot: renderGraph(graph, path, "dot", drawing); return;
        case GraphFileKind::Svg: renderGraph(graph, path, "svg", drawing); return;
        case GraphFileKind::Png: renderGraph(graph, path, "png", drawing); return;
        case GraphFileKind::Onnx: saveGraphOnnx(graph, path); return;
        case GraphFileKind::PyTorch: savePyTorchModule(graph, path); return;
        case GraphFileKind::Unknown: break;
    }
    throw Error(path + ": unknown file type (use .json, .onnx, .dot, .svg, .png or .py)");
}

}  // namespace adj
