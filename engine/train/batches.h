#pragma once
// The shuffler: deals a training split out in batches of a fixed size. Each epoch is a fresh
// Fisher-Yates permutation drawn from Rng (base/rng.h); a batch that reaches the end of an epoch
// continues into the next one, so every batch has the same size (and the training-step graph one
// shape). The whole state (generator words, the current permutation, the position in it, the
// epoch) is a value that checkpoints save, so a resumed run deals the same batches.
#include <cstdint>
#include <vector>

#include "base/rng.h"

namespace adj::train {

struct SamplerState {
    Rng::State rng{};
    std::vector<std::int64_t> order;
    std::int64_t position = 0;
    std::int64_t epoch = 0;
};

class BatchSampler {
public:
    /// `count` rows (> 0), batches of `batchSize` rows (> 0, may exceed count: rows repeat).
    BatchSampler(std::int64_t count, std::int64_t batchSize, std::uint64_t seed);
    /// The row indices of the next batch.
    std::vector<std::int64_t> next();
    std::int64_t batchSize() const { return batch_; }

    SamplerState state() const;
    /// Restores a state from state(); throws adj::Error when it does not fit this sampler.
    void setState(const SamplerState& s);

private:
    void reshuffle();
    std::int64_t count_, batch_;
    Rng rng_;
    std::vector<std::int64_t> order_;
    std::int64_t position_ = 0;
    std::int64_t epoch_ = 0;
};

}  // namespace adj::train
