#pragma once
// ONNX export: writes any graph the op table can express (forward, backward, optimized) as an ONNX
// model at opset 17 that passes ONNX's checker. docs/ONNX.md gives the mapping of every op.
//
//   - Input nodes -> graph inputs (float32; symbolic dimensions -> dim_param);
//   - Parameter nodes -> initializers under their names; Constant nodes -> Constant nodes;
//   - each node -> one ONNX node named after it whose output carries the node's value name
//     ("name", or "name:k" for output k of a split), or a few ONNX nodes where opset 17 has no
//     equivalent (gelu -> the Erf formula, greater/equal -> comparison + Cast to float, where ->
//     Cast of the condition to bool + Where, training-mode batchnorm -> ReduceMean formula,
//     conv2d_grad_input -> ConvTranspose, conv2d_grad_weight -> Conv on transposed tensors);
//   - max_pool_grad, max_pool_select, avg_pool_grad and grouped conv2d_grad_weight -> nodes of the
//     custom domain "ai.adjoint" (version 1) with the op table's name and attributes. The checker
//     accepts them; ONNX Runtime and other tools do not run them, so the backward graphs of pools
//     are readable elsewhere but runnable only here;
//   - graph outputs keep their names (an Identity node where the name differs from the value's).
#include <string>

#include "ir/graph.h"

namespace adj {

/// The serialized ONNX model of `graph`. Verifies a copy of the graph first; throws GraphError
/// naming the problem when it does not verify, and Error when the model would not pass the checker.
std::string graphToOnnx(const Graph& graph);

/// Writes graphToOnnx(graph) to `path` atomically. Errors start with the path.
void saveGraphOnnx(const Graph& graph, const std::string& path);

/// Runs ONNX's checker (onnx::checker::check_model) and strict shape inference (as Python's
/// check_model(full_check=True)) on a serialized model. Returns "" when it passes, else why not.
std::string onnxCheckerProblems(const std::string& bytes);

}  // namespace adj
