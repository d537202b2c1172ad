// Data transfer: segmentation, Nagle, delayed ACK, reassembly and SACK
// blocks, flow control (window scaling, zero window, persist), RTO with
// backoff and Karn's rule, fast retransmit and NewReno recovery.
#include "tcp_harness.hpp"

namespace synq::tcp::testing {
namespace {

constexpr uint32_t kD = kIss + 1;  // our first data byte
constexpr uint32_t kR = kIrs + 1;  // peer's first data byte
constexpr uint16_t kWin = 512;     // peer window field (<< 7 = 65536)

// Established without timestamps: MSS 1460, RTT ≈ 0 → RTO 200 ms.
class DataTest : public TcpTest {
 protected:
  void SetUp() override { establish(false); }
  Seg ack_of(uint32_t a, uint16_t w = kWin) { return Seg().seq(kR).ack(a).win(w); }
  /// Linux ACKs a connection's first data at once (quick-ACK mode): feeds
  /// 100-byte segments until one is not ACKed at once, flushes that one's
  /// delayed ACK, and returns the next sequence number the peer would use.
  /// `quick_acks` receives how many segments were ACKed at once.
  uint32_t use_up_quickacks(int* quick_acks = nullptr) {
    uint32_t seq = kR;
    int n = 0;
    for (; n < 100; ++n) {
      inject(Seg().seq(seq).ack(kD).win(kWin).payload(100));
      seq += 100;
      if (host.sent.empty()) break;
      expect(ACK, kD, seq);
    }
    advance(40ms);
    expect(ACK, kD, seq);
    recv_all();
    if (quick_acks) *quick_acks = n;
    return seq;
  }
};

TEST_F(DataTest, Send_SegmentsByMss_WithPshOnLast) {
  EXPECT_EQ(send_bytes(4000), 4000u);
  Sent a = expect(ACK, kD, kR, 1460);
  Sent b = expect(ACK, kD + 1460, kR, 1460);
  Sent c = expect(ACK, kD + 2920, kR, 1080);
  EXPECT_FALSE(a.h.has(PSH));
  EXPECT_TRUE(c.h.has(PSH));
  EXPECT_EQ(conn->send_queued(), 4000u);
  inject(ack_of(kD + 4000));
  EXPECT_EQ(conn->send_queued(), 0u);
  EXPECT_EQ(conn->deadline(), kNever);
}

TEST_F(DataTest, Nagle_HoldsSmallSegmentWhileDataUnacked) {
  send_str("a");
  expect(ACK, kD, kR, 1);
  send_str("b");
  send_str("c");
  expect_nothing();
  inject(ack_of(kD + 1));
  Sent s = expect(ACK, kD + 1, kR, 2);
  EXPECT_EQ(std::string(s.payload.begin(), s.payload.end()), "bc");
}

TEST_F(DataTest, Nodelay_SendsSmallSegmentsAtOnce) {
  conn->set_nodelay(true);
  send_str("a");
  expect(ACK, kD, kR, 1);
  send_str("b");
  expect(ACK, kD + 1, kR, 1);
}

TEST_F(DataTest, SetNodelay_PushesHeldSegment) {
  send_str("a");
  expect(ACK, kD, kR, 1);
  send_str("b");
  expect_nothing();
  conn->set_nodelay(true);
  expect(ACK, kD + 1, kR, 1);
}

TEST_F(DataTest, QuickAck_FirstSixteenSegmentsAckedAtOnce_ThenDelayed) {
  // Linux tcp_event_data_recv → tcp_incr_quickack: min(window / (2·rcv_mss), 16)
  // quick ACKs for the first data; the 17th segment waits for the delayed ACK.
  int quick = 0;
  use_up_quickacks(&quick);
  EXPECT_EQ(quick, 16);
  EXPECT_EQ(ctr(Counter::TcpExt_DelayedACKs), 1u);
}

TEST_F(DataTest, QuickAck_IdleLongerThanRto_StartsAgain) {
  const uint32_t r = use_up_quickacks();
  advance(1s);  // longer than the RTO (200 ms here)
  inject(Seg().seq(r).ack(kD).win(kWin).payload(100));
  expect(ACK, kD, r + 100);  // at once
}

TEST_F(DataTest, QuickAck_InteractiveReplyEntersPingpong_AckRidesOnTheReply) {
  // A reply sent within the delayed-ACK time of the request marks the
  // connection interactive (tcp_event_data_sent → pingpong): the next
  // request's ACK waits for the reply, though quick ACKs are left.
  inject(Seg().seq(kR).ack(kD).win(kWin).payload("ping"));
  expect(ACK, kD, kR + 4);  // quick ACK
  send_str("pong");
  expect(ACK, kD, kR + 4, 4);
  inject(Seg().seq(kR + 4).ack(kD + 4).win(kWin).payload("ping"));
  expect_nothing();
  send_str("pong");
  expect(ACK, kD + 4, kR + 8, 4);  // the ACK rides on the reply
  // A request with no reply in time: the delayed ACK fires and pingpong ends.
  inject(Seg().seq(kR + 8).ack(kD + 8).win(kWin).payload("ping"));
  expect_nothing();
  advance(40ms);
  expect(ACK, kD + 8, kR + 12);
  inject(Seg().seq(kR + 12).ack(kD + 8).win(kWin).payload("ping"));
  expect(ACK, kD + 8, kR + 16);  // quick again
}

TEST_F(DataTest, DelayedAck_OneSegment_AckedAfterDelackMin) {
  const uint32_t r = use_up_quickacks();
  inject(Seg().seq(r).ack(kD).win(kWin).payload(1460));
  expect_nothing();
  advance(39ms);
  expect_nothing();
  advance(1ms);
  expect(ACK, kD, r + 1460);
  EXPECT_EQ(ctr(Counter::TcpExt_DelayedACKs), 2u);  // one from use_up_quickacks
}

TEST_F(DataTest, DelayedAck_EverySecondFullSegment_AckedAtOnce) {
  const uint32_t r = use_up_quickacks();
  inject(Seg().seq(r).ack(kD).win(kWin).payload(1460));
  expect_nothing();
  inject(Seg().seq(r + 1460).ack(kD).win(kWin).payload(1460));
  expect(ACK, kD, r + 2920);
  EXPECT_EQ(conn->deadline(), kNever);  // the delayed ACK was cancelled
  EXPECT_EQ(ctr(Counter::TcpExt_DelayedACKs), 1u);
  EXPECT_EQ(recv_all().size(), 2920u);
}

TEST_F(DataTest, DelayedAck_PiggybacksOnData) {
  const uint32_t r = use_up_quickacks();
  inject(Seg().seq(r).ack(kD).win(kWin).payload("ping"));
  expect_nothing();
  send_str("pong");
  expect(ACK, kD, r + 4, 4);
  advance(100ms);
  expect_nothing();
}

TEST_F(DataTest, OutOfOrder_ImmediateAckWithSack_HoleFillDeliversInOrder) {
  inject(Seg().seq(kR + 10).ack(kD).win(kWin).payload("KLMNOPQRST"));
  expect(Seg().seq(kD).ack(kR).sack(kR + 10, kR + 20).len(0));
  EXPECT_EQ(ctr(Counter::TcpExt_TCPOFOQueue), 1u);
  EXPECT_EQ(conn->readable_bytes(), 0u);
  inject(Seg().seq(kR + 30).ack(kD).win(kWin).payload("UVWXY"));
  // The most recent block first.
  expect(Seg().seq(kD).ack(kR).sack(kR + 30, kR + 35).sack(kR + 10, kR + 20).len(0));
  inject(Seg().seq(kR).ack(kD).win(kWin).payload("ABCDEFGHIJ"));
  // Hole filled: an ACK at once, still reporting the block above it.
  expect(Seg().seq(kD).ack(kR + 20).sack(kR + 30, kR + 35).len(0));
  EXPECT_EQ(recv_all(), "ABCDEFGHIJKLMNOPQRST");
  EXPECT_EQ(conn->info().ooo_ranges, 1u);
}

TEST_F(DataTest, OutOfOrder_Fin_IsTakenWhenHoleFills) {
  inject(Seg().seq(kR + 3).ack(kD).win(kWin).payload("def").fin());
  expect(ACK, kD, kR);
  EXPECT_EQ(conn->state(), TcpState::established);
  inject(Seg().seq(kR).ack(kD).win(kWin).payload("abc"));
  expect(ACK, kD, kR + 7);
  EXPECT_EQ(conn->state(), TcpState::close_wait);
  EXPECT_EQ(recv_all(), "abcdef");
  EXPECT_TRUE(conn->at_eof());
}

TEST_F(DataTest, OutOfOrder_TooManyHoles_DroppedTcpOfoDrop) {
  for (int i = 0; i < 16; ++i) inject(Seg().seq(kR + 10 + 20 * i).ack(kD).win(kWin).payload(10));
  EXPECT_EQ(ctr(Counter::TcpExt_TCPOFOQueue), 16u);
  inject(Seg().seq(kR + 10 + 20 * 16).ack(kD).win(kWin).payload(10));
  EXPECT_EQ(ctr(Counter::TcpExt_TCPOFODrop), 1u);
}

TEST_F(DataTest, Duplicate_Data_AckedAtOnce) {
  inject(Seg().seq(kR).ack(kD).win(kWin).payload("abc"));
  host.sent.clear();
  advance(50ms);
  host.sent.clear();
  inject(Seg().seq(kR).ack(kD).win(kWin).payload("abc"));
  expect(ACK, kD, kR + 3);
  EXPECT_EQ(recv_all(), "abc");
}

TEST_F(DataTest, WindowScaling_OurWindowFieldIsScaled_PeersIsShifted) {
  send_str("x");
  // Window 64240 >> 7, rounded up so the window never shrinks.
  expect(Seg().seq(kD).ack(kR).win(502).payload("x"));
  inject(ack_of(kD + 1, 3));
  EXPECT_EQ(conn->info().snd_wnd, 3u << 7);
}

TEST_F(TcpTest, WindowScaling_OnlyWhenBothSynsCarryIt) {
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  inject(Seg().syn().seq(kIrs).ack(kIss + 1).mss(1460).win(1000));  // no WS
  expect(Seg().seq(kIss + 1).ack(kIrs + 1).win(64240));
  inject(Seg().seq(kIrs + 1).ack(kIss + 1).win(3));
  EXPECT_EQ(conn->info().snd_wnd, 3u);
}

TEST_F(TcpTest, WindowScaling_PeerShiftAbove14IsClamped) {
  make();
  conn->connect(now, kIss, 0);
  inject(Seg().syn().seq(kIrs).ack(kIss + 1).mss(1460).ws(20));
  EXPECT_EQ(conn->info().snd_wscale, 14);
}

TEST_F(DataTest, ZeroWindow_PersistProbesWithBackoff_ThenWindowOpens) {
  inject(ack_of(kD, 0));
  EXPECT_EQ(send_bytes(100), 100u);
  expect_nothing();
  const Time t0 = now;
  // Probe at max(RTO, 200 ms), doubling: SND.UNA - 1, no data.
  EXPECT_EQ(conn->deadline(), t0 + 200ms + 1us);
  advance_to(t0 + 200ms + 1us);
  Sent p1 = expect(ACK, kD - 1, kR, 0);
  inject(ack_of(kD, 0));
  advance_to(conn->deadline());
  Sent p2 = expect(ACK, kD - 1, kR, 0);
  EXPECT_EQ(p2.at - p1.at, 400ms + 2us);
  inject(ack_of(kD, kWin));  // window opens
  expect(ACK, kD, kR, 100);
}

TEST_F(DataTest, ZeroWindow_ReceiverFullBuffer_AdvertisesZero_ThenUpdatesOnRead) {
  // Our receive buffer: rcvbuf 131072 → 65536 payload bytes.
  uint32_t seq = kR;
  for (int i = 0; i < 44; ++i) {
    inject(Seg().seq(seq).ack(kD).win(kWin).payload(1460));
    seq += 1460;
  }
  advance(40ms);
  ASSERT_FALSE(host.sent.empty());
  Sent last = host.sent.back();
  EXPECT_EQ(last.h.ack, seq);
  EXPECT_LE(uint32_t{last.h.window} << 7, 65536u - 64240u);  // only the free space
  host.sent.clear();
  inject(Seg().seq(seq).ack(kD).win(kWin).payload(1460));  // more than fits
  EXPECT_EQ(ctr(Counter::TcpExt_TCPRcvQDrop), 1u);
  const size_t held = conn->readable_bytes();
  EXPECT_LT(held, 64240u + 1460u);
  host.sent.clear();
  EXPECT_EQ(recv_all().size(), held);
  // Reading opened the window: a window update went out at once.
  ASSERT_FALSE(host.sent.empty());
  EXPECT_GE(host.sent.back().h.window, 256);  // at least half the buffer (tcp_cleanup_rbuf)
}

TEST_F(TcpTest, RtoBackoff_AndKarn_NoSampleFromRetransmission) {
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  now = 100ms;
  inject(Seg().syn().seq(kIrs).ack(kIss + 1).mss(1460));
  expect(ACK, kIss + 1, kIrs + 1);
  EXPECT_EQ(conn->info().srtt, 100ms);
  EXPECT_EQ(conn->info().rto, 300ms);  // 100 + max(4·50, 200)
  send_str("data");
  expect(ACK, kD, kR, 4);
  advance_to(400ms);
  expect(ACK, kD, kR, 4);  // first retransmission
  EXPECT_EQ(conn->info().backoff, 1);
  advance_to(1000ms - 1ns);
  expect_nothing();
  advance_to(1000ms);
  expect(ACK, kD, kR, 4);  // backoff: 600 ms
  EXPECT_EQ(ctr(Counter::TcpExt_TCPTimeouts), 2u);
  EXPECT_EQ(ctr(Counter::Tcp_RetransSegs), 2u);
  now = 1900ms;
  inject(Seg().seq(kR).ack(kD + 4).win(kWin));
  EXPECT_EQ(conn->info().srtt, 100ms);  // Karn: the ACK of a retransmission is no sample
  EXPECT_EQ(conn->info().backoff, 0);
  EXPECT_EQ(conn->info().rto, 300ms);
  EXPECT_EQ(conn->deadline(), kNever);
}

TEST_F(TcpTest, Rto_TimestampsGiveSamplesEvenAfterRetransmission) {
  make();
  conn->connect(now, kIss, 0);
  Sent syn = expect(SYN, kIss);
  now = 100ms;
  inject(Seg().syn().seq(kIrs).ack(kIss + 1).mss(1460).ts(7, syn.h.options.ts_val));
  expect(ACK, kIss + 1, kIrs + 1);
  EXPECT_EQ(conn->info().srtt, 100ms);
  send_str("data");
  expect(ACK, kD, kR, 4);
  advance_to(400ms);
  Sent re = expect(ACK, kD, kR, 4);
  now = 450ms;
  inject(Seg().seq(kR).ack(kD + 4).win(kWin).ts(8, re.h.options.ts_val));
  EXPECT_EQ(conn->info().srtt, (7 * Duration(100ms) + Duration(50ms)) / 8);
}

TEST_F(TcpTest, Rto_Retries2_EtimedoutWithoutRst) {
  host.sys.tcp_retries2 = 3;  // Linux: (2^4 - 1) · 200 ms = 3 s from the first transmission
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  now = 100ms;
  inject(Seg().syn().seq(kIrs).ack(kIss + 1).mss(1460));
  expect(ACK, kIss + 1, kIrs + 1);
  send_str("data");  // at 100 ms, RTO 300 ms
  expect(ACK, kD, kR, 4);
  advance_to(100s);
  std::vector<Time> times;
  for (auto& s : host.sent) times.push_back(s.at);
  std::vector<Time> want = {400ms, 1000ms, 2200ms};  // at 4.6 s, 4.5 s ≥ 3 s: give up
  EXPECT_EQ(times, want);
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(conn->error(), Errno::etimedout);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPAbortOnTimeout), 1u);
  EXPECT_EQ(ctr(Counter::Tcp_EstabResets), 1u);
  EXPECT_EQ(ctr(Counter::Tcp_OutRsts), 0u);
}

