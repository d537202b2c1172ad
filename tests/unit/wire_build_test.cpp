// build_tcp/build_udp: Linux's option layout byte for byte, real kernel
// packets reproduced, build→parse round trips, and output-size safety.
#include <gtest/gtest.h>

#include <vector>

#include "wire/wire.hpp"
#include "wire_test_util.hpp"

namespace synq::wire {
namespace {

using testing::from_hex;
using testing::ref_checksum;
using testing::ref_pseudo_header;
using testing::ref_sum;

const IpAddr kClient4 = IpAddr::v4(10, 0, 0, 2);
const IpAddr kServer4 = IpAddr::v4(10, 0, 0, 1);
const IpAddr kClient6 = testing::v6addr({0x02});
const IpAddr kServer6 = testing::v6addr({0x01});

std::vector<uint8_t> build(const IpAddr& src, const IpAddr& dst, const TcpHeader& h,
                           std::span<const uint8_t> payload = {}, const IpParams& ip = {}) {
  std::vector<uint8_t> out(2048);
  const size_t n = build_tcp(out, src, dst, h, payload, ip);
  EXPECT_GT(n, 0u);
  out.resize(n);
  return out;
}

/// The option bytes of a built IPv4 packet (IHL 5).
std::vector<uint8_t> options_bytes(const std::vector<uint8_t>& pkt) {
  const size_t doff = size_t(pkt[32] >> 4) * 4;
  return {pkt.begin() + 40, pkt.begin() + 20 + doff};
}

TcpHeader linux_syn() {
  TcpHeader h;
  h.sport = 40000;
  h.dport = 80;
  h.seq = 1000;
  h.flags = tcp_flags::SYN;
  h.window = 64240;
  h.options.has_mss = true;
  h.options.mss = 1460;
  h.options.sack_permitted = true;
  h.options.has_timestamps = true;
  h.options.ts_val = 0x01020304;
  h.options.has_wscale = true;
  h.options.wscale = 7;
  return h;
}

TEST(WireBuildTcp, LinuxSynOptionsByteForByte) {
  // mss 1460, sackOK, TS val X ecr 0, nop, wscale 7 — 20 bytes.
  const auto h = linux_syn();
  EXPECT_EQ(tcp_options_length(h.options), 20u);
  EXPECT_EQ(options_bytes(build(kClient4, kServer4, h)),
            from_hex("02 04 05 b4 04 02 08 0a 01 02 03 04 00 00 00 00 01 03 03 07"));
}

TEST(WireBuildTcp, SynWithoutTimestampsUsesNopNopSackOk) {
  auto h = linux_syn();
  h.options.has_timestamps = false;
  // mss 1460, nop, nop, sackOK, nop, wscale 7
  EXPECT_EQ(tcp_options_length(h.options), 12u);
  EXPECT_EQ(options_bytes(build(kClient4, kServer4, h)),
            from_hex("02 04 05 b4 01 01 04 02 01 03 03 07"));
}

TEST(WireBuildTcp, SynWithTimestampsButNoSack) {
  auto h = linux_syn();
  h.options.sack_permitted = false;
  // mss 1460, nop, nop, TS, nop, wscale 7
  EXPECT_EQ(options_bytes(build(kClient4, kServer4, h)),
            from_hex("02 04 05 b4 01 01 08 0a 01 02 03 04 00 00 00 00 01 03 03 07"));
}

TEST(WireBuildTcp, DataSegmentWithTimestampsIsNopNopTs) {
  TcpHeader h;
  h.flags = tcp_flags::ACK;
  h.options.has_timestamps = true;
  h.options.ts_val = 7;
  h.options.ts_ecr = 0xfffffffe;
  EXPECT_EQ(options_bytes(build(kClient4, kServer4, h)),
            from_hex("01 01 08 0a 00 00 00 07 ff ff ff fe"));
}

TEST(WireBuildTcp, SackBlocksFollowNopNop) {
  TcpHeader h;
  h.flags = tcp_flags::ACK;
  h.options.has_timestamps = true;
  h.options.ts_val = 1;
  h.options.ts_ecr = 2;
  h.options.sack_count = 2;
  h.options.sack[0] = {100, 200};
  h.options.sack[1] = {300, 400};
  EXPECT_EQ(options_bytes(build(kClient4, kServer4, h)),
            from_hex("01 01 08 0a 00 00 00 01 00 00 00 02"
                     " 01 01 05 12 00 00 00 64 00 00 00 c8 00 00 01 2c 00 00 01 90"));
}

TEST(WireBuildTcp, SackBlocksThatDoNotFitAreDropped) {
  TcpOptions o;
  o.sack_count = 4;
  o.sack = {{{1, 2}, {3, 4}, {5, 6}, {7, 8}}};
  EXPECT_EQ(tcp_options_length(o), 4u + 32u);  // all four fit without timestamps
  o.has_timestamps = true;
  EXPECT_EQ(tcp_options_length(o), 12u + 4u + 24u);  // with TS only three (Linux: 3)
  o.has_mss = o.has_wscale = true;                   // 20 bytes used: two blocks
  EXPECT_EQ(tcp_options_length(o), 20u + 4u + 16u);

  TcpHeader h;
  h.options = o;
  h.options.has_mss = h.options.has_wscale = false;
  const auto pkt = build(kClient4, kServer4, h);
  const auto parsed = parse_tcp(parse_ip(pkt).value());
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed.value().h.options.sack_count, 3);
  EXPECT_EQ(parsed.value().h.options.sack[2], (SackBlock{5, 6}));  // the first three are kept
}

TEST(WireBuildTcp, NoOptionsMeansDataOffsetFive) {
  TcpHeader h;
  h.flags = tcp_flags::RST;
  EXPECT_EQ(tcp_options_length(h.options), 0u);
  const auto pkt = build(kClient4, kServer4, h);
  EXPECT_EQ(pkt.size(), 40u);
  EXPECT_EQ(pkt[32], 0x50);
}

/// Builds what the kernel sent (same header, IP ID and options) and compares
/// every byte but the TCP checksum, which the capture holds only partially
/// (offload); ours is checked against the reference instead.
void expect_reproduces_kernel(std::string_view hex) {
  const auto want = from_hex(hex);
  const auto ip = parse_ip(want).value();
  const auto seg = parse_tcp(ip, /*verify_checksum=*/false).value();
  IpParams params;
  params.ip_id = testing::be16(want, 4);
  params.ttl = ip.ttl;
  params.tos = ip.tos;
  const auto got = build(ip.src, ip.dst, seg.h, seg.payload, params);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (i == 36 || i == 37) continue;
    EXPECT_EQ(got[i], want[i]) << "byte " << i;
  }
  const auto l4 = std::span(got).subspan(20);
  const auto ph = ref_pseudo_header(ip.src, ip.dst, ip_proto::TCP, uint32_t(l4.size()));
  EXPECT_EQ(ref_checksum(l4, ref_sum(ph)), 0) << "TCP checksum does not verify";
  EXPECT_EQ(ref_checksum(std::span(got).first(20)), 0) << "IP checksum does not verify";
}

