#pragma once
// A graph as a PyTorch module (`adjoint-cli export GRAPH -o model.py`): a self-contained Python
// file with a torch.nn.Module named Model whose forward takes the graph's inputs in order and
// returns its outputs (a tuple when there are several), and load(), which returns a Model with
// its parameters (nn.Parameter) and constants (buffers) read from the .npz written beside it.
// The file also lists INPUTS, OUTPUTS and PARAMETERS (attribute -> the graph's name), so that a
// script can bind values by the graph's names.
//
// Each node is one line of forward, named after the node. Elementwise ops are written from the
// op table's own scalar expression (io/pytorch_expression.h), fusion groups as their
// instructions, the other ops as the torch.nn.functional call with the same semantics (pads,
// strides and ONNX's axis conventions spelled out). Derivative ops (group GRAD) have no PyTorch
// form: PyTorch differentiates the forward graph itself, so a backward graph is refused.
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"

namespace adj {

struct PyTorchModule {
    std::string source;                                   // the .py file
    std::vector<std::pair<std::string, Tensor>> tensors;  // the .npz: attribute name -> value
};

/// `npzName`: the file load() reads from the module's folder. Throws GraphError naming the node
/// and op that have no PyTorch form (or the dtype that .npz cannot hold).
PyTorchModule pytorchModule(const Graph& graph, const std::string& npzName);

/// The .npz beside a module file: "dir/model.py" -> "dir/model.npz".
std::string pytorchParametersPath(const std::string& pyPath);

/// Writes `pyPath` and pytorchParametersPath(pyPath), each atomically.
void savePyTorchModule(const Graph& graph, const std::string& pyPath);

}  // namespace adj
