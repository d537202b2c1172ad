// The linux listener (spec §2), driven by hand-built segments from fake peers.
// Tests are named after the spec's conformance checklist (§8).
#include <gtest/gtest.h>

#include "stack_listener_fixture.hpp"

namespace synq::test {
namespace {

struct Listener : ListenerFixture {
  /// SYN, SYN-ACK, ACK. Returns the SYN-ACK.
  Sent handshake(uint16_t sport, uint32_t isn = 1000) {
    auto out = syn(sport, isn);
    EXPECT_EQ(out.size(), 1u);
    if (out.empty()) return {};
    EXPECT_TRUE(out[0].is(f::SYN | f::ACK));
    peer.send(now, Seg().from(sport).to(80).seq(isn + 1).ack(out[0].tcp.seq + 1));
    EXPECT_TRUE(drain(server).empty());
    return out[0];
  }
};

// ------------------------------------------------------------------ decision trace

TEST_F(Listener, DecisionTraceHasOneEventPerListenerDecision) {
  std::vector<ListenEvent> events;
  server.set_listen_trace([&](const ListenEvent& e) { events.push_back(e); });
  listen(0);
  handshake(40001);                 // request, then complete
  EXPECT_TRUE(syn(40002).empty());  // accept queue full (B+1 = 1): drop
  peer.send(now, Seg().from(40003).to(80).seq(5000).ack(6000));  // stray ACK: rst
  drain(server);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].decision, ListenDecision::request);
  EXPECT_EQ(events[0].tuple.remote.port, 40001);
  EXPECT_EQ(events[0].tcp_flags, f::SYN);
  EXPECT_EQ(events[0].model, "linux");
  EXPECT_EQ(events[1].decision, ListenDecision::complete);
  EXPECT_EQ(events[1].counter, Counter::Tcp_PassiveOpens);
  EXPECT_EQ(events[2].decision, ListenDecision::drop);
  EXPECT_EQ(events[2].counter, Counter::TcpExt_ListenOverflows);
  EXPECT_EQ(listen_reason_key(events[2].reason), "accept_queue_full");
  EXPECT_EQ(events[3].decision, ListenDecision::rst);
  EXPECT_EQ(events[3].tuple.remote.port, 40003);
  for (const auto& e : events) EXPECT_EQ(e.listener_fd, lfd);
}

TEST_F(Listener, DecisionTraceRecordsTimerRetransmissionsAndExpiry) {
  std::vector<ListenEvent> events;
  server.set_listen_trace([&](const ListenEvent& e) { events.push_back(e); });
  server.sysctls().tcp_synack_retries = 2;
  listen(4);
  ASSERT_EQ(syn(40001).size(), 1u);
  run_until(10s);
  ASSERT_EQ(events.size(), 4u);  // request, synack at 1 s, synack at 3 s, expire at 7 s
  EXPECT_EQ(events[1].decision, ListenDecision::synack);
  EXPECT_EQ(events[1].time, 1s);
  EXPECT_EQ(events[2].time, 3s);
  EXPECT_EQ(events[3].decision, ListenDecision::expire);
  EXPECT_EQ(events[3].time, 7s);
  EXPECT_EQ(events[3].tcp_flags, 0);
}

// ------------------------------------------------------------------ §1 listen()

TEST_F(Listener, L01_ListenReportsBacklogAsSendQ) {
  listen(7);
  EXPECT_EQ(listener_info().state, TcpState::listen);
  EXPECT_EQ(listener_info().send_q, 7u);
  EXPECT_EQ(listener_info().recv_q, 0u);
  EXPECT_EQ(listener_info().model, "linux");
  EXPECT_EQ(*server.getsockopt(lfd, SockOpt::so_acceptconn), 1);
}

TEST_F(Listener, L02_BacklogAboveSomaxconnIsClamped) {
  server.sysctls().somaxconn = 100;
  listen(101);
  EXPECT_EQ(listener_info().send_q, 100u);
}

TEST_F(Listener, L03_NegativeBacklogBecomesSomaxconnAndPythonStyleZeroStaysZero) {
  listen(-1);
  EXPECT_EQ(listener_info().send_q, 4096u);
  // Python turns a negative backlog into 0 before the system call.
  ASSERT_EQ(server.listen_python(lfd, -1), Errno::ok);
  EXPECT_EQ(listener_info().send_q, 0u);
  // Its default: min(SOMAXCONN, 128) = 128.
  ASSERT_EQ(server.listen_python(lfd), Errno::ok);
  EXPECT_EQ(listener_info().send_q, 128u);
}