TEST(WireBuildTcp, ReproducesKernelSynByteForByte) {
  expect_reproduces_kernel(testing::kKernelSyn);
}
TEST(WireBuildTcp, ReproducesKernelSynAckByteForByte) {
  expect_reproduces_kernel(testing::kKernelSynAck);
}
TEST(WireBuildTcp, ReproducesKernelDataSegmentByteForByte) {
  expect_reproduces_kernel(testing::kKernelData);
}

TEST(WireBuildTcp, Ipv4HeaderFields) {
  IpParams p;
  p.ttl = 17;
  p.tos = 0x02;  // ECT(0)
  p.ip_id = 0xbeef;
  p.dont_fragment = false;
  const std::vector<uint8_t> payload(100, 0x5a);
  const auto pkt = build(kClient4, kServer4, linux_syn(), payload, p);
  EXPECT_EQ(pkt[0], 0x45);
  EXPECT_EQ(pkt[1], 0x02);
  EXPECT_EQ(testing::be16(pkt, 2), pkt.size());
  EXPECT_EQ(testing::be16(pkt, 4), 0xbeef);
  EXPECT_EQ(testing::be16(pkt, 6), 0x0000);
  EXPECT_EQ(pkt[8], 17);
  EXPECT_EQ(pkt[9], ip_proto::TCP);
  EXPECT_EQ(ref_checksum(std::span(pkt).first(20)), 0);
  p.dont_fragment = true;
  EXPECT_EQ(testing::be16(build(kClient4, kServer4, linux_syn(), payload, p), 6), 0x4000);
}

