#pragma once
// Binding graph inputs: checking bound tensors against the declared input shapes (symbolic
// dimensions accept any size) and specializing a graph to the shapes actually bound, so that
// graphs built from it (backward, JVP) have the concrete shapes.
#include "base/rng.h"
#include "ir/graph.h"
#include "runtime/executor.h"

namespace adj {

/// Throws adj::Error naming the input when `t` does not fit the declared shape of input node `n`.
void checkBinding(const Node& n, const Tensor& t);

/// The value a Parameter or Constant node `n` runs with: a parameter's binding by name, when there
/// is one (it must have the parameter's shape), else the node's own value. Throws adj::Error naming
/// the node on a shape mismatch or a missing value. Every executor reads sources through this.
const Tensor& sourceValue(const Node& n, const Bindings& bindings);

/// The exclusive upper bound of the indices an i64 input `input` may hold: the smallest size of an
/// axis that a gather reading it indexes (1 when no gather reads it).
std::int64_t indexBound(const Graph& graph, NodeId input);

/// Indices for an i64 input of `shape`, uniform in [0, indexBound): what tools that run a graph on
/// sample inputs bind to it (a float sample would not be a valid index).
Tensor sampleIndices(const Graph& graph, NodeId input, const Shape& shape, Rng& rng);
/// A value for graph input `input` of a type other than f32 (its declared type): integers as
/// sampleIndices (within the type's range), bool true or false at random, f64, f16 and bf16
/// standard normal values.
Tensor sampleIntegerInput(const Graph& graph, NodeId input, const Shape& shape, Rng& rng);

/// Sets every bound input's declared shape to the bound tensor's shape (after checkBinding) and
/// re-runs shape inference. Throws GraphError when the graph does not verify with those shapes.
void specializeToBindings(Graph& graph, const Bindings& bindings);

}  // namespace adj
