// Closing: every transition of RFC 9293's diagram after ESTABLISHED,
// simultaneous close, TIME-WAIT timing, orphans, resets and errors.
#include "tcp_harness.hpp"

namespace synq::tcp::testing {
namespace {

// Peer timestamps: our TSval is the ms clock (offset 0); the peer's starts at 5000.
constexpr uint32_t kPeerTs = 5000;

TEST_F(TcpTest, Established_Close_to_FinWait1_FinWait1_Ack_to_FinWait2_Fin_to_TimeWait) {
  establish();
  conn->close(now);
  Sent fin = expect(FIN | ACK, kIss + 1, kIrs + 1);
  EXPECT_EQ(conn->state(), TcpState::fin_wait_1);
  EXPECT_EQ(ctr(Counter::Tcp_CurrEstab), 0u);
  inject(Seg().seq(kIrs + 1).ack(kIss + 2).ts(kPeerTs + 1, fin.h.options.ts_val));
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::fin_wait_2);
  now = 5s;
  inject(Seg().fin().seq(kIrs + 1).ack(kIss + 2).ts(kPeerTs + 2, 0));
  expect(ACK, kIss + 2, kIrs + 2);
  EXPECT_EQ(conn->state(), TcpState::time_wait);
  EXPECT_EQ(ctr(Counter::TcpExt_TW), 1u);  // counted on entry (Linux __inet_twsk_schedule)
  // TimeWait_Timeout_to_Closed: exactly tcp_time_wait_ms later.
  EXPECT_EQ(conn->deadline(), 5s + 60s);
  advance_to(65s - 1ns);
  EXPECT_EQ(conn->state(), TcpState::time_wait);
  advance_to(65s);
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(ctr(Counter::TcpExt_TW), 1u);  // not again at expiry
  EXPECT_EQ(ctr(Counter::Tcp_EstabResets), 0u);
  std::vector<TcpState> path;
  for (auto& t : host.transitions) path.push_back(t.second);
  std::vector<TcpState> want = {TcpState::syn_sent,   TcpState::established, TcpState::fin_wait_1,
                                TcpState::fin_wait_2, TcpState::time_wait,   TcpState::closed};
  EXPECT_EQ(path, want);
}

TEST_F(TcpTest, ShutdownRead_RecvReturnsZero_ButLaterDataIsStillReadable) {
  // Linux: SHUT_RD makes an empty queue read as EOF, but tcp_data_queue keeps
  // queueing what arrives (packetdrill's shutdown-rd-wr-close.pkt passes on 6.18).
  establish();
  conn->shutdown_read();
  uint8_t buf[16];
  EXPECT_EQ(*conn->recv(now, buf), 0u);
  inject(Seg().psh().seq(kIrs + 1).ack(kIss + 1).ts(kPeerTs + 1, 0).payload("late"));
  expect(ACK, kIss + 1, kIrs + 5);
  EXPECT_EQ(conn->readable_bytes(), 4u);
  EXPECT_EQ(*conn->recv(now, buf), 4u);
  EXPECT_EQ(std::string(buf, buf + 4), "late");
  EXPECT_EQ(*conn->recv(now, buf), 0u);
}

TEST_F(TcpTest, TimeWait_GivesItsBuffersBack) {
  // A TIME-WAIT carries no data (Linux keeps only an inet_timewait_sock), so
  // a server with many of them must not hold their send and receive buffers.
  establish();
  inject(Seg().psh().seq(kIrs + 1).ack(kIss + 1).ts(kPeerTs + 1, 0).payload("hi"));
  uint8_t buf[8];
  ASSERT_EQ(*conn->recv(now, buf), 2u);
  ASSERT_EQ(send_str("hi"), 2u);
  EXPECT_TRUE(conn->info().buffers_allocated);
  conn->close(now);
  host.sent.clear();
  inject(Seg().seq(kIrs + 3).ack(kIss + 4).ts(kPeerTs + 2, 0));  // acks data + FIN
  inject(Seg().fin().seq(kIrs + 3).ack(kIss + 4).ts(kPeerTs + 3, 0));
  ASSERT_EQ(conn->state(), TcpState::time_wait);
  EXPECT_FALSE(conn->info().buffers_allocated);
}

TEST_F(TcpTest, TimeWait_ConfiguredLength_AndRetransmittedFinRestartsTimer) {
  host.sys.tcp_time_wait_ms = 2000;
  establish(false);
  conn->shutdown_write(now);
  expect(FIN | ACK, kIss + 1, kIrs + 1);
  inject(Seg().fin().seq(kIrs + 1).ack(kIss + 2));
  expect(ACK, kIss + 2, kIrs + 2);
  ASSERT_EQ(conn->state(), TcpState::time_wait);  // FinWait1_FinAck_to_TimeWait
  EXPECT_EQ(conn->deadline(), now + 2s);
  now += 1500ms;
  inject(Seg().fin().seq(kIrs + 1).ack(kIss + 2));  // our ACK was lost
  expect(ACK, kIss + 2, kIrs + 2);
  EXPECT_EQ(conn->deadline(), now + 2s);
  advance(2s - 1ms);
  EXPECT_EQ(conn->state(), TcpState::time_wait);
  advance(1ms);
  EXPECT_EQ(conn->state(), TcpState::closed);
}

TEST_F(TcpTest, TimeWait_Rst_to_Closed) {
  establish(false);
  conn->shutdown_write(now);
  expect(FIN | ACK, kIss + 1, kIrs + 1);
  inject(Seg().fin().seq(kIrs + 1).ack(kIss + 2));
  expect(ACK, kIss + 2, kIrs + 2);
  inject(Seg().rst().seq(kIrs + 2));
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::closed);
}

