// UDP: build/parse round trips, length-field checks, and the checksum rules
// that differ between IPv4 (optional) and IPv6 (mandatory).
#include <gtest/gtest.h>

#include <vector>

#include "wire/wire.hpp"
#include "wire_test_util.hpp"

namespace synq::wire {
namespace {

using testing::be16;
using testing::put16;

const IpAddr kA4 = IpAddr::v4(192, 0, 2, 10);
const IpAddr kB4 = IpAddr::v4(192, 0, 2, 20);
const IpAddr kA6 = testing::v6addr({0x0a});
const IpAddr kB6 = testing::v6addr({0x14});

std::vector<uint8_t> build(const IpAddr& src, const IpAddr& dst,
                           const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out(1600);
  const size_t n = build_udp(out, src, dst, 5353, 53, payload);
  EXPECT_GT(n, 0u);
  out.resize(n);
  return out;
}

ParseError udp_error(const std::vector<uint8_t>& pkt) {
  auto ip = parse_ip(pkt);
  EXPECT_TRUE(ip.ok());
  auto r = parse_udp(ip.value());
  EXPECT_FALSE(r.ok());
  return r.ok() ? ParseError::unsupported : r.error();
}

TEST(WireUdp, RoundTripsOverV4AndV6) {
  const std::vector<uint8_t> payload{1, 2, 3, 4, 5, 6, 7};  // odd length
  for (bool v6 : {false, true}) {
    const auto pkt = build(v6 ? kA6 : kA4, v6 ? kB6 : kB4, payload);
    auto ip = parse_ip(pkt);
    ASSERT_TRUE(ip.ok());
    EXPECT_EQ(ip.value().protocol, ip_proto::UDP);
    auto d = parse_udp(ip.value());
    ASSERT_TRUE(d.ok()) << parse_error_name(d.error());
    EXPECT_EQ(d.value().sport, 5353);
    EXPECT_EQ(d.value().dport, 53);
    EXPECT_EQ(std::vector<uint8_t>(d.value().payload.begin(), d.value().payload.end()), payload);
    // Checked against the reference with the RFC pseudo-header layout.
    const auto l4 = std::span(pkt).subspan(v6 ? 40 : 20);
    const auto ph = testing::ref_pseudo_header(v6 ? kA6 : kA4, v6 ? kB6 : kB4, ip_proto::UDP,
                                               uint32_t(l4.size()));
    EXPECT_EQ(testing::ref_checksum(l4, testing::ref_sum(ph)), 0);
  }
}

TEST(WireUdp, ComputedZeroChecksumIsSentAsAllOnes) {
  // Choose the payload word that makes the one's-complement sum 0xffff, so
  // the computed checksum is 0; RFC 768 says to transmit 0xffff instead.
  std::vector<uint8_t> payload{0, 0};
  auto pkt = build(kA4, kB4, payload);
  const uint16_t c = be16(pkt, 26);  // checksum with payload word 0
  payload = {uint8_t(c >> 8), uint8_t(c)};
  pkt = build(kA4, kB4, payload);
  EXPECT_EQ(be16(pkt, 26), 0xffff);
  EXPECT_TRUE(parse_udp(parse_ip(pkt).value()).ok());
}

TEST(WireUdp, ZeroChecksumMeansNoneOverIpv4) {
  auto pkt = build(kA4, kB4, {9, 9, 9});
  put16(pkt, 26, 0);
  pkt[30] ^= 0xff;  // the payload can no longer be checked, and is accepted
  EXPECT_TRUE(parse_udp(parse_ip(pkt).value()).ok());
}

TEST(WireUdp, ZeroChecksumIsRejectedOverIpv6) {
  auto pkt = build(kA6, kB6, {9, 9, 9});
  put16(pkt, 46, 0);
  EXPECT_EQ(udp_error(pkt), ParseError::bad_checksum);
  EXPECT_TRUE(parse_udp(parse_ip(pkt).value(), /*verify_checksum=*/false).ok());
}

TEST(WireUdp, CorruptedDatagramIsBadChecksum) {
  for (bool v6 : {false, true}) {
    const auto good = build(v6 ? kA6 : kA4, v6 ? kB6 : kB4, {1, 2, 3, 4});
    for (size_t i = v6 ? 40 : 20; i < good.size(); ++i) {
      if (i == (v6 ? 44u : 24u) || i == (v6 ? 45u : 25u)) continue;  // length field
      auto pkt = good;
      pkt[i] ^= 0x08;
      EXPECT_EQ(udp_error(pkt), ParseError::bad_checksum) << "v6=" << v6 << " byte " << i;
    }
  }
}

TEST(WireUdp, LengthFieldBelowHeaderIsBadHeaderLength) {
  auto pkt = build(kA4, kB4, {1, 2, 3, 4});
  put16(pkt, 24, 7);
  EXPECT_EQ(udp_error(pkt), ParseError::bad_header_length);
}

TEST(WireUdp, LengthFieldBeyondIpPayloadIsBadTotalLength) {
  auto pkt = build(kA4, kB4, {1, 2, 3, 4});
  put16(pkt, 24, 13);
  EXPECT_EQ(udp_error(pkt), ParseError::bad_total_length);
}

TEST(WireUdp, BytesPastTheUdpLengthAreTrimmed) {
  // A 2-byte datagram inside a longer IP payload (Linux trims the rest).
  auto pkt = build(kA4, kB4, {0xaa, 0xbb, 0xcc, 0xdd});
  put16(pkt, 24, 10);
  testing::fix_l4_checksum(pkt, 6);  // recomputes over the IP payload...
  // ...which covers all 12 bytes; recompute over the 10 the UDP length claims.
  put16(pkt, 26, 0);
  const auto ph = testing::ref_pseudo_header(kA4, kB4, ip_proto::UDP, 10);
  put16(pkt, 26, testing::ref_checksum(std::span(pkt).subspan(20, 10), testing::ref_sum(ph)));
  auto d = parse_udp(parse_ip(pkt).value());
  ASSERT_TRUE(d.ok()) << parse_error_name(d.error());
  EXPECT_EQ(d.value().payload.size(), 2u);
  EXPECT_EQ(d.value().payload[1], 0xbb);
}

TEST(WireUdp, ShorterThanHeaderIsTooShort) {
  const auto pkt = build(kA4, kB4, {});
  IpPacket ip = parse_ip(pkt).value();
  for (size_t n = 0; n < 8; ++n) {
    ip.payload = std::span(pkt).subspan(20, n);
    auto r = parse_udp(ip, false);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), ParseError::too_short);
  }
}

TEST(WireUdp, OutputTooSmallReturnsZero) {
  std::vector<uint8_t> buf(20 + 8 + 3 - 1);
  EXPECT_EQ(build_udp(buf, kA4, kB4, 1, 2, std::vector<uint8_t>{1, 2, 3}), 0u);
  buf.push_back(0);
  EXPECT_EQ(build_udp(buf, kA4, kB4, 1, 2, std::vector<uint8_t>{1, 2, 3}), buf.size());
}

}  // namespace
}  // namespace synq::wire