TEST_F(Listener, L04_RelistenChangesOnlyBacklogAndKeepsChildren) {
  listen(5);
  handshake(40001);
  handshake(40002);
  ASSERT_EQ(listener_info().recv_q, 2u);
  ASSERT_EQ(server.listen(lfd, 9), Errno::ok);
  EXPECT_EQ(listener_info().send_q, 9u);
  EXPECT_EQ(listener_info().recv_q, 2u);
  Endpoint p;
  ASSERT_TRUE(server.accept(lfd, &p).ok());
  EXPECT_EQ(p.port, 40001);
}

TEST_F(Listener, L05_ListenOnConnectedUdpAndUnboundSockets) {
  Stack client{config("10.0.0.2", 2)};
  Link link{client, server};
  listen(5);
  int c = *client.socket(SockType::stream);
  ASSERT_EQ(client.connect(c, ep("10.0.0.1", 80)), Errno::einprogress);
  EXPECT_EQ(client.listen(c, 5), Errno::einval);  // connecting
  link.run_for(100ms);
  EXPECT_EQ(client.listen(c, 5), Errno::einval);  // connected
  int u = *server.socket(SockType::dgram);
  EXPECT_EQ(server.listen(u, 5), Errno::eopnotsupp);
  int fresh = *server.socket(SockType::stream);
  ASSERT_EQ(server.listen(fresh, 5), Errno::ok);
  Endpoint local = *server.getsockname(fresh);
  EXPECT_GE(local.port, 32768);
  EXPECT_LE(local.port, 60999);
  EXPECT_TRUE(local.addr.is_unspecified());
}

TEST_F(Listener, L34_FreshStackSomaxconnIs4096) {
  EXPECT_EQ(server.sysctls().somaxconn, 4096);
  listen(100000);
  EXPECT_EQ(listener_info().send_q, 4096u);
}

// ------------------------------------------------------------------ §2 accept queue

TEST(ListenerTwoStacks, L06_BacklogPlusOneChildrenRestStaySynSent) {
  Stack server{config("10.0.0.1", 1, "server")};
  Stack client{config("10.0.0.2", 2, "client")};
  Link link{client, server, 10ms};
  client.sysctls().tcp_syn_linear_timeouts = 0;  // classic SYN backoff: 1, 3, 7 s
  int lfd = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
  const int B = 2;
  ASSERT_EQ(server.listen(lfd, B), Errno::ok);
  std::vector<int> fds;
  for (int i = 0; i < B + 5; ++i) {
    int fd = *client.socket(SockType::stream);
    ASSERT_EQ(client.connect(fd, ep("10.0.0.1", 80)), Errno::einprogress);
    fds.push_back(fd);
    link.run_for(50ms);  // each handshake finishes before the next starts
  }
  link.run_for(10s);
  int established = 0, syn_sent = 0;
  for (int fd : fds) {
    if (*client.state(fd) == TcpState::established) ++established;
    if (*client.state(fd) == TcpState::syn_sent) ++syn_sent;
  }
  EXPECT_EQ(established, B + 1);
  EXPECT_EQ(syn_sent, 4);
  uint32_t recv_q = 0;
  for (const SocketInfo& s : server.sockets())
    if (s.fd == lfd) recv_q = s.recv_q;
  EXPECT_EQ(recv_q, uint32_t(B + 1));  // Recv-Q can exceed B by one
  // Every SYN after the third completion was dropped: first SYNs and retransmissions alike.
  size_t syns = link.sent_by(client, [](const Sent& s) { return s.is(f::SYN); }).size();
  EXPECT_EQ(syns, size_t(B + 1 + 4 * 4));  // 4 clients × (SYN + retransmits at 1, 3, 7 s)
  EXPECT_EQ(server.counters()[Counter::TcpExt_ListenOverflows], syns - (B + 1));
  EXPECT_EQ(server.counters()[Counter::TcpExt_ListenDrops], syns - (B + 1));
  EXPECT_TRUE(link.sent_by(server, [](const Sent& s) { return s.tcp.flags & f::RST; }).empty());
}

