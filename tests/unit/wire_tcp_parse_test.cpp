// TCP header and option parsing: real kernel segments, hand-built segments
// with reference checksums, and every malformed header/option.
#include <gtest/gtest.h>

#include <vector>

#include "wire/wire.hpp"
#include "wire_test_util.hpp"

namespace synq::wire {
namespace {

using testing::fix_l4_checksum;
using testing::from_hex;
using testing::put16;

constexpr size_t kTcpChecksumOffset = 16;

/// The kernel capture with its partial (offload) checksum completed.
std::vector<uint8_t> kernel_packet(std::string_view hex) {
  auto pkt = from_hex(hex);
  fix_l4_checksum(pkt, kTcpChecksumOffset);
  return pkt;
}

IpPacket ip_of(const std::vector<uint8_t>& pkt) {
  auto r = parse_ip(pkt);
  EXPECT_TRUE(r.ok());
  return r.value();
}

/// A hand-built IPv4/TCP packet 10.0.0.2:40000 → 10.0.0.1:80, seq 1000,
/// flags SYN, window 65535, with `options` (padded by the caller) and
/// `payload`; both checksums computed with the reference implementation.
/// `options.size()` must be a multiple of 4.
std::vector<uint8_t> tcp_packet(const std::vector<uint8_t>& options,
                                const std::vector<uint8_t>& payload = {}, uint8_t flags = 0x02) {
  auto pkt = from_hex(
      "45 00 00 00 00 00 40 00 40 06 00 00 0a 00 00 02 0a 00 00 01"
      " 9c 40 00 50 00 00 03 e8 00 00 00 00 50 02 ff ff 00 00 00 00");
  EXPECT_EQ(options.size() % 4, 0u) << "test bug: unpadded options";
  pkt[20 + 12] = static_cast<uint8_t>(((20 + options.size()) / 4) << 4);
  pkt[20 + 13] = flags;
  pkt.insert(pkt.end(), options.begin(), options.end());
  pkt.insert(pkt.end(), payload.begin(), payload.end());
  put16(pkt, 2, static_cast<uint16_t>(pkt.size()));
  testing::fix_ipv4_checksum(pkt);
  fix_l4_checksum(pkt, kTcpChecksumOffset);
  return pkt;
}

ParseError tcp_error(const std::vector<uint8_t>& pkt, bool verify = true) {
  auto r = parse_tcp(ip_of(pkt), verify);
  EXPECT_FALSE(r.ok());
  return r.ok() ? ParseError::unsupported : r.error();
}

TcpOptions options_of(const std::vector<uint8_t>& opts) {
  const auto pkt = tcp_packet(opts);
  auto r = parse_tcp(ip_of(pkt));
  EXPECT_TRUE(r.ok()) << parse_error_name(r.error());
  return r.ok() ? r.value().h.options : TcpOptions{};
}

TEST(WireTcpParse, KernelSynParsesLikeTshark) {
  // tshark: 34524 → 8765 [SYN] Win=65495 MSS=65495 SACK_PERM TSval=61465358 TSecr=0 WS=1024
  const auto pkt = kernel_packet(testing::kKernelSyn);
  auto r = parse_tcp(ip_of(pkt));
  ASSERT_TRUE(r.ok()) << parse_error_name(r.error());
  const TcpHeader& h = r.value().h;
  EXPECT_EQ(h.sport, 34524);
  EXPECT_EQ(h.dport, 8765);
  EXPECT_EQ(h.seq, 0x2a844f84u);
  EXPECT_EQ(h.ack, 0u);
  EXPECT_EQ(h.flags, tcp_flags::SYN);
  EXPECT_EQ(h.window, 65495);
  EXPECT_EQ(h.urgent, 0);
  TcpOptions want;
  want.has_mss = true;
  want.mss = 65495;
  want.sack_permitted = true;
  want.has_timestamps = true;
  want.ts_val = 61465358;
  want.ts_ecr = 0;
  want.has_wscale = true;
  want.wscale = 10;
  EXPECT_EQ(h.options, want);
  EXPECT_TRUE(r.value().payload.empty());
  EXPECT_EQ(r.value().seg_len(), 1u);
}

TEST(WireTcpParse, KernelDataSegmentCarriesPayloadView) {
  const auto pkt = kernel_packet(testing::kKernelData);
  auto r = parse_tcp(ip_of(pkt));
  ASSERT_TRUE(r.ok()) << parse_error_name(r.error());
  const auto& s = r.value();
  EXPECT_EQ(s.h.flags, tcp_flags::PSH | tcp_flags::ACK);
  EXPECT_EQ(s.h.ack, 0x1eab495eu);
  EXPECT_EQ(s.h.window, 64);
  EXPECT_TRUE(s.h.options.has_timestamps);
  EXPECT_EQ(s.h.options.ts_val, 61465358u);
  EXPECT_EQ(s.h.options.ts_ecr, 537793554u);
  EXPECT_FALSE(s.h.options.has_mss);
  ASSERT_EQ(s.payload.size(), 5u);
  EXPECT_EQ(std::string(s.payload.begin(), s.payload.end()), "hello");
  EXPECT_EQ(s.payload.data(), pkt.data() + 52);
}

TEST(WireTcpParse, OffloadPartialChecksumIsRejectedUnlessVerificationIsOff) {
  // The raw capture still holds the offload partial checksum.
  const auto raw = from_hex(testing::kKernelSyn);
  EXPECT_EQ(tcp_error(raw), ParseError::bad_checksum);
  EXPECT_TRUE(parse_tcp(ip_of(raw), /*verify_checksum=*/false).ok());
}

TEST(WireTcpParse, AnyFlippedBitIsBadChecksum) {
  const auto good = kernel_packet(testing::kKernelData);
  for (size_t i = 20; i < good.size(); ++i) {
    if (i == 20 + 12) continue;  // data offset: would fail the header check first
    auto pkt = good;
    pkt[i] ^= 0x40;
    ASSERT_EQ(tcp_error(pkt), ParseError::bad_checksum) << "byte " << i;
  }
}

TEST(WireTcpParse, PseudoHeaderAddressesAreCovered) {
  // Same segment, but IP addresses changed (IP checksum fixed): the TCP
  // checksum no longer matches. This is what catches misdelivered segments.
  auto pkt = kernel_packet(testing::kKernelData);
  pkt[19] = 2;  // dst 127.0.0.2
  testing::fix_ipv4_checksum(pkt);
  EXPECT_EQ(tcp_error(pkt), ParseError::bad_checksum);
}

TEST(WireTcpParse, HandBuiltSynWithRfcLayout) {
  // RFC 9293 §3.1, written out by hand: MSS 1460 (02 04 05 b4), NOP, WS 7
  // (01 03 03 07), SACK-permitted (04 02), NOP NOP — as FreeBSD orders them.
  const auto pkt = tcp_packet(from_hex("02 04 05 b4 01 03 03 07 04 02 01 01"));
  auto r = parse_tcp(ip_of(pkt));
  ASSERT_TRUE(r.ok()) << parse_error_name(r.error());
  const auto& h = r.value().h;
  EXPECT_EQ(h.sport, 40000);
  EXPECT_EQ(h.dport, 80);
  EXPECT_EQ(h.seq, 1000u);
  EXPECT_EQ(h.window, 65535);
  EXPECT_TRUE(h.has(tcp_flags::SYN));
  EXPECT_EQ(h.options.mss, 1460);
  EXPECT_EQ(h.options.wscale, 7);
  EXPECT_TRUE(h.options.sack_permitted);
  EXPECT_FALSE(h.options.has_timestamps);
}

TEST(WireTcpParse, AllEightFlagBitsAndUrgentPointer) {
  for (int f = 0; f < 256; ++f) {
    auto pkt = tcp_packet({}, {}, static_cast<uint8_t>(f));
    put16(pkt, 20 + 18, 0x1234);
    fix_l4_checksum(pkt, kTcpChecksumOffset);
    auto r = parse_tcp(ip_of(pkt));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().h.flags, f);
    EXPECT_EQ(r.value().h.urgent, 0x1234);
  }
}

TEST(WireTcpParse, ReservedBitsBesideDataOffsetAreIgnored) {
  auto pkt = tcp_packet({});
  pkt[20 + 12] |= 0x0f;  // reserved bits + AE (RFC 9768)
  fix_l4_checksum(pkt, kTcpChecksumOffset);
  auto r = parse_tcp(ip_of(pkt));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().h.flags, tcp_flags::SYN);
}

