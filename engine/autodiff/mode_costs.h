#pragma once
// The lecture's trade-off as numbers: what the whole Jacobian of f: R^n -> R^m costs by forward
// mode (n passes, or one vectorized pass of n directions), by reverse mode (m passes), and by
// central differences (2 evaluations per input), and how big the backward graph is against the
// forward graph.
#include <string>
#include <vector>

#include "cost/cost_model.h"
#include "ir/graph.h"

namespace adj {

struct ModeCost {
    std::int64_t passes = 0;
    double flops = 0;      // all passes together
    double peakBytes = 0;  // of one pass
};

struct AutodiffCostReport {
    std::int64_t inputs = 0;   // n: elements of the wrt values
    std::int64_t outputs = 0;  // m: elements of the output
    Cost forwardPass;          // one evaluation of the function
    ModeCost forwardMode;      // n JVP passes with one direction each
    ModeCost forwardVectorized;  // one JVP pass with n directions
    ModeCost reverseMode;      // m VJP passes
    ModeCost numeric;          // 2n evaluations
    std::size_t forwardNodes = 0;
    std::size_t backwardNodes = 0;  // nodes the backward pass adds
};

AutodiffCostReport autodiffCosts(const Graph& graph, const std::string& of, const std::vector<std::string>& wrt);

}  // namespace adj