TEST_F(TcpTest, TimeWait_NewerSyn_TheStackDecides_ElseTheTimeWaitAcks) {
  establish(false);
  conn->shutdown_write(now);
  expect(FIN | ACK, kIss + 1, kIrs + 1);
  inject(Seg().fin().seq(kIrs + 1).ack(kIss + 2));
  expect(ACK, kIss + 2, kIrs + 2);
  Seg syn = Seg().syn().seq(kIrs + 100000);
  wire::TcpSegment s{syn.h, {}};
  // The verdict carries the new connection's ISN: snd_nxt (our FIN acked,
  // kIss + 2) + 65535 + 2 (Linux tcp_timewait_state_process).
  EXPECT_EQ(conn->time_wait_syn_isn(s), std::optional<uint32_t>(kIss + 2 + 65535 + 2));
  // The stack gives it to a listener if there is one; if it reaches the
  // connection, there is none: TCP_TW_SYN → TCP_TW_ACK.
  const Time deadline = conn->deadline();
  inject(syn);
  expect(ACK, kIss + 2, kIrs + 2);
  EXPECT_EQ(conn->deadline(), deadline);  // the 2MSL timer is not restarted
  Seg old = Seg().syn().seq(kIrs - 5);
  EXPECT_EQ(conn->time_wait_syn_isn(wire::TcpSegment{old.h, {}}), std::nullopt);
}

TEST_F(TcpTest, FinWait1_Fin_to_Closing_Ack_to_TimeWait_SimultaneousClose) {
  establish();
  conn->close(now);
  Sent fin = expect(FIN | ACK, kIss + 1, kIrs + 1);
  // The peer's FIN crosses ours and does not acknowledge it.
  inject(Seg().fin().seq(kIrs + 1).ack(kIss + 1).ts(kPeerTs + 1, fin.h.options.ts_val));
  expect(ACK, kIss + 2, kIrs + 2);
  EXPECT_EQ(conn->state(), TcpState::closing);
  inject(Seg().seq(kIrs + 2).ack(kIss + 2).ts(kPeerTs + 2, fin.h.options.ts_val));
  EXPECT_EQ(conn->state(), TcpState::time_wait);
}

TEST_F(TcpTest, Closing_FinRetransmittedOnRto) {
  establish(false);
  conn->close(now);
  expect(FIN | ACK, kIss + 1, kIrs + 1);
  inject(Seg().fin().seq(kIrs + 1).ack(kIss + 1));
  expect(ACK, kIss + 2, kIrs + 2);
  ASSERT_EQ(conn->state(), TcpState::closing);
  // RTT sample ≈ 0 from the handshake → RTO = rto_min (200 ms) + SRTT.
  EXPECT_EQ(conn->deadline(), 200ms + 1us);
  advance_to(200ms + 1us);
  expect(FIN | ACK, kIss + 1, kIrs + 2);
  expect_nothing();
  EXPECT_EQ(ctr(Counter::Tcp_RetransSegs), 1u);
}

