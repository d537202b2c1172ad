// The freebsd listener (spec §1, §4): syncache, sonewconn's 3B/2 check at the
// ACK, FreeBSD's SYN-ACK schedule and SYN cookies. Named after spec §8.
#include <gtest/gtest.h>

#include "listen/freebsd_model.hpp"
#include "listen/syncookies_freebsd.hpp"
#include "stack_models_util.hpp"

namespace synq::test {
namespace {

using namespace std::chrono_literals;
using listen::FreeBsdCookieOptions;
using listen::FreeBsdSyncookies;
using FreeBsd = ModelListener;

TEST_F(FreeBsd, L36_NegativeOrAboveSoacceptqueueBecomes128) {
  listen("freebsd", -1);
  EXPECT_EQ(backlog(), 128u);
  ASSERT_EQ(server.listen(lfd, 129), Errno::ok);
  EXPECT_EQ(backlog(), 128u);
  ASSERT_EQ(server.listen(lfd, 0), Errno::ok);  // 0 stays 0: one completed connection
  EXPECT_EQ(backlog(), 0u);
  ASSERT_EQ(server.listen(lfd, 128), Errno::ok);
  EXPECT_EQ(backlog(), 128u);
  server.sysctls().kern_ipc_soacceptqueue = 1000;
  ASSERT_EQ(server.listen(lfd, 999), Errno::ok);
  EXPECT_EQ(backlog(), 999u);
}

TEST_F(FreeBsd, BacklogZeroHoldsOneCompletedConnection) {
  listen("freebsd", 0);
  handshake(40001);
  EXPECT_EQ(accept_queue(), 1u);
  Sent sa = syn(40002).at(0);  // the syncache still answers (L40)
  auto out = ack(40002, 1001, sa.tcp.seq + 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::RST));
  EXPECT_EQ(accept_queue(), 1u);
}

TEST_F(FreeBsd, RelistenKeepsCompletedConnections) {
  listen("freebsd", 4);
  handshake(40001);
  handshake(40002);
  ASSERT_EQ(server.listen(lfd, 1), Errno::ok);
  EXPECT_EQ(backlog(), 1u);
  EXPECT_EQ(accept_queue(), 2u);
}

// spec §4 / L37: B = 2 → 3*2/2 = 3, so sol_qlen 0..3 admit: four complete.
TEST_F(FreeBsd, L37_ThreeHalvesPlusOneCompleteThenSynAckThenRst) {
  trace_events();
  listen("freebsd", 2);
  for (uint16_t p = 40001; p <= 40004; ++p) handshake(p);
  EXPECT_EQ(accept_queue(), 4u);
  auto sa = syn(40005);
  ASSERT_EQ(sa.size(), 1u);  // the syncache never looks at the accept queue
  EXPECT_TRUE(sa[0].is(f::SYN | f::ACK));
  auto out = ack(40005, 1001, sa[0].tcp.seq + 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, f::RST);
  EXPECT_EQ(out[0].tcp.seq, sa[0].tcp.seq + 1);  // seq = the ACK's ack
  EXPECT_EQ(count(Counter::FreeBSD_listendrop), 1u);
  EXPECT_EQ(count(Counter::FreeBSD_sc_aborted), 1u);
  EXPECT_EQ(count(Counter::FreeBSD_sc_completed), 4u);
  EXPECT_EQ(half_open(), 0u);  // the entry left the syncache
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0],
            "sonewconn: pcb (10.0.0.1:80 (proto 6)): Listen queue overflow: 4 already in queue "
            "awaiting acceptance (1 occurrences), euid 0, rgid 0, jail 0");
  EXPECT_EQ(events.back().counter, Counter::FreeBSD_listendrop);
  // The log line is rate limited to one a minute, with the count of the rest.
  auto sb = syn(40006);
  ack(40006, 1001, sb.at(0).tcp.seq + 1);
  EXPECT_EQ(logs.size(), 1u);
  EXPECT_EQ(count(Counter::FreeBSD_listendrop), 2u);
  run_until(61s);
  auto sc = syn(40007);
  ack(40007, 1001, sc.at(0).tcp.seq + 1);
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_NE(logs[1].find("4 already in queue awaiting acceptance (2 occurrences), euid 0, rgid "
                         "0, jail 0"),
            std::string::npos);
}