TEST(WireBuildTcp, Ipv6HeaderFields) {
  IpParams p;
  p.ttl = 255;
  p.tos = 0xb9;
  const std::vector<uint8_t> payload(33, 0x11);
  const auto pkt = build(kClient6, kServer6, linux_syn(), payload, p);
  ASSERT_EQ(pkt.size(), 40u + 40u + 33u);
  EXPECT_EQ(pkt[0], 0x6b);  // version 6, traffic class high nibble
  EXPECT_EQ(pkt[1], 0x90);  // traffic class low nibble, flow label 0
  EXPECT_EQ(pkt[2], 0);
  EXPECT_EQ(pkt[3], 0);
  EXPECT_EQ(testing::be16(pkt, 4), 40 + 33);
  EXPECT_EQ(pkt[6], ip_proto::TCP);
  EXPECT_EQ(pkt[7], 255);
  EXPECT_TRUE(std::equal(kClient6.bytes.begin(), kClient6.bytes.end(), pkt.begin() + 8));
  EXPECT_TRUE(std::equal(kServer6.bytes.begin(), kServer6.bytes.end(), pkt.begin() + 24));
  const auto l4 = std::span(pkt).subspan(40);
  EXPECT_EQ(ref_checksum(l4, ref_sum(ref_pseudo_header(kClient6, kServer6, 6, 73))), 0);
}

