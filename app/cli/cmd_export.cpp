#include <ostream>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "commands.h"
#include "io/graph_file.h"

namespace adj::cli {

int cmdExport(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--output", true, false, "-o"}, {"--backward", false}, {"--of"}, {"--optimized", true, false, "", true}});
    const std::string path = graphArgument(args, "export");
    auto outPath = args.value("--output");
    if (!outPath) throw UsageError("export needs -o FILE");
    Graph g = loadCheckedGraph(path);
    std::vector<NodeId> forwardNodes;  // of a backward graph: drawn going down, its backward pass going up
    if (args.has("--backward")) {
        // the backward graph of the output named by --of, or of the graph's first scalar output
        std::string of;
        if (args.has("--of")) of = outputArgument(args, g);
        else
            for (const auto& o : g.outputs())
                if (of.empty() && numel(g.type(o.value).shape) == 1) of = o.name;
        if (of.empty()) throw BadInput(path + ": export --backward needs a scalar output; name one with --of");
        try {
            BackwardGraph backward = buildBackward(g, of, {});
            g = std::move(backward.graph);
            forwardNodes = std::move(backward.forwardNodes);
        } catch (const Error& e) {
            throw BadInput(path + ": " + e.what());
        }
    }
    if (args.has("--optimized")) optimizeOrFail(g, optimizeOptionsFrom(args.value("--optimized").value_or(""), ""), path);
    DotOptions drawing;
    if (args.has("--backward")) drawing.layBackwardPassUpwards(g, forwardNodes);
    saveGraphOrFail(g, *outPath, drawing);
    ctx.out << "wrote " << *outPath << "\n";
    return kOk;
}

}  // namespace adj::cli
