// format_tcp: tcpdump -n -S lines for the segments of a handshake, data,
// teardown and resets, as tcpdump prints them after the timestamp ("IP "
// or "IP6 " first).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wire/wire.hpp"
#include "wire_test_util.hpp"

namespace synq::wire {
namespace {

const IpAddr kClient = IpAddr::v4(10, 0, 0, 2);
const IpAddr kServer = IpAddr::v4(10, 0, 0, 1);

/// Builds, parses back and formats — the path a trace takes.
std::string trace(const IpAddr& src, const IpAddr& dst, const TcpHeader& h,
                  std::string_view payload = {}) {
  std::vector<uint8_t> buf(1600);
  const auto bytes = std::span(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  buf.resize(build_tcp(buf, src, dst, h, bytes));
  auto ip = parse_ip(buf);
  EXPECT_TRUE(ip.ok());
  auto seg = parse_tcp(ip.value());
  EXPECT_TRUE(seg.ok());
  return format_tcp(ip.value(), seg.value());
}

TcpHeader header(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
                 uint16_t win) {
  TcpHeader h;
  h.sport = sport;
  h.dport = dport;
  h.flags = flags;
  h.seq = seq;
  h.ack = ack;
  h.window = win;
  return h;
}

TcpOptions syn_options(uint32_t tsval, uint32_t tsecr) {
  TcpOptions o;
  o.has_mss = true;
  o.mss = 1460;
  o.sack_permitted = true;
  o.has_timestamps = true;
  o.ts_val = tsval;
  o.ts_ecr = tsecr;
  o.has_wscale = true;
  o.wscale = 7;
  return o;
}

// One spelling of the flags for the line, the JSON and the report's ladder:
// tcpdump's table order F S R P . U E W (so ECE after the ACK dot).
TEST(WireFormat, FlagLettersInTcpdumpOrder) {
  using namespace tcp_flags;
  EXPECT_EQ(tcp_flags_text(SYN | ACK), "S.");
  EXPECT_EQ(tcp_flags_text(SYN | ACK | ECE), "S.E");
  EXPECT_EQ(tcp_flags_text(SYN | FIN), "FS");
  EXPECT_EQ(tcp_flags_text(FIN | PSH | ACK), "FP.");
  EXPECT_EQ(tcp_flags_text(SYN | ECE | CWR), "SEW");
  EXPECT_EQ(tcp_flags_text(0), "none");
}

TEST(WireFormat, Syn) {
  auto h = header(40000, 80, tcp_flags::SYN, 1000, 0, 65535);
  h.options = syn_options(1, 0);
  EXPECT_EQ(trace(kClient, kServer, h),
            "IP 10.0.0.2.40000 > 10.0.0.1.80: Flags [S], seq 1000, win 65535, "
            "options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0");
}

TEST(WireFormat, SynAck) {
  auto h = header(80, 40000, tcp_flags::SYN | tcp_flags::ACK, 5000, 1001, 65160);
  h.options = syn_options(2, 1);
  EXPECT_EQ(trace(kServer, kClient, h),
            "IP 10.0.0.1.80 > 10.0.0.2.40000: Flags [S.], seq 5000, ack 1001, win 65160, "
            "options [mss 1460,sackOK,TS val 2 ecr 1,nop,wscale 7], length 0");
}

TEST(WireFormat, PureAckHasNoSeq) {
  auto h = header(40000, 80, tcp_flags::ACK, 1001, 5001, 502);
  h.options.has_timestamps = true;
  h.options.ts_val = 3;
  h.options.ts_ecr = 2;
  EXPECT_EQ(trace(kClient, kServer, h),
            "IP 10.0.0.2.40000 > 10.0.0.1.80: Flags [.], ack 5001, win 502, "
            "options [nop,nop,TS val 3 ecr 2], length 0");
}

TEST(WireFormat, DataShowsSeqRange) {
  auto h = header(40000, 80, tcp_flags::PSH | tcp_flags::ACK, 1001, 5001, 502);
  EXPECT_EQ(trace(kClient, kServer, h, "hello"),
            "IP 10.0.0.2.40000 > 10.0.0.1.80: Flags [P.], seq 1001:1006, ack 5001, win 502, "
            "length 5");
}

TEST(WireFormat, SeqRangeWrapsAround) {
  auto h = header(40000, 80, tcp_flags::ACK, 0xfffffffe, 1, 100);
  EXPECT_EQ(
      trace(kClient, kServer, h, "abcd"),
      "IP 10.0.0.2.40000 > 10.0.0.1.80: Flags [.], seq 4294967294:2, ack 1, win 100, length 4");
}

TEST(WireFormat, FinAck) {
  auto h = header(80, 40000, tcp_flags::FIN | tcp_flags::ACK, 5001, 1006, 509);
  EXPECT_EQ(trace(kServer, kClient, h),
            "IP 10.0.0.1.80 > 10.0.0.2.40000: Flags [F.], seq 5001, ack 1006, win 509, length 0");
}

TEST(WireFormat, ResetAndResetAck) {
  EXPECT_EQ(trace(kServer, kClient, header(80, 40000, tcp_flags::RST, 5001, 0, 0)),
            "IP 10.0.0.1.80 > 10.0.0.2.40000: Flags [R], seq 5001, win 0, length 0");
  EXPECT_EQ(trace(kServer, kClient, header(80, 40000, tcp_flags::RST | tcp_flags::ACK, 0, 1001, 0)),
            "IP 10.0.0.1.80 > 10.0.0.2.40000: Flags [R.], seq 0, ack 1001, win 0, length 0");
}

TEST(WireFormat, EcnAndUrgentFlags) {
  auto h = header(1, 2, tcp_flags::SYN | tcp_flags::ECE | tcp_flags::CWR, 7, 0, 10);
  EXPECT_EQ(trace(kClient, kServer, h),
            "IP 10.0.0.2.1 > 10.0.0.1.2: Flags [SEW], seq 7, win 10, length 0");
  h = header(1, 2, tcp_flags::URG | tcp_flags::ACK | tcp_flags::PSH, 7, 8, 10);
  h.urgent = 3;
  EXPECT_EQ(trace(kClient, kServer, h, "x"),
            "IP 10.0.0.2.1 > 10.0.0.1.2: Flags [P.U], seq 7:8, ack 8, win 10, urg 3, length 1");
  EXPECT_EQ(trace(kClient, kServer, header(1, 2, 0, 7, 8, 10)),
            "IP 10.0.0.2.1 > 10.0.0.1.2: Flags [none], win 10, length 0");
}

TEST(WireFormat, SackBlocks) {
  auto h = header(40000, 80, tcp_flags::ACK, 1001, 5001, 502);
  h.options.has_timestamps = true;
  h.options.ts_val = 9;
  h.options.ts_ecr = 8;
  h.options.sack_count = 2;
  h.options.sack[0] = {6449, 7897};
  h.options.sack[1] = {9345, 10793};
  EXPECT_EQ(trace(kClient, kServer, h),
            "IP 10.0.0.2.40000 > 10.0.0.1.80: Flags [.], ack 5001, win 502, "
            "options [nop,nop,TS val 9 ecr 8,nop,nop,sack 2 {6449:7897}{9345:10793}], length 0");
}

TEST(WireFormat, Ipv6Addresses) {
  auto h = header(40000, 443, tcp_flags::SYN, 1, 0, 64800);
  h.options.has_mss = true;
  h.options.mss = 1440;
  EXPECT_EQ(trace(testing::v6addr({0x02}), testing::v6addr({0x01}), h),
            "IP6 2001:db8::2.40000 > 2001:db8::1.443: Flags [S], seq 1, win 64800, "
            "options [mss 1440], length 0");
}

TEST(WireFormat, KernelSynAsTcpdumpPrintsIt) {
  // tcpdump -n -S on the capture prints exactly this after the timestamp.
  const auto pkt = testing::from_hex(testing::kKernelSyn);
  const auto ip = parse_ip(pkt).value();
  const auto seg = parse_tcp(ip, false).value();
  EXPECT_EQ(format_tcp(ip, seg),
            "IP 127.0.0.1.34524 > 127.0.0.1.8765: Flags [S], seq 713314180, win 65495, "
            "options [mss 65495,sackOK,TS val 61465358 ecr 0,nop,wscale 10], length 0");
}

TEST(WireFormat, ReceivedOptionsAreShownInTheSendersOrder) {
  // A FreeBSD-style SYN (mss, nop, wscale, sackOK, TS) and an unknown option
  // are rendered from the bytes received, not re-ordered the Linux way.
  auto pkt = testing::from_hex(
      "45 00 00 00 00 00 40 00 40 06 00 00 0a 00 00 02 0a 00 00 01"
      " 9c 40 00 50 00 00 03 e8 00 00 00 00 a0 02 ff ff 00 00 00 00"
      " 02 04 05 b4 01 03 03 06 04 02 08 0a 00 00 00 05 00 00 00 00"
      " 63 04 ab cd 00 00 00 00");
  pkt[32] = 0xc0;  // 28 option bytes
  testing::put16(pkt, 2, static_cast<uint16_t>(pkt.size()));
  testing::fix_ipv4_checksum(pkt);
  testing::fix_l4_checksum(pkt, 16);
  const auto ip = parse_ip(pkt).value();
  const auto seg = parse_tcp(ip);
  ASSERT_TRUE(seg.ok()) << parse_error_name(seg.error());
  EXPECT_EQ(format_tcp(ip, seg.value()),
            "IP 10.0.0.2.40000 > 10.0.0.1.80: Flags [S], seq 1000, win 65535, "
            "options [mss 1460,nop,wscale 6,sackOK,TS val 5 ecr 0,unknown-99 0xabcd,eol], "
            "length 0");
}

TEST(WireFormat, HeaderWithoutPacketBytesShowsTheLinuxLayout) {
  // A segment about to be sent, not yet built: options as build_tcp would write them.
  IpPacket ip;
  ip.src = kClient;
  ip.dst = kServer;
  TcpSegment seg;
  seg.h = header(40000, 80, tcp_flags::SYN, 1000, 0, 65535);
  seg.h.options = syn_options(1, 0);
  seg.h.options.has_timestamps = false;
  EXPECT_EQ(format_tcp(ip, seg),
            "IP 10.0.0.2.40000 > 10.0.0.1.80: Flags [S], seq 1000, win 65535, "
            "options [mss 1460,nop,nop,sackOK,nop,wscale 7], length 0");
}

TEST(WireFormat, MalformedRawOptionsAreMarkedNotOverread) {
  // format_tcp on an unparsed (bad) header: tcpdump's "[bad opt]" marker.
  auto pkt = testing::from_hex(
      "9c 40 00 50 00 00 03 e8 00 00 00 00 60 02 ff ff 00 00 00 00"
      " 02 04 05 b4");
  IpPacket ip;
  ip.src = kClient;
  ip.dst = kServer;
  ip.payload = pkt;
  TcpSegment seg;
  seg.h = header(40000, 80, tcp_flags::SYN, 1000, 0, 65535);
  seg.payload = std::span(pkt).subspan(24);
  EXPECT_EQ(format_tcp(ip, seg),
            "IP 10.0.0.2.40000 > 10.0.0.1.80: Flags [S], seq 1000, win 65535, "
            "options [mss 1460], length 0");
  pkt[21] = 0x09;  // MSS claims 9 bytes of the 4
  EXPECT_EQ(format_tcp(ip, seg),
            "IP 10.0.0.2.40000 > 10.0.0.1.80: Flags [S], seq 1000, win 65535, "
            "options [[bad opt], length 0");
  pkt[21] = 0x03;  // MSS len 3: tcpdump reads 2 data bytes and flags the length
  pkt[22] = 0x01;
  pkt[23] = 0x01;
  EXPECT_EQ(format_tcp(ip, seg),
            "IP 10.0.0.2.40000 > 10.0.0.1.80: Flags [S], seq 1000, win 65535, "
            "options [mss 257[len 3]], length 0");
}

}  // namespace
}  // namespace synq::wire
