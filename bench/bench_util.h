#pragma once
// What the benchmarks share: a median timer with a warm-up run, and seeded random tensors.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "io/json_format.h"

namespace adj::bench {

/// Runs `f` once to warm up (first-touch page faults, caches, pipelines, uploads), then `repeats`
/// times, and returns the median wall time in milliseconds.
inline double medianMs(int repeats, const std::function<void()>& f) {
    f();
    std::vector<double> t;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(t.begin(), t.begin() + std::ptrdiff_t(t.size() / 2), t.end());
    return t[t.size() / 2];
}

/// A tensor of normal(0, std) values from the project's deterministic generator.
inline Tensor randomTensor(const Shape& s, std::uint64_t seed, double std = 1.0) {
    return initTensor(s, InitKind::Normal, 0.0, std, seed);
}

}  // namespace adj::bench
