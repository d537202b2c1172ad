// Segment validation in synchronized states: RFC 9293 §3.10.7.4 sequence
// checks, RFC 5961 (blind RST / SYN / ACK injection) with Linux's rate
// limits, and RFC 7323 PAWS.
#include "tcp_harness.hpp"

namespace synq::tcp::testing {
namespace {

constexpr uint32_t kD = kIss + 1;
constexpr uint32_t kR = kIrs + 1;

class Rfc5961Test : public TcpTest {
 protected:
  void SetUp() override {
    establish(false);
    now = 10s;  // clear of any rate-limit window
  }
};

TEST_F(Rfc5961Test, RstExactlyAtRcvNxt_Resets) {
  inject(Seg().rst().seq(kR));
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(conn->error(), Errno::econnreset);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPChallengeACK), 0u);
}

TEST_F(Rfc5961Test, RstInWindowNotExact_ChallengeAck_StaysEstablished) {
  inject(Seg().rst().seq(kR + 1000));
  expect(ACK, kD, kR);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPChallengeACK), 1u);
  EXPECT_EQ(conn->state(), TcpState::established);
}

TEST_F(Rfc5961Test, RstOutOfWindow_SilentlyDropped) {
  inject(Seg().rst().seq(kR + 10000000));
  inject(Seg().rst().seq(kR - 100000));
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::established);
  EXPECT_EQ(ctr(Counter::Tcp_OutRsts), 0u);
}

TEST_F(Rfc5961Test, ChallengeAcks_RateLimitedByTcpInvalidRatelimit) {
  inject(Seg().rst().seq(kR + 1000));
  expect(ACK, kD, kR);
  now += 499ms;
  inject(Seg().rst().seq(kR + 2000));
  expect_nothing();
  now += 1ms;
  inject(Seg().rst().seq(kR + 3000));
  expect(ACK, kD, kR);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPChallengeACK), 2u);
}

TEST_F(Rfc5961Test, ChallengeAckLimit_PerSecond) {
  host.sys.tcp_invalid_ratelimit = 0;
  host.sys.tcp_challenge_ack_limit = 2;
  for (int i = 0; i < 5; ++i) inject(Seg().rst().seq(kR + 1000 + i));
  EXPECT_EQ(host.sent.size(), 2u);
  host.sent.clear();
  now += 1s;
  inject(Seg().rst().seq(kR + 1000));
  EXPECT_EQ(host.sent.size(), 1u);
}

TEST_F(Rfc5961Test, SynInSynchronizedState_ChallengeAck) {
  inject(Seg().syn().seq(kR + 50));
  expect(ACK, kD, kR);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPSYNChallenge), 1u);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPChallengeACK), 1u);
  EXPECT_EQ(conn->state(), TcpState::established);
}

TEST_F(Rfc5961Test, SynOutOfWindow_AlsoChallengeAck) {
  inject(Seg().syn().seq(kR + 50000000));
  expect(ACK, kD, kR);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPSYNChallenge), 1u);
}

TEST_F(Rfc5961Test, AckAboveSndNxt_AckAndDrop) {
  inject(Seg().seq(kR).ack(kD + 5000).payload("data"));
  expect(ACK, kD, kR);  // data dropped with the segment
  EXPECT_EQ(conn->readable_bytes(), 0u);
}

TEST_F(Rfc5961Test, AckOlderThanMaxWindow_ChallengeAck) {
  // max_window is 65535 (the SYN-ACK's window): an ACK far below SND.UNA.
  inject(Seg().seq(kR).ack(kD - 70000).payload("data"));
  expect(ACK, kD, kR);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPChallengeACK), 1u);
  EXPECT_EQ(conn->readable_bytes(), 0u);
}

TEST_F(Rfc5961Test, OldButPlausibleAck_DataStillAccepted) {
  inject(Seg().seq(kR).ack(kD - 10).payload("data"));
  EXPECT_EQ(recv_all(), "data");
}

TEST_F(Rfc5961Test, UnacceptableSegment_AckedAndDropped_PureAcksRateLimited) {
  inject(Seg().seq(kR + 200000).ack(kD));  // beyond the window, no data
  expect(ACK, kD, kR);
  inject(Seg().seq(kR + 300000).ack(kD));
  expect_nothing();  // within tcp_invalid_ratelimit
  EXPECT_EQ(ctr(Counter::TcpExt_TCPACKSkippedSeq), 1u);
  inject(Seg().seq(kR + 300000).ack(kD).payload("x"));  // data is never rate limited
  expect(ACK, kD, kR);
}

TEST_F(Rfc5961Test, SegmentWithoutAck_Dropped) {
  inject(Seg().seq(kR).payload("noack"));
  expect_nothing();
  EXPECT_EQ(conn->readable_bytes(), 0u);
}

class PawsTest : public TcpTest {
 protected:
  void SetUp() override {
    establish(true);  // peer TSval 5000 → TS.Recent = 5000
    now = 10s;
  }
};

TEST_F(PawsTest, OldTimestamp_DroppedWithAck_PawsEstab) {
  inject(Seg().seq(kR).ack(kD).ts(4000, 0).payload("stale"));
  // Our TSval is the ms clock (10 s); the echo is still TS.Recent.
  expect(Seg().seq(kD).ack(kR).ts(10000, 5000).len(0));
  EXPECT_EQ(ctr(Counter::TcpExt_PAWSEstab), 1u);
  EXPECT_EQ(conn->readable_bytes(), 0u);
}

TEST_F(PawsTest, NewerTimestamp_AcceptedAndEchoed) {
  inject(Seg().seq(kR).ack(kD).ts(5100, 0).payload("fresh"));
  EXPECT_EQ(recv_all(), "fresh");
  // The first data: a quick ACK, our ms clock, the newer TSval echoed.
  expect(Seg().seq(kD).ack(kR + 5).ts(10000, 5100).len(0));
}

TEST_F(PawsTest, OneTickOlder_IsWithinLinuxPawsWindow) {
  inject(Seg().seq(kR).ack(kD).ts(4999, 0).payload("ok"));
  EXPECT_EQ(recv_all(), "ok");
  EXPECT_EQ(ctr(Counter::TcpExt_PAWSEstab), 0u);
}

TEST_F(PawsTest, RstFailingPaws_IsStillAccepted) {
  inject(Seg().rst().seq(kR).ts(1, 0));
  EXPECT_EQ(conn->state(), TcpState::closed);
}

TEST_F(PawsTest, TsRecentNotUpdatedBySegmentAboveLastAckSent) {
  // Out-of-order segment (seq > Last.ACK.sent) must not move TS.Recent.
  inject(Seg().seq(kR + 100).ack(kD).ts(9000, 0).payload("later"));
  // The duplicate ACK echoes the old TS.Recent and SACKs what arrived.
  expect(Seg().seq(kD).ack(kR).ts(10000, 5000).sack(kR + 100, kR + 105).len(0));
}

}  // namespace
}  // namespace synq::tcp::testing
