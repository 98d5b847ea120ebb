#pragma once
// What the adjoint-cli commands share: loading and checking a graph, binding inputs, naming
// output files, and the error type that becomes exit status 1.
#include <cstdint>
#include <iosfwd>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "args.h"
#include "io/graphviz.h"
#include "ir/graph.h"
#include "runtime/executor.h"

namespace adj::cli {

/// Bad input: each line is printed as "error: <line>" and the exit status is 1.
class BadInput : public std::runtime_error {
public:
    explicit BadInput(std::vector<std::string> lines) : std::runtime_error(lines.empty() ? "" : lines.front()), lines_(std::move(lines)) {}
    explicit BadInput(const std::string& line) : BadInput(std::vector<std::string>{line}) {}
    const std::vector<std::string>& lines() const { return lines_; }

private:
    std::vector<std::string> lines_;
};

struct Context {
    std::ostream& out;
    std::ostream& err;
};

/// Loads GRAPH (JSON or ONNX) and verifies it; every problem becomes a line of BadInput,
/// prefixed with the file name.
Graph loadCheckedGraph(const std::string& path);
/// The same, with the values of the small --input files (at most kKnownInputBytes on disk) known
/// to the ONNX importer: a file whose shapes, axes or scales are graph inputs is specialized to them
/// (KnownInputs). For the commands that run the graph on those inputs: run, grad, jacobian, bench.
Graph loadCheckedGraph(const std::string& path, const Args& args);
inline constexpr std::uintmax_t kKnownInputBytes = 64 * 1024;
/// Writes the graph in the format its extension names; a problem becomes BadInput.
void saveGraphOrFail(const Graph& graph, const std::string& path, const DotOptions& drawing = {});
/// The one positional GRAPH argument of a command; UsageError when absent or repeated.
std::string graphArgument(const Args& args, const std::string& command);
/// Reads every --input NAME=FILE.npy. Names must be graph inputs or parameters.
Bindings readBindings(const Args& args, const Graph& graph);
/// The shapes of the bound tensors, by name (the input shapes planMemory takes).
std::map<std::string, Shape> shapesOf(const Bindings& bindings);
/// A tensor name as a file name: every character outside [A-Za-z0-9._-] becomes '_'.
std::string fileNameFor(const std::string& tensorName);
/// Stops the command before it allocates (BadInput) when running `graph` with `bindings` would
/// need more memory than the machine can give: the memory plan's peak (runtime/memory_plan.h)
/// plus the inputs still to be made (declared shapes of the unbound ones), against the memory
/// available now (MemAvailable) and what the address-space limit (ulimit -v) leaves. A graph the
/// planner cannot shape is let through: running it reports the problem. `what` names the graph.
void checkMemoryFits(const Graph& graph, const Bindings& bindings, const std::string& what);

/// Creates DIR (and parents) if needed; BadInput when it cannot.
void ensureDirectory(const std::string& dir);
/// A count option (--repeat 20) within [low, high], `fallback` when absent; UsageError naming the
/// option when it is not a whole number in range.
int countArgument(const Args& args, const std::string& name, int fallback, int low, int high);
/// The executor named by --backend (cpu, vulkan), honouring --fallback; notes go to err.
std::unique_ptr<Executor> makeBackend(const Args& args, std::ostream& err);
/// %.9g
std::string formatNumber(double v);

}  // namespace adj::cli
