#pragma once
// Decompositions of composite ops into primitive ones (the elementwise ops' decomposition
// formulas of ops.def, such as gelu's; layernorm, batchnorm, fusion groups). Autodiff
// differentiates the decomposition, so composite ops get VJPs, JVPs and higher derivatives from
// the rules of their parts.
#include <optional>

#include "ir/builder.h"

namespace adj {

// hasDecomposition(op) (ir/op.h) says which ops are differentiated through their decomposition
// (group DECOMP); an elementwise op's decomposition is the formula of its table entry.
/// Builds the decomposition of `node` applied to `inputs` and returns its output value.
ValueRef decompose(GraphBuilder& b, const Node& node, const std::vector<ValueRef>& inputs);

}  // namespace adj
