#pragma once
// Checkpoints: everything a training run needs to continue bit-identically — the step count, the
// parameters, the optimizer state and the shuffler's state — in one file, written atomically
// (base/files.h: a temporary file renamed over the target).
//
// Format ("adjoint-checkpoint", version 1): one JSON object, UTF-8:
//   {"format": "adjoint-checkpoint", "version": 1, "step": 500, "seed": "42",
//    "loss": "cross-entropy", "optimizer": "adam", "batch": 64,
//    "sampler": {"rng": ["<16 hex digits>" x4], "order": [row indices], "position": 17, "epoch": 31},
//    "parameters": [{"name": "w1", "shape": [2, 32], "base64": "<little-endian float32>"}, ...],
//    "state":      [{"name": "state.w1.m", "shape": [2, 32], "base64": "..."}, ...]}
// Tensors are base64 so that values round-trip bit for bit (NaN payloads included); 64-bit
// numbers (seed, generator words) are strings because JSON numbers are doubles in many readers.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"
#include "train/batches.h"

namespace adj::train {

struct Checkpoint {
    /// Updates done so far.
    std::int64_t step = 0;
    std::uint64_t seed = 0;
    std::string loss;
    std::string optimizer;
    std::int64_t batchSize = 0;
    SamplerState sampler;
    std::vector<std::pair<std::string, Tensor>> parameters;
    std::vector<std::pair<std::string, Tensor>> state;
};

/// Throws FormatError naming the path on I/O failure.
void saveCheckpoint(const std::string& path, const Checkpoint& c);
/// Throws FormatError ("ckpt.json: ...") when the file is unreadable or malformed.
Checkpoint loadCheckpoint(const std::string& path);

std::string checkpointToJson(const Checkpoint& c);
Checkpoint parseCheckpoint(const std::string& text, const std::string& where);

}  // namespace adj::train
