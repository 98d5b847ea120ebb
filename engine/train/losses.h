#pragma once
// Losses as graph nodes: each adds a scalar loss to a model graph, built from ordinary ops through
// GraphBuilder, so that the loss (and, after buildBackward, its adjoint) is part of the graph a
// person sees. Targets are float tensors of the prediction's shape: one-hot rows for
// cross-entropy (the data pipeline builds them from integer labels), 0/1 for binary
// cross-entropy, values for mean squared error. Every loss is a mean over the batch.
#include <optional>
#include <string>
#include <vector>

#include "ir/builder.h"

namespace adj::train {

enum class LossKind {
    /// mean_i -sum_k y_ik * log_softmax(z_i)_k: stable for any logits (log_softmax subtracts the
    /// row maximum).
    CrossEntropy,
    /// mean over all elements of (p - y)^2.
    MeanSquaredError,
    /// mean over all elements of max(z, 0) - z*y + log(1 + exp(-|z|)): BCE on logits, stable
    /// (never exponentiates a positive number).
    BinaryCrossEntropy,
};

/// "cross-entropy", "mse", "binary-cross-entropy".
std::string lossName(LossKind kind);
std::optional<LossKind> parseLossKind(const std::string& name);

/// Adds the loss of `prediction` against `target` (same shape; prediction [N, K]) and returns the
/// scalar loss value. Node names start with b.prefix().
ValueRef addLoss(GraphBuilder& b, LossKind kind, ValueRef prediction, ValueRef target);

/// The fraction of rows whose prediction picks the label: argmax over a row of K > 1 logits, or
/// logit > 0 for one column (binary). Computed on the CPU, outside the graph. `predictions` is
/// [N, K] (any layout).
double accuracy(const Tensor& predictions, const std::vector<int>& labels);

}  // namespace adj::train
