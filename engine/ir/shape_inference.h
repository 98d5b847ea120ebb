#pragma once
// Shape inference: the output types of a node from its input types and attributes. The executor
// calls it with the shapes it actually sees, so dynamic (batch) dimensions bind at run time.
#include <vector>

#include "ir/graph.h"

namespace adj {

/// Output types of `node` given its input types. Throws GraphError naming the node and the
/// problem (arity, attribute, shape mismatch).
std::vector<ValueType> inferNodeTypes(const Node& node, const std::vector<ValueType>& inputs);

}  // namespace adj
