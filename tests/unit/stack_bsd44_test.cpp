// The bsd44 listener (spec §1, §3): one limit, qlen + acc ≤ ⌊3B/2⌋+1, and a
// full listener drops every segment without a word. Named after spec §8.
#include <gtest/gtest.h>

#include "stack_models_util.hpp"

namespace synq::test {
namespace {

using Bsd44 = ModelListener;

TEST_F(Bsd44, ClampIsMinOfMaxZeroAndSomaxconn) {
  listen("bsd44", -1);
  EXPECT_EQ(backlog(), 0u);  // spec §1: negative → 0
  ASSERT_EQ(server.listen(lfd, 3), Errno::ok);
  EXPECT_EQ(backlog(), 3u);
  ASSERT_EQ(server.listen(lfd, 100), Errno::ok);
  EXPECT_EQ(backlog(), 5u);  // SOMAXCONN = 5
  server.sysctls().bsd44_somaxconn = 8;
  ASSERT_EQ(server.listen(lfd, 100), Errno::ok);
  EXPECT_EQ(backlog(), 8u);
  EXPECT_EQ(listener_info().model, "bsd44");
}

TEST_F(Bsd44, RelistenKeepsQueuedConnections) {
  listen("bsd44", 2);
  handshake(40001);
  handshake(40002);
  ASSERT_EQ(server.listen(lfd, 0), Errno::ok);  // spec §1: allowed, only B changes
  EXPECT_EQ(backlog(), 0u);
  EXPECT_EQ(accept_queue(), 2u);
  EXPECT_TRUE(syn(40003).empty());  // 2 > 3*0/2: full under the new B
}

// spec §3: half-open plus completed ≤ ⌊3B/2⌋+1: B 0→1, 1→2, 2→4, 3→5, 5→8.
TEST_F(Bsd44, L41_LimitTableWithSilentPeers) {
  const int table[][2] = {{0, 1}, {1, 2}, {2, 4}, {3, 5}, {5, 8}};
  uint16_t port = 80;
  for (auto [b, fits] : table) {
    ++port;
    lfd = *server.socket(SockType::stream);
    ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", port)), Errno::ok);
    ASSERT_EQ(server.set_listen_model(lfd, "bsd44"), Errno::ok);
    ASSERT_EQ(server.listen(lfd, b), Errno::ok);
    int answered = 0;
    for (int i = 0; i < fits + 3; ++i) {
      peer.send(now, Seg().from(uint16_t(41000 + i)).to(port).syn().seq(1000).mss(1460));
      for (const Sent& s : drain(server)) answered += s.is(f::SYN | f::ACK);
    }
    EXPECT_EQ(answered, fits) << "B = " << b;
  }
}

TEST_F(Bsd44, L41_FullListenerDropsEverySegmentEvenABareAck) {
  trace_events();
  listen("bsd44", 2);  // 3*2/2 = 3: four connections in total
  handshake(40001);
  handshake(40002);
  ASSERT_EQ(syn(40003).size(), 1u);
  ASSERT_EQ(syn(40004).size(), 1u);
  ASSERT_EQ(half_open(), 2u);
  EXPECT_TRUE(syn(40005).empty());                           // no SYN-ACK
  EXPECT_TRUE(ack(40006, 5000, 6000).empty());               // a stray ACK: no RST either
  peer.send(now, Seg().from(40007).to(80).rst().seq(5000));  // a RST: nothing
  peer.send(now, Seg().from(40008).to(80).syn().seq(5000).ack(6000));
  EXPECT_TRUE(drain(server).empty());
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 4u);
  EXPECT_EQ(count(Counter::TcpExt_ListenDrops), 4u);
  EXPECT_EQ(count(Counter::Tcp_OutRsts), 0u);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().decision, ListenDecision::drop);
  EXPECT_EQ(events.back().counter, Counter::TcpExt_ListenOverflows);
  EXPECT_EQ(events.back().model, "bsd44");
  // Accepting one makes room: the stray ACK now gets its RST (seq = its ack).
  ASSERT_TRUE(server.accept(lfd).ok());
  auto out = ack(40006, 5000, 6000);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::RST));
  EXPECT_EQ(out[0].tcp.seq, 6000u);
}