TEST_F(Listener, L07_FullAcceptQueueDropsSynSilently) {
  listen(0);
  handshake(40001);  // B+1 = 1 child: the queue is full
  auto out = syn(40002);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 1u);
  EXPECT_EQ(count(Counter::TcpExt_ListenDrops), 1u);
  EXPECT_EQ(syn_recv_entries(), 0u);
  // Accepting frees the slot: the next SYN is answered.
  ASSERT_TRUE(server.accept(lfd).ok());
  EXPECT_EQ(syn(40002).size(), 1u);
}

// B = 1: X and Y get requests; X completes; Z gets a request; Y completes
// (acc = 2 = B+1); Z's third ACK meets a full accept queue.
struct ThirdAckOverflow : Listener {
  Sent z_synack;
  void SetUp() override {
    listen(1);
    auto x = syn(40001);
    auto y = syn(40002);
    ASSERT_EQ(x.size(), 1u);
    ASSERT_EQ(y.size(), 1u);
    peer.send(now, Seg().from(40001).to(80).seq(1001).ack(x[0].tcp.seq + 1));
    auto z = syn(40003);
    ASSERT_EQ(z.size(), 1u);
    z_synack = z[0];
    peer.send(now, Seg().from(40002).to(80).seq(1001).ack(y[0].tcp.seq + 1));
    ASSERT_EQ(listener_info().recv_q, 2u);
    ASSERT_TRUE(drain(server).empty());
  }
  void ack_z() { peer.send(now, Seg().from(40003).to(80).seq(1001).ack(z_synack.tcp.seq + 1)); }
};

TEST_F(ThirdAckOverflow, L09_AckDroppedRequestStaysSynRecv) {
  ack_z();
  EXPECT_TRUE(drain(server).empty());
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 1u);
  EXPECT_EQ(count(Counter::TcpExt_ListenDrops), 1u);
  EXPECT_EQ(syn_recv_entries(), 1u);
  EXPECT_EQ(listener_info().recv_q, 2u);
}

TEST_F(ThirdAckOverflow, L10_SynAcksGoOnAndTheAckAfterAcceptCompletes) {
  ack_z();
  const Time z_syn_at = now;
  // SYN-ACK retransmissions at 1, 3, 7 s; each re-ACK while full is another overflow.
  std::vector<Time> resent;
  for (int i = 0; i < 3; ++i) {
    auto out = run_until(server.next_deadline());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].is(f::SYN | f::ACK));
    EXPECT_EQ(out[0].tcp.seq, z_synack.tcp.seq);
    resent.push_back(out[0].at - z_syn_at);
    ack_z();
    EXPECT_TRUE(drain(server).empty());
  }
  EXPECT_EQ(resent, (std::vector<Time>{1s, 3s, 7s}));
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 4u);
  EXPECT_EQ(count(Counter::TcpExt_ListenDrops), 4u);
  EXPECT_EQ(count(Counter::Tcp_PassiveOpens), 2u);

  ASSERT_TRUE(server.accept(lfd).ok());
  ack_z();
  EXPECT_EQ(count(Counter::Tcp_PassiveOpens), 3u);
  EXPECT_EQ(syn_recv_entries(), 0u);
  EXPECT_EQ(listener_info().recv_q, 2u);
}

TEST_F(ThirdAckOverflow, L11_AbortOnOverflowSendsRstWithSeqOfTheAck) {
  server.sysctls().tcp_abort_on_overflow = 1;
  ack_z();
  auto out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::RST));  // R only
  EXPECT_EQ(out[0].tcp.seq, z_synack.tcp.seq + 1);
  EXPECT_EQ(count(Counter::TcpExt_EmbryonicRsts), 1u);
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 1u);
  EXPECT_EQ(syn_recv_entries(), 0u);
}

// ------------------------------------------------------------------ §2 SYN queue

TEST_F(Listener, L12_CookiesOffFullSynQueueDropsWithReqQFullDrop) {
  server.sysctls().tcp_syncookies = 0;
  const int B = 3;
  listen(B);
  for (int i = 0; i < B + 1; ++i) EXPECT_EQ(syn(uint16_t(41000 + i)).size(), 1u) << i;
  EXPECT_EQ(syn_recv_entries(), size_t(B + 1));
  EXPECT_TRUE(syn(42000).empty());
  EXPECT_TRUE(syn(42001).empty());
  EXPECT_EQ(count(Counter::TcpExt_TCPReqQFullDrop), 2u);
  EXPECT_EQ(count(Counter::TcpExt_ListenDrops), 2u);
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 0u);
}

