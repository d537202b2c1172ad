// The xnu listener (spec §1, §5): one count of embryonic + completed
// connections against B, checked at SYN time; overflow evicts an embryonic
// connection before it drops the SYN. Named after spec §8.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace synq::test
