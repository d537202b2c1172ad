// The xnu listener (spec §1, §5): one count of embryonic + completed
// connections against B, checked at SYN time; overflow evicts an embryonic
// connection before it drops the SYN. Named after spec §8.
#include <gtest/gtest.h>

#include <array>

#include "stack_models_util.hpp"

namespace synq::test {
namespace {

using Xnu = ModelListener;

TEST_F(Xnu, L43_ZeroNegativeOrAboveSomaxconnBecomes128) {
  listen("xnu", 0);
  EXPECT_EQ(backlog(), 128u);
  ASSERT_EQ(server.listen(lfd, -5), Errno::ok);
  EXPECT_EQ(backlog(), 128u);
  ASSERT_EQ(server.listen(lfd, 129), Errno::ok);
  EXPECT_EQ(backlog(), 128u);
  ASSERT_EQ(server.listen(lfd, 3), Errno::ok);
  EXPECT_EQ(backlog(), 3u);
  EXPECT_EQ(listener_info().model, "xnu");
}

TEST_F(Xnu, RelistenKeepsQueues) {
  listen("xnu", 4);
  handshake(40001);
  ASSERT_EQ(syn(40002).size(), 1u);
  ASSERT_EQ(server.listen(lfd, 2), Errno::ok);
  EXPECT_EQ(accept_queue(), 1u);
  EXPECT_EQ(half_open(), 1u);
}

TEST_F(Xnu, L43_OverflowEvictsTheOldestEmbryonicConnection) {
  trace_events();
  listen("xnu", 2);
  auto a = syn(40001);
  auto b = syn(40002);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  auto c = syn(40003);  // full: 40001 (the oldest) is evicted, 40003 admitted
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(c[0].is(f::SYN | f::ACK));
  EXPECT_EQ(half_open(), 2u);
  EXPECT_EQ(count(Counter::FreeBSD_listendrop), 1u);
  EXPECT_EQ(count(Counter::Tcp_AttemptFails), 1u);
  // The victim learns nothing until its ACK finds no socket: RST.
  auto out = ack(40001, 1001, a[0].tcp.seq + 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, f::RST);
  // 40002 and 40003 complete.
  EXPECT_TRUE(ack(40002, 1001, b[0].tcp.seq + 1).empty());
  EXPECT_TRUE(ack(40003, 1001, c[0].tcp.seq + 1).empty());
  EXPECT_EQ(accept_queue(), 2u);
  bool evicted = false;
  for (const ListenEvent& e : events)
    evicted |= e.tuple.remote.port == 40001 && e.decision == ListenDecision::drop &&
               e.counter == Counter::Tcp_AttemptFails;
  EXPECT_TRUE(evicted);
}

TEST_F(Xnu, L43_NothingEmbryonicToEvictDropsTheSynSilently) {
  listen("xnu", 2);
  handshake(40001);
  handshake(40002);
  EXPECT_TRUE(syn(40003).empty());
  EXPECT_EQ(count(Counter::FreeBSD_listendrop), 1u);
  EXPECT_EQ(half_open(), 0u);
  // Half-open + complete never exceeds B, and room returns with accept().
  ASSERT_TRUE(server.accept(lfd).ok());
  EXPECT_EQ(syn(40003).size(), 1u);
  EXPECT_EQ(syn(40004).size(), 1u);  // full again: 40003, the only embryonic one, makes room
  EXPECT_EQ(half_open(), 1u);
  EXPECT_EQ(count(Counter::FreeBSD_listendrop), 2u);
  EXPECT_EQ(count(Counter::Tcp_AttemptFails), 1u);
}

TEST_F(Xnu, BareAckToAFullListenerGetsRst) {
  listen("xnu", 1);
  handshake(40001);
  auto out = ack(40009, 5000, 6000);  // the limit is checked only for a SYN
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, f::RST);
  EXPECT_EQ(out[0].tcp.seq, 6000u);
}

// xnu tcp_timers() TCPT_KEEP (state < ESTABLISHED) → tcp_drop(): RST|ACK
// <SEQ=ISS+1><ACK=IRS+1> at 75 s after the SYN.
TEST_F(Xnu, EmbryonicSynAckScheduleAndSeventyFiveSecondRstAck) {
  listen("xnu", 4);
  auto x = syn(40001);  // IRS 1000
  ASSERT_EQ(x.size(), 1u);
  const uint32_t iss = x[0].tcp.seq;
  std::vector<Time> synacks;
  std::vector<Sent> rsts;
  for (const Sent& s : run_until(80s)) {
    if (s.is(f::SYN | f::ACK))
      synacks.push_back(s.at);
    else
      rsts.push_back(s);
  }
  EXPECT_EQ(synacks, (std::vector<Time>{1s, 3s, 7s, 15s, 31s, 63s}));
  ASSERT_EQ(rsts.size(), 1u);
  EXPECT_TRUE(rsts[0].is(f::RST | f::ACK));
  EXPECT_EQ(rsts[0].at, 75s);
  EXPECT_EQ(rsts[0].tcp.seq, iss + 1);
  EXPECT_EQ(rsts[0].tcp.ack, 1001u);
  EXPECT_EQ(half_open(), 0u);
  EXPECT_EQ(count(Counter::Tcp_OutRsts), 1u);
}

// issue 10 N17: xnu-11417.101.15 tcp_timer.c "int tcp_keepinit = TCPTV_KEEP_INIT;" is
// the sysctl net.inet.tcp.keepinit (ms, sysctl_msec_to_ticks); tcp_input()'s LISTEN
// case arms TCPT_KEEP with TCP_CONN_KEEPINIT(tp) when the SYN comes. A change
// later does not move an armed timer.
TEST_F(Xnu, KeepinitKnobSetsTheEstablishmentTimer) {
  std::string err;
  EXPECT_EQ(server.sysctls().get("net.inet.tcp.keepinit"), "75000");
  EXPECT_FALSE(server.sysctls().set("net.inet.tcp.keepinit", "0", &err));
  ASSERT_TRUE(server.sysctls().set("net.inet.tcp.keepinit", "30000", &err)) << err;
  listen("xnu", 4);
  auto x = syn(40001);  // IRS 1000, keepinit 30 s
  ASSERT_EQ(x.size(), 1u);
  const uint32_t iss = x[0].tcp.seq;
  ASSERT_TRUE(server.sysctls().set("net.inet.tcp.keepinit", "10000", &err)) << err;
  std::vector<Sent> out = run_until(2s);
  auto y = syn(40002, 2000);  // keepinit 10 s, from 2 s
  ASSERT_EQ(y.size(), 1u);
  for (Sent& s : run_until(40s)) out.push_back(s);
  std::vector<Time> synacks;
  std::vector<Sent> rsts;
  for (const Sent& s : out) {
    if (s.is(f::SYN | f::ACK) && s.dport == 40001)
      synacks.push_back(s.at);
    else if (s.is(f::RST | f::ACK))
      rsts.push_back(s);
  }
  EXPECT_EQ(synacks, (std::vector<Time>{1s, 3s, 7s, 15s}));
  ASSERT_EQ(rsts.size(), 2u);
  EXPECT_EQ(rsts[0].dport, 40002);
  EXPECT_EQ(rsts[0].at, 12s);
  EXPECT_EQ(rsts[1].dport, 40001);
  EXPECT_EQ(rsts[1].at, 30s);
  EXPECT_EQ(rsts[1].tcp.seq, iss + 1);
  EXPECT_EQ(rsts[1].tcp.ack, 1001u);
  EXPECT_EQ(half_open(), 0u);
}

// bsd44 keeps 4.4BSD's compile-time TCPTV_KEEP_INIT whatever xnu's knob says.
TEST_F(Xnu, KeepinitKnobDoesNotMoveBsd44) {
  ASSERT_TRUE(server.sysctls().set("net.inet.tcp.keepinit", "30000"));
  listen("bsd44", 4);
  ASSERT_EQ(syn(40001).size(), 1u);
  std::vector<Time> rsts;
  for (const Sent& s : run_until(80s))
    if (s.is(f::RST | f::ACK)) rsts.push_back(s.at);
  EXPECT_EQ(rsts, (std::vector<Time>{75s}));
}

// ---- xnu's SYN_RECEIVED input (tcp_input, xnu-11417.101.15): RFC 5961
// challenges, answered with the SYN-ACK (tcp_output keeps TH_SYN there).

struct XnuEmbryonicTest : ModelListener {
  uint32_t iss = 0;  // of the one embryonic connection, IRS 1000
  void SetUp() override {
    listen("xnu", 4);
    auto x = syn(40001);
    ASSERT_EQ(x.size(), 1u);
    iss = x[0].tcp.seq;
  }
  std::vector<Sent> send(const Seg& s) {
    peer.send(now, Seg(s).from(40001).to(80));
    return drain(server);
  }
  void expect_synack(const std::vector<Sent>& out) {
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].is(f::SYN | f::ACK));
    EXPECT_EQ(out[0].tcp.seq, iss);
    EXPECT_EQ(out[0].tcp.ack, 1001u);
  }
  void expect_completes() {
    EXPECT_TRUE(ack(40001, 1001, iss + 1).empty());
    EXPECT_EQ(accept_queue(), 1u);
    EXPECT_EQ(half_open(), 0u);
  }
};

