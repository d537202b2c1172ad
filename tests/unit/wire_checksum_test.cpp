// RFC 1071 checksums and TCP/UDP pseudo-headers, checked against the naive
// reference in wire_test_util.hpp and against real kernel output.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "wire/wire.hpp"
#include "wire_test_util.hpp"

namespace synq::wire {
namespace {

using testing::from_hex;
using testing::ref_checksum;
using testing::ref_pseudo_header;
using testing::ref_sum;

uint16_t fold(uint32_t sum) {
  return static_cast<uint16_t>(~checksum_finish(sum));
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST(WireChecksum, Rfc1071WorkedExample) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  const auto d = from_hex("00 01 f2 03 f4 f5 f6 f7");
  EXPECT_EQ(fold(checksum_add(0, d)), 0xddf2);
  EXPECT_EQ(checksum_finish(checksum_add(0, d)), 0x220d);
}

TEST(WireChecksum, EmptyAndAllZeroDataChecksumToFfff) {
  EXPECT_EQ(checksum_finish(checksum_add(0, {})), 0xffff);
  std::vector<uint8_t> zeros(1500, 0);
  EXPECT_EQ(checksum_finish(checksum_add(0, zeros)), 0xffff);
}

TEST(WireChecksum, OddTrailingByteIsTheHighByteOfAWord) {
  const std::vector<uint8_t> one{0xab};
  EXPECT_EQ(fold(checksum_add(0, one)), 0xab00);
  const std::vector<uint8_t> three{0x12, 0x34, 0x56};
  EXPECT_EQ(fold(checksum_add(0, three)), 0x1234 + 0x5600);
}

TEST(WireChecksum, MatchesReferenceForEveryLengthAndAlignment) {
  // Covers the 32-byte, 8-, 4-, 2- and 1-byte tails at every misalignment.
  const auto data = random_bytes(600, 1071);
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; len + offset <= data.size(); ++len) {
      const auto s = std::span(data).subspan(offset, len);
      ASSERT_EQ(checksum_finish(checksum_add(0, s)), ref_checksum(s))
          << "offset " << offset << " len " << len;
    }
  }
}

TEST(WireChecksum, AllOnesPayloadCarriesCorrectly) {
  // Maximal carries in every accumulator: 64 KiB of 0xff.
  std::vector<uint8_t> ones(65535, 0xff);
  EXPECT_EQ(checksum_finish(checksum_add(0, ones)), ref_checksum(ones));
  ones.pop_back();
  EXPECT_EQ(checksum_finish(checksum_add(0, ones)), ref_checksum(ones));
}

TEST(WireChecksum, RunningSumCarriesAcrossCalls) {
  const auto data = random_bytes(1460, 7);
  for (uint32_t initial : {0u, 1u, 0xffffu, 0x1ffffu, 0xfffffff0u, 0xffffffffu}) {
    EXPECT_EQ(checksum_finish(checksum_add(initial, data)),
              ref_checksum(data, ref_sum({}, initial)))
        << initial;
  }
}

TEST(WireChecksum, EvenChunksChainToTheSameSumAsOneCall) {
  const auto data = random_bytes(1001, 99);
  const auto whole = checksum_finish(checksum_add(0, data));
  for (size_t cut = 0; cut <= data.size(); cut += 2) {
    uint32_t s = checksum_add(0, std::span(data).first(cut));
    s = checksum_add(s, std::span(data).subspan(cut));
    ASSERT_EQ(checksum_finish(s), whole) << "cut at " << cut;
  }
}

TEST(WireChecksum, PseudoHeaderV4MatchesKernelPartialChecksum) {
  // Linux stores the folded pseudo-header sum in the TCP checksum field of a
  // checksum-offloaded segment; the loopback captures show 0xfe30 for a
  // 40-byte segment and 0xfe2d for a 37-byte one, 127.0.0.1 → 127.0.0.1.
  const auto lo = IpAddr::v4(127, 0, 0, 1);
  EXPECT_EQ(fold(pseudo_header_sum(lo, lo, ip_proto::TCP, 40)), 0xfe30);
  EXPECT_EQ(fold(pseudo_header_sum(lo, lo, ip_proto::TCP, 37)), 0xfe2d);
}

TEST(WireChecksum, PseudoHeaderMatchesRfcLayoutForV4AndV6) {
  const auto a4 = IpAddr::v4(192, 0, 2, 1), b4 = IpAddr::v4(198, 51, 100, 200);
  const auto a6 = testing::v6addr({0x01}), b6 = testing::v6addr({0xfe, 0xdc, 0xba, 0x98});
  for (uint8_t proto : {ip_proto::TCP, ip_proto::UDP}) {
    for (uint32_t len : {0u, 20u, 1480u, 65535u}) {
      EXPECT_EQ(fold(pseudo_header_sum(a4, b4, proto, len)),
                ref_sum(ref_pseudo_header(a4, b4, proto, len)));
    }
    // IPv6 carries a 32-bit length (jumbo-sized values exercise the upper half).
    for (uint32_t len : {0u, 20u, 65535u, 70000u, 0xffffffffu}) {
      EXPECT_EQ(fold(pseudo_header_sum(a6, b6, proto, len)),
                ref_sum(ref_pseudo_header(a6, b6, proto, len)));
    }
  }
}

}  // namespace
}  // namespace synq::wire
