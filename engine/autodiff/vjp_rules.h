#pragma once
// VJP rules, one per op (the op table's reverse-mode trait; elementwise ops' come from the
// derivative formulas of ops.def). A rule
// takes the adjoints of a node's outputs and returns one adjoint per input, built from ordinary
// graph ops through the builder, with broadcasts summed back. An input that receives no
// gradient (an integer-like condition, a piecewise-constant op) gets an empty ValueRef.
#include <vector>

#include "ir/builder.h"

namespace adj {

/// outGrads[k]: the adjoint of output k, or an empty ValueRef (node == kNoNode) when none.
/// Throws GraphError naming the op and node when the op has no VJP rule.
std::vector<ValueRef> vjpRule(GraphBuilder& b, const Node& node, const std::vector<ValueRef>& outGrads);

}  // namespace adj