TEST_F(XnuEmbryonicTest, InWindowSynIsChallengedNotReset) {
  // A SYN with a new ISN inside the window: challenge (the SYN-ACK again),
  // the connection stays and still completes. 4.4BSD would RST and close.
  expect_synack(send(Seg().syn().seq(1500).mss(1460)));
  EXPECT_EQ(half_open(), 1u);
  EXPECT_EQ(count(Counter::Xnu_synchallenge), 1u);
  EXPECT_EQ(count(Counter::Tcp_AttemptFails), 0u);
  EXPECT_EQ(count(Counter::Tcp_OutRsts), 0u);
  expect_completes();
}

TEST_F(XnuEmbryonicTest, RetransmittedSynIsAChallengeToo) {
  // seq = IRS: the trim drops the SYN and finds nothing new; the answer is
  // TF_ACKNOW counted as tcps_synchallenge.
  expect_synack(send(Seg().syn().seq(1000).mss(1460)));
  EXPECT_EQ(count(Counter::Xnu_synchallenge), 1u);
  EXPECT_EQ(half_open(), 1u);
}

TEST_F(XnuEmbryonicTest, ChallengesAreLimitedToTenPerSecondPerConnection) {
  // tcp_is_ack_ratelimited: tcp_challengeack_limit (10) per 1 s window,
  // opened by the first challenge; in-window SYNs and RSTs share it.
  size_t answered = 0;
  for (int i = 0; i < 8; ++i) answered += send(Seg().syn().seq(1500 + i)).size();
  for (int i = 0; i < 6; ++i) answered += send(Seg().rst().seq(1100 + i)).size();
  EXPECT_EQ(answered, 10u);
  EXPECT_EQ(count(Counter::Xnu_synchallenge) + count(Counter::Xnu_rstchallenge), 10u);
  EXPECT_EQ(half_open(), 1u);
  now += 999ms;
  EXPECT_TRUE(send(Seg().syn().seq(1600)).empty());
  EXPECT_TRUE(send(Seg().syn().seq(1000)).empty());  // a retransmitted SYN too
  now += 1ms;  // one second after the window opened: a new window
  expect_synack(send(Seg().syn().seq(1600)));
  EXPECT_EQ(half_open(), 1u);
}

