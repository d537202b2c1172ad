// Segments the engine drops: each either bumps the counter Linux bumps at
// that spot, or — where Linux only names an SKB_DROP_REASON_* — moves no
// counter at all, sends nothing and leaves the state alone.
#include "tcp_harness.hpp"

namespace synq::tcp::testing {
namespace {

constexpr uint32_t kD = kIss + 1;  // our first data byte
constexpr uint32_t kR = kIrs + 1;  // the peer's first data byte

std::vector<uint64_t> snapshot(const Counters& c) {
  std::vector<uint64_t> v;
  for (size_t i = 0; i < kCounterCount; ++i) v.push_back(c.get(static_cast<Counter>(i)));
  return v;
}

// Names of the counters that differ, so a failure says which one moved.
std::string moved(const std::vector<uint64_t>& before, const Counters& after) {
  std::string out;
  for (size_t i = 0; i < kCounterCount; ++i) {
    const auto c = static_cast<Counter>(i);
    if (before[i] != after.get(c)) out += std::string(counter_display_name(c)) + " ";
  }
  return out;
}

class DropTest : public TcpTest {
 protected:
  // Injects `s` and checks it was dropped without a trace: nothing sent, no
  // counter moved, same state.
  void expect_uncounted_drop(const Seg& s) {
    const auto before = snapshot(host.ctr);
    const TcpState st = conn->state();
    host.sent.clear();
    inject(s);
    expect_nothing();
    EXPECT_EQ(moved(before, host.ctr), "");
    EXPECT_EQ(conn->state(), st);
  }
  void syn_sent() {
    make();
    conn->connect(now, kIss, 0);
    expect(SYN, kIss);
  }
};

// ------------------------------------------------------------ Linux counts

TEST_F(DropTest, ChallengeAckSuppressedByOutOfWindowRatelimit_CountsTCPACKSkippedChallenge) {
  establish(false);
  now = 10s;
  inject(Seg().rst().seq(kR + 1000));  // RFC 5961 §3.2: in window, not at RCV.NXT
  expect(ACK, kD, kR);
  now += 100ms;  // within tcp_invalid_ratelimit (500 ms)
  inject(Seg().rst().seq(kR + 2000));
  expect_nothing();
  EXPECT_EQ(ctr(Counter::TcpExt_TCPChallengeACK), 1u);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPACKSkippedChallenge), 1u);
  // A SYN's challenge ACK goes through the same limit (RFC 5961 §4.2).
  inject(Seg().syn().seq(kR + 3000));
  expect_nothing();
  EXPECT_EQ(ctr(Counter::TcpExt_TCPSYNChallenge), 1u);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPACKSkippedChallenge), 2u);
  EXPECT_EQ(conn->state(), TcpState::established);
}

TEST_F(DropTest, ChallengeAckOverThePerSecondLimit_CountsNothing) {
  // Linux tcp_send_challenge_ack: past tcp_challenge_ack_limit it just returns.
  establish(false);
  now = 10s;
  host.sys.tcp_invalid_ratelimit = 0;
  host.sys.tcp_challenge_ack_limit = 1;
  inject(Seg().rst().seq(kR + 1000));
  expect(ACK, kD, kR);
  expect_uncounted_drop(Seg().rst().seq(kR + 2000));
}

TEST_F(DropTest, PawsRejected_CountsPAWSEstab) {
  establish(true);  // TS.Recent = 5000
  now = 10s;
  inject(Seg().seq(kR).ack(kD).ts(4000, 0).payload("old"));
  EXPECT_EQ(ctr(Counter::TcpExt_PAWSEstab), 1u);
  EXPECT_EQ(conn->readable_bytes(), 0u);
}

// ------------------------------------------------------------ Linux counts nothing

TEST_F(DropTest, Synchronized_SegmentWithoutAck_TcpFlags) {
  establish(false);
  now = 10s;
  expect_uncounted_drop(Seg().seq(kR).payload("noack"));
  EXPECT_EQ(conn->readable_bytes(), 0u);
}

TEST_F(DropTest, Synchronized_RstOutOfWindow_InvalidSequence) {
  establish(false);
  now = 10s;
  expect_uncounted_drop(Seg().rst().seq(kR + 10000000));
  expect_uncounted_drop(Seg().rst().ack(kD).seq(kR - 100000));
}

TEST_F(DropTest, SynSent_RstWithoutAck_TcpReset) {
  syn_sent();
  expect_uncounted_drop(Seg().rst().seq(kIrs));
}

TEST_F(DropTest, SynSent_RstWithUnacceptableAck_InvalidAckSequence) {
  syn_sent();
  expect_uncounted_drop(Seg().rst().seq(kIrs).ack(kIss + 100));
}

TEST_F(DropTest, SynSent_AckWithoutSynOrRst_TcpFlags) {
  syn_sent();
  expect_uncounted_drop(Seg().seq(kIrs).ack(kIss + 1));
}

TEST_F(DropTest, CloseWait_NewData_IsIgnored) {
  establish(false);
  inject(Seg().fin().seq(kR).ack(kD));
  expect(ACK, kD, kR + 1);
  ASSERT_EQ(conn->state(), TcpState::close_wait);
  now = 10s;
  expect_uncounted_drop(Seg().seq(kR + 1).ack(kD).payload("late"));
  EXPECT_EQ(conn->readable_bytes(), 0u);
}

}  // namespace
}  // namespace synq::tcp::testing