TEST_F(Bsd44, L41_EmbryonicConnectionCompletesWithNoFurtherCheck) {
  listen("bsd44", 1);  // 3*1/2 = 1: two connections in total
  auto x = syn(40001);
  auto y = syn(40002);
  ASSERT_EQ(x.size(), 1u);
  ASSERT_EQ(y.size(), 1u);
  EXPECT_TRUE(syn(40003).empty());
  // Both embryonic connections complete: no check at the ACK.
  EXPECT_TRUE(ack(40001, 1001, x[0].tcp.seq + 1).empty());
  EXPECT_TRUE(ack(40002, 1001, y[0].tcp.seq + 1).empty());
  EXPECT_EQ(accept_queue(), 2u);
  EXPECT_EQ(count(Counter::Tcp_PassiveOpens), 2u);
}

TEST_F(Bsd44, L42_BacklogZeroOneConnectionAtATime) {
  listen("bsd44", 0);
  auto x = syn(40001);
  ASSERT_EQ(x.size(), 1u);
  EXPECT_TRUE(syn(40002).empty());  // the one slot is the embryonic connection
  EXPECT_TRUE(ack(40001, 1001, x[0].tcp.seq + 1).empty());
  EXPECT_TRUE(syn(40002).empty());  // now it is the completed one
  ASSERT_TRUE(server.accept(lfd).ok());
  EXPECT_EQ(syn(40002).size(), 1u);
}

// tcp_timers() TCPT_KEEP → tcp_drop(): at 75 s the embryonic connection is
// reset with RST|ACK <SEQ=ISS+1><ACK=IRS+1>, so a waiting client is refused.
TEST_F(Bsd44, EmbryonicSynAckScheduleAndSeventyFiveSecondRstAck) {
  trace_events();
  listen("bsd44", 5);
  auto x = syn(40001);  // IRS 1000
  ASSERT_EQ(x.size(), 1u);
  const uint32_t iss = x[0].tcp.seq;
  auto out = run_until(100s);
  ASSERT_FALSE(out.empty());
  const Sent rst = out.back();
  out.pop_back();
  std::vector<Time> at;
  for (const Sent& s : out) {
    EXPECT_TRUE(s.is(f::SYN | f::ACK));
    at.push_back(s.at);
  }
  EXPECT_EQ(at, (std::vector<Time>{1s, 3s, 7s, 15s, 31s, 63s}));
  EXPECT_TRUE(rst.is(f::RST | f::ACK));
  EXPECT_EQ(rst.at, 75s);
  EXPECT_EQ(rst.tcp.seq, iss + 1);
  EXPECT_EQ(rst.tcp.ack, 1001u);
  EXPECT_EQ(half_open(), 0u);
  EXPECT_EQ(events.back().decision, ListenDecision::expire);
  EXPECT_EQ(events.back().time, 75s);
  EXPECT_EQ(count(Counter::Tcp_AttemptFails), 1u);
  EXPECT_EQ(count(Counter::Tcp_RetransSegs), 6u);
  EXPECT_EQ(count(Counter::Tcp_OutRsts), 1u);
}

// 4.4BSD tcp_input() re-arms TCPT_KEEP (to 2 h) for any segment that reaches
// the connection: after a retransmitted SYN only the retransmission limit
// (TCP_MAXRXTSHIFT, 12) ends it, with the same RST|ACK, at 511 s.
TEST_F(Bsd44, AnySegmentRearmsKeepSoTheRetransmissionLimitResets) {
  listen("bsd44", 5);
  auto x = syn(40001);  // IRS 1000
  ASSERT_EQ(x.size(), 1u);
  const uint32_t iss = x[0].tcp.seq;
  auto early = run_until(5s);  // SYN-ACKs at 1 s and 3 s
  EXPECT_EQ(early.size(), 2u);
  ASSERT_EQ(syn(40001).size(), 1u);  // retransmitted SYN: SYN-ACK again
  std::vector<Time> synacks;
  std::vector<Sent> rsts;
  for (const Sent& s : run_until(600s)) {
    if (s.is(f::SYN | f::ACK))
      synacks.push_back(s.at);
    else
      rsts.push_back(s);
  }
  EXPECT_EQ(synacks, (std::vector<Time>{7s, 15s, 31s, 63s, 127s, 191s, 255s, 319s, 383s, 447s}));
  ASSERT_EQ(rsts.size(), 1u);
  EXPECT_TRUE(rsts[0].is(f::RST | f::ACK));
  EXPECT_EQ(rsts[0].at, 511s);
  EXPECT_EQ(rsts[0].tcp.seq, iss + 1);
  EXPECT_EQ(rsts[0].tcp.ack, 1001u);
  EXPECT_EQ(half_open(), 0u);
  EXPECT_EQ(count(Counter::Tcp_AttemptFails), 1u);
  EXPECT_EQ(count(Counter::Tcp_OutRsts), 1u);
}

