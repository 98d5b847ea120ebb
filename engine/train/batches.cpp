#include "train/batches.h"

#include <algorithm>

#include "base/errors.h"

namespace adj::train {

BatchSampler::BatchSampler(std::int64_t count, std::int64_t batchSize, std::uint64_t seed)
    : count_(count), batch_(batchSize), rng_(seed) {
    if (count_ < 1 || batch_ < 1) throw Error("batch sampler: needs at least one row and a batch size of at least 1");
    order_.resize(std::size_t(count_));
    reshuffle();
}

void BatchSampler::reshuffle() {
    for (std::int64_t i = 0; i < count_; ++i) order_[std::size_t(i)] = i;
    for (std::int64_t i = count_ - 1; i > 0; --i) std::swap(order_[std::size_t(i)], order_[rng_.below(std::uint64_t(i + 1))]);
    position_ = 0;
}

std::vector<std::int64_t> BatchSampler::next() {
    std::vector<std::int64_t> rows;
    rows.reserve(std::size_t(batch_));
    while (std::int64_t(rows.size()) < batch_) {
        if (position_ == count_) {
            ++epoch_;
            reshuffle();
        }
        rows.push_back(order_[std::size_t(position_++)]);
    }
    return rows;
}

SamplerState BatchSampler::state() const { return {rng_.state(), order_, position_, epoch_}; }

void BatchSampler::setState(const SamplerState& s) {
    if (std::int64_t(s.order.size()) != count_ || s.position < 0 || s.position > count_)
        throw Error("sampler state does not fit a training set of " + std::to_string(count_) + " rows");
    for (auto i : s.order)
        if (i < 0 || i >= count_) throw Error("sampler state holds a row index out of range");
    rng_.setState(s.rng);
    order_ = s.order;
    position_ = s.position;
    epoch_ = s.epoch;
}

}  // namespace adj::train