TEST(WireTcpParse, SegmentShorterThanFixedHeaderIsTooShort) {
  const auto pkt = tcp_packet({});
  IpPacket ip = ip_of(pkt);
  for (size_t n = 0; n < 20; ++n) {
    ip.payload = std::span(pkt).subspan(20, n);
    auto r = parse_tcp(ip, false);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), ParseError::too_short) << n;
  }
}

TEST(WireTcpParse, DataOffsetBelowFiveIsBadHeaderLength) {
  for (uint8_t doff = 0; doff < 5; ++doff) {
    auto pkt = tcp_packet({});
    pkt[20 + 12] = static_cast<uint8_t>(doff << 4);
    fix_l4_checksum(pkt, kTcpChecksumOffset);
    EXPECT_EQ(tcp_error(pkt), ParseError::bad_header_length) << int(doff);
  }
}

TEST(WireTcpParse, DataOffsetBeyondSegmentIsBadHeaderLength) {
  auto pkt = tcp_packet(from_hex("02 04 05 b4"));  // 24-byte header, no payload
  pkt[20 + 12] = 0x70;                             // claims 28
  fix_l4_checksum(pkt, kTcpChecksumOffset);
  EXPECT_EQ(tcp_error(pkt), ParseError::bad_header_length);
  pkt[20 + 12] = 0xf0;  // claims 60
  fix_l4_checksum(pkt, kTcpChecksumOffset);
  EXPECT_EQ(tcp_error(pkt), ParseError::bad_header_length);
}