TEST_F(Bsd44, SegmentsToAnEmbryonicConnection) {
  listen("bsd44", 5);
  auto x = syn(40001);
  ASSERT_EQ(x.size(), 1u);
  const uint32_t iss = x[0].tcp.seq;
  auto dup = syn(40001);  // retransmitted SYN: SYN-ACK again
  ASSERT_EQ(dup.size(), 1u);
  EXPECT_TRUE(dup[0].is(f::SYN | f::ACK));
  EXPECT_EQ(dup[0].tcp.seq, iss);
  auto bad = ack(40001, 1001, iss + 7);  // wrong ack: RST, connection kept
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_TRUE(bad[0].is(f::RST));
  EXPECT_EQ(bad[0].tcp.seq, iss + 7);
  EXPECT_EQ(half_open(), 1u);
  peer.send(now, Seg().from(40001).to(80).rst().seq(1001));  // RST at rcv_nxt: closed silently
  EXPECT_TRUE(drain(server).empty());
  EXPECT_EQ(half_open(), 0u);
  EXPECT_EQ(count(Counter::Tcp_AttemptFails), 1u);
}

// bsd44.variant=lite2: 4.4BSD-Lite2 tcp_input() tests the flags before
// sonewconn() ("if ((tiflags & (TH_RST|TH_ACK|TH_SYN)) != TH_SYN)"), so a full
// listener still answers an ACK or SYN|ACK with a RST and only a pure SYN is
// refused silently. The same traffic under "lite" is the test above.
TEST_F(Bsd44, Lite2AnswersAnAckToAFullListenerWithARst) {
  trace_events();
  server.sysctls().bsd44_variant = "lite2";
  listen("bsd44", 2);  // four connections in total
  handshake(40001);
  handshake(40002);
  ASSERT_EQ(syn(40003).size(), 1u);
  ASSERT_EQ(syn(40004).size(), 1u);
  EXPECT_TRUE(syn(40005).empty());  // a pure SYN: sonewconn() refuses, silence
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 1u);
  auto out = ack(40006, 5000, 6000);  // a stray ACK: RST <SEQ=SEG.ACK>
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::RST));
  EXPECT_EQ(out[0].tcp.seq, 6000u);
  EXPECT_EQ(events.back().reason, ListenReason::ack_to_listener);
  peer.send(now, Seg().from(40007).to(80).syn().seq(5000).ack(6000));  // SYN|ACK: RST too
  out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::RST));
  EXPECT_EQ(out[0].tcp.seq, 6000u);
  peer.send(now, Seg().from(40008).to(80).rst().seq(5000));  // a RST: dropped
  peer.send(now, Seg().from(40009).to(80).seq(5000).fin());  // no SYN, no ACK: dropped
  EXPECT_TRUE(drain(server).empty());
  EXPECT_EQ(events.back().reason, ListenReason::no_syn_to_listener);
  // Only the pure SYN counted as an overflow.
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 1u);
  EXPECT_EQ(count(Counter::TcpExt_ListenDrops), 1u);
  EXPECT_EQ(count(Counter::Tcp_OutRsts), 2u);
  EXPECT_EQ(half_open(), 2u);
  EXPECT_EQ(accept_queue(), 2u);
}

TEST_F(Bsd44, VariantAndRexmtKnobsByName) {
  Sysctls& s = server.sysctls();
  EXPECT_EQ(s.get("bsd44.variant"), "lite");
  EXPECT_EQ(s.get("bsd44.rexmt"), "synq");
  EXPECT_TRUE(s.set("bsd44.variant", "lite2"));
  EXPECT_EQ(s.bsd44_variant, "lite2");
  EXPECT_TRUE(s.set("bsd44.rexmt", "historical"));
  EXPECT_EQ(s.bsd44_rexmt, "historical");
  std::string error;
  EXPECT_FALSE(s.set("bsd44.variant", "net3", &error));
  EXPECT_NE(error.find("lite|lite2"), std::string::npos) << error;
  EXPECT_FALSE(s.set("bsd44.rexmt", "1s", &error));
  EXPECT_NE(error.find("synq|historical"), std::string::npos) << error;
  EXPECT_EQ(s.bsd44_rexmt, "historical");
}

