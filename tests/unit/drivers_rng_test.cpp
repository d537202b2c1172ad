// The simulator's RNG: reference values (so runs agree across compilers and
// standard libraries) and the distribution helpers' ranges.
#include <gtest/gtest.h>

#include "drivers/sim/rng.hpp"

namespace synq::sim {
namespace {

TEST(SimRng, Splitmix64MatchesTheReferenceSequence) {
  // First outputs of splitmix64 from state 0 (Vigna's reference splitmix64.c).
  uint64_t s = 0;
  EXPECT_EQ(splitmix64(s), 0xe220a8397b1dcdafull);
  EXPECT_EQ(splitmix64(s), 0x6e789e6aa1b965f4ull);
  EXPECT_EQ(splitmix64(s), 0x06c45d188009454full);
}

TEST(SimRng, SameSeedSameStreamOtherSeedOtherStream) {
  Rng a(5), b(5), c(6);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
  }
}

TEST(SimRng, UniformStaysInRangeAndCoversIt) {
  Rng r(1);
  std::array<int, 7> hits{};
  for (int i = 0; i < 7000; ++i) {
    const uint64_t v = r.uniform(7);
    ASSERT_LT(v, 7u);
    ++hits[v];
  }
  for (int h : hits) EXPECT_GT(h, 800);  // expected 1000 each
  EXPECT_EQ(r.uniform(0), 0u);
  EXPECT_EQ(r.uniform(1), 0u);
}

TEST(SimRng, Uniform01AndBernoulliEdges) {
  Rng r(2);
  for (int i = 0; i < 1000; ++i) {
    const double u = r.uniform01();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
  Rng before = r;
  EXPECT_FALSE(r.bernoulli(0.0));
  EXPECT_TRUE(r.bernoulli(1.0));
  EXPECT_EQ(r.next_u64(), before.next_u64()) << "p of 0 or 1 consumes no draw";
}

TEST(SimRng, UniformDurationIsInclusiveOfItsBounds) {
  Rng r(3);
  bool saw_zero = false, saw_max = false;
  for (int i = 0; i < 2000; ++i) {
    const Duration d = r.uniform_duration(Duration{3});
    ASSERT_GE(d.count(), 0);
    ASSERT_LE(d.count(), 3);
    saw_zero |= d.count() == 0;
    saw_max |= d.count() == 3;
  }
  EXPECT_TRUE(saw_zero);
  EXPECT_TRUE(saw_max);
  EXPECT_EQ(r.uniform_duration(Duration{0}).count(), 0);
}

TEST(SimRng, NormalishHasMeanZeroAndUnitSpread) {
  Rng r(4);
  double sum = 0, sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double x = r.normalish();
    ASSERT_LE(std::abs(x), 6.0);
    sum += x;
    sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.05);
  EXPECT_NEAR(sq / n, 1.0, 0.05);
}

}  // namespace
}  // namespace synq::sim