TEST_F(Listener, L15_BacklogZeroCookiesOffAnswersOneSilentSyn) {
  server.sysctls().tcp_syncookies = 0;
  listen(0);
  EXPECT_EQ(syn(41000).size(), 1u);
  EXPECT_TRUE(syn(41001).empty());
  EXPECT_EQ(count(Counter::TcpExt_TCPReqQFullDrop), 1u);
}

TEST_F(Listener, L21_MaxSynBacklogQuarterRuleWithoutCookies) {
  server.sysctls().tcp_syncookies = 0;
  server.sysctls().tcp_max_syn_backlog = 8;
  listen(100);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(syn(uint16_t(41000 + i)).size(), 1u) << i;
  EXPECT_TRUE(syn(41007).empty());
  EXPECT_EQ(count(Counter::TcpExt_ListenDrops), 1u);
  EXPECT_EQ(count(Counter::TcpExt_TCPReqQFullDrop), 0u);
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 0u);
}

TEST_F(Listener, LegacySynQueueCheckAdmitsOnlyB) {
  server.sysctls().tcp_syncookies = 0;
  server.sysctls().syn_queue_check = "legacy";
  listen(2);
  EXPECT_EQ(syn(41000).size(), 1u);
  EXPECT_EQ(syn(41001).size(), 1u);
  EXPECT_TRUE(syn(41002).empty());  // qlen >= B
}

// ------------------------------------------------------------------ §2 SYN-ACK timer

TEST_F(Listener, L22_SilentPeerSynAckScheduleAndExpiry) {
  listen(10);
  auto first = syn(41000);
  ASSERT_EQ(first.size(), 1u);
  std::vector<Time> at{first[0].at};
  for (const Sent& s : run_until(200s)) {
    EXPECT_TRUE(s.is(f::SYN | f::ACK));
    at.push_back(s.at);
  }
  EXPECT_EQ(at, (std::vector<Time>{0s, 1s, 3s, 7s, 15s, 31s}));
  EXPECT_EQ(syn_recv_entries(), 0u);
  EXPECT_EQ(count(Counter::TcpExt_TCPTimeouts), 6u);
  EXPECT_EQ(count(Counter::TcpExt_TCPSynRetrans), 5u);
  EXPECT_EQ(count(Counter::Tcp_RetransSegs), 5u);
  EXPECT_EQ(server.next_deadline(), kNever);
}

TEST_F(Listener, L22_RequestGoneExactlyAt63s) {
  listen(10);
  syn(41000);
  run_until(63s - 1ns);
  EXPECT_EQ(syn_recv_entries(), 1u);
  run_until(63s);
  EXPECT_EQ(syn_recv_entries(), 0u);
  // Its late ACK now meets the bare listener: RST.
  peer.send(now, Seg().from(41000).to(80).seq(1001).ack(12345));
  auto out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::RST));
  EXPECT_EQ(out[0].tcp.seq, 12345u);
}

TEST_F(Listener, L23_SynackRetriesTwo) {
  server.sysctls().tcp_synack_retries = 2;
  listen(10);
  syn(41000);
  std::vector<Time> at{0s};
  for (const Sent& s : run_until(6999ms)) at.push_back(s.at);
  EXPECT_EQ(at, (std::vector<Time>{0s, 1s, 3s}));
  EXPECT_EQ(syn_recv_entries(), 1u);
  run_until(7s);
  EXPECT_EQ(syn_recv_entries(), 0u);
}

TEST_F(Listener, L24_TcpSyncntOnTheListener) {
  listen(10);
  ASSERT_EQ(server.setsockopt(lfd, SockOpt::tcp_syncnt, 1), Errno::ok);
  syn(41000);
  std::vector<Time> at{0s};
  for (const Sent& s : run_until(2999ms)) at.push_back(s.at);
  EXPECT_EQ(at, (std::vector<Time>{0s, 1s}));
  EXPECT_EQ(syn_recv_entries(), 1u);
  run_until(3s);
  EXPECT_EQ(syn_recv_entries(), 0u);
}

// ------------------------------------------------------------------ §2 segments for a request

TEST_F(Listener, L26_DuplicateSynResendsSynAckRateLimited) {
  listen(10);
  auto first = syn(41000, 5000);
  ASSERT_EQ(first.size(), 1u);
  now = 100ms;
  auto again = syn(41000, 5000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].is(f::SYN | f::ACK));
  EXPECT_EQ(again[0].tcp.seq, first[0].tcp.seq);
  now = 300ms;  // within 500 ms of the resend
  EXPECT_TRUE(syn(41000, 5000).empty());
  EXPECT_EQ(count(Counter::TcpExt_TCPACKSkippedSynRecv), 1u);
  now = 700ms;
  EXPECT_EQ(syn(41000, 5000).size(), 1u);
  EXPECT_EQ(syn_recv_entries(), 1u);
}