// uipc_socket.c solisten_clone: the rate limit is the listener's own
// (head->sol_lastover, head->sol_overcount): another listener's overflow logs
// at once, and each counts only its own occurrences.
TEST_F(FreeBsd, OverflowLogIsRateLimitedPerListener) {
  trace_events();
  listen("freebsd", 0);
  const int other = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(other, ep("10.0.0.1", 81)), Errno::ok);
  ASSERT_EQ(server.set_listen_model(other, "freebsd"), Errno::ok);
  ASSERT_EQ(server.listen(other, 0), Errno::ok);
  handshake(40001);
  auto a = syn(40002);
  ack(40002, 1001, a.at(0).tcp.seq + 1);  // port 80 overflows: logged
  auto b = syn(40003);
  ack(40003, 1001, b.at(0).tcp.seq + 1);  // within the minute: counted, not logged
  ASSERT_EQ(logs.size(), 1u);
  // Port 81: its first completion is queued, the second overflows and logs now.
  for (uint16_t p : {40004, 40005}) {
    peer.send(now, Seg().from(p).to(81).syn().seq(1000).mss(1460));
    auto sa = drain(server);
    ASSERT_EQ(sa.size(), 1u);
    peer.send(now, Seg().from(p).to(81).seq(1001).ack(sa[0].tcp.seq + 1));
    drain(server);
  }
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[1],
            "sonewconn: pcb (10.0.0.1:81 (proto 6)): Listen queue overflow: 1 already in queue "
            "awaiting acceptance (1 occurrences), euid 0, rgid 0, jail 0");
}

TEST_F(FreeBsd, L38_NoRstOnSockFailDropsAckAndALaterAckGetsRst) {
  server.sysctls().freebsd_syncache_rst_on_sock_fail = 0;
  listen("freebsd", 0);
  handshake(40001);
  auto sa = syn(40002);
  ASSERT_EQ(sa.size(), 1u);
  EXPECT_TRUE(ack(40002, 1001, sa[0].tcp.seq + 1).empty());  // silence
  EXPECT_EQ(count(Counter::FreeBSD_listendrop), 1u);
  EXPECT_EQ(half_open(), 0u);
  now += 200ms;
  auto out = ack(40002, 1001, sa[0].tcp.seq + 1);  // the client's next ACK: no entry now
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, f::RST);
  EXPECT_EQ(out[0].tcp.seq, sa[0].tcp.seq + 1);
}

TEST_F(FreeBsd, L39_SilentPeerSynAcksAtFreeBsdScheduleEntryGoneAt15_6s) {
  trace_events();
  listen("freebsd", 8);
  auto first = syn(40001);
  ASSERT_EQ(first.size(), 1u);
  auto out = run_until(30s);
  std::vector<Time> at;
  for (const Sent& s : out) {
    EXPECT_TRUE(s.is(f::SYN | f::ACK));
    EXPECT_EQ(s.tcp.seq, first[0].tcp.seq);
    at.push_back(s.at);
  }
  EXPECT_EQ(at, (std::vector<Time>{1000ms, 3200ms, 7400ms}));
  EXPECT_EQ(half_open(), 0u);
  EXPECT_EQ(events.back().decision, ListenDecision::expire);
  EXPECT_EQ(events.back().time, 15600ms);
  EXPECT_EQ(count(Counter::FreeBSD_sc_stale), 1u);
  EXPECT_EQ(count(Counter::FreeBSD_sc_retransmitted), 3u);
  // The formula behind it (syncache_timeout).
  EXPECT_EQ(listen::FreeBsdModel::rexmt_after(1), 1000ms);
  EXPECT_EQ(listen::FreeBsdModel::rexmt_after(2), 2200ms);
  EXPECT_EQ(listen::FreeBsdModel::rexmt_after(4), 8200ms);
  EXPECT_EQ(listen::FreeBsdModel::rexmt_after(20), 64s);  // TCPTV_REXMTMAX
}