TEST_F(TcpTest, Established_Fin_to_CloseWait_Close_to_LastAck_Ack_to_Closed) {
  establish(false);
  inject(Seg().fin().seq(kIrs + 1).ack(kIss + 1));
  expect(ACK, kIss + 1, kIrs + 2);
  EXPECT_EQ(conn->state(), TcpState::close_wait);
  EXPECT_EQ(ctr(Counter::Tcp_CurrEstab), 1u);  // CLOSE-WAIT still counts
  EXPECT_TRUE(conn->at_eof());
  uint8_t b[8];
  EXPECT_EQ(*conn->recv(now, b), 0u);
  // Data may still be sent in CLOSE-WAIT.
  EXPECT_EQ(send_str("bye"), 3u);
  expect(ACK, kIss + 1, kIrs + 2, 3);
  conn->close(now);
  expect(FIN | ACK, kIss + 4, kIrs + 2);
  EXPECT_EQ(conn->state(), TcpState::last_ack);
  EXPECT_EQ(ctr(Counter::Tcp_CurrEstab), 0u);
  inject(Seg().seq(kIrs + 2).ack(kIss + 5));
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(ctr(Counter::Tcp_EstabResets), 0u);
  EXPECT_EQ(conn->deadline(), kNever);
}

TEST_F(TcpTest, FinWait2_Orphan_TimesOutAfterTcpFinTimeout) {
  host.sys.tcp_fin_timeout = 30;
  establish(false);
  conn->close(now);
  expect(FIN | ACK, kIss + 1, kIrs + 1);
  now = 100ms;
  inject(Seg().seq(kIrs + 1).ack(kIss + 2));
  ASSERT_EQ(conn->state(), TcpState::fin_wait_2);
  EXPECT_EQ(conn->deadline(), 100ms + 30s);
  EXPECT_EQ(ctr(Counter::TcpExt_TW), 1u);
  advance_to(100ms + 30s - 1ns);
  EXPECT_EQ(conn->state(), TcpState::fin_wait_2);
  advance_to(100ms + 30s);
  EXPECT_EQ(conn->state(), TcpState::closed);
  expect_nothing();
}

TEST_F(TcpTest, FinWait2_NotOrphan_WaitsForever) {
  establish(false);
  conn->shutdown_write(now);
  expect(FIN | ACK, kIss + 1, kIrs + 1);
  inject(Seg().seq(kIrs + 1).ack(kIss + 2));
  EXPECT_EQ(conn->state(), TcpState::fin_wait_2);
  EXPECT_EQ(conn->deadline(), kNever);
  // Data keeps flowing in FIN-WAIT-2 (half close).
  inject(Seg().seq(kIrs + 1).ack(kIss + 2).payload("late data"));
  EXPECT_EQ(recv_all(), "late data");
}

TEST_F(TcpTest, FinWait_DataAfterClose_ResetsAbortOnData) {
  establish(false);
  conn->close(now);
  expect(FIN | ACK, kIss + 1, kIrs + 1);
  inject(Seg().seq(kIrs + 1).ack(kIss + 2).payload("nobody reads this"));
  expect(RST, kIss + 2);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPAbortOnData), 1u);
  EXPECT_EQ(conn->state(), TcpState::closed);
}

TEST_F(TcpTest, Close_WithUnreadData_SendsRst_AbortOnClose) {
  establish(false);
  inject(Seg().seq(kIrs + 1).ack(kIss + 1).payload("unread"));
  host.sent.clear();
  conn->close(now);
  Sent r = expect(RST | ACK, kIss + 1, kIrs + 7);
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPAbortOnClose), 1u);
  EXPECT_EQ(ctr(Counter::Tcp_OutRsts), 1u);
  EXPECT_EQ(ctr(Counter::Tcp_EstabResets), 1u);  // Linux: ESTABLISHED → CLOSE
  EXPECT_EQ(ctr(Counter::Tcp_CurrEstab), 0u);
}

TEST_F(TcpTest, Close_WithZeroLinger_SendsRst) {
  ConnectionOptions o;
  o.linger = {true, 0};
  make(o);
  establish(false);
  conn->close(now);
  expect(RST | ACK, kIss + 1, kIrs + 1);
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPAbortOnData), 1u);  // Linux's counter for this path
}

TEST_F(TcpTest, Close_InSynSent_GoesClosedSilently) {
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  conn->close(now);
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(conn->deadline(), kNever);
}

