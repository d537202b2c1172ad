// The linux SYN-ACK timer beyond the plain schedule: pruning under pressure
// (spec §2, §8 L25) and TCP_DEFER_ACCEPT (§8 L30). Virtual time, exact.
#include <map>

#include "stack_linux_fixture.hpp"

namespace synq::test {
namespace {

using Timer = LinuxListener;

// What happened at each instant: SYN-ACKs sent and requests expired.
struct Schedule {
  std::map<Time, int> synacks;
  std::map<Time, int> expired;
};

Schedule record(Timer& t, Time until) {
  Schedule s;
  const size_t first_event = t.events.size();
  for (const Sent& p : t.run_until(until)) {
    EXPECT_TRUE(p.is(f::SYN | f::ACK));
    ++s.synacks[p.at];
  }
  for (size_t i = first_event; i < t.events.size(); ++i)
    if (t.events[i].decision == ListenDecision::expire) ++s.expired[t.events[i].time];
  return s;
}

TEST_F(Timer, L25_PruningExpiresOldRequestsEarlyWhenMoreThanHalfFull) {
  // B = 8, 8 silent requests at t = 0: 2*qlen = 16 > max(8, B) = 8, so
  // reqsk_timer_handler prunes: retries = 5, y = 2*young; while retries > 2
  // and qlen >= y: retries--, y <<= 1.
  //  1 s: young goes 8 → 0 as each timer fires (retries 5, 5, 5, 5, 4, 4, 3, 2):
  //       every request has num_timeout 0 < retries → 8 SYN-ACKs.
  //  3 s: young = 0 → y = 0 ≤ qlen → retries cut to 2; num_timeout 1 < 2 → 8 SYN-ACKs.
  //  7 s: num_timeout 2 ≥ 2 → the first request expires, qlen 8 → 7, and so
  //       on while 2*qlen > 8: four expire (at qlen 8, 7, 6, 5). At qlen 4,
  //       2*4 = 8 is not > 8: no pruning, retries 5, so the last four get a
  //       SYN-ACK at 7 s and the normal schedule: 15 s, 31 s, gone at 63 s.
  server.sysctls().tcp_syncookies = 0;
  listen(8);
  for (uint16_t p = 41000; p < 41008; ++p) ASSERT_EQ(syn(p).size(), 1u);
  const Schedule s = record(*this, 200s);
  EXPECT_EQ(s.synacks, (std::map<Time, int>{{1s, 8}, {3s, 8}, {7s, 4}, {15s, 4}, {31s, 4}}));
  EXPECT_EQ(s.expired, (std::map<Time, int>{{7s, 4}, {63s, 4}}));
  size_t pruned = 0;
  for (const ListenEvent& e : events)
    if (e.decision == ListenDecision::expire && listen_reason_key(e.reason) == "request_pruned")
      ++pruned;
  EXPECT_EQ(pruned, 4u);
  EXPECT_EQ(syn_recv_entries(), 0u);
  EXPECT_EQ(count(Counter::TcpExt_TCPTimeouts), 8u + 8 + 8 + 4 + 4 + 4);
}

TEST_F(Timer, L25_ACompletedRequestIsNoLongerYoung) {
  // Pruning reads young (requests whose timer never fired), so it shows
  // whether a completed request left the count: 8 SYNs, 2 of them complete
  // at once. qlen 6 and young 6 → 0 over the 1 s firings (no pruning then:
  // retries stay ≥ 3); at 3 s y = 0 cuts retries to 2; at 7 s two requests
  // expire (qlen 6 and 5: 2*qlen > 8), the last four live to 63 s.
  // Had the completions stayed young (8, not 6), young would still be 2
  // after 1 s, retries 4, and the first expiry would wait until 31 s.
  server.sysctls().tcp_syncookies = 0;
  listen(8);
  std::vector<Sent> synacks;
  for (uint16_t p = 2000; p < 2008; ++p) {
    auto sa = syn(p);
    ASSERT_EQ(sa.size(), 1u);
    synacks.push_back(sa[0]);
  }
  ASSERT_TRUE(ack(2000, 1000, synacks[0]).empty());
  ASSERT_TRUE(ack(2001, 1000, synacks[1]).empty());
  ASSERT_EQ(count(Counter::Tcp_PassiveOpens), 2u);
  const Schedule s = record(*this, 200s);
  EXPECT_EQ(s.synacks, (std::map<Time, int>{{1s, 6}, {3s, 6}, {7s, 4}, {15s, 4}, {31s, 4}}));
  EXPECT_EQ(s.expired, (std::map<Time, int>{{7s, 2}, {63s, 4}}));
}

TEST_F(Timer, L25_HalfFullOrLessKeepsTheFullSchedule) {
  server.sysctls().tcp_syncookies = 0;
  listen(8);
  for (uint16_t p = 41000; p < 41004; ++p) ASSERT_EQ(syn(p).size(), 1u);  // 2*4 = 8, not > 8
  const Schedule s = record(*this, 200s);
  EXPECT_EQ(s.synacks, (std::map<Time, int>{{1s, 4}, {3s, 4}, {7s, 4}, {15s, 4}, {31s, 4}}));
  EXPECT_EQ(s.expired, (std::map<Time, int>{{63s, 4}}));
}

TEST_F(Timer, L25_PruningCountsYoungRequestsPerListener) {
  // B = 8: five requests at 0 s, four more at 1.5 s.
  //  1 s:   qlen 5, 2*5 > 8 but y = 2*young ≥ 10 > 5: no cut; 5 SYN-ACKs, young 5 → 0.
  //  2.5 s: qlen 9, the new four fire with young 4, 3, 2, 1 → retries 4, 4, 3, 2;
  //         all have num_timeout 0: 4 SYN-ACKs, young → 0.
  //  3 s:   old five, y = 0 → retries 2, num_timeout 1: SYN-ACKs, next at 7 s.
  //  4.5 s: new four likewise, next at 8.5 s.
  //  7 s:   old five have num_timeout 2 ≥ 2: expire at qlen 9, 8, 7, 6, 5 (all > 8/2).
  //  8.5 s: qlen 4: no pruning, the new four keep 5 retries: 16.5, 32.5 s, gone at 64.5 s.
  server.sysctls().tcp_syncookies = 0;
  listen(8);
  for (uint16_t p = 41000; p < 41005; ++p) ASSERT_EQ(syn(p).size(), 1u);
  run_until(1500ms);
  for (uint16_t p = 42000; p < 42004; ++p) ASSERT_EQ(syn(p).size(), 1u);
  EXPECT_EQ(syn_recv_entries(), 9u);
  const Schedule s = record(*this, 200s);
  EXPECT_EQ(s.synacks,
            (std::map<Time, int>{
                {2500ms, 4}, {3s, 5}, {4500ms, 4}, {8500ms, 4}, {16500ms, 4}, {32500ms, 4}}));
  EXPECT_EQ(s.expired, (std::map<Time, int>{{7s, 5}, {64500ms, 4}}));
  for (const ListenEvent& e : events) {
    if (e.decision == ListenDecision::expire) {
      EXPECT_EQ(e.tuple.remote.port < 42000, e.time == 7s) << e.tuple.remote.port;
    }
  }
}

TEST_F(Timer, L30_DeferAcceptDropsTheBareAckAndWaitsForData) {
  listen(10);
  ASSERT_EQ(server.setsockopt(lfd, SockOpt::tcp_defer_accept, 3), Errno::ok);
  EXPECT_EQ(*server.getsockopt(lfd, SockOpt::tcp_defer_accept), 3);  // 2 retransmissions
  auto sa = syn(41000, 5000);
  ASSERT_EQ(sa.size(), 1u);
  now = 10ms;
  EXPECT_TRUE(ack(41000, 5000, sa[0]).empty());
  EXPECT_EQ(count(Counter::TcpExt_TCPDeferAcceptDrop), 1u);
  EXPECT_EQ(syn_recv_entries(), 1u);
  EXPECT_EQ(listener_info().recv_q, 0u);
  // syn_ack_recalc with defer 2: no SYN-ACK at 1 s (acked, 0 < 2 - 1), one at 3 s.
  auto out = run_until(2999ms);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(count(Counter::TcpExt_TCPTimeouts), 1u);
  out = run_until(3s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::SYN | f::ACK));
  EXPECT_EQ(out[0].tcp.seq, sa[0].tcp.seq);
  // Data on an ACK creates the child at once, which ACKs it at once (its
  // first data: quick-ACK mode, as Linux; tests/scripts/linux/defer-accept.pkt).
  now = 3100ms;
  const std::string data = "hello";
  auto reply = ack(41000, 5000, sa[0], {}, bytes(data));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_TRUE(reply[0].is(f::ACK));
  EXPECT_EQ(reply[0].tcp.ack, 5001u + data.size());
  EXPECT_EQ(count(Counter::Tcp_PassiveOpens), 1u);
  EXPECT_EQ(syn_recv_entries(), 0u);
  auto fd = server.accept(lfd);
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(*server.readable_bytes(*fd), data.size());
}

TEST_F(Timer, L30_DataBeforeTheFirstTimerCreatesTheChild) {
  listen(10);
  ASSERT_EQ(server.setsockopt(lfd, SockOpt::tcp_defer_accept, 3), Errno::ok);
  auto sa = syn(41000, 5000);
  ASSERT_EQ(sa.size(), 1u);
  EXPECT_TRUE(ack(41000, 5000, sa[0]).empty());          // bare: dropped
  auto reply = ack(41000, 5000, sa[0], {}, bytes("x"));  // the child ACKs its first data
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(reply[0].tcp.ack, 5002u);
  EXPECT_EQ(count(Counter::TcpExt_TCPDeferAcceptDrop), 1u);
  EXPECT_EQ(listener_info().recv_q, 1u);
}

TEST_F(Timer, L30_AfterTheDeferPeriodABareAckCompletes) {
  listen(10);
  ASSERT_EQ(server.setsockopt(lfd, SockOpt::tcp_defer_accept, 3), Errno::ok);
  auto sa = syn(41000, 5000);
  ASSERT_EQ(sa.size(), 1u);
  EXPECT_TRUE(ack(41000, 5000, sa[0]).empty());
  ASSERT_EQ(run_until(3s).size(), 1u);  // the SYN-ACK at 3 s; num_timeout is now 2
  now = 3010ms;
  EXPECT_TRUE(ack(41000, 5000, sa[0]).empty());
  EXPECT_EQ(count(Counter::TcpExt_TCPDeferAcceptDrop), 1u);
  EXPECT_EQ(listener_info().recv_q, 1u);
}

TEST_F(Timer, L30_AnAckedDeferredRequestThatNeverSendsDataExpiresAt63s) {
  listen(10);
  ASSERT_EQ(server.setsockopt(lfd, SockOpt::tcp_defer_accept, 3), Errno::ok);
  auto sa = syn(41000, 5000);
  ASSERT_EQ(sa.size(), 1u);
  EXPECT_TRUE(ack(41000, 5000, sa[0]).empty());
  const Schedule s = record(*this, 200s);
  EXPECT_EQ(s.synacks, (std::map<Time, int>{{3s, 1}, {7s, 1}, {15s, 1}, {31s, 1}}));
  EXPECT_EQ(s.expired, (std::map<Time, int>{{63s, 1}}));
  EXPECT_EQ(count(Counter::TcpExt_TCPTimeouts), 6u);
}

}  // namespace
}  // namespace synq::test
