#pragma once
// Decompositions of composite ops into primitive ones (gelu, layernorm, batchnorm). Autodiff
// differentiates the decomposition, so composite ops get VJPs, JVPs and higher derivatives from
// the rules of their parts.
#include <optional>

#include "ir/builder.h"

namespace adj {

/// True when `op` is differentiated through its decomposition.
bool hasDecomposition(Op op);
/// Builds the decomposition of `node` applied to `inputs` and returns its output value.
ValueRef decompose(GraphBuilder& b, const Node& node, const std::vector<ValueRef>& inputs);

}  // namespace adj