TEST_F(FreeBsd, RexmtLimitOneGivesUpAfterOneRetransmission) {
  server.sysctls().freebsd_syncache_rexmtlimit = 1;
  listen("freebsd", 8);
  ASSERT_EQ(syn(40001).size(), 1u);
  auto out = run_until(30s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].at, 1s);
  EXPECT_EQ(count(Counter::FreeBSD_sc_stale), 1u);
}

TEST_F(FreeBsd, L40_SynsAreNeverDroppedForAFullAcceptQueue) {
  listen("freebsd", 1);  // 3*1/2 = 1: two complete
  handshake(40001);
  handshake(40002);
  for (uint16_t p = 41000; p < 41020; ++p) {
    auto out = syn(p);
    ASSERT_EQ(out.size(), 1u) << p;
    EXPECT_TRUE(out[0].is(f::SYN | f::ACK));
  }
  EXPECT_EQ(half_open(), 20u);
  EXPECT_EQ(count(Counter::FreeBSD_listendrop), 0u);
  EXPECT_EQ(count(Counter::FreeBSD_sc_added), 22u);
}

TEST_F(FreeBsd, DuplicateSynResendsSynAckAndRestartsTheSchedule) {
  listen("freebsd", 8);
  auto first = syn(40001);
  ASSERT_EQ(first.size(), 1u);
  run_until(2s);  // one retransmission at 1 s; the next was due at 3.2 s
  auto dup = syn(40001, 1000);
  ASSERT_EQ(dup.size(), 1u);
  EXPECT_EQ(dup[0].tcp.seq, first[0].tcp.seq);
  EXPECT_EQ(count(Counter::FreeBSD_sc_dupsyn), 1u);
  auto out = run_until(6s);
  std::vector<Time> at;
  for (const Sent& s : out) at.push_back(s.at);
  EXPECT_EQ(at, (std::vector<Time>{3s, 5200ms}));  // 2 s + 1 s, then + 2.2 s
}

TEST_F(FreeBsd, RstAndSynAckToAnEntry) {
  listen("freebsd", 8);
  auto a = syn(40001);
  peer.send(now,
            Seg().from(40001).to(80).rst().seq(1005));  // in window, not at IRS+1: challenge ACK
  auto out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, f::ACK);
  EXPECT_EQ(half_open(), 1u);
  peer.send(now, Seg().from(40001).to(80).rst().seq(1001));  // exactly IRS+1: entry gone
  EXPECT_TRUE(drain(server).empty());
  EXPECT_EQ(half_open(), 0u);
  EXPECT_EQ(count(Counter::FreeBSD_sc_reset), 1u);
  syn(40002);
  peer.send(now, Seg().from(40002).to(80).syn().seq(1000).ack(77));
  out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, f::RST);
  EXPECT_EQ(count(Counter::FreeBSD_sc_badack), 1u);
  EXPECT_EQ(half_open(), 0u);
}

TEST_F(FreeBsd, WrongAckFreesTheEntryAndGetsRst) {
  listen("freebsd", 8);
  auto sa = syn(40001);
  auto out = ack(40001, 1001, sa.at(0).tcp.seq + 9);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, f::RST);
  EXPECT_EQ(out[0].tcp.seq, sa.at(0).tcp.seq + 9);
  EXPECT_EQ(half_open(), 0u);  // unlike Linux, the entry is gone
}

// spec §4: a bucket overflow drops that bucket's oldest entry and switches to
// cookies for a while; the dropped entry's ISS was a cookie, so it completes.
TEST_F(FreeBsd, BucketOverflowDropsOldestPausesAndTheDroppedEntryCompletesByCookie) {
  server.sysctls().freebsd_syncache_hashsize = 1;  // one bucket: every tuple collides
  server.sysctls().freebsd_syncache_bucketlimit = 2;
  listen("freebsd", 8);
  auto a = syn(40001);
  auto b = syn(40002);
  auto c = syn(40003);  // bucket full: 40001's entry goes, the syncache pauses
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(half_open(), 2u);
  EXPECT_EQ(count(Counter::FreeBSD_sc_bucketoverflow), 1u);
  auto d = syn(40004);  // paused: a cookie, nothing stored
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(half_open(), 2u);
  EXPECT_EQ(count(Counter::FreeBSD_sc_sendcookie), 4u);  // every ISS was a cookie
  EXPECT_TRUE(ack(40001, 1001, a.at(0).tcp.seq + 1).empty());
  EXPECT_TRUE(ack(40004, 1001, d.at(0).tcp.seq + 1).empty());
  EXPECT_EQ(count(Counter::FreeBSD_sc_recvcookie), 2u);
  EXPECT_EQ(accept_queue(), 2u);
  // A forged ACK is no cookie: RST.
  auto out = ack(40005, 1001, 0x12345678);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, f::RST);
}

