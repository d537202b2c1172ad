// Opening a connection: active open, the SYN retransmission schedule,
// simultaneous open (the only way into SYN-RECEIVED: a listener's child is
// born ESTABLISHED), passive opens, and the SYN-SENT checks of RFC 9293
// §3.10.7.3.
#include "tcp_harness.hpp"

namespace synq::tcp::testing {
namespace {

TEST_F(TcpTest, Closed_Connect_to_SynSent_SendsSynWithLinuxOptions) {
  make();
  conn->connect(now, kIss, 0);
  // The whole SYN: window 131072/2 rounded down to 44 * 1460; TSval is the
  // ms clock (0 now) plus the offset (0).
  expect(Seg().syn().seq(kIss).win(64240).mss(1460).sack_ok().ts(0, 0).ws(7).len(0));
  EXPECT_EQ(conn->state(), TcpState::syn_sent);
  EXPECT_EQ(ctr(Counter::Tcp_ActiveOpens), 1u);
  ASSERT_EQ(host.transitions.size(), 1u);
  EXPECT_EQ(host.transitions[0], std::make_pair(TcpState::closed, TcpState::syn_sent));
  EXPECT_EQ(conn->deadline(), now + 1s);
}

TEST_F(TcpTest, SynSent_SynAck_to_Established) {
  establish();
  EXPECT_EQ(ctr(Counter::Tcp_CurrEstab), 1u);
  EXPECT_EQ(conn->mss(), 1448);  // 1460 less the timestamp option
  TcpInfo i = conn->info();
  EXPECT_TRUE(i.ws_ok);
  EXPECT_EQ(i.snd_wscale, 7);
  EXPECT_EQ(i.rcv_wscale, 7);
  EXPECT_TRUE(i.ts_ok);
  EXPECT_TRUE(i.sack_ok);
  EXPECT_EQ(i.snd_wnd, 65535u);  // the SYN-ACK's window is not scaled
  EXPECT_EQ(i.cwnd, 10u * 1448);
  EXPECT_EQ(conn->deadline(), kNever);
  EXPECT_EQ(host.transitions.back(), std::make_pair(TcpState::syn_sent, TcpState::established));
}

TEST_F(TcpTest, SynSent_SynAckWithoutOptions_Uses536AndNoScaling) {
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  inject(Seg().syn().seq(kIrs).ack(kIss + 1).win(8192));
  // No options at all, and the window unscaled.
  expect(Seg().seq(kIss + 1).ack(kIrs + 1).win(64240).options({}).len(0));
  EXPECT_EQ(conn->mss(), 536);
  EXPECT_FALSE(conn->info().ws_ok);
}

TEST_F(TcpTest, SynSent_Linux618Defaults_LinearThenExponential_EtimedoutAt131) {
  // tcp_syn_retries 6 + tcp_syn_linear_timeouts 4, as measured on Linux 6.18.
  make();
  conn->connect(now, kIss, 0);
  advance_to(200s);
  std::vector<Time> times;
  for (auto& s : host.sent) times.push_back(s.at);
  EXPECT_EQ(times, (std::vector<Time>{0s, 1s, 2s, 3s, 4s, 5s, 7s, 11s, 19s, 35s, 67s}));
  EXPECT_EQ(conn->error(), Errno::etimedout);
  EXPECT_EQ(host.transitions.back(), std::make_pair(TcpState::syn_sent, TcpState::closed));
  EXPECT_EQ(ctr(Counter::TcpExt_TCPSynRetrans), 10u);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPTimeouts), 11u);
}

TEST_F(TcpTest, SynSent_GivesUpOnTimeNotCount_FewRetriesManyLinearTimeouts) {
  // TCP_SYNCNT 1 sets a 3 s budget ((2^2 - 1) s); linear timeouts 2 put
  // retransmissions at 1 and 2 s; the timer at 3 s gives up. Measured on
  // Linux 6.18 with tcp_syn_retries=1, tcp_syn_linear_timeouts=2.
  ConnectionOptions o;
  o.syn_retries = 1;
  host.sys.tcp_syn_linear_timeouts = 2;
  make(o);
  conn->connect(now, kIss, 0);
  advance_to(2999ms);
  EXPECT_EQ(conn->state(), TcpState::syn_sent);
  advance_to(200s);
  std::vector<Time> times;
  for (auto& s : host.sent) times.push_back(s.at);
  EXPECT_EQ(times, (std::vector<Time>{0s, 1s, 2s}));
  EXPECT_EQ(conn->error(), Errno::etimedout);
}