TEST(WireTcpParse, WholePacketTruncatedAtEveryLengthNeverParses) {
  const auto pkt = kernel_packet(testing::kKernelSyn);
  for (size_t n = 0; n < pkt.size(); ++n) {
    const auto cut = std::span(pkt).first(n);
    auto ip = parse_ip(cut);
    if (!ip.ok()) continue;
    ADD_FAILURE() << "IP accepted a truncated packet of " << n << " bytes";
  }
  // And at the TCP layer alone, with the IP view cut short: never a crash,
  // never a successful parse of a header cut inside its options.
  IpPacket ip = ip_of(pkt);
  const auto whole = ip.payload;
  for (size_t n = 0; n < whole.size(); ++n) {
    ip.payload = whole.first(n);
    EXPECT_FALSE(parse_tcp(ip, /*verify_checksum=*/false).ok()) << n;
    EXPECT_FALSE(parse_tcp(ip, /*verify_checksum=*/true).ok()) << n;
  }
}

// ------------------------------------------------------------- options ----

TEST(WireTcpOptions, OptionLengthZeroOrOneIsBadOptionLength) {
  EXPECT_EQ(tcp_error(tcp_packet(from_hex("08 00 00 00"))), ParseError::bad_option_length);
  EXPECT_EQ(tcp_error(tcp_packet(from_hex("fe 01 00 00"))), ParseError::bad_option_length);
  EXPECT_EQ(tcp_error(tcp_packet(from_hex("01 01 1e 00"))), ParseError::bad_option_length);
}

TEST(WireTcpOptions, OptionRunningPastTheHeaderIsBadOptionLength) {
  // Mandatory: an option whose length overruns the data offset.
  EXPECT_EQ(tcp_error(tcp_packet(from_hex("fe 05 00 00"))), ParseError::bad_option_length);
  // Three NOPs leave 9 bytes for a 10-byte timestamp option.
  EXPECT_EQ(tcp_error(tcp_packet(from_hex("01 01 01 08 0a 00 00 00 01 00 00 00"))),
            ParseError::bad_option_length);
}

TEST(WireTcpOptions, KindInTheLastByteWithoutLengthIsBadOptionLength) {
  EXPECT_EQ(tcp_error(tcp_packet(from_hex("01 01 01 02"))), ParseError::bad_option_length);
}