TEST_F(FreeBsd, CookieAckIsRefusedWithoutARecentOverflow) {
  server.sysctls().freebsd_syncache_hashsize = 1;
  server.sysctls().freebsd_syncache_bucketlimit = 1;
  listen("freebsd", 8);
  auto a = syn(40001);
  syn(40002);  // 40001's entry dropped at 0 s
  now = 16s;   // the bucket's overflow is more than 15 s old (the pause ended at 15 s)
  auto out = ack(40001, 1001, a.at(0).tcp.seq + 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, f::RST);
  EXPECT_EQ(count(Counter::FreeBSD_sc_recvcookie), 0u);
}

TEST_F(FreeBsd, SyncookiesOnlyStoresNothingAndNeverRetransmits) {
  server.sysctls().freebsd_syncookies_only = 1;
  listen("freebsd", 8);
  wire::TcpOptions o;
  o.has_mss = true;
  o.mss = 1300;  // → 1200
  o.has_wscale = true;
  o.wscale = 5;  // → 4
  o.sack_permitted = true;
  auto sa = syn(40001, 1000, o);
  ASSERT_EQ(sa.size(), 1u);
  EXPECT_EQ(half_open(), 0u);
  EXPECT_EQ(count(Counter::FreeBSD_sc_sendcookie), 1u);
  EXPECT_TRUE(run_until(20s).empty());  // never retransmitted
}

TEST_F(FreeBsd, CookieCompletionCarriesTableMss) {
  server.sysctls().freebsd_syncookies_only = 1;
  listen("freebsd", 8);
  wire::TcpOptions o;
  o.has_mss = true;
  o.mss = 1300;
  auto sa = syn(40001, 1000, o);
  ASSERT_EQ(sa.size(), 1u);
  EXPECT_TRUE(ack(40001, 1001, sa[0].tcp.seq + 1).empty());
  EXPECT_EQ(count(Counter::FreeBSD_sc_recvcookie), 1u);
  auto child = server.accept(lfd);
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(*server.state(*child), TcpState::established);
  ASSERT_NE(server.impl().connection_of(*child), nullptr);
  EXPECT_EQ(server.impl().connection_of(*child)->mss(), 1200);  // 1300 rounded down
}

// issue 10 item 7: syncache_add sets sc_peer_mss only "if (to->to_flags &
// TOF_MSS)"; without the option it stays 0, syncookie_generate rounds 0 down
// to tcp_sc_msstab[0] and syncookie_lookup gives the connection MSS 216.
TEST_F(FreeBsd, CookieCompletionWithoutMssOptionGets216) {
  server.sysctls().freebsd_syncookies_only = 1;
  listen("freebsd", 8);
  auto sa = syn(40001, 1000, wire::TcpOptions{});
  ASSERT_EQ(sa.size(), 1u);
  EXPECT_EQ(half_open(), 0u);
  EXPECT_TRUE(ack(40001, 1001, sa[0].tcp.seq + 1).empty());
  EXPECT_EQ(count(Counter::FreeBSD_sc_recvcookie), 1u);
  auto child = server.accept(lfd);
  ASSERT_TRUE(child.ok());
  ASSERT_NE(server.impl().connection_of(*child), nullptr);
  EXPECT_EQ(server.impl().connection_of(*child)->mss(), 216);
}