TEST_F(TcpTest, SynSent_ThreeRetriesTwoLinear_EtimedoutAt17) {
  host.sys.tcp_syn_retries = 3;
  host.sys.tcp_syn_linear_timeouts = 2;
  make();
  conn->connect(now, kIss, 0);
  advance_to(16999ms);
  EXPECT_EQ(conn->state(), TcpState::syn_sent);
  advance_to(17s);
  std::vector<Time> times;
  for (auto& s : host.sent) times.push_back(s.at);
  EXPECT_EQ(times, (std::vector<Time>{0s, 1s, 2s, 3s, 5s, 9s}));
  EXPECT_EQ(conn->error(), Errno::etimedout);
}

TEST_F(TcpTest, SynSent_PreLinux618Schedule_RetransmitsAt1_3_7_15_31_63_ThenEtimedoutAt127) {
  host.sys.tcp_syn_linear_timeouts = 0;
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  for (int t : {1, 3, 7, 15, 31, 63}) {
    advance_to(std::chrono::seconds(t) - 1ms);
    expect_nothing();
    advance_to(std::chrono::seconds(t));
    Sent s = expect(SYN, kIss);
    EXPECT_EQ(s.at, std::chrono::seconds(t));
  }
  advance_to(127s - 1ms);
  EXPECT_EQ(conn->state(), TcpState::syn_sent);
  advance_to(127s);
  expect_nothing();  // no RST on give-up
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(conn->error(), Errno::etimedout);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPSynRetrans), 6u);
  EXPECT_EQ(ctr(Counter::Tcp_RetransSegs), 6u);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPTimeouts), 7u);  // Linux counts the final firing too
  EXPECT_EQ(ctr(Counter::Tcp_AttemptFails), 1u);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPAbortOnTimeout), 1u);
  EXPECT_EQ(conn->deadline(), kNever);
}

TEST_F(TcpTest, SynSent_SynRetries5_EtimedoutAt63) {
  host.sys.tcp_syn_retries = 5;
  host.sys.tcp_syn_linear_timeouts = 0;
  make();
  conn->connect(now, kIss, 0);
  std::vector<Time> times;
  advance_to(200s);
  for (auto& s : host.sent) times.push_back(s.at);
  std::vector<Time> want = {0s, 1s, 3s, 7s, 15s, 31s};
  EXPECT_EQ(times, want);
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(host.transitions.back(), std::make_pair(TcpState::syn_sent, TcpState::closed));
  EXPECT_EQ(conn->take_error(), Errno::etimedout);
  EXPECT_EQ(conn->error(), Errno::ok);  // SO_ERROR clears
}

TEST_F(TcpTest, SynSent_TcpSyncnt2_OverridesSysctl_EtimedoutAt7) {
  host.sys.tcp_syn_linear_timeouts = 0;
  ConnectionOptions o;
  o.syn_retries = 2;
  make(o);
  conn->connect(now, kIss, 0);
  advance_to(6999ms);
  EXPECT_EQ(host.sent.size(), 3u);  // 0, 1, 3 s
  EXPECT_EQ(conn->state(), TcpState::syn_sent);
  advance_to(7s);
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(conn->error(), Errno::etimedout);
}

TEST_F(TcpTest, SynSent_RstAck_to_Closed_Econnrefused) {
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  inject(Seg().rst().seq(0).ack(kIss + 1));
  expect_nothing();  // RST is never answered
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(conn->error(), Errno::econnrefused);
  EXPECT_EQ(ctr(Counter::Tcp_AttemptFails), 1u);
  EXPECT_EQ(ctr(Counter::Tcp_EstabResets), 0u);
  uint8_t b[4];
  EXPECT_EQ(conn->recv(now, b).error(), Errno::econnrefused);
  EXPECT_EQ(*conn->recv(now, b), 0u);
}