TEST_F(XnuEmbryonicTest, ChallengeLimitIsAKnob) {
  std::string err;
  ASSERT_TRUE(server.sysctls().set("net.inet.tcp.challengeack_limit", "2", &err)) << err;
  EXPECT_EQ(server.sysctls().get("net.inet.tcp.challengeack_limit"), "2");
  size_t answered = 0;
  for (int i = 0; i < 5; ++i) answered += send(Seg().syn().seq(1500 + i)).size();
  EXPECT_EQ(answered, 2u);
}

TEST_F(XnuEmbryonicTest, RstClosesOnlyAtLastAckSent) {
  // In window but not at last_ack_sent (IRS+1): challenge, connection kept.
  expect_synack(send(Seg().rst().seq(1005)));
  EXPECT_EQ(count(Counter::Xnu_rstchallenge), 1u);
  EXPECT_EQ(half_open(), 1u);
  // One below (IRS) with the window open: not acceptable, dropped silently.
  EXPECT_TRUE(send(Seg().rst().seq(1000)).empty());
  EXPECT_EQ(half_open(), 1u);
  // Beyond the window: dropped silently.
  EXPECT_TRUE(send(Seg().rst().seq(1001 + 200000)).empty());
  EXPECT_EQ(half_open(), 1u);
  EXPECT_EQ(count(Counter::Tcp_AttemptFails), 0u);
  // At last_ack_sent: closed (ECONNREFUSED, tcp_close), nothing sent.
  EXPECT_TRUE(send(Seg().rst().seq(1001)).empty());
  EXPECT_EQ(half_open(), 0u);
  EXPECT_EQ(count(Counter::Tcp_AttemptFails), 1u);
  EXPECT_EQ(count(Counter::Xnu_rstchallenge), 1u);
}

TEST_F(XnuEmbryonicTest, RstAckWithAWrongAckIsDroppedWhateverItsSeq) {
  // The SYN_RECEIVED ACK test runs first → dropwithreset, which never
  // answers a RST.
  EXPECT_TRUE(send(Seg().rst().ack_flag().seq(1001).ack(iss + 7)).empty());
  EXPECT_EQ(half_open(), 1u);
  // With the right ack it is an ordinary RST at last_ack_sent.
  EXPECT_TRUE(send(Seg().rst().ack_flag().seq(1001).ack(iss + 1)).empty());
  EXPECT_EQ(half_open(), 0u);
}