// The same SYN completed through its syncache entry (not the cookie): tcp_mss
// gets offer 0, "no MSS on the SYN segment", and uses tcp_mssdflt, 536.
TEST_F(FreeBsd, EntryCompletionWithoutMssOptionGets536) {
  listen("freebsd", 8);
  auto sa = syn(40001, 1000, wire::TcpOptions{});
  ASSERT_EQ(sa.size(), 1u);
  EXPECT_EQ(half_open(), 1u);
  EXPECT_TRUE(ack(40001, 1001, sa[0].tcp.seq + 1).empty());
  EXPECT_EQ(count(Counter::FreeBSD_sc_recvcookie), 0u);
  auto child = server.accept(lfd);
  ASSERT_TRUE(child.ok());
  ASSERT_NE(server.impl().connection_of(*child), nullptr);
  EXPECT_EQ(server.impl().connection_of(*child)->mss(), 536);
}

// issue 10 item 9: syncache_pause logs "TCP syncache overflow detected; using
// syncookies for the next %lld seconds" when it starts a pause (not while
// one runs); a renewed overflow soon after doubles the pause, and says so.
TEST_F(FreeBsd, PauseLogsItsLengthOncePerPause) {
  trace_events();
  server.sysctls().freebsd_syncache_hashsize = 1;
  server.sysctls().freebsd_syncache_bucketlimit = 1;
  listen("freebsd", 8);
  syn(40001);
  syn(40002);  // overflow: pause 15 s
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0], "TCP syncache overflow detected; using syncookies for the next 15 seconds");
  // The eviction carries the line (ListenEvent::log is only valid during the
  // callback, which copied it to logs); then 40002's entry.
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2].reason, ListenReason::evicted_bucket_overflow);
  EXPECT_EQ(events.back().reason, ListenReason::request_created_freebsd);
  now = 1s;
  syn(40003);  // paused: a cookie, no entry, no overflow, no line
  EXPECT_EQ(logs.size(), 1u);
  run_until(16s);  // the pause ended at 15 s; the bucket's timer emptied it at 1 s
  EXPECT_EQ(half_open(), 0u);
  syn(40004);
  syn(40005);  // overflow again within 15 s of the last pause's end: 30 s
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[1], "TCP syncache overflow detected; using syncookies for the next 30 seconds");
  EXPECT_EQ(count(Counter::FreeBSD_sc_bucketoverflow), 2u);
}

// With cookies off the syncache cannot pause: every overflow counts, no line.
TEST_F(FreeBsd, OverflowWithCookiesOffCountsEveryTimeAndLogsNothing) {
  trace_events();
  server.sysctls().freebsd_syncookies = 0;
  server.sysctls().freebsd_syncache_hashsize = 1;
  server.sysctls().freebsd_syncache_bucketlimit = 1;
  listen("freebsd", 8);
  syn(40001);
  syn(40002);
  syn(40003);
  EXPECT_EQ(count(Counter::FreeBSD_sc_bucketoverflow), 2u);
  EXPECT_TRUE(logs.empty());
  EXPECT_EQ(half_open(), 1u);
}

// issue 10 item 8: FreeBSD has one timer per bucket, at sch_nextc, which only
// moves earlier until it fires. A dropped entry's time stays the callout, and
// syncache_timer, paused, drops every entry of the bucket ("if (paused) {
// syncache_drop(sc, sch); continue; }" comes before the sc_rxttime test).
TEST_F(FreeBsd, PausedBucketTimerDropsTheWholeBucketAtTheDroppedEntrysTime) {
  trace_events();
  server.sysctls().freebsd_syncache_hashsize = 1;
  server.sysctls().freebsd_syncache_bucketlimit = 2;
  listen("freebsd", 8);
  syn(40001);  // due 1.0 s: the bucket's callout
  now = 500ms;
  syn(40002);  // due 1.5 s
  now = 600ms;
  syn(40003);  // overflow: pause, 40001 dropped; 40003 due 1.6 s
  EXPECT_EQ(half_open(), 2u);
  events.clear();
  EXPECT_TRUE(run_until(20s).empty());  // no SYN-ACK is retransmitted
  EXPECT_EQ(half_open(), 0u);
  ASSERT_EQ(events.size(), 2u);
  for (const ListenEvent& e : events) {
    EXPECT_EQ(e.reason, ListenReason::syncache_paused);
    EXPECT_EQ(e.time, 1s);  // 40001's time, not 1.5 s and 1.6 s
  }
  EXPECT_EQ(events[0].tuple.remote.port, 40003);  // newest first (TAILQ head)
  EXPECT_EQ(events[1].tuple.remote.port, 40002);
  EXPECT_EQ(count(Counter::FreeBSD_sc_stale), 0u);  // syncache_drop counts nothing
}

