#pragma once
// One function per adjoint-cli command (one file each).
#include "args.h"
#include "cli.h"
#include "common.h"
#include "passes/pipeline.h"

namespace adj::cli {

int cmdValidate(const std::vector<std::string>& argv, Context& ctx);
int cmdInfo(const std::vector<std::string>& argv, Context& ctx);
int cmdRun(const std::vector<std::string>& argv, Context& ctx);
int cmdExport(const std::vector<std::string>& argv, Context& ctx);
int cmdGrad(const std::vector<std::string>& argv, Context& ctx);
int cmdJacobian(const std::vector<std::string>& argv, Context& ctx);
int cmdTrain(const std::vector<std::string>& argv, Context& ctx);
int cmdOptimize(const std::vector<std::string>& argv, Context& ctx);
int cmdRoofline(const std::vector<std::string>& argv, Context& ctx);
int cmdOps(const std::vector<std::string>& argv, Context& ctx);
int cmdBench(const std::vector<std::string>& argv, Context& ctx);
int cmdDiff(const std::vector<std::string>& argv, Context& ctx);
int cmdMemory(const std::vector<std::string>& argv, Context& ctx);
int cmdPartition(const std::vector<std::string>& argv, Context& ctx);

/// -O level text ("-O2") and a --passes list as pipeline options; UsageError when unknown.
OptimizeOptions optimizeOptionsFrom(const std::string& levelText, const std::string& passList);
/// optimizeGraph on a graph read from `path`; a problem becomes BadInput naming the file.
OptimizeResult optimizeOrFail(Graph& graph, const OptimizeOptions& options, const std::string& path);

/// --wrt N1,N2 | all (default all): graph inputs and parameters.
std::vector<std::string> wrtNames(const Args& args, const Graph& g);
/// --of OUTPUT, checked against the graph's outputs.
std::string outputArgument(const Args& args, const Graph& g);

}  // namespace adj::cli