// bsd44.rexmt=historical: 4.4BSD's own timer. t_rxtcur starts at 12 ticks
// (6 s, tcp_newtcpcb); each expiry re-arms TCP_REXMTVAL (24 ticks, 12 s) ×
// tcp_backoff[t_rxtshift]: 24 s, then 48 s. SYN-ACKs at 0, 6, 30 s; the next
// would be at 78 s, so TCPT_KEEP (75 s) resets the connection first.
TEST_F(Bsd44, HistoricalScheduleSynAcksAtZeroSixThirtyRstAckAtSeventyFive) {
  trace_events();
  server.sysctls().bsd44_rexmt = "historical";
  listen("bsd44", 5);
  auto x = syn(40001);  // IRS 1000
  ASSERT_EQ(x.size(), 1u);
  const uint32_t iss = x[0].tcp.seq;
  auto out = run_until(800s);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].is(f::SYN | f::ACK));
  EXPECT_EQ(out[0].at, 6s);
  EXPECT_TRUE(out[1].is(f::SYN | f::ACK));
  EXPECT_EQ(out[1].at, 30s);
  EXPECT_TRUE(out[2].is(f::RST | f::ACK));
  EXPECT_EQ(out[2].at, 75s);
  EXPECT_EQ(out[2].tcp.seq, iss + 1);
  EXPECT_EQ(out[2].tcp.ack, 1001u);
  EXPECT_EQ(half_open(), 0u);
  EXPECT_EQ(events.back().reason, ListenReason::request_expired_bsd);
  EXPECT_EQ(count(Counter::Tcp_RetransSegs), 2u);
  EXPECT_EQ(count(Counter::Tcp_AttemptFails), 1u);
}

// The historical schedule with TCPT_KEEP re-armed (any segment after the
// SYN): REXMT runs to TCP_MAXRXTSHIFT. Intervals 6, 24, 48, then 64 s
// (TCPTV_REXMTMAX): SYN-ACKs at 78, 142, …, 654 s; the 13th expiry at 718 s
// gives up with RST|ACK.
TEST_F(Bsd44, HistoricalScheduleRearmedRunsToTheRetransmissionLimit) {
  server.sysctls().bsd44_rexmt = "historical";
  listen("bsd44", 5);
  auto x = syn(40001);
  ASSERT_EQ(x.size(), 1u);
  const uint32_t iss = x[0].tcp.seq;
  EXPECT_EQ(run_until(10s).size(), 1u);  // the 6 s SYN-ACK
  ASSERT_EQ(syn(40001).size(), 1u);      // retransmitted SYN at 10 s: dropafterack
  std::vector<Time> synacks;
  std::vector<Sent> rsts;
  for (const Sent& s : run_until(2000s)) {
    if (s.is(f::SYN | f::ACK))
      synacks.push_back(s.at);
    else
      rsts.push_back(s);
  }
  std::vector<Time> want{30s};
  for (int t = 78; t <= 654; t += 64) want.push_back(std::chrono::seconds(t));
  EXPECT_EQ(synacks, want);
  ASSERT_EQ(rsts.size(), 1u);
  EXPECT_TRUE(rsts[0].is(f::RST | f::ACK));
  EXPECT_EQ(rsts[0].at, 718s);
  EXPECT_EQ(rsts[0].tcp.seq, iss + 1);
  EXPECT_EQ(half_open(), 0u);
  // 12 by the timer and the one dropafterack sent for the retransmitted SYN.
  EXPECT_EQ(count(Counter::Tcp_RetransSegs), 13u);
}

// The knob is read when the SYN arrives: a connection keeps its schedule.
TEST_F(Bsd44, RexmtKnobAppliesToConnectionsOpenedAfterIt) {
  listen("bsd44", 5);
  ASSERT_EQ(syn(40001).size(), 1u);
  server.sysctls().bsd44_rexmt = "historical";
  ASSERT_EQ(syn(40002).size(), 1u);
  std::vector<Time> a, b;
  for (const Sent& s : run_until(10s)) (s.dport == 40001 ? a : b).push_back(s.at);
  EXPECT_EQ(a, (std::vector<Time>{1s, 3s, 7s}));
  EXPECT_EQ(b, (std::vector<Time>{6s}));
}