// The paused drop takes entries that are not due, even ones whose own time is
// after the pause: 40002 (next SYN-ACK at 31.9 s) goes at 17 s with the rest
// of its bucket, so the pause ending at 31 s does not bring it back.
TEST_F(FreeBsd, PausedBucketTimerDropsEntriesDueAfterThePause) {
  trace_events();
  server.sysctls().freebsd_syncache_hashsize = 1;
  server.sysctls().freebsd_syncache_bucketlimit = 3;
  server.sysctls().freebsd_syncache_rexmtlimit = 6;
  listen("freebsd", 8);
  syn(40001);
  now = 100ms;
  syn(40002);
  auto out = run_until(16s);  // both at 1, 3.2, 7.4, 15.6 s (+0.1 s for 40002)
  EXPECT_EQ(out.size(), 8u);
  syn(40003);  // due 17 s
  syn(40004);  // overflow: pause until 31 s, 40001 dropped
  EXPECT_EQ(count(Counter::FreeBSD_sc_bucketoverflow), 1u);
  EXPECT_EQ(half_open(), 3u);
  events.clear();
  EXPECT_TRUE(run_until(40s).empty());  // nothing at 31.9 s
  EXPECT_EQ(half_open(), 0u);
  ASSERT_EQ(events.size(), 3u);
  for (const ListenEvent& e : events) {
    EXPECT_EQ(e.reason, ListenReason::syncache_paused);
    EXPECT_EQ(e.time, 17s);
  }
}

// Unpaused, the bucket's timer sends each due entry's SYN-ACK and leaves the
// others to their own time: a stale callout changes nothing on the wire.
TEST_F(FreeBsd, BucketTimerRetransmitsOnlyDueEntries) {
  server.sysctls().freebsd_syncache_hashsize = 1;
  listen("freebsd", 8);
  auto a = syn(40001);  // due 1.0 s: the bucket's callout
  now = 500ms;
  syn(40002);  // due 1.5 s
  now = 600ms;
  ASSERT_TRUE(ack(40001, 1001, a.at(0).tcp.seq + 1).empty());  // gone; the callout stays at 1 s
  auto out = run_until(4s);
  std::vector<Time> at;
  for (const Sent& s : out) at.push_back(s.at);
  EXPECT_EQ(at, (std::vector<Time>{1500ms, 3700ms}));
}

// ---------------------------------------------------------------- cookie codec

struct FreeBsdCookies : ::testing::Test {
  FreeBsdSyncookies c{std::array<uint8_t, 16>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};
  FourTuple t{ep("10.0.0.1", 80), ep("10.0.0.9", 4000)};
};

TEST_F(FreeBsdCookies, RoundTripRestoresTheTableValues) {
  FreeBsdCookieOptions o{1460, true, 7, true};
  const uint32_t iss = c.generate(t, 5000, o, 17, 1s);
  auto back = c.check(t, 5001, iss + 1, 17, 2s);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, o);
  // Another tuple, IRS or bucket: not a cookie of ours.
  EXPECT_FALSE(c.check(FourTuple{ep("10.0.0.1", 80), ep("10.0.0.9", 4001)}, 5001, iss + 1, 17, 2s));
  EXPECT_FALSE(c.check(t, 5002, iss + 1, 17, 2s));
  EXPECT_FALSE(c.check(t, 5001, iss + 1, 18, 2s));
  EXPECT_FALSE(c.check(t, 5001, iss + 1 + 256, 17, 2s));
}