/// Every combination of MSS / WS / SACK-permitted / TS / 0..4 SACK blocks,
/// over IPv4 and IPv6, with and without payload: build → parse gives the
/// header back (minus SACK blocks that did not fit).
TEST(WireBuildTcp, RoundTripsEveryOptionCombination) {
  const std::vector<uint8_t> payload{'G', 'E', 'T', ' ', '/', '\r', '\n'};
  int cases = 0;
  for (bool v6 : {false, true}) {
    for (int bits = 0; bits < 16; ++bits) {
      for (uint8_t sacks = 0; sacks <= 4; ++sacks) {
        for (size_t plen : {size_t(0), payload.size()}) {
          TcpHeader h;
          h.sport = 0xfedc;
          h.dport = 443;
          h.seq = 0xfffffff0u + bits;
          h.ack = 0x80000000u | sacks;
          h.flags = static_cast<uint8_t>(0xff - bits);
          h.window = static_cast<uint16_t>(1000 * bits + sacks);
          h.urgent = static_cast<uint16_t>(bits);
          TcpOptions& o = h.options;
          o.has_mss = bits & 1;
          o.mss = o.has_mss ? 1440 : 0;
          o.has_wscale = bits & 2;
          o.wscale = o.has_wscale ? 14 : 0;
          o.sack_permitted = bits & 4;
          o.has_timestamps = bits & 8;
          o.ts_val = o.has_timestamps ? 0xdeadbeef : 0;
          o.ts_ecr = o.has_timestamps ? 0x01234567 : 0;
          o.sack_count = sacks;
          for (uint8_t b = 0; b < sacks; ++b) o.sack[b] = {1000u * b, 1000u * b + 500};

          IpParams p;
          p.ttl = 3;
          p.tos = 0x10;
          const auto pkt = build(v6 ? kClient6 : kClient4, v6 ? kServer6 : kServer4, h,
                                 std::span(payload).first(plen), p);
          const size_t optlen = tcp_options_length(o);
          ASSERT_EQ(optlen % 4, 0u);
          ASSERT_LE(optlen, 40u);
          ASSERT_EQ(pkt.size(), (v6 ? 40u : 20u) + 20u + optlen + plen);

          auto ip = parse_ip(pkt);
          ASSERT_TRUE(ip.ok()) << parse_error_name(ip.error());
          EXPECT_EQ(ip.value().ttl, 3);
          EXPECT_EQ(ip.value().tos, 0x10);
          EXPECT_EQ(ip.value().protocol, ip_proto::TCP);
          auto seg = parse_tcp(ip.value());
          ASSERT_TRUE(seg.ok()) << parse_error_name(seg.error());

          // What should come back: the blocks that fit after Linux's
          // MSS(4) + TS(12, SACK-perm folded in) or SACK-perm(4) + WS(4), the rest zeroed.
          TcpHeader want = h;
          const size_t base = (o.has_mss ? 4 : 0) +
                              (o.has_timestamps ? 12 : (o.sack_permitted ? 4 : 0)) +
                              (o.has_wscale ? 4 : 0);
          const size_t fit = (40 - base >= 12) ? std::min<size_t>(sacks, (40 - base - 4) / 8) : 0;
          want.options.sack_count = static_cast<uint8_t>(fit);
          for (size_t b = fit; b < 4; ++b) want.options.sack[b] = {};
          EXPECT_EQ(seg.value().h, want)
              << "v6=" << v6 << " bits=" << bits << " sacks=" << int(sacks);
          EXPECT_EQ(optlen, base + (fit ? 4 + 8 * fit : 0));
          EXPECT_TRUE(std::equal(seg.value().payload.begin(), seg.value().payload.end(),
                                 payload.begin(), payload.begin() + plen));
          EXPECT_EQ(seg.value().payload.size(), plen);
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 2 * 16 * 5 * 2);
}

TEST(WireBuildTcp, OutputTooSmallReturnsZeroAndWritesNothingPastIt) {
  const std::vector<uint8_t> payload(1460, 0xab);
  for (bool v6 : {false, true}) {
    const auto& src = v6 ? kClient6 : kClient4;
    const auto& dst = v6 ? kServer6 : kServer4;
    const size_t need = (v6 ? 40 : 20) + 20 + 20 + payload.size();
    std::vector<uint8_t> buf(need + 16, 0xcc);
    ASSERT_EQ(build_tcp(buf, src, dst, linux_syn(), payload), need);
    for (size_t n : {size_t(0), size_t(1), size_t(20), size_t(40), need / 2, need - 1}) {
      std::fill(buf.begin(), buf.end(), 0xcc);
      EXPECT_EQ(build_tcp(std::span(buf).first(n), src, dst, linux_syn(), payload), 0u) << n;
      EXPECT_TRUE(std::all_of(buf.begin() + n, buf.end(), [](uint8_t b) { return b == 0xcc; }))
          << "wrote past a span of " << n;
    }
  }
}

TEST(WireBuildTcp, MismatchedAddressFamiliesCannotBeBuilt) {
  std::vector<uint8_t> buf(200);
  EXPECT_EQ(build_tcp(buf, kClient4, kServer6, linux_syn(), {}), 0u);
  EXPECT_EQ(build_udp(buf, kClient6, kServer4, 1, 2, {}), 0u);
}

TEST(WireBuildTcp, OversizedIpv4PacketCannotBeBuilt) {
  std::vector<uint8_t> payload(65535 - 40 + 1);
  std::vector<uint8_t> buf(70000);
  TcpHeader h;
  EXPECT_EQ(build_tcp(buf, kClient4, kServer4, h, payload), 0u);
  payload.pop_back();
  EXPECT_EQ(build_tcp(buf, kClient4, kServer4, h, payload), 65535u);
}

TEST(WireBuildTcp, PayloadAlreadyInPlaceIsKept) {
  // Zero-copy callers write the payload where it belongs, then build around it.
  std::vector<uint8_t> buf(20 + 20 + 12 + 5);
  const std::string text = "hello";
  std::copy(text.begin(), text.end(), buf.begin() + 52);
  TcpHeader h;
  h.flags = tcp_flags::PSH | tcp_flags::ACK;
  h.options.has_timestamps = true;
  ASSERT_EQ(build_tcp(buf, kClient4, kServer4, h, std::span(buf).subspan(52)), buf.size());
  auto seg = parse_tcp(parse_ip(buf).value());
  ASSERT_TRUE(seg.ok());
  EXPECT_EQ(std::string(seg.value().payload.begin(), seg.value().payload.end()), "hello");
}

}  // namespace
}  // namespace synq::wire
