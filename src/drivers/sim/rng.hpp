// The simulator's random numbers: xoshiro256** seeded through splitmix64, and
// the few distributions the simulator needs, written out here because the
// std:: distributions are implementation-defined (a seed would give different
// runs on libstdc++ and libc++). Every helper consumes a fixed number of
// 64-bit draws except uniform(n), whose rejection loop is itself deterministic.
#pragma once

#include <array>
#include <cstdint>

#include "synq/time.hpp"

namespace synq::sim {

/// splitmix64 step: advances `state` and returns a well-mixed 64-bit value.
/// Also used to derive independent seeds (host stacks) from the network seed.
constexpr uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// A mix of two values into one seed (for per-host seeds: network seed × host).
constexpr uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t s = a ^ (b * 0xd1b54a32d192ed03ull);
  return splitmix64(s);
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 1) { reseed(seed); }

  void reseed(uint64_t seed) {
    uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64(sm);
  }

  /// xoshiro256** (Blackman & Vigna, 2018).
  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, n); n == 0 gives 0. Lemire's multiply-shift with rejection,
  /// so there is no modulo bias.
  uint64_t uniform(uint64_t n) {
    if (n == 0) return 0;
    unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * n;
    auto low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next_u64()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  /// Uniform in [0, 1) with 53 bits: exact in IEEE double on every platform.
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  /// True with probability p (p ≤ 0: never, p ≥ 1: always). One draw unless p
  /// is 0 or 1, so a link with no loss does not perturb the stream.
  bool bernoulli(double p) {
    if (p <= 0.0) return false;
    if (p >= 1.0) return true;
    return uniform01() < p;
  }

  /// Uniform duration in [0, max] (inclusive), nanosecond resolution.
  Duration uniform_duration(Duration max) {
    if (max.count() <= 0) return Duration{0};
    return Duration{static_cast<int64_t>(uniform(static_cast<uint64_t>(max.count()) + 1))};
  }

  /// Approximately normal (mean 0, standard deviation 1): Irwin–Hall sum of 12
  /// uniforms minus 6. Bounded to ±6, which suits delay jitter.
  double normalish() {
    double sum = 0;
    for (int i = 0; i < 12; ++i) sum += uniform01();
    return sum - 6.0;
  }

 private:
  static constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
};

}  // namespace synq::sim