TEST_F(FreeBsdCookies, MssAndWscaleRoundDownToTheirTables) {
  EXPECT_EQ(FreeBsdSyncookies::mss_index(0), 0u);    // no MSS option: sc_peer_mss 0
  EXPECT_EQ(FreeBsdSyncookies::mss_index(100), 0u);  // below 216: still index 0
  EXPECT_EQ(FreeBsdSyncookies::mss_index(536), 1u);
  EXPECT_EQ(FreeBsdSyncookies::mss_index(1359), 2u);  // → 1200
  EXPECT_EQ(FreeBsdSyncookies::mss_index(1460), 7u);
  EXPECT_EQ(FreeBsdSyncookies::mss_index(9000), 7u);
  EXPECT_EQ(FreeBsdSyncookies::wscale_index(0), 1u);
  EXPECT_EQ(FreeBsdSyncookies::wscale_index(3), 3u);   // → 2
  EXPECT_EQ(FreeBsdSyncookies::wscale_index(14), 7u);  // → 8
  // Layout: mss in bits 5-7, wscale in 2-4, SACK bit 1, parity bit 0.
  EXPECT_EQ(FreeBsdSyncookies::cookie_byte({1440, true, 6, true}, 1), (5 << 5) | (5 << 2) | 2 | 1);
  EXPECT_EQ(FreeBsdSyncookies::cookie_byte({536, false, 9, false}, 0), 1 << 5);
  auto back = c.check(t, 1, c.generate(t, 0, {1300, true, 5, false}, 0, 0s) + 1, 0, 0s);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->mss, 1200);
  EXPECT_EQ(back->wscale, 4);
  EXPECT_FALSE(back->sack_ok);
}

TEST_F(FreeBsdCookies, SecretsRotateEvery15sSoACookieLives15To30s) {
  const FreeBsdCookieOptions o{1460, false, 0, false};
  const uint32_t iss = c.generate(t, 1, o, 3, 14s);  // rotation 0, even secret
  EXPECT_EQ(FreeBsdSyncookies::current_parity(14s), 0u);
  EXPECT_EQ(FreeBsdSyncookies::current_parity(15s), 1u);
  EXPECT_TRUE(c.check(t, 2, iss + 1, 3, 29999ms));  // rotation 1: still in its slot
  EXPECT_FALSE(c.check(t, 2, iss + 1, 3, 30s));     // rotation 2 replaced the even secret
  const uint32_t later = c.generate(t, 1, o, 3, 15s);
  EXPECT_NE(later, iss);  // a new secret, a new cookie
  EXPECT_TRUE(c.check(t, 2, later + 1, 3, 44s));
  EXPECT_FALSE(c.check(t, 2, later + 1, 3, 45s));
}

// issue 10 N13: FreeBSD tcp_newtcpcb() "tp->t_maxseg = isipv6 ? V_tcp_v6mssdflt :
// V_tcp_mssdflt;" (TCP6_MSS 1220, TCP_MSS 536), kept by tcp_mss_update() for
// syncache_socket's offer 0. IPv4 is Linux's 536 (the default both families get
// on a linux listener); IPv6 differs.
TEST(FreeBsdNoMss, PeerWithoutMssOptionGets536ByteSegmentsOverIpv4) {
  const NoMssPeer r = write_to_peer_without_mss("freebsd", "10.0.0.1", "10.0.0.9");
  EXPECT_EQ(r.maxseg, 536);
  EXPECT_EQ(r.sizes, (std::vector<size_t>{536, 536, 536, 392}));
}

TEST(FreeBsdNoMss, PeerWithoutMssOptionGets1220ByteSegmentsOverIpv6) {
  const NoMssPeer r = write_to_peer_without_mss("freebsd", "fd00::1", "fd00::9");
  EXPECT_EQ(r.maxseg, 1220);
  EXPECT_EQ(r.sizes, (std::vector<size_t>{1220, 780}));
  // A linux listener keeps 536 for IPv6 too (tcp_openreq_init: TCP_MSS_DEFAULT).
  EXPECT_EQ(write_to_peer_without_mss("linux", "fd00::1", "fd00::9").maxseg, 536);
}

}  // namespace
}  // namespace synq::test