TEST_F(DataTest, Rto_GoBackN_CwndOneMss_SlowStartRetrans) {
  send_bytes(5 * 1460);
  for (int i = 0; i < 5; ++i) expect(ACK, kD + 1460 * i, kR, 1460);
  advance_to(conn->deadline());
  expect(ACK, kD, kR, 1460);  // cwnd = 1 MSS
  expect_nothing();
  EXPECT_EQ(conn->info().cwnd, 1460u);
  EXPECT_EQ(conn->info().ssthresh, 5u * 1460 / 2);
  inject(ack_of(kD + 1460));
  // Slow start from SND.UNA: two more segments, each a slow-start retransmission.
  expect(ACK, kD + 1460, kR, 1460);
  expect(ACK, kD + 2920, kR, 1460);
  expect_nothing();
  EXPECT_EQ(ctr(Counter::TcpExt_TCPSlowStartRetrans), 2u);
  EXPECT_EQ(ctr(Counter::Tcp_RetransSegs), 3u);
}

TEST_F(DataTest, FastRetransmit_On3DupAcks_NewRenoPartialAckRetransmitsNextHole) {
  send_bytes(10 * 1460);
  for (int i = 0; i < 10; ++i) expect(ACK, kD + 1460 * i, kR, 1460);
  // Segments 1 and 4 are lost; 2, 3 arrive → dupacks.
  inject(ack_of(kD + 1460));
  inject(ack_of(kD + 1460));
  inject(ack_of(kD + 1460));
  expect_nothing();
  inject(ack_of(kD + 1460));  // third duplicate
  expect(ACK, kD + 1460, kR, 1460);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPFastRetrans), 1u);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPRenoRecovery), 1u);
  TcpInfo i = conn->info();
  EXPECT_TRUE(i.in_recovery);
  EXPECT_EQ(i.ssthresh, 9u * 1460 / 2);          // FlightSize / 2
  EXPECT_EQ(i.cwnd, 9u * 1460 / 2 + 3u * 1460);  // + 3 SMSS
  // Partial ACK up to the second hole (segment 4).
  inject(ack_of(kD + 4 * 1460));
  expect(ACK, kD + 4 * 1460, kR, 1460);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPFastRetrans), 2u);
  EXPECT_TRUE(conn->info().in_recovery);
  // Full ACK: leave recovery with cwnd ≤ ssthresh.
  inject(ack_of(kD + 10 * 1460));
  EXPECT_FALSE(conn->info().in_recovery);
  EXPECT_LE(conn->info().cwnd, 9u * 1460 / 2);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPTimeouts), 0u);
}

TEST_F(DataTest, SlowStart_CwndGrowsWithAcks) {
  const uint32_t iw = conn->info().cwnd;
  send_bytes(14600);
  for (int i = 0; i < 10; ++i) next();
  inject(ack_of(kD + 2920));
  EXPECT_EQ(conn->info().cwnd, iw + 2920);
}

}  // namespace
}  // namespace synq::tcp::testing
