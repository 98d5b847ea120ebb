#include "cli.h"

#include <functional>
#include <map>
#include <optional>
#include <new>
#include <ostream>

#include "base/errors.h"
#include "base/time_budget.h"
#include "commands.h"
#include "passes/pipeline.h"

namespace adj::cli {

namespace {

const char* kCommandsText =
    "usage: adjoint-cli COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  validate GRAPH                      check structure, ops, attributes and shapes\n"
    "  info GRAPH [--json]                 nodes, ops, parameters and output shapes\n"
    "  run GRAPH [--input N=F.npy]... [--out DIR] [--backend cpu|vulkan] [--fallback] [--json]\n"
    "                                      forward pass; writes DIR/<output>.npy\n"
    "  grad GRAPH --of OUTPUT [--wrt N1,N2|all] [--mode reverse|forward|numeric] [--input N=F.npy]...\n"
    "       [--out DIR] [--checkpoint none|sqrt|every:K|budget:BYTES] [--memory-limit BYTES] [--json]\n"
    "                                      gradient of a scalar output; writes DIR/grad_<name>.npy\n"
    "  jacobian GRAPH --of OUTPUT --wrt NAME [--mode forward|reverse] [--input N=F.npy]... [--out DIR] [--json]\n"
    "                                      the full Jacobian and what each mode costs\n"
    "  export GRAPH -o FILE [--backward --of OUTPUT] [--optimized[=-O2]]\n"
    "                                      write .json, .onnx, .dot, .svg, .png, or .py: a PyTorch\n"
    "                                      module (class Model, load(); parameters in an .npz beside it)\n"
    "  export GRAPH -o model.py --train [--dataset NAME | --data X.npy --labels Y.npy | --csv FILE]\n"
    "       [--loss L] [--optimizer O] [--lr X] [--batch B] [--steps N] [--seed S]\n"
    "                                      also model_train.py: train's training in PyTorch, on one\n"
    "                                      process or under torchrun with DistributedDataParallel\n"
    "  train GRAPH (--dataset NAME | --data X.npy --labels Y.npy | --csv FILE) [--loss cross-entropy|mse]\n"
    "       [--steps N] [--batch B] [--optimizer sgd|momentum|adam] [--lr X] [--seed S] [--backend B]\n"
    "       [--checkpoint FILE] [--checkpoint POLICY] [--resume FILE] [--save-step-graph FILE.json]\n"
    "       [--memory-limit BYTES] [--json]\n"
    "                                      train a model graph; datasets: spirals, moons, circles, xor,\n"
    "                                      blobs, sine, digits\n"
    "  optimize GRAPH -o FILE [-O0|-O1|-O2] [--passes P1,P2,...] [--trace TRACE.json] [--json]\n"
    "                                      apply rewrites (docs/REWRITES.md) and write the result\n"
    "  roofline GRAPH -o FILE.svg|.png [--measure [--repeats N]] [--backend B] [--json]\n"
    "                                      the roofline chart of the graph on this machine; --measure\n"
    "                                      adds measured times, predicted against measured per node\n"
    "  bench GRAPH [--input N=F.npy]... [--backend B] [--repeat N] [--warmup K] [--threads T] [--seed S] [--json]\n"
    "                                      time the forward pass: load and plan once, K warm-ups, N timed\n"
    "                                      runs (median, min, max ms, peak bytes); random inputs by default\n"
    "  memory GRAPH [--backward [--of OUTPUT] | --train [--loss L] [--optimizer O] [--batch B]]\n"
    "       [--checkpoint none|sqrt|every:K|budget:BYTES] [--order topo|min-peak] [--json]\n"
    "                                      the memory plan: peak, arena, activations kept for the\n"
    "                                      backward pass, what is live at the peak, each tensor's lifetime\n"
    "  partition GRAPH --cluster C.json|pcie2|nvlink8|ethernet2|local [--strategy dp|pp|tp|placement|auto]\n"
    "       [--devices N] [--microbatches M] [--batch B] [--allreduce ring|tree] [--schedule gpipe|1f1b]\n"
    "       [--loss L] [--run [--repeat N]] [--json]\n"
    "                                      one training step simulated over a cluster: step time, each\n"
    "                                      device's busy time and peak memory, the bytes on each link;\n"
    "                                      --run also runs it here (a thread per device) and times it\n"
    "  diff A B [--json]                   nodes B adds, removes and changes against A (matched by name,\n"
    "                                      then structure), with the cost of each graph\n"
    "  ops [--json]                        the op table: every op, its inputs, attributes, ONNX name\n"
    "\n"
    "GRAPH is a .json graph (docs/FORMAT.md) or an .onnx model. Every command takes\n"
    "--timeout SECONDS: past it, the command stops with an error (exit 1). Exit status: 0 success,\n"
    "1 bad input (messages begin with 'error:'), 2 bad usage. --memory-limit BYTES (grad, train):\n"
    "run in the order whose planned peak fits (topological, else min-peak), or stop naming the\n"
    "smallest peak that can be planned.\n";

/// The commands, then the optimization passes from the pipeline's table.
std::string usageText() { return std::string(kCommandsText) + "\noptimization passes (for --passes):\n" + passTableText(); }

}  // namespace

int runCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    static const std::map<std::string, std::function<int(const std::vector<std::string>&, Context&)>> commands = {
        {"validate", cmdValidate}, {"info", cmdInfo}, {"run", cmdRun}, {"export", cmdExport}, {"grad", cmdGrad}, {"jacobian", cmdJacobian},
        {"optimize", cmdOptimize}, {"roofline", cmdRoofline}, {"train", cmdTrain}, {"ops", cmdOps}, {"bench", cmdBench}, {"diff", cmdDiff},
        {"memory", cmdMemory}, {"partition", cmdPartition}};
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        (args.empty() ? err : out) << usageText();
        return args.empty() ? kUsage : kOk;
    }
    if (args[0] == "--version") {
        out << "adjoint-cli 0.1.0\n";
        return kOk;
    }
    auto it = commands.find(args[0]);
    if (it == commands.end()) {
        err << "error: unknown command '" << args[0] << "'\n" << usageText();
        return kUsage;
    }
    Context ctx{out, err};
    std::vector<std::string> rest(args.begin() + 1, args.end());
    try {
        std::optional<TimeBudget> budget;
        if (const auto seconds = takeTimeout(rest)) budget.emplace(*seconds, "error: " + args[0] + " " + timeBudgetExceeded(*seconds));
        return it->second(rest, ctx);
    } catch (const UsageError& e) {
        err << "error: " << e.what() << "\n(see adjoint-cli --help)\n";
        return kUsage;
    } catch (const BadInput& e) {
        for (const auto& line : e.lines()) err << "error: " << line << "\n";
        return kBadInput;
    } catch (const Error& e) {
        err << "error: " << e.what() << "\n";
        return kBadInput;
    } catch (const std::bad_alloc&) {
        err << "error: out of memory (the input asks for more memory than this machine has)\n";
        return kBadInput;
    } catch (const std::exception& e) {
        err << "error: " << e.what() << "\n";
        return kBadInput;
    }
}

}  // namespace adj::cli
