#include <ostream>

#include "commands.h"
#include "io/graph_file.h"
#include "ir/errors.h"

namespace adj::cli {

int cmdExport(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--output", true, false, "-o"}, {"--backward", false}, {"--optimized", true, false, "", true}});
    const std::string path = graphArgument(args, "export");
    auto outPath = args.value("--output");
    if (!outPath) throw UsageError("export needs -o FILE");
    Graph g = loadCheckedGraph(path);
    if (args.has("--backward")) throw BadInput("export --backward: the autodiff engine is not part of this build yet");
    if (args.has("--optimized")) throw BadInput("export --optimized: the rewrite engine is not part of this build yet");
    try {
        saveGraphFile(g, *outPath);
    } catch (const Error& e) {
        throw BadInput(e.what());
    }
    ctx.out << "wrote " << *outPath << "\n";
    return kOk;
}

}  // namespace adj::cli
