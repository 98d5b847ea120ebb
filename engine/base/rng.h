#pragma once
// The engine's random numbers, one home for every generator whose sequence matters: Rng
// (xoshiro256** seeded through splitmix64, with uniform and normal (Box-Muller) draws written out
// here, so that datasets, shuffles and therefore whole training runs are identical on every
// platform and standard library; std::*_distribution is not: its algorithms are
// implementation-defined; the state is four words that a checkpoint saves and restores),
// SplitMix64 (the "init" generator of graph files) and XorShift64 (a cheap fixed sign pattern).
#include <array>
#include <cstdint>

namespace adj {

/// splitmix64: one step of the generator docs/FORMAT.md specifies for "init" (used here to seed).
std::uint64_t splitmix64(std::uint64_t& state);

/// splitmix64 as a stream: the generator of a graph file's random "init" (docs/FORMAT.md).
class SplitMix64 {
public:
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() { return splitmix64(state_); }
    /// A double in [0, 1) from the top 53 bits.
    double unit() { return double(next() >> 11) * 0x1.0p-53; }

private:
    std::uint64_t state_;
};

/// Marsaglia's xorshift64 (shifts 13, 7, 17): a tiny generator for fixed pseudo-random patterns
/// that need no statistical quality. `seed` must not be 0.
class XorShift64 {
public:
    explicit XorShift64(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        return state_;
    }

private:
    std::uint64_t state_;
};

class Rng {
public:
    using State = std::array<std::uint64_t, 4>;
    explicit Rng(std::uint64_t seed = 0);
    /// xoshiro256** (Blackman and Vigna, 2018).
    std::uint64_t next();
    /// A double in [0, 1) from the top 53 bits.
    double uniform();
    double uniform(double low, double high) { return low + (high - low) * uniform(); }
    /// A standard normal draw: Box-Muller on two uniforms, the cosine branch only (no cached
    /// second value, so the state is the four words alone).
    double normal();
    /// An integer in [0, bound) (Lemire's multiply-shift; bound > 0).
    std::uint64_t below(std::uint64_t bound);

    const State& state() const { return s_; }
    void setState(const State& s) { s_ = s; }

private:
    State s_{};
};

}  // namespace adj
