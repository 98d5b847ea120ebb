#include <ostream>

#include "commands.h"

namespace adj::cli {

int cmdValidate(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {});
    const std::string path = graphArgument(args, "validate");
    Graph g = loadCheckedGraph(path);
    ctx.out << path << ": valid (" << g.nodeCount() << " nodes, " << g.inputNodes().size() << " inputs, " << g.parameterNodes().size()
            << " parameters, " << g.outputs().size() << " outputs)\n";
    return kOk;
}

}  // namespace adj::cli
