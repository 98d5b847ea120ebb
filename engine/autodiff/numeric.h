#pragma once
// Numeric differentiation: central differences, the lecture's slow and inexact baseline. Each
// input element costs 2 evaluations of the function for the difference, and 2 more for the
// error estimate (the same difference with half the step), and 4 more each time a step that
// crosses a kink (a ReLU input changing sign) is quartered; 8 more, once, measure the rounding
// noise of evaluating f in float32. The reported error bounds truncation (smooth f), kinks within
// the step (ReLU's slope jump at 0) and rounding; see numeric.cpp for how.
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/executor.h"

namespace adj {

struct NumericGradient {
    std::vector<Tensor> gradients;  // one per wrt name, shaped like it
    std::vector<Tensor> errors;     // estimated absolute error of each entry
    std::int64_t evaluations = 0;   // forward evaluations spent
};

/// Central differences of the scalar output `of` with respect to `wrt` at `bindings`.
NumericGradient numericGradient(const Graph& graph, const std::string& of, const std::vector<std::string>& wrt, const Bindings& bindings,
                                Executor& executor);

}  // namespace adj
