#pragma once
// The training code's random numbers: xoshiro256** seeded through splitmix64, with uniform and
// normal (Box-Muller) draws written out here, so that datasets, shuffles and therefore whole
// training runs are identical on every platform and standard library (std::*_distribution is
// not: its algorithms are implementation-defined). The state is four words that a checkpoint
// saves and restores.
#include <array>
#include <cstdint>

namespace adj::train {

/// splitmix64: one step of the generator docs/FORMAT.md specifies for "init" (used here to seed).
std::uint64_t splitmix64(std::uint64_t& state);

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

}  // namespace adj::train
