#include "export_graph.h"

#include <QFile>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "io/graph_file.h"
#include "io/graphviz.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"

using namespace adj;

std::string firstScalarOutput(const Graph& g) {
    std::string listed;
    for (const GraphOutput& o : g.outputs()) {
        if (g.hasType(o.value) && numel(g.type(o.value).shape) == 1) return o.name;
        listed += (listed.empty() ? "" : ", ") + o.name +
                  (g.hasType(o.value) ? " [" + shapeLabel(g.type(o.value).shape) + "]" : std::string(" [unknown shape]"));
    }
    throw GraphError("no scalar output to differentiate (outputs: " + (listed.empty() ? std::string("none") : listed) + ")");
}

Graph graphForExport(const Graph& graph, ExportKind kind) {
    Graph g = graph;
    switch (kind) {
    case ExportKind::Forward: return g;
    case ExportKind::Backward: {
        verifyOrThrow(g);
        return buildBackward(g, firstScalarOutput(g)).graph;
    }
    case ExportKind::Optimized: {
        OptimizeOptions options;
        options.level = 2;
        optimizeGraph(g, options);
        return g;
    }
    }
    return g;
}

bool exportGraph(const Graph& graph, ExportKind kind, const QString& path, QString* error) {
    try {
        saveGraphFile(graphForExport(graph, kind), QFile::encodeName(path).toStdString());
        return true;
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}