TEST_F(Listener, L26_DuplicateSynKeepsTheRequestsTimerSchedule) {
  // Host kernel (tests/scripts/linux/synrecv-dup-syn.pkt): a SYN-ACK resent
  // for a duplicate SYN at 200 ms does not move the retransmission at 1 s.
  listen(10);
  ASSERT_EQ(syn(41000, 5000).size(), 1u);
  now = 200ms;
  ASSERT_EQ(syn(41000, 5000).size(), 1u);
  std::vector<Time> at;
  for (const Sent& s : run_until(3s)) at.push_back(s.at);
  EXPECT_EQ(at, (std::vector<Time>{1s, 3s}));
}

TEST_F(Listener, L27_InWindowSynWithNewIsnGetsRstAckAndRemovesRequest) {
  listen(10);
  ASSERT_EQ(syn(41000, 5000).size(), 1u);
  auto out = syn(41000, 5100);  // in window (rcv_nxt = 5001)
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::RST | f::ACK));
  EXPECT_EQ(out[0].tcp.seq, 0u);
  EXPECT_EQ(out[0].tcp.ack, 5101u);
  EXPECT_EQ(count(Counter::TcpExt_EmbryonicRsts), 1u);
  EXPECT_EQ(count(Counter::Tcp_AttemptFails), 1u);
  EXPECT_EQ(syn_recv_entries(), 0u);
}

TEST_F(Listener, L28_WrongAckNumberGetsRstAndRequestStays) {
  listen(10);
  auto sa = syn(41000, 5000);
  ASSERT_EQ(sa.size(), 1u);
  peer.send(now, Seg().from(41000).to(80).seq(5001).ack(sa[0].tcp.seq + 7));
  auto out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::RST));
  EXPECT_EQ(out[0].tcp.seq, sa[0].tcp.seq + 7);
  EXPECT_EQ(syn_recv_entries(), 1u);
  // The right ACK still completes it.
  peer.send(now, Seg().from(41000).to(80).seq(5001).ack(sa[0].tcp.seq + 1));
  EXPECT_EQ(listener_info().recv_q, 1u);
  EXPECT_EQ(count(Counter::Tcp_PassiveOpens), 1u);
}

TEST_F(Listener, L29_RstInWindowRemovesRequestOutOfWindowIgnored) {
  listen(10);
  ASSERT_EQ(syn(41000, 5000).size(), 1u);
  peer.send(now, Seg().from(41000).to(80).rst().seq(5001 + 1000000));  // far out of window
  EXPECT_TRUE(drain(server).empty());
  EXPECT_EQ(syn_recv_entries(), 1u);
  peer.send(now, Seg().from(41000).to(80).rst().seq(5001));  // at rcv_nxt
  EXPECT_TRUE(drain(server).empty());
  EXPECT_EQ(syn_recv_entries(), 0u);
  EXPECT_EQ(count(Counter::TcpExt_EmbryonicRsts), 1u);
}

// ------------------------------------------------------------------ §2 other segments

TEST_F(Listener, L31_SegmentsToAListener) {
  listen(10);
  const std::vector<uint8_t> dropped_flags = {f::SYN | f::FIN, f::RST,         f::SYN | f::RST, 0,
                                              f::FIN,          f::RST | f::ACK};
  for (uint8_t fl : dropped_flags) {
    peer.send(now, Seg().from(42000).to(80).seq(777).ack(888).flags(fl));
    EXPECT_TRUE(drain(server).empty()) << int(fl);
  }
  for (uint8_t fl : {uint8_t(f::SYN | f::ACK), uint8_t(f::ACK)}) {
    peer.send(now, Seg().from(42000).to(80).seq(777).ack(888).flags(fl));
    auto out = drain(server);
    ASSERT_EQ(out.size(), 1u) << int(fl);
    EXPECT_TRUE(out[0].is(f::RST));
    EXPECT_EQ(out[0].tcp.seq, 888u);
  }
  EXPECT_EQ(syn_recv_entries(), 0u);
  // A SYN with payload: the SYN-ACK acknowledges only the SYN.
  std::string data = "early data";
  peer.send(now, Seg().from(42001).to(80).syn().seq(5000).mss(1460).payload(bytes(data)));
  auto out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::SYN | f::ACK));
  EXPECT_EQ(out[0].tcp.ack, 5001u);
  EXPECT_EQ(count(Counter::Tcp_OutRsts), 2u);
}

