#pragma once
// What File > Export writes: the document's graph as drawn (forward), its backward graph
// (reverse mode for the first scalar output), or its -O2 optimized form, in the format of the
// file's extension (.json, .onnx, .dot, .svg, .png). Pure engine calls, testable without widgets.
#include <QString>

#include "ir/graph.h"

enum class ExportKind { Forward, Backward, Optimized };

/// The graph to export. Throws adj::Error naming the problem: a graph that does not verify, no
/// scalar output to differentiate, an op without a VJP rule.
adj::Graph graphForExport(const adj::Graph& graph, ExportKind kind);
/// The name of the output the backward graph differentiates (the first scalar output); throws
/// adj::GraphError when there is none.
std::string firstScalarOutput(const adj::Graph& verified);
/// graphForExport, then writes it atomically to `path`. Returns false with the message.
bool exportGraph(const adj::Graph& graph, ExportKind kind, const QString& path, QString* error = nullptr);
