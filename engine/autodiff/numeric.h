#pragma once
// Numeric differentiation: central differences, the lecture's slow and inexact baseline. Each
// input element costs 2 evaluations of the function for the difference, and 2 more for the
// error estimate (the same difference with half the step), and 4 more each time a step that
// crosses a kink (a ReLU input changing sign) is quartered; 8 more, once, measure the rounding
// noise of evaluating f in float32. The reported error bounds truncation (smooth f), kinks within
// the step (ReLU's slope jump at 0) and rounding; see numeric.cpp for how.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/executor.h"

namespace adj {

struct NumericGradient {
    std::vector<Tensor> gradients;  // one per wrt name, shaped like it (0 where not differenced)
    std::vector<Tensor> errors;     // estimated absolute error of each entry
    /// The flat indices differenced, per wrt name: every entry, or the sample (NumericOptions).
    std::vector<std::vector<std::int64_t>> entries;
    std::int64_t evaluations = 0;   // forward evaluations spent
    bool cancelled = false;         // stopped early by NumericOptions::cancel; the rest is partial
};

struct NumericOptions {
    /// At most this many entries of each value are differenced, spread evenly over it (first,
    /// last and evenly spaced between); 0 differences every entry. The cost is linear in the
    /// entries: a budget keeps a check of a large model to seconds.
    std::int64_t maxEntriesPerValue = 0;
    /// Checked before each entry: when raised, the result so far comes back with `cancelled`.
    const std::atomic<bool>* cancel = nullptr;
};

/// Central differences of the scalar output `of` with respect to `wrt` at `bindings`.
NumericGradient numericGradient(const Graph& graph, const std::string& of, const std::vector<std::string>& wrt, const Bindings& bindings,
                                Executor& executor, const NumericOptions& options = {});

/// The flat indices that NumericOptions::maxEntriesPerValue = `budget` picks out of `count`.
std::vector<std::int64_t> sampledEntries(std::int64_t count, std::int64_t budget);

}  // namespace adj