TEST(WireTcpOptions, KnownOptionWithWrongLengthIsBadOptionLength) {
  for (const char* opts : {
           "02 03 05 00",                          // MSS len 3
           "02 05 05 b4 00 00 00 00",              // MSS len 5
           "03 02 01 00",                          // WS len 2
           "03 04 07 00",                          // WS len 4
           "04 03 00 00",                          // SACK-permitted len 3
           "08 09 00 00 00 01 00 00 00 00 00 00",  // TS len 9
           "08 0b 00 00 00 01 00 00 00 00 00 00",  // TS len 11
           "05 02 00 00",                          // SACK without blocks
           "05 0b 00 00 00 01 00 00 00 02 00 00",  // SACK len 11: not whole blocks
       }) {
    EXPECT_EQ(tcp_error(tcp_packet(from_hex(opts))), ParseError::bad_option_length) << opts;
  }
}

TEST(WireTcpOptions, FiveSackBlocksCannotFitIn40Bytes) {
  // 2 + 5*8 = 42 > 40: the length necessarily overruns the header.
  std::vector<uint8_t> opts{0x05, 42};
  opts.resize(40, 0x11);
  EXPECT_EQ(tcp_error(tcp_packet(opts)), ParseError::bad_option_length);
}

TEST(WireTcpOptions, FourSackBlocksFill34Bytes) {
  auto opts = from_hex(
      "01 01 05 22"
      " 00 00 00 0a 00 00 00 14 00 00 00 1e 00 00 00 28"
      " 00 00 00 32 00 00 00 3c 00 00 00 46 00 00 00 50");
  const auto o = options_of(opts);
  ASSERT_EQ(o.sack_count, 4);
  EXPECT_EQ(o.sack[0], (SackBlock{10, 20}));
  EXPECT_EQ(o.sack[1], (SackBlock{30, 40}));
  EXPECT_EQ(o.sack[2], (SackBlock{50, 60}));
  EXPECT_EQ(o.sack[3], (SackBlock{70, 80}));
}

TEST(WireTcpOptions, TimestampsAndSackBlocks) {
  const auto o =
      options_of(from_hex("01 01 08 0a 00 00 12 34 ff ff ff ff"
                          " 01 01 05 0a 80 00 00 00 80 00 05 b4"));
  EXPECT_TRUE(o.has_timestamps);
  EXPECT_EQ(o.ts_val, 0x1234u);
  EXPECT_EQ(o.ts_ecr, 0xffffffffu);
  ASSERT_EQ(o.sack_count, 1);
  EXPECT_EQ(o.sack[0], (SackBlock{0x80000000u, 0x800005b4u}));
}

TEST(WireTcpOptions, UnknownOptionsAreSkippedByLength) {
  // NOP NOP, MD5 signature (19, len 18), an experimental option, then MSS.
  const auto o =
      options_of(from_hex("01 01 13 12 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f"
                          " fe 04 f9 89 02 04 02 18"));
  EXPECT_TRUE(o.has_mss);
  EXPECT_EQ(o.mss, 536);
  EXPECT_FALSE(o.has_timestamps);
}

TEST(WireTcpOptions, RepeatedOptionLastOneWins) {
  const auto o = options_of(from_hex("02 04 05 b4 02 04 02 18 03 03 02 01 03 03 0e 00"));
  EXPECT_EQ(o.mss, 536);
  EXPECT_EQ(o.wscale, 14);
  const auto s =
      options_of(from_hex("01 01 05 12 00 00 00 01 00 00 00 02 00 00 00 03 00 00 00 04"
                          " 01 01 05 0a 00 00 00 09 00 00 00 0a"));
  ASSERT_EQ(s.sack_count, 1);
  EXPECT_EQ(s.sack[0], (SackBlock{9, 10}));
  EXPECT_EQ(s.sack[1], SackBlock{});  // no stale block from the first option
}

TEST(WireTcpOptions, EndOfOptionListStopsParsing) {
  // After EOL the bytes are padding, even if they look like a bad option.
  const auto o = options_of(from_hex("02 04 05 b4 00 08 01 ff"));
  EXPECT_TRUE(o.has_mss);
  EXPECT_FALSE(o.has_timestamps);
}

TEST(WireTcpOptions, WindowScaleAboveFourteenIsReportedAsReceived) {
  // RFC 7323 §2.3: the receiver clamps to 14; the parser reports the raw value.
  const auto o = options_of(from_hex("01 03 03 0f"));
  EXPECT_TRUE(o.has_wscale);
  EXPECT_EQ(o.wscale, 15);
}

}  // namespace
}  // namespace synq::wire