TEST_F(XnuEmbryonicTest, SeqBelowIrsGetsARstAndTheConnectionStays) {
  auto out = send(Seg().ack_flag().seq(990).ack(iss + 1));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, f::RST);
  EXPECT_EQ(out[0].tcp.seq, iss + 1);
  // A SYN below IRS: RST|ACK acknowledging it (seq 0, ack seq + 1).
  out = send(Seg().syn().seq(900));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, f::RST | f::ACK);
  EXPECT_EQ(out[0].tcp.ack, 901u);
  EXPECT_EQ(half_open(), 1u);
  EXPECT_EQ(count(Counter::Xnu_synchallenge), 0u);
  expect_completes();
}

TEST_F(XnuEmbryonicTest, AckEqualToIssGetsARst) {
  // SEQ_LEQ(th_ack, snd_una): ISS itself fails (4.4BSD lets it through).
  auto out = send(Seg().ack_flag().seq(1001).ack(iss));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, f::RST);
  EXPECT_EQ(out[0].tcp.seq, iss);
  EXPECT_EQ(half_open(), 1u);
  expect_completes();
}

// ---- tcp_dropdropablreq's burst rule: more calls in a second than embryonic
// connections → a pseudo-random walk into so_incomp, which may pass the tail.

// Under these stack seeds the third SYN below is dropped / admitted (found
// by running them; XnuBurst derives RandomULong() from the seed and port 80).
constexpr uint64_t kXnuBurstDropSeed = 1;
constexpr uint64_t kXnuBurstKeepSeed = 2;

struct XnuBurst {
  Stack server;
  FakePeer peer;
  int lfd = -1;
  explicit XnuBurst(uint64_t seed)
      : server(config("10.0.0.1", seed, "server")),
        peer(server, *IpAddr::parse("10.0.0.9"), *IpAddr::parse("10.0.0.1")) {
    lfd = *server.socket(SockType::stream);
    EXPECT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
    EXPECT_EQ(server.set_listen_model(lfd, "xnu"), Errno::ok);
    EXPECT_EQ(server.listen(lfd, 1), Errno::ok);
  }
  /// A SYN from `sport` at `at`: was it answered?
  bool syn(Time at, uint16_t sport) {
    peer.send(at, Seg().from(sport).to(80).syn().seq(1000).mss(1460));
    return !drain(server).empty();
  }
  size_t half_open() const { return server.impl().request_count(); }
  explicit XnuBurst(uint64_t seed, int backlog) : XnuBurst(seed) {
    EXPECT_EQ(server.listen(lfd, backlog), Errno::ok);
  }
  bool half_open_from(uint16_t sport) const {
    for (const SocketInfo& s : server.sockets())
      if (s.state == TcpState::syn_received && s.fd == -1 && s.remote.port == sport) return true;
    return false;
  }
};

TEST(XnuDropdropablreq, ThreeSynsInASecondOnListen1DropTheThirdAboutHalfTheTime) {
  // SYN 2 evicts SYN 1 (one call, not more than so_incqlen = 1); SYN 3 is
  // the second call in the second: j = ((1 + 1) * rnd) >> 16 is 0 or 1, and
  // 1 walks past the tail.
  int dropped = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    XnuBurst b(seed);
    ASSERT_TRUE(b.syn(Time{0}, 40001));
    ASSERT_TRUE(b.syn(100ms, 40002)) << "seed " << seed;  // never a burst: the oldest goes
    if (!b.syn(200ms, 40003)) {
      ++dropped;
      EXPECT_EQ(b.server.counters()[Counter::FreeBSD_listendrop], 2u);
    }
    EXPECT_EQ(b.half_open(), 1u);
  }
  EXPECT_GE(dropped, 70);   // 35 %
  EXPECT_LE(dropped, 130);  // 65 %
}

TEST(XnuDropdropablreq, TheSameSeedGivesTheSameOutcome) {
  // The two seeds go opposite ways; each repeats itself.
  for (int run = 0; run < 2; ++run) {
    XnuBurst dropped(kXnuBurstDropSeed), kept(kXnuBurstKeepSeed);
    for (XnuBurst* b : {&dropped, &kept}) {
      ASSERT_TRUE(b->syn(Time{0}, 40001));
      ASSERT_TRUE(b->syn(100ms, 40002));
    }
    EXPECT_FALSE(dropped.syn(200ms, 40003));
    EXPECT_TRUE(kept.syn(200ms, 40003));
  }
}

