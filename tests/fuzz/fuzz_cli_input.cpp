// libFuzzer target: adjoint-cli's argument parsing and --input binding (app/cli: Args, the
// --input NAME=FILE.npy specs, readBindings, the shape checks of bound inputs), run in process
// through runCli exactly as the program runs. The input is the argument list, one argument per
// line, for the commands that take --input (run, grad, jacobian) and the ones that only read
// (info, validate); the working directory is a scratch folder holding a graph (g.json: input x
// [2,3], parameter w [3,2]) and .npy files that fit it, do not fit it, or are not .npy at all.
// Left out, so that one input stays a few milliseconds and writes nothing: --timeout (its
// watchdog ends the process by design), --out, and the Vulkan backend. Exit statuses 0, 1 and 2
// are all answers; a crash, a sanitizer report or an exception out of runCli is a finding.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"
#include "io/npy.h"
#include "tensor/tensor.h"

namespace {

void writeText(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

void makeScratch() {
    char dir[] = "/tmp/adjoint-fuzz-cli-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        std::perror("fuzz_cli_input: scratch folder");
        std::abort();
    }
    writeText("g.json", R"({"format": "adjoint-graph", "version": 1, "name": "g",
        "inputs": [{"name": "x", "shape": [2, 3]}],
        "parameters": [{"name": "w", "shape": [3, 2], "values": [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]}],
        "nodes": [{"name": "y", "op": "matmul", "inputs": ["x", "w"]},
                  {"name": "r", "op": "relu", "inputs": ["y"]},
                  {"name": "loss", "op": "sum", "inputs": ["r"]}],
        "outputs": [{"name": "loss", "value": "loss"}, {"name": "r", "value": "r"}]})");
    adj::writeNpy("x.npy", adj::Tensor::fromVector({2, 3}, {1, -2, 3, -4, 5, -6}));
    adj::writeNpy("w.npy", adj::Tensor::fromVector({3, 2}, {1, 2, 3, 4, 5, 6}));
    adj::writeNpy("wrong.npy", adj::Tensor::fromVector({3}, {1, 2, 3}));
    adj::writeNpy("scalar.npy", adj::Tensor::fromVector({}, {1}));
    writeText("bad.npy", "\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'}");
    writeText("text.npy", "not a numpy file");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    makeScratch();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::set<std::string> commands = {"run", "grad", "jacobian", "info", "validate"};
    std::vector<std::string> args;
    std::string token;
    for (std::size_t i = 0; i <= size; ++i) {
        if (i == size || data[i] == '\n') {
            args.push_back(token);
            token.clear();
            if (args.size() > 24) return 0;
        } else {
            token.push_back(char(data[i]));
        }
    }
    if (args.empty() || !commands.count(args.front())) return 0;
    for (const std::string& a : args)
        if (a.find("--timeout") != std::string::npos || a.find("--out") != std::string::npos || a.find("vulkan") != std::string::npos)
            return 0;
    std::ostringstream out, err;
    const int status = adj::cli::runCli(args, out, err);
    if (status != adj::cli::kOk && status != adj::cli::kBadInput && status != adj::cli::kUsage) {
        std::fprintf(stderr, "runCli returned %d\n", status);
        std::abort();
    }
    if (status == adj::cli::kBadInput && err.str().rfind("error:", 0) != 0) {
        std::fprintf(stderr, "exit 1 without an error: line:\n%s\n", err.str().c_str());
        std::abort();
    }
    return 0;
}