TEST_F(TcpTest, SynSent_RstWithoutAck_IsDropped) {
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  inject(Seg().rst().seq(kIrs));
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::syn_sent);
}

TEST_F(TcpTest, SynSent_RstWithUnacceptableAck_IsDropped) {
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  inject(Seg().rst().seq(kIrs).ack(kIss + 7));
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::syn_sent);
}

TEST_F(TcpTest, SynSent_SynAckWithBadAck_SendsRstSeqEqAck_StaysSynSent) {
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  inject(Seg().syn().seq(kIrs).ack(kIss + 500));
  Sent r = expect(RST, kIss + 500);
  EXPECT_EQ(ctr(Counter::Tcp_OutRsts), 1u);
  EXPECT_EQ(conn->state(), TcpState::syn_sent);
  inject(Seg().syn().seq(kIrs).ack(kIss));  // ack == ISS is unacceptable too
  expect(RST, kIss);
  // The real SYN-ACK still completes the handshake.
  inject(Seg().syn().seq(kIrs).ack(kIss + 1).mss(1460));
  expect(ACK, kIss + 1, kIrs + 1);
  EXPECT_EQ(conn->state(), TcpState::established);
}

TEST_F(TcpTest, SynSent_AckWithoutSyn_IsDropped) {
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  inject(Seg().seq(kIrs).ack(kIss + 1));
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::syn_sent);
}

TEST_F(TcpTest, SynSent_SynAckEchoingAFutureTimestamp_IsRejectedPawsActive) {
  now = 10s;
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  inject(Seg().syn().seq(kIrs).ack(kIss + 1).mss(1460).ts(1, 999999));
  expect(RST, kIss + 1);
  EXPECT_EQ(ctr(Counter::TcpExt_PAWSActive), 1u);
  EXPECT_EQ(conn->state(), TcpState::syn_sent);
}

TEST_F(TcpTest, SynSent_Syn_to_SynReceived_SimultaneousOpen) {
  make();
  conn->connect(now, kIss, 0);
  Sent syn = expect(SYN, kIss);
  // The peer's own SYN crosses ours.
  inject(Seg().syn().seq(kIrs).win(65535).mss(1460).sack_ok().ws(7).ts(700, 0));
  Sent synack = expect(SYN | ACK, kIss, kIrs + 1);  // same ISS
  EXPECT_TRUE(synack.h.options.has_timestamps);
  EXPECT_EQ(synack.h.options.ts_ecr, 700u);
  EXPECT_EQ(conn->state(), TcpState::syn_received);
  // SynReceived_SynAck_to_Established: the peer's SYN-ACK acknowledges our SYN.
  inject(Seg().syn().seq(kIrs).ack(kIss + 1).win(512).mss(1460).ts(701, syn.h.options.ts_val));
  EXPECT_EQ(conn->state(), TcpState::established);
  // Linux answers at once: the SYN's sequence number is old (tcp_data_queue
  // treats it as a retransmission and ACKs). Seen on 6.18 by
  // tests/scripts/linux/simultaneous-open.pkt.
  expect(ACK, kIss + 1, kIrs + 1, 0);
  expect_nothing();
  EXPECT_EQ(ctr(Counter::Tcp_CurrEstab), 1u);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPSYNChallenge), 0u);
  std::vector<std::pair<TcpState, TcpState>> want = {
      {TcpState::closed, TcpState::syn_sent},
      {TcpState::syn_sent, TcpState::syn_received},
      {TcpState::syn_received, TcpState::established}};
  EXPECT_EQ(host.transitions, want);
}

TEST_F(TcpTest, SynReceived_SimultaneousOpen_RetransmitsSynAckOnRto) {
  make();
  conn->connect(now, kIss, 0);
  expect(SYN, kIss);
  now = 100ms;
  inject(Seg().syn().seq(kIrs).mss(1460));
  expect(SYN | ACK, kIss, kIrs + 1);
  advance_to(1s);  // the SYN's timer goes on, now resending the SYN-ACK
  expect(SYN | ACK, kIss, kIrs + 1);
  inject(Seg().seq(kIrs + 1).ack(kIss + 1));
  EXPECT_EQ(conn->state(), TcpState::established);
}