// 4.4BSD SYN_RECEIVED: "if (SEQ_GT(tp->snd_una, ti->ti_ack) ||
// SEQ_GT(ti->ti_ack, tp->snd_max)) goto dropwithreset": snd_una is ISS, so
// an ACK of ISS (acknowledging nothing) passes and the connection completes.
TEST_F(Bsd44, AckEqualToIssCompletesTheConnection) {
  trace_events();
  listen("bsd44", 5);
  auto x = syn(40001);
  ASSERT_EQ(x.size(), 1u);
  const uint32_t iss = x[0].tcp.seq;
  auto below = ack(40001, 1001, iss - 1);  // below ISS: RST, kept
  ASSERT_EQ(below.size(), 1u);
  EXPECT_TRUE(below[0].is(f::RST));
  EXPECT_EQ(half_open(), 1u);
  EXPECT_TRUE(ack(40001, 1001, iss).empty());  // ack = ISS: completes, nothing sent
  EXPECT_EQ(half_open(), 0u);
  EXPECT_EQ(accept_queue(), 1u);
  EXPECT_EQ(count(Counter::Tcp_PassiveOpens), 1u);
  EXPECT_EQ(events.back().reason, ListenReason::handshake_complete);
  // The child is established; the peer's data (ack ISS+1) is taken.
  auto fd = server.accept(lfd);
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(*server.state(*fd), TcpState::established);
  peer.send(now, Seg().from(40001).to(80).seq(1001).ack(iss + 1).psh().payload("hello"));
  drain(server);
  EXPECT_EQ(*server.readable_bytes(*fd), 5u);
}

// 4.4BSD SYN_RECEIVED, SYN in the window: "tp = tcp_drop(tp, ECONNRESET);
// goto dropwithreset": tcp_drop()'s tcp_output() in CLOSED sends RST|ACK
// <SEQ=ISS+1><ACK=IRS+1>, then dropwithreset answers the SYN itself with
// RST|ACK <SEQ=0><ACK=SEG.SEQ+1> (or RST <SEQ=SEG.ACK> if it carried an ACK).
TEST_F(Bsd44, InWindowSynGetsTwoRsts) {
  trace_events();
  listen("bsd44", 5);
  auto x = syn(40001);  // IRS 1000
  ASSERT_EQ(x.size(), 1u);
  const uint32_t iss = x[0].tcp.seq;
  peer.send(now, Seg().from(40001).to(80).syn().seq(1500).mss(1460));
  auto out = drain(server);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].is(f::RST | f::ACK));
  EXPECT_EQ(out[0].tcp.seq, iss + 1);
  EXPECT_EQ(out[0].tcp.ack, 1001u);
  EXPECT_TRUE(out[1].is(f::RST | f::ACK));
  EXPECT_EQ(out[1].tcp.seq, 0u);
  EXPECT_EQ(out[1].tcp.ack, 1501u);
  EXPECT_EQ(half_open(), 0u);
  EXPECT_EQ(events.back().reason, ListenReason::syn_in_window_bsd44);
  EXPECT_EQ(count(Counter::Tcp_OutRsts), 2u);
  EXPECT_EQ(count(Counter::Tcp_AttemptFails), 1u);
  // With an ACK on the SYN the second RST takes its sequence number from it.
  auto y = syn(40002);
  ASSERT_EQ(y.size(), 1u);
  peer.send(now, Seg().from(40002).to(80).syn().seq(1500).ack(7777));
  out = drain(server);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].is(f::RST | f::ACK));
  EXPECT_EQ(out[0].tcp.seq, y[0].tcp.seq + 1);
  EXPECT_TRUE(out[1].is(f::RST));
  EXPECT_EQ(out[1].tcp.seq, 7777u);
}

