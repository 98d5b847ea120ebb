#pragma once
// Helpers shared by the tests: paths to fixtures, the PyTorch reference cases, running
// adjoint-cli, comparing tensors.
#include <QString>
#include <QStringList>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "tensor/tensor.h"

namespace adj::test {

/// Absolute path of a file in the source tree ("resources/examples/mlp.json").
std::string sourcePath(const std::string& relative);
/// A fresh empty directory under the system temp dir, removed at exit.
std::string tempDir();

/// A tensor of normal(0, scale) floats from a seeded std::mt19937 (the same for the same seed).
Tensor normalTensor(const Shape& shape, unsigned seed, float scale);
/// Bit-for-bit equality of shape and values (contiguous copies compared).
bool sameBits(const Tensor& a, const Tensor& b);

/// Float32 tensors by name, in the order of the file that holds them.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

/// A graph, its inputs, and what PyTorch computed from them (tests/fixtures/make_fixtures.py):
/// an op case (tests/fixtures/ops/<case>.json, one self-contained file per case; the format is
/// in make_fixtures.py's docstring) or an example (resources/examples/<example>.json, references
/// listed by tests/fixtures/examples/manifest.json).
struct FixtureCase {
    std::string name;
    std::string source;             ///< the file it was read from (absolute), for messages
    std::vector<std::string> ops;   ///< op cases: the ops the graph exercises ("constant" left out)
    std::string graphJson;          ///< the graph, as "adjoint-graph" JSON text
    NamedTensors inputs;            ///< a value per graph input
    NamedTensors expected;          ///< torch's result per graph output
    std::string lossOutput;         ///< examples only: a scalar output that is the loss; else empty and
    NamedTensors lossWeights;       ///< L = sum over these outputs k of sum(output_k * W_k)
    NamedTensors gradients;         ///< torch's dL/dw per input or parameter w it differentiates
    std::vector<std::string> noGradient;  ///< the inputs torch gives no gradient (zero almost everywhere)

    /// The graph, parsed (not verified); throws FormatError.
    Graph graph() const;
    /// The inputs as executor bindings (adj::Bindings), fresh copies that a test may write into;
    /// with `strided`, each as stridedCopy().
    std::map<std::string, Tensor> bindings(bool strided = false) const;
};

/// The tensor named `name`, or nullptr.
const Tensor* findTensor(const NamedTensors& tensors, const std::string& name);

/// Every op case of tests/fixtures/ops (every <case>.json there), sorted by name; read once.
/// Throws std::runtime_error naming the file and the problem.
const std::vector<FixtureCase>& opCases();
/// Reads one op case file (absolute path).
FixtureCase readOpCase(const std::string& path);
/// The examples with PyTorch references (tests/fixtures/examples/manifest.json), in its order.
const std::vector<FixtureCase>& exampleCases();

/// Names paired with the absolute paths of the files that hold them (.npy).
using NamedFiles = std::vector<std::pair<std::string, std::string>>;

/// A model exported by PyTorch's own exporter, with torch's outputs and gradients
/// (tests/fixtures/make_onnx_fixtures.py; listed by tests/fixtures/onnx/manifest.json).
struct OnnxModelFixture {
    std::string model;
    std::string file;  // model.onnx, absolute
    NamedFiles inputs, expected, lossWeights, gradients;
    std::map<std::string, std::vector<std::string>> dynamic;  // input -> names of its dynamic dims
};
/// Every model of the manifest, in its order; read once. Throws naming a missing manifest.
const std::vector<OnnxModelFixture>& onnxModelFixtures();
/// The model named `model`; throws std::runtime_error when there is none.
const OnnxModelFixture& onnxModelFixture(const std::string& model);

/// Names of the ops that the model fixtures' graphs exercise where tst_onnx checks them against
/// torch: the imported forward graphs (outputs) and, for models with gradients, their backward
/// graphs with respect to the parameters (gradients). The op cases of tests/fixtures/ops hold float
/// inputs only, so the ops of i64 values (gather, its adjoint, to_float, argmax, argmin) are referenced here:
/// by the token_classifier and token_transformer models. Read once.
const std::set<std::string>& opsCheckedByModelFixtures();

/// One PyTorch module exported at each opset 11 to 17 (tests/fixtures/onnx/opsets/manifest.json).
struct OnnxOpsetFixture {
    std::string model;
    std::string file;  // absolute
    int opset = 0;
    NamedFiles inputs, expected;
};
/// Every file of the opset sweep, in the manifest's order; read once.
const std::vector<OnnxOpsetFixture>& onnxOpsetFixtures();

/// A case written out as adjoint-cli reads it (writeCaseFiles).
struct CaseFiles {
    std::string dir;    ///< a fresh temp directory holding the files
    std::string graph;  ///< DIR/<case>.json
    std::vector<std::pair<std::string, std::string>> inputs;  ///< input name, DIR/<input>.npy
    /// "--input NAME=FILE" for each input, as adjoint-cli run and grad take them.
    QStringList inputArgs() const;
};
/// Writes the case's graph and one .npy per input into a fresh temp directory (tempDir()).
CaseFiles writeCaseFiles(const FixtureCase& c);

/// adjoint-cli's file name for a tensor name: characters outside [A-Za-z0-9._-] become '_'.
std::string cliFileName(const std::string& tensorName);

struct CliResult {
    int exitCode = -1;
    QString out;
    QString err;
};
/// Runs adjoint-cli with the arguments; waits up to `timeoutMs`.
CliResult runCli(const QStringList& args, int timeoutMs = 120000);
/// Runs `program` with the arguments, in `workDir` when given, with the environment's entries
/// `env` ("NAME=value") added; waits up to `timeoutMs` (exit code -1 on a crash or time-out).
CliResult runProgram(const QString& program, const QStringList& args, const QStringList& env = {}, const QString& workDir = {},
                     int timeoutMs = 120000);
/// resources/examples/<name> in the source tree.
QString examplePath(const QString& name);

/// The same values as `t`, as a strided view with a nonzero offset into a larger NaN-filled
/// storage: every dimension d is taken as elements 1, 3, ..., 2d-1 of a dimension of 2d + 1 (a
/// rank-0 tensor becomes element 1 of a 2-element storage). A kernel that ignores strides or
/// offset reads NaN.
Tensor stridedCopy(const Tensor& t);

/// One node of `op` over graph inputs "a", "b", ... of the given values (each declared with its
/// tensor's shape and element type), named "node", run on the CPU; its output 0.
Tensor runOneNode(Op op, const std::vector<Tensor>& inputs, const Attributes& attrs = {});
/// The adj::Error message runOneNode throws, or "" when it runs.
std::string runOneNodeError(Op op, const std::vector<Tensor>& inputs, const Attributes& attrs = {});

/// A deep MLP-like chain, 7 nodes a block (prefix + block number in each name): a weight, a bias,
/// matmul, add, tanh and an elementwise tail (mul by itself, sub) that fusion groups; verified.
/// The large graph of the asynchronous-analysis tests and of bench_responsiveness.
Graph blockChain(int blocks, const std::string& prefix = "b");

/// Max over elements of |a-b| / (atol + rtol*|b|) <= 1, with a message describing the worst element.
bool allClose(const Tensor& a, const Tensor& b, double rtol, double atol, std::string* why = nullptr);

}  // namespace adj::test
