// The test vocabulary itself (seg_builder.hpp): an expectation fails on
// every field it states that differs, and never on a field it leaves out.
#include <gtest/gtest.h>

#include "seg_builder.hpp"

namespace synq::test {
namespace {

namespace f = wire::tcp_flags;

// What a stack might have sent: 80 → 40001, SYN|ACK|PSH, MSS 1460, 2 bytes.
wire::TcpHeader sent_header() {
  wire::TcpHeader h;
  h.sport = 80;
  h.dport = 40001;
  h.seq = 0x5000;
  h.ack = 1001;
  h.flags = f::SYN | f::ACK | f::PSH;
  h.window = 64240;
  h.options.has_mss = true;
  h.options.mss = 1460;
  return h;
}
const std::vector<uint8_t> kPayload = {'h', 'i'};

::testing::AssertionResult check(const Seg& want) {
  return same_segment(sent_header(), kPayload, want);
}

TEST(SegBuilder, EveryStatedFieldThatMatchesPasses) {
  EXPECT_TRUE(
      check(Seg().from(80).to(40001).syn().psh().seq(0x5000).ack(1001).win(64240).mss(1460).payload(
          "hi")));
  EXPECT_TRUE(check(Seg()));  // nothing stated, nothing compared
}

TEST(SegBuilder, EachStatedFieldThatDiffersFails) {
  const std::vector<std::pair<const char*, Seg>> wrong = {
      {"source port", Seg().from(81)},
      {"destination port", Seg().to(40002)},
      {"flags", Seg().syn()},  // the ACK bit is missing
      {"flags", Seg().syn().ack_flag().fin()},
      {"seq", Seg().seq(0x5001)},
      {"ack", Seg().ack(1002)},
      {"window", Seg().win(502)},
      {"options", Seg().mss(1400)},
      {"options", Seg().mss(1460).sack_ok()},
      {"options", Seg().options({})},
      {"payload length", Seg().len(3)},
      {"payload", Seg().payload("ho")},
  };
  for (const auto& [field, want] : wrong) {
    ::testing::AssertionResult r = check(want);
    EXPECT_FALSE(r) << field;
    EXPECT_NE(std::string(r.message()).find(field), std::string::npos) << r.message();
  }
}

TEST(SegBuilder, PshIsComparedOnlyWhenStated) {
  EXPECT_TRUE(check(Seg().syn().ack(1001)));  // PSH set on the wire, not stated
  EXPECT_TRUE(check(Seg().syn().psh().ack(1001)));
  EXPECT_TRUE(check(Seg().flags(f::SYN | f::ACK)));
  EXPECT_FALSE(check(Seg().flags(f::SYN | f::ACK | f::PSH | f::FIN)));
}

TEST(SegBuilder, AckNumberOnlyWhenStated) {
  EXPECT_TRUE(check(Seg().syn().ack_flag()));  // the bit, not the number
  EXPECT_FALSE(check(Seg().syn().ack_flag().ack(7)));
}

}  // namespace
}  // namespace synq::test
