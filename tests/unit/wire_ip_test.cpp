// IPv4 and IPv6 header parsing: real kernel packets, hand-built headers and
// every kind of malformed header.
#include <gtest/gtest.h>

#include <vector>

#include "wire/wire.hpp"
#include "wire_test_util.hpp"

namespace synq::wire {
namespace {

using testing::fix_ipv4_checksum;
using testing::from_hex;
using testing::put16;

ParseError ip_error(std::span<const uint8_t> pkt) {
  auto r = parse_ip(pkt);
  EXPECT_FALSE(r.ok());
  return r.ok() ? ParseError::unsupported : r.error();
}

// ---------------------------------------------------------------- IPv4 ----

TEST(WireIpv4, ParsesKernelSyn) {
  const auto pkt = from_hex(testing::kKernelSyn);
  auto r = parse_ip(pkt);
  ASSERT_TRUE(r.ok()) << parse_error_name(r.error());
  const IpPacket& ip = r.value();
  EXPECT_EQ(ip.src, IpAddr::v4(127, 0, 0, 1));
  EXPECT_EQ(ip.dst, IpAddr::v4(127, 0, 0, 1));
  EXPECT_EQ(ip.protocol, ip_proto::TCP);
  EXPECT_EQ(ip.ttl, 64);
  EXPECT_EQ(ip.tos, 0);
  EXPECT_EQ(ip.payload.size(), 40u);
  EXPECT_EQ(ip.payload.data(), pkt.data() + 20);  // a view, not a copy
}

TEST(WireIpv4, HandBuiltHeaderWithTosAndChecksum) {
  // RFC 791 §3.1 layout: 192.0.2.1 → 198.51.100.7, UDP, TOS 0x2e (DSCP 11, ECT(0)), TTL 3.
  auto pkt = from_hex(
      "45 2e 00 1c 12 34 00 00 03 11 00 00 c0 00 02 01 c6 33 64 07"
      " 01 02 03 04 05 06 07 08");
  fix_ipv4_checksum(pkt);
  auto r = parse_ip(pkt);
  ASSERT_TRUE(r.ok()) << parse_error_name(r.error());
  EXPECT_EQ(r.value().tos, 0x2e);
  EXPECT_EQ(r.value().ttl, 3);
  EXPECT_EQ(r.value().protocol, ip_proto::UDP);
  EXPECT_EQ(r.value().src, IpAddr::v4(192, 0, 2, 1));
  EXPECT_EQ(r.value().dst, IpAddr::v4(198, 51, 100, 7));
  ASSERT_EQ(r.value().payload.size(), 8u);
  EXPECT_EQ(r.value().payload[0], 0x01);
}

TEST(WireIpv4, TrailingEthernetPaddingIsIgnored) {
  auto pkt = from_hex(testing::kKernelSyn);
  pkt.insert(pkt.end(), 6, 0x00);
  auto r = parse_ip(pkt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().payload.size(), 40u);
}

TEST(WireIpv4, TruncatedAtEveryLengthIsAnError) {
  const auto pkt = from_hex(testing::kKernelData);
  for (size_t n = 0; n < pkt.size(); ++n) {
    auto r = parse_ip(std::span(pkt).first(n));
    ASSERT_FALSE(r.ok()) << "length " << n;
    const ParseError e = r.error();
    EXPECT_TRUE(e == ParseError::too_short || e == ParseError::bad_total_length)
        << n << ": " << parse_error_name(e);
  }
}

TEST(WireIpv4, EmptyBufferIsTooShort) {
  EXPECT_EQ(ip_error({}), ParseError::too_short);
}

TEST(WireIpv4, VersionNibbleOtherThan4Or6IsBadVersion) {
  auto pkt = from_hex(testing::kKernelSyn);
  for (uint8_t v : {0, 1, 5, 7, 15}) {
    pkt[0] = static_cast<uint8_t>(v << 4 | 5);
    EXPECT_EQ(ip_error(pkt), ParseError::bad_version) << int(v);
  }
}

TEST(WireIpv4, IhlBelowFiveIsBadHeaderLength) {
  auto pkt = from_hex(testing::kKernelSyn);
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    pkt[0] = 0x40 | ihl;
    EXPECT_EQ(ip_error(pkt), ParseError::bad_header_length) << int(ihl);
  }
}

TEST(WireIpv4, IhlBeyondTheBufferIsTooShort) {
  auto pkt = from_hex(testing::kKernelSyn);
  pkt.resize(40);
  pkt[0] = 0x4f;  // claims 60 bytes of header
  EXPECT_EQ(ip_error(pkt), ParseError::too_short);
}

TEST(WireIpv4, CorruptedHeaderIsBadIpChecksum) {
  const auto good = from_hex(testing::kKernelSyn);
  for (size_t i = 0; i < 20; ++i) {
    if (i == 0) continue;  // the version/IHL byte fails earlier checks
    auto pkt = good;
    pkt[i] ^= 0x01;
    EXPECT_EQ(ip_error(pkt), ParseError::bad_ip_checksum) << "byte " << i;
  }
}

TEST(WireIpv4, TotalLengthBeyondBufferIsBadTotalLength) {
  auto pkt = from_hex(testing::kKernelSyn);
  put16(pkt, 2, static_cast<uint16_t>(pkt.size() + 1));
  fix_ipv4_checksum(pkt);
  EXPECT_EQ(ip_error(pkt), ParseError::bad_total_length);
}

TEST(WireIpv4, TotalLengthShorterThanHeaderIsBadTotalLength) {
  auto pkt = from_hex(testing::kKernelSyn);
  put16(pkt, 2, 19);
  fix_ipv4_checksum(pkt);
  EXPECT_EQ(ip_error(pkt), ParseError::bad_total_length);
}

TEST(WireIpv4, TotalLengthShorterThanBufferTrimsThePayload) {
  auto pkt = from_hex(testing::kKernelData);  // 5 bytes of "hello"
  put16(pkt, 2, static_cast<uint16_t>(pkt.size() - 3));
  fix_ipv4_checksum(pkt);
  auto r = parse_ip(pkt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().payload.size(), 32u + 2u);
}

TEST(WireIpv4, OptionsAreSkipped) {
  // IHL 6: a Router Alert option (RFC 2113: 94 04 00 00) before the payload.
  auto pkt = from_hex(
      "46 00 00 20 00 01 40 00 40 11 00 00 0a 00 00 01 0a 00 00 02"
      " 94 04 00 00"
      " aa bb cc dd 00 00 00 00");
  fix_ipv4_checksum(pkt);
  auto r = parse_ip(pkt);
  ASSERT_TRUE(r.ok()) << parse_error_name(r.error());
  ASSERT_EQ(r.value().payload.size(), 8u);
  EXPECT_EQ(r.value().payload[0], 0xaa);
}

TEST(WireIpv4, FragmentsAreRefused) {
  const auto good = from_hex(testing::kKernelSyn);
  // MF set (first fragment), an offset (last fragment), and both.
  for (uint16_t field : {0x2000, 0x0001, 0x2001, 0x1fff, 0x6000 /* DF+MF */}) {
    auto pkt = good;
    put16(pkt, 6, field);
    fix_ipv4_checksum(pkt);
    EXPECT_EQ(ip_error(pkt), ParseError::fragment) << std::hex << field;
  }
  // DF alone, or no flags at all, is a whole datagram.
  for (uint16_t field : {0x4000, 0x0000}) {
    auto pkt = good;
    put16(pkt, 6, field);
    fix_ipv4_checksum(pkt);
    EXPECT_TRUE(parse_ip(pkt).ok()) << std::hex << field;
  }
}

// ---------------------------------------------------------------- IPv6 ----

/// An IPv6 header 2001:db8::2 → 2001:db8::1 followed by `rest` (extension
/// headers and payload), with next header `nh`.
std::vector<uint8_t> ipv6_packet(uint8_t nh, const std::vector<uint8_t>& rest) {
  auto pkt = from_hex(
      "6b a1 23 45 00 00 00 2a"
      " 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
      " 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01");
  put16(pkt, 4, static_cast<uint16_t>(rest.size()));
  pkt[6] = nh;
  pkt.insert(pkt.end(), rest.begin(), rest.end());
  return pkt;
}

const std::vector<uint8_t> kUdpBytes = from_hex("9c 40 00 35 00 0c 00 00 de ad be ef");

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(WireIpv6, ParsesFixedHeader) {
  const auto pkt = ipv6_packet(ip_proto::UDP, kUdpBytes);
  auto r = parse_ip(pkt);
  ASSERT_TRUE(r.ok()) << parse_error_name(r.error());
  const auto& ip = r.value();
  EXPECT_EQ(ip.src, testing::v6addr({0x02}));
  EXPECT_EQ(ip.dst, testing::v6addr({0x01}));
  EXPECT_EQ(ip.protocol, ip_proto::UDP);
  EXPECT_EQ(ip.ttl, 0x2a);
  EXPECT_EQ(ip.tos, 0xba);  // traffic class spans the two first bytes: 6|ba|123..
  EXPECT_EQ(ip.payload.size(), kUdpBytes.size());
  EXPECT_EQ(ip.payload.data(), pkt.data() + 40);
}

TEST(WireIpv6, TrailingBytesAreIgnored) {
  auto pkt = ipv6_packet(ip_proto::UDP, kUdpBytes);
  pkt.insert(pkt.end(), 10, 0xee);
  auto r = parse_ip(pkt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().payload.size(), kUdpBytes.size());
}

TEST(WireIpv6, PayloadLengthBeyondBufferIsBadTotalLength) {
  auto pkt = ipv6_packet(ip_proto::UDP, kUdpBytes);
  put16(pkt, 4, static_cast<uint16_t>(kUdpBytes.size() + 1));
  EXPECT_EQ(ip_error(pkt), ParseError::bad_total_length);
}

TEST(WireIpv6, TruncatedAtEveryLengthIsAnError) {
  const auto pkt = ipv6_packet(ip_proto::UDP, kUdpBytes);
  for (size_t n = 0; n < pkt.size(); ++n) {
    auto r = parse_ip(std::span(pkt).first(n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_TRUE(r.error() == ParseError::too_short || r.error() == ParseError::bad_total_length)
        << n;
  }
}

// Hop-by-hop: next header UDP, length 0 (8 bytes), PadN of 4 bytes.
const std::vector<uint8_t> kHbhPadN = from_hex("11 00 01 04 00 00 00 00");

TEST(WireIpv6, WalksHopByHopWithPadding) {
  auto pkt = ipv6_packet(0, concat({kHbhPadN, kUdpBytes}));
  auto r = parse_ip(pkt);
  ASSERT_TRUE(r.ok()) << parse_error_name(r.error());
  EXPECT_EQ(r.value().protocol, ip_proto::UDP);
  EXPECT_EQ(r.value().payload.size(), kUdpBytes.size());
  EXPECT_EQ(r.value().payload.data(), pkt.data() + 48);
}

TEST(WireIpv6, HopByHopWithPad1AndRouterAlertIsWalked) {
  // Pad1, Pad1, Router Alert (type 5, action 00 → skip when unknown).
  const auto hbh = from_hex("11 00 00 00 05 02 00 00");
  auto r = parse_ip(ipv6_packet(0, concat({hbh, kUdpBytes})));
  ASSERT_TRUE(r.ok()) << parse_error_name(r.error());
  EXPECT_EQ(r.value().protocol, ip_proto::UDP);
}

TEST(WireIpv6, UnknownOptionWithDiscardActionIsUnsupported) {
  // RFC 8200 §4.2: an unrecognised option whose top two bits are not 00 means
  // "discard the packet" (0x42: 01, 0x82: 10, 0xc2: 11 — the jumbo option).
  for (uint8_t type : {0x42, 0x82, 0xc2}) {
    auto hbh = from_hex("11 00 00 00 00 02 00 00");
    hbh[4] = type;
    EXPECT_EQ(ip_error(ipv6_packet(0, concat({hbh, kUdpBytes}))), ParseError::unsupported)
        << int(type);
  }
}

TEST(WireIpv6, OptionOverrunningItsHeaderIsBadHeaderLength) {
  const auto hbh = from_hex("11 00 01 05 00 00 00 00");  // PadN claims 5 of the 4 bytes left
  EXPECT_EQ(ip_error(ipv6_packet(0, concat({hbh, kUdpBytes}))), ParseError::bad_header_length);
  const auto dangling = from_hex("11 00 00 00 00 00 00 01");  // PadN type with no length byte
  EXPECT_EQ(ip_error(ipv6_packet(0, concat({dangling, kUdpBytes}))), ParseError::bad_header_length);
}

TEST(WireIpv6, HopByHopAfterAnotherHeaderIsUnsupported) {
  const auto dest = from_hex("00 00 01 04 00 00 00 00");  // dest opts → next HBH
  EXPECT_EQ(ip_error(ipv6_packet(60, concat({dest, kHbhPadN, kUdpBytes}))),
            ParseError::unsupported);
}

TEST(WireIpv6, WalksAChainOfHeaders) {
  // HBH → Destination Options (16 bytes) → Routing (segments left 0) → UDP.
  const auto hbh = from_hex("3c 00 01 04 00 00 00 00");
  const auto dest = from_hex("2b 01 01 0c 00 00 00 00 00 00 00 00 00 00 00 00");
  const auto routing = from_hex("11 00 04 00 00 00 00 00");  // type 4 (SRH), segments left 0
  auto pkt = ipv6_packet(0, concat({hbh, dest, routing, kUdpBytes}));
  auto r = parse_ip(pkt);
  ASSERT_TRUE(r.ok()) << parse_error_name(r.error());
  EXPECT_EQ(r.value().protocol, ip_proto::UDP);
  EXPECT_EQ(r.value().payload.data(), pkt.data() + 40 + 8 + 16 + 8);
  EXPECT_EQ(r.value().payload.size(), kUdpBytes.size());
}

TEST(WireIpv6, RoutingHeaderWithSegmentsLeftIsUnsupported) {
  const auto routing = from_hex("11 00 04 01 00 00 00 00");
  EXPECT_EQ(ip_error(ipv6_packet(43, concat({routing, kUdpBytes}))), ParseError::unsupported);
}

TEST(WireIpv6, FragmentHeaderIsRefused) {
  // Even an atomic fragment (offset 0, M 0) is refused: synq does not reassemble.
  for (auto frag : {from_hex("11 00 00 00 00 00 00 01"), from_hex("11 00 00 01 12 34 56 78"),
                    from_hex("11 00 00 00 12 34 56 78")}) {
    EXPECT_EQ(ip_error(ipv6_packet(44, concat({frag, kUdpBytes}))), ParseError::fragment);
  }
  // ...also behind another extension header.
  const auto hbh = from_hex("2c 00 01 04 00 00 00 00");
  EXPECT_EQ(ip_error(ipv6_packet(0, concat({hbh, from_hex("11 00 00 00 00 00 00 00"), kUdpBytes}))),
            ParseError::fragment);
}

TEST(WireIpv6, ExtensionHeaderBeyondPayloadIsBadHeaderLength) {
  // Hdr Ext Len 1 claims 16 bytes, only 8 present.
  EXPECT_EQ(ip_error(ipv6_packet(60, from_hex("11 01 01 04 00 00 00 00"))),
            ParseError::bad_header_length);
  // Fewer than 8 bytes left for an extension header at all.
  EXPECT_EQ(ip_error(ipv6_packet(0, from_hex("11 00 01 04"))), ParseError::bad_header_length);
  EXPECT_EQ(ip_error(ipv6_packet(43, {})), ParseError::bad_header_length);
}

TEST(WireIpv6, HeadersSynqDoesNotWalkAreUnsupported) {
  for (uint8_t nh : {50 /* ESP */, 51 /* AH */, 135 /* Mobility */, 139, 140, 253, 254}) {
    EXPECT_EQ(ip_error(ipv6_packet(nh, kUdpBytes)), ParseError::unsupported) << int(nh);
  }
}

TEST(WireIpv6, NoNextHeaderIsAnEmptyUpperLayer) {
  auto r = parse_ip(ipv6_packet(59, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().protocol, 59);
  EXPECT_TRUE(r.value().payload.empty());
}

}  // namespace
}  // namespace synq::wire