TEST(XnuDropdropablreq, UnderABurstTheVictimIsAnyPositionOrNone) {
  // listen(3): SYNs 4, 5 and 6 evict 1, 2 and 3 in turn (calls 1-3, not more
  // than so_incqlen = 3); SYN 7 is call 4 > 3: j = (4 * rnd) >> 16 steps
  // from the oldest of [4, 5, 6], and j = 3 drops SYN 7.
  std::array<int, 4> seen{};  // victim 4, 5, 6, or the SYN dropped
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    XnuBurst b(seed, 3);
    for (uint16_t i = 1; i <= 6; ++i)
      ASSERT_TRUE(b.syn(std::chrono::milliseconds(10 * i), static_cast<uint16_t>(40000 + i)));
    ASSERT_TRUE(b.half_open_from(40004) && b.half_open_from(40005) && b.half_open_from(40006));
    const bool admitted = b.syn(70ms, 40007);
    int gone = 0;
    for (uint16_t p = 40004; p <= 40006; ++p) {
      if (!b.half_open_from(p)) {
        ++seen[p - 40004];
        ++gone;
      }
    }
    EXPECT_EQ(gone, admitted ? 1 : 0) << "seed " << seed;
    EXPECT_EQ(b.half_open_from(40007), admitted);
    if (!admitted) ++seen[3];
  }
  for (int k = 0; k < 4; ++k) {
    EXPECT_GT(seen[k], 25) << k;  // each about 50 of 200
    EXPECT_LT(seen[k], 80) << k;
  }
}

TEST(XnuDropdropablreq, TheLastSecondsRateCarriesOverThenDecays) {
  // "old_cnt = cur_cnt / i": two calls in second 0 make second 1's first call
  // a burst (2 > 1); after a quiet second the rate is 0 and the oldest goes.
  int dropped_at_1s = 0;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    XnuBurst b(seed);
    ASSERT_TRUE(b.syn(Time{0}, 40001));
    ASSERT_TRUE(b.syn(100ms, 40002));
    b.syn(200ms, 40003);
    if (!b.syn(1100ms, 40004)) ++dropped_at_1s;
    // 3.5 s: i = 2 or 3 seconds since, cur_cnt / i is at most 1: no burst.
    EXPECT_TRUE(b.syn(3500ms, 40005)) << "seed " << seed;
    EXPECT_EQ(b.half_open(), 1u);
  }
  EXPECT_GT(dropped_at_1s, 20);
  EXPECT_LT(dropped_at_1s, 80);
}

TEST(XnuDropdropablreq, WithoutABurstTheOldestIsEvictedForEverySeed) {
  // One SYN a second on listen(1): each eviction is the only call in its
  // second and the previous second had one: never a burst, never a drop.
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    XnuBurst b(seed);
    for (int s = 0; s < 6; ++s)
      EXPECT_TRUE(b.syn(std::chrono::seconds(s), static_cast<uint16_t>(40001 + s)))
          << "seed " << seed << " second " << s;
    EXPECT_EQ(b.server.counters()[Counter::Tcp_AttemptFails], 5u);
  }
}

// Closing the listener: soclose() aborts the embryonic connections first,
// oldest first, each with tcp_drop()'s RST|ACK; Linux leaves its requests to
// vanish silently (Listener.L32_…).
TEST_F(Xnu, ClosingTheListenerResetsEmbryonicConnectionsOldestFirst) {
  expect_close_resets_embryonic_oldest_first("xnu");
}

// issue 10 N13: xnu-11417.101.15 tcp_newtcpcb() "tp->t_maxseg = tp->t_maxopd = isipv6 ?
// tcp_v6mssdflt : tcp_mssdflt;" (TCP6_MSS 1024, TCP_MSS 512); tcp_finalize_options()
// calls tcp_mss() only "if (to->to_flags & TOF_MSS)".
TEST(XnuNoMss, PeerWithoutMssOptionGets512ByteSegmentsOverIpv4) {
  const NoMssPeer r = write_to_peer_without_mss("xnu", "10.0.0.1", "10.0.0.9");
  EXPECT_EQ(r.maxseg, 512);
  EXPECT_EQ(r.sizes, (std::vector<size_t>{512, 512, 512, 464}));
}

TEST(XnuNoMss, PeerWithoutMssOptionGets1024ByteSegmentsOverIpv6) {
  const NoMssPeer r = write_to_peer_without_mss("xnu", "fd00::1", "fd00::9");
  EXPECT_EQ(r.maxseg, 1024);
  EXPECT_EQ(r.sizes, (std::vector<size_t>{1024, 976}));
}

}  // namespace
}  // namespace synq::test