TEST_F(TcpTest, Close_QueuedData_FinFollowsData) {
  establish(false);
  conn->set_nodelay(true);
  send_str("abc");
  expect(ACK, kIss + 1, kIrs + 1, 3);
  conn->close(now);
  expect(FIN | ACK, kIss + 4, kIrs + 1, 0);
}

TEST_F(TcpTest, Close_FinRidesOnLastSegmentHeldByNagle) {
  establish(false);
  send_str("abc");
  expect(ACK, kIss + 1, kIrs + 1, 3);
  send_str("def");  // held by Nagle: "abc" is unacknowledged
  expect_nothing();
  conn->close(now);  // Linux pushes with the FIN
  Sent s = expect(FIN | ACK, kIss + 4, kIrs + 1, 3);
  EXPECT_EQ(std::string(s.payload.begin(), s.payload.end()), "def");
}

TEST_F(TcpTest, Abort_SendsRstAndClosed) {
  establish(false);
  conn->abort(now, Errno::econnaborted);
  expect(RST | ACK, kIss + 1, kIrs + 1);
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(conn->error(), Errno::econnaborted);
}

TEST_F(TcpTest, Established_RstAtRcvNxt_to_Closed_Econnreset_ThenSendEpipe) {
  establish(false);
  inject(Seg().rst().seq(kIrs + 1));
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(ctr(Counter::Tcp_EstabResets), 1u);
  EXPECT_EQ(ctr(Counter::Tcp_CurrEstab), 0u);
  EXPECT_EQ(conn->send(now, std::vector<uint8_t>(3)).error(), Errno::econnreset);
  EXPECT_EQ(conn->send(now, std::vector<uint8_t>(3)).error(), Errno::epipe);
  uint8_t b[4];
  EXPECT_EQ(*conn->recv(now, b), 0u);
}

TEST_F(TcpTest, Established_Rst_RecvReportsEconnreset) {
  establish(false);
  inject(Seg().rst().seq(kIrs + 1));
  uint8_t b[4];
  EXPECT_EQ(conn->recv(now, b).error(), Errno::econnreset);
  EXPECT_EQ(*conn->recv(now, b), 0u);
}

TEST_F(TcpTest, CloseWait_Rst_to_Closed_Epipe) {
  // Linux tcp_reset: a RST in CLOSE-WAIT reports EPIPE.
  establish(false);
  inject(Seg().fin().seq(kIrs + 1).ack(kIss + 1));
  expect(ACK, kIss + 1, kIrs + 2);
  inject(Seg().rst().seq(kIrs + 2));
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(conn->error(), Errno::epipe);
  EXPECT_EQ(ctr(Counter::Tcp_EstabResets), 1u);
}

TEST_F(TcpTest, LastAck_RstJustBeforeRcvNxt_IsAccepted) {
  establish(false);
  inject(Seg().fin().seq(kIrs + 1).ack(kIss + 1));
  expect(ACK, kIss + 1, kIrs + 2);
  conn->close(now);
  expect(FIN | ACK, kIss + 1, kIrs + 2);
  inject(Seg().rst().seq(kIrs + 1));  // the seq of the peer's FIN (Linux tcp_reset_check)
  EXPECT_EQ(conn->state(), TcpState::closed);
}

TEST_F(TcpTest, ShutdownWrite_ThenSendIsEpipe) {
  establish(false);
  EXPECT_EQ(conn->shutdown_write(now), Errno::ok);
  expect(FIN | ACK, kIss + 1, kIrs + 1);
  EXPECT_EQ(conn->send(now, std::vector<uint8_t>(1)).error(), Errno::epipe);
}

TEST_F(TcpTest, SynReceived_CloseQueuesFin_SentWhenEstablished) {
  // SYN-RECEIVED by simultaneous open: the peer's SYN crosses ours.
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  inject(Seg().syn().seq(kIrs).mss(1460));
  expect(SYN | ACK, kIss, kIrs + 1);
  ASSERT_EQ(conn->state(), TcpState::syn_received);
  conn->close(now);
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::syn_received);
  inject(Seg().seq(kIrs + 1).ack(kIss + 1));
  expect(FIN | ACK, kIss + 1, kIrs + 1);
  EXPECT_EQ(conn->state(), TcpState::fin_wait_1);
}

}  // namespace
}  // namespace synq::tcp::testing