PassiveOpen passive() {
  PassiveOpen p;
  p.iss = kIss;
  p.irs = kIrs;
  p.peer_mss = 1460;
  p.wscale_ok = true;
  p.snd_wscale = 7;
  p.rcv_wscale = 7;
  p.sack_ok = true;
  p.ts_ok = true;
  p.ts_recent = 4000;
  p.snd_wnd = 502 << 7;
  return p;
}

TEST_F(TcpTest, Listen_ThirdAck_to_Established_PassiveChild) {
  make();
  conn->init_passive(now, passive());
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::established);
  EXPECT_EQ(ctr(Counter::Tcp_CurrEstab), 1u);
  EXPECT_EQ(host.transitions.back(), std::make_pair(TcpState::closed, TcpState::established));
  EXPECT_EQ(conn->mss(), 1448);
  // It can send at once.
  send_str("hello");
  Sent d = expect(ACK, kIss + 1, kIrs + 1, 5);
  EXPECT_EQ(d.h.options.ts_ecr, 4000u);
}

// SYN-RECEIVED by the only road into it: our SYN, then the peer's own SYN
// (with every option, TSval 4000) crossing it.
class TcpSynReceived : public TcpTest {
 protected:
  // Returns our SYN-ACK.
  Sent to_syn_received() {
    conn->connect(now, kIss, 0);
    expect(SYN, kIss);
    inject(Seg().syn().seq(kIrs).win(65535).mss(1460).sack_ok().ws(7).ts(4000, 0));
    Sent sa = expect(SYN | ACK, kIss, kIrs + 1);
    EXPECT_EQ(conn->state(), TcpState::syn_received);
    return sa;
  }
};

TEST_F(TcpSynReceived, Ack_to_Established_WindowFromTheAck) {
  make();
  Sent sa = to_syn_received();
  EXPECT_EQ(sa.h.window, 64240);  // as our SYN's: 44 * 1460, never scaled
  EXPECT_EQ(sa.h.options.wscale, 7);
  EXPECT_EQ(sa.h.options.ts_ecr, 4000u);
  now = 30ms;
  inject(Seg().seq(kIrs + 1).ack(kIss + 1).win(502).ts(4001, sa.h.options.ts_val));
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::established);
  EXPECT_EQ(host.transitions.back(), std::make_pair(TcpState::syn_received, TcpState::established));
  EXPECT_EQ(conn->info().snd_wnd, 502u << 7);  // both SYNs offered scaling
  EXPECT_EQ(ctr(Counter::Tcp_CurrEstab), 1u);
}

TEST_F(TcpSynReceived, RetransmitsSynAckWithBackoff_ThenGivesUp) {
  // TCP_SYNCNT 2 bounds the SYN-ACKs too; in SYN-RECEIVED the retries are
  // counted, and every retransmission backs off (no linear timeouts).
  ConnectionOptions o;
  o.syn_retries = 2;
  host.sys.tcp_syn_linear_timeouts = 0;
  make(o);
  to_syn_received();
  advance_to(60s);
  std::vector<Time> times;
  for (auto& s : host.sent) {
    EXPECT_EQ(s.h.flags, SYN | ACK);
    EXPECT_EQ(s.h.seq, kIss);
    times.push_back(s.at);
  }
  std::vector<Time> want = {1s, 3s};
  EXPECT_EQ(times, want);
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(conn->error(), Errno::etimedout);
  EXPECT_EQ(host.transitions.back(), std::make_pair(TcpState::syn_received, TcpState::closed));
  EXPECT_EQ(ctr(Counter::TcpExt_TCPSynRetrans), 2u);
  EXPECT_EQ(ctr(Counter::Tcp_AttemptFails), 1u);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPAbortOnTimeout), 1u);
}

TEST_F(TcpSynReceived, BadAck_SendsRst) {
  make();
  Sent sa = to_syn_received();
  inject(Seg().seq(kIrs + 1).ack(kIss + 99).ts(4001, sa.h.options.ts_val));
  expect(RST, kIss + 99);
  EXPECT_EQ(conn->state(), TcpState::syn_received);
  // The right ACK still completes the handshake.
  inject(Seg().seq(kIrs + 1).ack(kIss + 1).ts(4002, sa.h.options.ts_val));
  EXPECT_EQ(conn->state(), TcpState::established);
}

