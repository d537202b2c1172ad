// Packet lines: fields, flags, options, and the to_string round trip the
// runner uses for expected-vs-actual diffs.
#include <gtest/gtest.h>

#include "script_test_util.hpp"
#include "wire/tcp_header.hpp"

namespace synq::script {
namespace {

namespace f = wire::tcp_flags;

Packet packet(const std::string& text) {
  auto r = parse_packet(text);
  if (!r.ok()) {
    ADD_FAILURE() << render(r.error());
    return Packet{};
  }
  return std::move(r).value();
}

TEST(ScriptPacket, EveryFlagLetter) {
  EXPECT_EQ(packet("< F 0:0(0)").flags, f::FIN);
  EXPECT_EQ(packet("< S 0:0(0)").flags, f::SYN);
  EXPECT_EQ(packet("< R 0:0(0)").flags, f::RST);
  EXPECT_EQ(packet("< P 0:0(0)").flags, f::PSH);
  EXPECT_EQ(packet("< . 0:0(0)").flags, f::ACK);
  EXPECT_EQ(packet("< U 0:0(0)").flags, f::URG);
  EXPECT_EQ(packet("< E 0:0(0)").flags, f::ECE);
  EXPECT_EQ(packet("< W 0:0(0)").flags, f::CWR);
  EXPECT_EQ(packet("< - 0:0(0)").flags, 0);
  EXPECT_EQ(packet("< SEW 0:0(0)").flags, f::SYN | f::ECE | f::CWR);
  EXPECT_EQ(packet("< F. 0:0(0)").flags, f::FIN | f::ACK);
  EXPECT_EQ(packet("< FP. 0:0(0)").flags, f::FIN | f::PSH | f::ACK);
}

TEST(ScriptPacket, FlagsPrintInTcpdumpOrder) {
  EXPECT_EQ(flags_to_string(f::ACK | f::SYN), "S.");
  EXPECT_EQ(flags_to_string(f::PSH | f::ACK | f::FIN), "FP.");
  EXPECT_EQ(flags_to_string(f::CWR | f::ECE | f::SYN), "SEW");
  EXPECT_EQ(flags_to_string(f::URG | f::RST), "RU");
  EXPECT_EQ(flags_to_string(0), "-");
}

TEST(ScriptPacket, AllFieldsOfASynAck) {
  Packet p = packet("> 8080>40000 S. 0:0(0) ack 1 win 65535 urg 0 <mss 1460,eol>");
  EXPECT_EQ(p.direction, Direction::outbound);
  EXPECT_EQ(p.sport, 8080);
  EXPECT_EQ(p.dport, 40000);
  EXPECT_EQ(p.flags, f::SYN | f::ACK);
  EXPECT_EQ(p.ack, 1u);
  EXPECT_EQ(p.window, 65535);
  EXPECT_EQ(p.urgent, 0);
  ASSERT_EQ(p.options.size(), 2u);
  EXPECT_EQ(p.options[1].kind, PacketOption::Kind::eol);
}

TEST(ScriptPacket, SequenceNumbersUpToTheTopOfTheSpace) {
  Packet p = packet("< P. 4294967195:4294967295(100) ack 4294967295 win 0");
  EXPECT_EQ(p.seq_start, 4294967195u);
  EXPECT_EQ(p.seq_end, 4294967295u);
  EXPECT_EQ(p.payload_len, 100);
  EXPECT_EQ(p.ack, 4294967295u);
  EXPECT_EQ(p.window, 0);
}

TEST(ScriptPacket, OptionsKeepOrderAndMapToWireOptions) {
  Packet p =
      packet("< . 1:1(0) ack 1 win 257 <nop,nop,TS val 4294967295 ecr 7,nop,nop,sack 1:2 3:4 5:6>");
  ASSERT_EQ(p.options.size(), 6u);
  EXPECT_EQ(p.options[0].kind, PacketOption::Kind::nop);
  EXPECT_EQ(p.options[2].kind, PacketOption::Kind::timestamp);
  EXPECT_EQ(p.options[2].ts_val, 4294967295u);
  EXPECT_EQ(p.options[5].sack.size(), 3u);
  size_t bytes = 0;
  for (const auto& o : p.options) bytes += o.wire_length();
  EXPECT_EQ(bytes, 1 + 1 + 10 + 1 + 1 + 26u);

  const wire::TcpOptions w = p.tcp_options();
  EXPECT_FALSE(w.has_mss);
  EXPECT_TRUE(w.has_timestamps);
  EXPECT_EQ(w.ts_ecr, 7u);
  ASSERT_EQ(w.sack_count, 3);
  EXPECT_EQ(w.sack[2], (wire::SackBlock{5, 6}));

  const wire::TcpOptions four = packet("< . 1:1(0) <sack 1:2 3:4 5:6 7:8>").tcp_options();
  ASSERT_EQ(four.sack_count, 4);
  EXPECT_EQ(four.sack[3], (wire::SackBlock{7, 8}));
}

// Text → Packet → text is the identity on canonical spelling, and
// Packet → text → Packet is the identity on values.
TEST(ScriptPacket, RoundTripThroughToString) {
  const char* lines[] = {
      "< S 0:0(0) win 32792 <mss 1000,nop,wscale 7>",
      "> S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>",
      "< . 1:1(0) ack 1 win 257",
      "> P. 1:2001(2000) ack 1",
      "> F. 1001:1001(0) ack 1",
      "> R 1:1(0)",
      "> S 0:0(0) <...>",
      "< 40000>8080 S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>",
      "> 8080>40000 S. 0:0(0) ack 1 win 64240 <mss 1460,sackOK,TS val 1000 ecr 100,nop,wscale 7>",
      "< . 1:1(0) ack 2001 win 257 <nop,nop,sack 1001:2001>",
      "< - 0:0(0) win 0 urg 5",
      "< SEW 0:0(0) win 1 <eol>",
  };
  for (const char* line : lines) {
    Packet p = packet(line);
    EXPECT_EQ(p.to_string(), line);
    EXPECT_EQ(packet(p.to_string()), p) << line;
  }
}

TEST(ScriptPacket, ToStringNormalizesSpacing) {
  EXPECT_EQ(packet(">  S.   0:0(0)   ack 1   < mss 1460 , nop >").to_string(),
            "> S. 0:0(0) ack 1 <mss 1460,nop>");
}

TEST(ScriptPacket, ParsesInsideAScriptWithTiming) {
  Script s = test::parse_ok("0.100 < S 0:0(0) win 1000\n0.2~0.3 > S. 0:0(0) ack 1\n");
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[0].timing.kind, Timing::Kind::absolute);
  EXPECT_EQ(s.events[0].timing.start, test::ms(100));
  EXPECT_EQ(s.events[1].timing.kind, Timing::Kind::absolute_range);
  EXPECT_EQ(s.events[1].timing.start, test::ms(200));
  EXPECT_EQ(s.events[1].timing.end, test::ms(300));
  EXPECT_EQ(s.events[1].timing.to_string(), "0.2~0.3");
}

}  // namespace
}  // namespace synq::script

namespace synq::script {
namespace {

TEST(ScriptPacket, AbsoluteSequenceNumbersOnOutboundPackets) {
  // synq extension `abs` (spec §8 L27: a RST|ACK with the real seq 0).
  Script s = test::parse_ok("0 > R. abs 0:0(0) ack 101\n");
  const Packet& p = *s.events[0].packet();
  EXPECT_TRUE(p.absolute_seq);
  EXPECT_EQ(p.seq_start, 0u);
  EXPECT_EQ(p.to_string(), "> R. abs 0:0(0) ack 101");
  EXPECT_FALSE(test::parse_ok("0 > R. 0:0(0) ack 101\n").events[0].packet()->absolute_seq);
  EXPECT_EQ(test::parse_error("0 < S abs 0:0(0) win 100\n"),
            "t.pkt:1:7: expected the start sequence number, got 'abs' (inbound sequence "
            "numbers are already the script's own, absolute)");
}

}  // namespace
}  // namespace synq::script
