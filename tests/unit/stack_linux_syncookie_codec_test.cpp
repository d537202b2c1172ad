// The Linux SYN cookie codec (src/listen/syncookies_linux.*): ISN and TSval
// encodings, MSS table, minute counter, expiry and tamper detection.
#include <gtest/gtest.h>

#include "listen/syncookies_linux.hpp"

namespace synq::listen {
namespace {

using namespace std::chrono_literals;

const FourTuple kTuple{{IpAddr::v4(10, 0, 0, 1), 80}, {IpAddr::v4(10, 0, 0, 9), 40000}};

TEST(LinuxSyncookies, RoundTripEveryMssIndexInTheSameMinute) {
  LinuxSyncookies c(7);
  for (uint8_t i = 0; i < 4; ++i) {
    const uint32_t cookie = c.encode(kTuple, 123456, 5, i);
    EXPECT_EQ(c.decode(kTuple, 123456, cookie, 5), std::optional<uint8_t>(i));
  }
}

TEST(LinuxSyncookies, MssIndexIsTheLargestEntryNotAboveThePeersMss) {
  using C = LinuxSyncookies;
  EXPECT_EQ(C::mss_index(1460), 3);
  EXPECT_EQ(C::mss_index(9000), 3);
  EXPECT_EQ(C::mss_index(1459), 2);
  EXPECT_EQ(C::mss_index(1440), 2);
  EXPECT_EQ(C::mss_index(1439), 1);
  EXPECT_EQ(C::mss_index(1300), 1);
  EXPECT_EQ(C::mss_index(1299), 0);
  EXPECT_EQ(C::mss_index(536), 0);
  EXPECT_EQ(C::mss_index(100), 0);  // 536 is the floor
  EXPECT_EQ(C::kMssTable, (std::array<uint16_t, 4>{536, 1300, 1440, 1460}));
}

TEST(LinuxSyncookies, MinuteCounterAndTwoMinuteValidity) {
  EXPECT_EQ(LinuxSyncookies::minute_count(0s), 0u);
  EXPECT_EQ(LinuxSyncookies::minute_count(59999ms), 0u);
  EXPECT_EQ(LinuxSyncookies::minute_count(60s), 1u);
  LinuxSyncookies c(7);
  const uint32_t cookie = c.encode(kTuple, 1000, 10, 2);
  EXPECT_EQ(c.decode(kTuple, 1000, cookie, 10), std::optional<uint8_t>(2));
  EXPECT_EQ(c.decode(kTuple, 1000, cookie, 11), std::optional<uint8_t>(2));  // next minute: valid
  EXPECT_EQ(c.decode(kTuple, 1000, cookie, 12), std::nullopt);               // 2 minutes: expired
  EXPECT_EQ(c.decode(kTuple, 1000, cookie, 9), std::nullopt);                // from the future
}

TEST(LinuxSyncookies, MinuteCounterWrapsThroughItsEightBits) {
  // The cookie keeps the minute mod 256 in its top byte: 255 → 256 still works.
  LinuxSyncookies c(7);
  const uint32_t cookie = c.encode(kTuple, 1000, 255, 1);
  EXPECT_EQ(c.decode(kTuple, 1000, cookie, 256), std::optional<uint8_t>(1));
  EXPECT_EQ(c.decode(kTuple, 1000, cookie, 257), std::nullopt);
}

TEST(LinuxSyncookies, TamperedCookieTupleOrPeerIsnIsRejected) {
  LinuxSyncookies c(7);
  const uint32_t cookie = c.encode(kTuple, 1000, 3, 3);
  // Any flipped bit above the 2-bit MSS index: the keyed 24 bits no longer
  // match, or the top byte claims another minute whose hash does not match.
  for (int bit = 2; bit < 32; ++bit)
    EXPECT_EQ(c.decode(kTuple, 1000, cookie ^ (1u << bit), 3), std::nullopt) << bit;
  for (uint32_t delta = 1; delta <= 1000; ++delta)
    EXPECT_EQ(c.decode(kTuple, 1000, cookie + delta, 3), std::nullopt) << delta;
  FourTuple other = kTuple;
  other.remote.port = 40001;
  EXPECT_EQ(c.decode(other, 1000, cookie, 3), std::nullopt);
  other = kTuple;
  other.local.addr = IpAddr::v4(10, 0, 0, 2);
  EXPECT_EQ(c.decode(other, 1000, cookie, 3), std::nullopt);
  EXPECT_EQ(c.decode(kTuple, 1000 + 8, cookie, 3), std::nullopt);
  // As in Linux, the index is added, not separately keyed: a cookie one lower
  // (or a peer ISN one higher) is still accepted with the next smaller MSS.
  EXPECT_EQ(c.decode(kTuple, 1000, cookie - 1, 3), std::optional<uint8_t>(2));
  EXPECT_EQ(c.decode(kTuple, 1001, cookie, 3), std::optional<uint8_t>(2));
}

TEST(LinuxSyncookies, SecretsComeFromTheSeed) {
  LinuxSyncookies a(1), b(1), other(2);
  EXPECT_EQ(a.encode(kTuple, 1000, 3, 0), b.encode(kTuple, 1000, 3, 0));
  EXPECT_NE(a.encode(kTuple, 1000, 3, 0), other.encode(kTuple, 1000, 3, 0));
  EXPECT_EQ(other.decode(kTuple, 1000, a.encode(kTuple, 1000, 3, 0), 3), std::nullopt);
}

TEST(LinuxSyncookies, TimestampCarriesWscaleSackEcnInSixLowBits) {
  using C = LinuxSyncookies;
  C::TsOptions o;
  o.wscale_ok = true;
  o.snd_wscale = 7;
  o.sack_ok = true;
  EXPECT_EQ(C::encode_ts(100000, o) & 63, 23u);  // 7 | SACK(16)
  o.ecn_ok = true;
  EXPECT_EQ(C::encode_ts(100000, o) & 63, 55u);  // + ECN(32)
  C::TsOptions none;
  none.sack_ok = true;
  EXPECT_EQ(C::encode_ts(100000, none) & 63, 31u);  // 0xF: no window scaling
  const C::TsOptions back = C::decode_ts(C::encode_ts(100000, o));
  EXPECT_TRUE(back.wscale_ok);
  EXPECT_EQ(back.snd_wscale, 7);
  EXPECT_TRUE(back.sack_ok);
  EXPECT_TRUE(back.ecn_ok);
  EXPECT_FALSE(C::decode_ts(31).wscale_ok);
}

TEST(LinuxSyncookies, EncodedTimestampNeverRunsAheadOfTheClock) {
  using C = LinuxSyncookies;
  C::TsOptions o;  // no wscale: low bits 0xF
  // 100000 has low bits 32: (100000 & ~63) | 15 = 99983, below the clock.
  EXPECT_EQ(C::encode_ts(100000, o), 99983u);
  // 99973 has low bits 5: 99983 would run ahead, so one period back.
  EXPECT_EQ(C::encode_ts(99973, o), 99983u - 64);
  for (uint32_t clock = 64; clock < 64 * 3; ++clock) {
    const uint32_t ts = C::encode_ts(clock, o);
    EXPECT_LE(ts, clock);
    EXPECT_GT(ts + 64, clock);
    EXPECT_EQ(ts & 63, 15u);
  }
}

}  // namespace
}  // namespace synq::listen