TEST_F(TcpSynReceived, Rst_to_Closed) {
  make();
  to_syn_received();
  inject(Seg().rst().seq(kIrs + 1));
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::closed);
  EXPECT_EQ(ctr(Counter::Tcp_AttemptFails), 1u);
  EXPECT_EQ(ctr(Counter::Tcp_EstabResets), 0u);
}

TEST_F(TcpTest, Established_RetransmittedSynAck_GetsChallengeAck) {
  // The client's ACK was lost; the server's SYN-ACK retransmission arrives.
  establish();
  now = 1s;
  inject(Seg().syn().seq(kIrs).ack(kIss + 1).mss(1460).ts(6000, 0));
  expect(ACK, kIss + 1, kIrs + 1);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPSYNChallenge), 1u);
  EXPECT_EQ(ctr(Counter::TcpExt_TCPChallengeACK), 1u);
  EXPECT_EQ(conn->state(), TcpState::established);
}

TEST_F(TcpTest, SendBeforeHandshake_Eagain) {
  make();
  conn->connect(now, kIss, 0);
  EXPECT_EQ(conn->send(now, std::vector<uint8_t>(3)).error(), Errno::eagain);
  uint8_t b[4];
  EXPECT_EQ(conn->recv(now, b).error(), Errno::eagain);
}

TEST_F(TcpTest, Helpers_MakeSynOptions_FollowSysctlsAndPeer) {
  Sysctls s;
  wire::TcpOptions syn = make_syn_options(s, 1460, 7, 123, nullptr);
  EXPECT_TRUE(syn.sack_permitted && syn.has_timestamps && syn.has_wscale);
  EXPECT_EQ(syn.ts_val, 123u);
  wire::TcpOptions peer;
  peer.has_timestamps = true;
  peer.ts_val = 77;
  wire::TcpOptions sa = make_syn_options(s, 1460, 7, 124, &peer);
  EXPECT_FALSE(sa.sack_permitted);
  EXPECT_FALSE(sa.has_wscale);
  EXPECT_TRUE(sa.has_timestamps);
  EXPECT_EQ(sa.ts_ecr, 77u);
  s.tcp_timestamps = 0;
  s.tcp_sack = 0;
  s.tcp_window_scaling = 0;
  wire::TcpOptions bare = make_syn_options(s, 1400, 7, 1, nullptr);
  EXPECT_TRUE(bare.has_mss);
  EXPECT_EQ(bare.mss, 1400);
  EXPECT_FALSE(bare.sack_permitted || bare.has_timestamps || bare.has_wscale);
}

TEST_F(TcpTest, Helpers_WscaleAndInitialWindow_MatchLinux) {
  Sysctls s;
  EXPECT_EQ(our_wscale(s), 7);  // 6291456 → 7
  s.tcp_rmem[2] = 65535;
  EXPECT_EQ(our_wscale(s), 2);  // rmem_max 212992 still counts
  s.tcp_rmem[2] = 1 << 30;
  EXPECT_EQ(our_wscale(s), 14);  // RFC 7323 limit
  Sysctls d;
  EXPECT_EQ(initial_rcv_window(d, 1460, 0), 64240u);
  EXPECT_EQ(initial_rcv_window(d, 1448, 0), 65160u);
  EXPECT_EQ(initial_rcv_window(d, 1460, 8192), 2920u);  // SO_RCVBUF 4096 stored as 8192
}

TEST_F(TcpTest, UserMss_LowersAnnouncedAndSendMss) {
  ConnectionOptions o;
  o.user_mss = 1000;
  make(o);
  conn->connect(now, kIss, 0);
  expect(Seg().syn().seq(kIss).mss(1000).sack_ok().ts(0, 0).ws(7).len(0));
  inject(Seg().syn().seq(kIrs).ack(kIss + 1).mss(1460).ts(1, 0));
  EXPECT_EQ(conn->mss(), 988);
}

TEST_F(TcpTest, Ipv6_MssIs1440) {
  tuple.local.addr = IpAddr::v6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  make();
  conn->connect(now, kIss, 0);
  EXPECT_EQ(expect(SYN, kIss).h.options.mss, 1440);
}

}  // namespace
}  // namespace synq::tcp::testing