// 4.4BSD's left-edge trim takes the SYN off a segment at IRS ("tiflags &=
// ~TH_SYN; ti->ti_seq++;") and goes on with what is left unless nothing is
// left and it has no ACK: a SYN|ACK at IRS completes like an ACK (the
// self-connect case), a SYN with data at IRS and no ACK is dropped without a
// word; only a bare retransmitted SYN gets the SYN-ACK again.
TEST_F(Bsd44, SynAtIrsLosesItsSynInTheTrim) {
  trace_events();
  listen("bsd44", 5);
  auto x = syn(40001);  // IRS 1000
  ASSERT_EQ(x.size(), 1u);
  const uint32_t iss = x[0].tcp.seq;
  peer.send(now, Seg().from(40001).to(80).syn().seq(1000).payload("data"));
  EXPECT_TRUE(drain(server).empty());  // no ACK left: "goto drop"
  EXPECT_EQ(half_open(), 1u);
  EXPECT_EQ(events.back().reason, ListenReason::no_ack_to_request);
  peer.send(now, Seg().from(40001).to(80).syn().seq(1000).ack(iss + 1));
  EXPECT_TRUE(drain(server).empty());  // SYN|ACK at IRS: taken as the ACK
  EXPECT_EQ(half_open(), 0u);
  EXPECT_EQ(accept_queue(), 1u);
  EXPECT_EQ(count(Counter::Tcp_OutRsts), 0u);
  // A SYN|ACK with data at IRS: the data reaches the child.
  auto y = syn(40002);
  ASSERT_EQ(y.size(), 1u);
  peer.send(now, Seg().from(40002).to(80).syn().seq(1000).ack(y[0].tcp.seq + 1).payload("hello"));
  drain(server);
  ASSERT_EQ(accept_queue(), 2u);
  ASSERT_TRUE(server.accept(lfd).ok());
  auto fd = server.accept(lfd);
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(*server.readable_bytes(*fd), 5u);
}

// Issue 3 acceptance (d): listen(fd, 2) holds four connections; the fifth
// client's SYN vanishes, and its own SYN retransmission gets in after accept().
TEST(Bsd44TwoStacks, ListenTwoFourConnectionsFifthGetsInOnItsSynRetransmission) {
  Stack server{config("10.0.0.1", 1, "server")};
  Stack client{config("10.0.0.2", 2, "client")};
  client.sysctls().tcp_syn_linear_timeouts = 0;  // classic SYN backoff: 1, 3, 7 s
  Link link{client, server, 10ms};
  int lfd = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
  ASSERT_EQ(server.set_listen_model(lfd, "bsd44"), Errno::ok);
  ASSERT_EQ(server.listen(lfd, 2), Errno::ok);
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) {
    fds.push_back(*client.socket(SockType::stream));
    ASSERT_EQ(client.connect(fds.back(), ep("10.0.0.1", 80)), Errno::einprogress);
    link.run_for(50ms);  // each handshake finishes before the next starts
  }
  link.run_for(500ms);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*client.state(fds[i]), TcpState::established) << i;
  EXPECT_EQ(*client.state(fds[4]), TcpState::syn_sent);
  EXPECT_EQ(server.counters()[Counter::TcpExt_ListenOverflows], 1u);
  ASSERT_TRUE(server.accept(lfd).ok());  // at 0.75 s: qlen + acc = 3, room again
  link.run_for(1s);                      // the client's SYN retransmission (1 s after its SYN)
  EXPECT_EQ(*client.state(fds[4]), TcpState::established);
  const Endpoint fifth = *client.getsockname(fds[4]);
  auto syns =
      link.sent_by(client, [&](const Sent& s) { return s.is(f::SYN) && s.sport == fifth.port; });
  ASSERT_EQ(syns.size(), 2u);
  EXPECT_EQ(syns[1].at - syns[0].at, 1s);
  EXPECT_TRUE(link.sent_by(server, [](const Sent& s) { return s.tcp.flags & f::RST; }).empty());
  EXPECT_EQ(server.counters()[Counter::TcpExt_ListenOverflows], 1u);
}

// Closing the listener: soclose() aborts the embryonic connections first,
// oldest first, each with tcp_drop()'s RST|ACK; Linux leaves its requests to
// vanish silently (Listener.L32_…).
TEST_F(Bsd44, ClosingTheListenerResetsEmbryonicConnectionsOldestFirst) {
  expect_close_resets_embryonic_oldest_first("bsd44");
}

// issue 10 N13: 4.4BSD-Lite2 tcp_newtcpcb() "tp->t_maxseg = tcp_mssdflt;" (TCP_MSS 512) is
// only replaced by tcp_mss() from tcp_dooptions() "case TCPOPT_MAXSEG" — a SYN
// without the option leaves the connection sending 512-byte segments.
TEST(Bsd44NoMss, PeerWithoutMssOptionGets512ByteSegments) {
  const NoMssPeer r = write_to_peer_without_mss("bsd44", "10.0.0.1", "10.0.0.9");
  EXPECT_EQ(r.maxseg, 512);
  EXPECT_EQ(r.sizes, (std::vector<size_t>{512, 512, 512, 464}));
}

}  // namespace
}  // namespace synq::test