TEST_F(Listener, L32_CloseListenerResetsChildrenAndLaterAcksGetRst) {
  listen(10);
  Sent a = handshake(40001, 100);
  Sent b = handshake(40002, 200);
  auto pending = syn(40003, 300);
  ASSERT_EQ(pending.size(), 1u);
  ASSERT_EQ(server.close(lfd), Errno::ok);
  auto out = drain(server);
  ASSERT_EQ(out.size(), 2u);
  for (const Sent& s : out) EXPECT_TRUE(s.is(f::RST | f::ACK));
  EXPECT_EQ(out[0].dport, 40001);
  EXPECT_EQ(out[0].tcp.seq, a.tcp.seq + 1);
  EXPECT_EQ(out[0].tcp.ack, 101u);
  EXPECT_EQ(out[1].dport, 40002);
  EXPECT_EQ(out[1].tcp.seq, b.tcp.seq + 1);
  EXPECT_TRUE(server.sockets().empty());
  peer.send(now, Seg().from(40003).to(80).seq(301).ack(pending[0].tcp.seq + 1));
  auto rst = drain(server);
  ASSERT_EQ(rst.size(), 1u);
  EXPECT_TRUE(rst[0].is(f::RST));
  EXPECT_EQ(rst[0].tcp.seq, pending[0].tcp.seq + 1);
  EXPECT_EQ(server.next_deadline(), kNever);
}

TEST_F(Listener, L33_ShrinkingBacklogDropsSynsUntilQueueFits) {
  listen(5);
  for (uint16_t p = 40001; p <= 40004; ++p) handshake(p);
  ASSERT_EQ(server.listen(lfd, 1), Errno::ok);
  EXPECT_TRUE(syn(41000).empty());  // acc 4 > 1
  ASSERT_TRUE(server.accept(lfd).ok());
  ASSERT_TRUE(server.accept(lfd).ok());
  EXPECT_TRUE(syn(41001).empty());  // acc 2 > 1
  ASSERT_TRUE(server.accept(lfd).ok());
  EXPECT_EQ(syn(41002).size(), 1u);  // acc 1 ≤ 1
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 2u);
}

TEST_F(Listener, SynAckCarriesOptionsAndRequestIsListedAsSynRecv) {
  listen(10);
  peer.send(now, Seg().from(41000).to(80).syn().seq(5000).mss(1460).ws(7).sack_ok().ts(4242, 0));
  auto out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  const wire::TcpOptions& so = out[0].tcp.options;
  EXPECT_TRUE(so.has_mss);
  EXPECT_EQ(so.mss, 1460);
  EXPECT_TRUE(so.has_wscale);
  EXPECT_TRUE(so.sack_permitted);
  EXPECT_TRUE(so.has_timestamps);
  EXPECT_EQ(so.ts_ecr, 4242u);
  EXPECT_EQ(out[0].tcp.window, 65160);  // 45 × 1448, like Linux
  auto socks = server.sockets();
  ASSERT_EQ(socks.size(), 2u);
  EXPECT_EQ(socks[1].state, TcpState::syn_received);
  EXPECT_EQ(socks[1].fd, -1);
  EXPECT_EQ(socks[1].remote, ep("10.0.0.9", 41000));
  EXPECT_EQ(listener_info().recv_q, 0u);
}

TEST_F(Listener, EveryModelNameIsKnownAndOthersAreRejected) {
  lfd = *server.socket(SockType::stream);
  EXPECT_EQ(server.set_listen_model(lfd, "nonsense"), Errno::einval);
  for (const char* m : {"linux", "bsd44", "freebsd", "xnu"})
    EXPECT_EQ(server.set_listen_model(lfd, m), Errno::ok) << m;
  server.sysctls().listen_model = "bsd44";
  int other = *server.socket(SockType::stream);
  ASSERT_EQ(server.listen(other, 5), Errno::ok);
  for (const SocketInfo& s : server.sockets()) {
    if (s.fd == other) {
      EXPECT_EQ(s.model, "bsd44");
    }
  }
}

}  // namespace
}  // namespace synq::test
