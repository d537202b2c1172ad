// SimNetwork on its own, with scripted nodes: timing of links, queues, loss,
// event order, timers, hooks, determinism.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "drivers/sim/sim_network.hpp"
#include "drivers_test_support.hpp"

namespace synq::sim {
namespace {

using testing::Arrival;
using testing::ipv4_packet;
using testing::ScriptedNode;

const IpAddr kA = IpAddr::v4(10, 0, 0, 1);
const IpAddr kB = IpAddr::v4(10, 0, 0, 2);

// Two scripted nodes joined by one link.
struct Pair {
  explicit Pair(uint64_t seed, LinkParams ab, LinkParams ba) : net(seed) {
    auto na = std::make_unique<ScriptedNode>();
    auto nb = std::make_unique<ScriptedNode>();
    a = na.get();
    b = nb.get();
    ha = net.add_node(std::move(na), {kA}, "a");
    hb = net.add_node(std::move(nb), {kB}, "b");
    link = net.connect(ha, hb, ab, ba);
  }
  explicit Pair(uint64_t seed = 1, LinkParams both = {}) : Pair(seed, both, both) {}

  // Queues `n` packets from a to b at time t, tagged first_tag, first_tag+1, ...
  void send_at(Time t, int n, uint8_t first_tag = 0, size_t size = 40) {
    net.at(t, [this, n, first_tag, size] {
      for (int i = 0; i < n; ++i)
        a->out.push_back(ipv4_packet(kA, kB, uint8_t(first_tag + i), size));
    });
  }

  SimNetwork net;
  ScriptedNode* a;
  ScriptedNode* b;
  HostId ha, hb;
  LinkId link;
};

TEST(SimLink, LatencyDelaysDeliveryExactly) {
  Pair p(1, LinkParams{.latency = 10ms});
  p.send_at(3ms, 1, 7);
  p.net.run_until_idle();
  EXPECT_EQ(p.b->arrivals, (std::vector<Arrival>{{13ms, 7, 40}}));
  EXPECT_EQ(p.net.now(), 13ms);
}

TEST(SimLink, EachDirectionHasItsOwnParameters) {
  Pair p(1, LinkParams{.latency = 10ms}, LinkParams{.latency = 25ms});
  p.send_at(0ms, 1, 1);
  p.net.at(0ms, [&] { p.b->out.push_back(ipv4_packet(kB, kA, 2)); });
  p.net.run_until_idle();
  EXPECT_EQ(p.b->arrivals, (std::vector<Arrival>{{10ms, 1, 40}}));
  EXPECT_EQ(p.a->arrivals, (std::vector<Arrival>{{25ms, 2, 40}}));
}

TEST(SimLink, BandwidthSerializesPacketsBackToBack) {
  // 1250 bytes at 10 Mbit/s take exactly 1 ms on the wire.
  Pair p(1, LinkParams{.latency = 5ms, .bandwidth_bps = 10'000'000});
  p.send_at(0ms, 3, 0, 1250);
  p.send_at(10ms, 1, 3, 1250);  // the link is idle again by then
  p.net.run_until_idle();
  EXPECT_EQ(p.b->arrivals, (std::vector<Arrival>{
                               {6ms, 0, 1250}, {7ms, 1, 1250}, {8ms, 2, 1250}, {16ms, 3, 1250}}));
  const LinkStats& s = p.net.link_stats(p.link, Side::a_to_b);
  EXPECT_EQ(s.sent, 4u);
  EXPECT_EQ(s.sent_bytes, 5000u);
  EXPECT_EQ(s.delivered, 4u);
  EXPECT_EQ(s.max_queue, 3u);
}

TEST(SimLink, DropTailQueueDropsBeyondTheLimitAndCountsThem) {
  Pair p(1, LinkParams{.bandwidth_bps = 10'000'000, .queue_limit = 2});
  p.send_at(0ms, 5, 0, 1250);
  // At 1 ms the first packet has left: one slot is free again.
  p.send_at(1ms, 2, 10, 1250);
  p.net.run_until_idle();
  EXPECT_EQ(p.b->arrivals, (std::vector<Arrival>{{1ms, 0, 1250}, {2ms, 1, 1250}, {3ms, 10, 1250}}));
  const LinkStats& s = p.net.link_stats(p.link, Side::a_to_b);
  EXPECT_EQ(s.offered, 7u);
  EXPECT_EQ(s.sent, 3u);
  EXPECT_EQ(s.queue_drops, 4u);
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(s.max_queue, 2u);
}

TEST(SimLink, TotalLossDeliversNothingAndCountsEveryPacket) {
  Pair p(1, LinkParams{.latency = 1ms, .loss = 1.0});
  p.send_at(0ms, 10);
  p.net.run_until_idle();
  EXPECT_TRUE(p.b->arrivals.empty());
  EXPECT_EQ(p.net.link_stats(p.link, Side::a_to_b).lost, 10u);
  EXPECT_EQ(p.net.link_stats(p.link, Side::a_to_b).sent, 10u);
}

TEST(SimLink, OutageLosesWhatIsSentWhileDownAndDeliversWhatWasAlreadyOnTheWire) {
  // Down from 10 ms to 20 ms, then again from 30 ms to 31 ms.
  Pair p(1, LinkParams{.latency = 5ms, .outages = {{10ms, 20ms}, {30ms, 31ms}}});
  p.send_at(8ms, 1, 1);   // on the wire when the link goes down: arrives at 13 ms
  p.send_at(10ms, 1, 2);  // the first instant down: lost
  p.send_at(19ms, 1, 3);  // the last millisecond down: lost
  p.send_at(20ms, 1, 4);  // up again at 20 ms exactly
  p.send_at(30ms, 2, 5);  // the second window
  p.send_at(31ms, 1, 7);
  p.net.run_until_idle();
  EXPECT_EQ(p.b->arrivals, (std::vector<Arrival>{{13ms, 1, 40}, {25ms, 4, 40}, {36ms, 7, 40}}));
  const LinkStats& s = p.net.link_stats(p.link, Side::a_to_b);
  EXPECT_EQ(s.offered, 7u);
  EXPECT_EQ(s.down_drops, 4u);
  EXPECT_EQ(s.sent, 3u) << "a packet the down link refused never used the wire";
  EXPECT_EQ(s.lost, 0u);
}

size_t delivered_with_loss(uint64_t seed, double loss, int n) {
  Pair p(seed, LinkParams{.latency = 1ms, .loss = loss});
  p.send_at(0ms, n);
  p.net.run_until_idle();
  EXPECT_EQ(p.b->arrivals.size() + p.net.link_stats(p.link, Side::a_to_b).lost, size_t(n));
  return p.b->arrivals.size();
}

TEST(SimLink, LossRateIsTheConfiguredProbability) {
  // 10000 Bernoulli(0.1) trials: 5 standard deviations are ±150.
  const size_t delivered = delivered_with_loss(7, 0.1, 10000);
  EXPECT_GT(delivered, 9000u - 150u);
  EXPECT_LT(delivered, 9000u + 150u);
  EXPECT_EQ(delivered_with_loss(7, 0.1, 10000), delivered) << "same seed, same losses";
  EXPECT_NE(delivered_with_loss(8, 0.1, 10000) * 100000 + delivered_with_loss(9, 0.1, 10000),
            delivered * 100000 + delivered)
      << "other seeds lose other packets";
}

TEST(SimLink, JitterNeverReordersUnlessAllowed) {
  auto arrivals = [](bool reorder) {
    Pair p(3, LinkParams{.latency = 10ms, .jitter = 5ms, .allow_reorder = reorder});
    for (int i = 0; i < 100; ++i) p.send_at(Time(i * 100us), 1, uint8_t(i));
    p.net.run_until_idle();
    return p.b->arrivals;
  };
  const auto in_order = arrivals(false);
  ASSERT_EQ(in_order.size(), 100u);
  for (size_t i = 0; i < in_order.size(); ++i) {
    EXPECT_EQ(in_order[i].tag, i);
    EXPECT_GE(in_order[i].time, Time(i * 100us) + 10ms);
    EXPECT_LE(in_order[i].time, Time(99 * 100us) + 15ms);
  }
  const auto reordered = arrivals(true);
  ASSERT_EQ(reordered.size(), 100u);
  size_t out_of_order = 0;
  for (size_t i = 0; i < reordered.size(); ++i) {
    out_of_order += reordered[i].tag != i;
    const Time sent = Time(reordered[i].tag * 100us);
    EXPECT_GE(reordered[i].time, sent + 10ms);
    EXPECT_LE(reordered[i].time, sent + 15ms);
  }
  EXPECT_GT(out_of_order, 0u);
}

TEST(SimNetworkEvents, EqualTimesRunInSchedulingOrder) {
  SimNetwork net;
  std::vector<int> order;
  net.at(5ms, [&] { order.push_back(1); });
  net.at(2ms, [&] { order.push_back(0); });
  net.at(5ms, [&] { order.push_back(2); });
  net.at(5ms, [&] {
    order.push_back(3);
    net.at(5ms, [&] { order.push_back(5); });  // same time, scheduled later: runs last
  });
  net.at(5ms, [&] { order.push_back(4); });
  net.run_until_idle();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(net.now(), 5ms);
}

TEST(SimNetworkEvents, PastTimesRunNowAndTheClockNeverGoesBack) {
  SimNetwork net;
  std::vector<Time> seen;
  net.at(10ms, [&] {
    seen.push_back(net.now());
    net.at(1ms, [&] { seen.push_back(net.now()); });
  });
  net.run_until_idle();
  EXPECT_EQ(seen, (std::vector<Time>{10ms, 10ms}));
}

TEST(SimNetworkEvents, RunUntilStopsAtTheGivenTime) {
  Pair p(1, LinkParams{.latency = 10ms});
  p.send_at(0ms, 1, 1);
  p.send_at(20ms, 1, 2);
  p.net.run_until(15ms);
  EXPECT_EQ(p.net.now(), 15ms);
  EXPECT_EQ(p.b->arrivals, (std::vector<Arrival>{{10ms, 1, 40}}));
  p.net.run_until(30ms);
  EXPECT_EQ(p.b->arrivals, (std::vector<Arrival>{{10ms, 1, 40}, {30ms, 2, 40}}));
}

TEST(SimNetworkEvents, RunUntilPredicateStopsAsSoonAsItHolds) {
  Pair p(1, LinkParams{.latency = 10ms});
  p.send_at(0ms, 1, 1);
  p.send_at(1ms, 1, 2);
  EXPECT_TRUE(p.net.run_until([&] { return !p.b->arrivals.empty(); }));
  EXPECT_EQ(p.net.now(), 10ms);
  EXPECT_FALSE(p.net.run_until([] { return false; }, 10500us));
  EXPECT_EQ(p.b->arrivals.size(), 1u);
}

TEST(SimHosts, TimerFiresExactlyAtTheDeadline) {
  Pair p;
  p.a->deadline = 7ms;
  p.net.at(0ms, [] {});  // the at() services the host, which arms its timer
  p.net.run_until_idle();
  EXPECT_EQ(p.a->fired, (std::vector<Time>{7ms}));
}

TEST(SimHosts, DeadlineMovedLaterIsNotRunEarly) {
  Pair p;
  p.a->deadline = 5ms;
  p.net.at(0ms, [] {});
  p.net.at(1ms, [&] { p.a->deadline = 9ms; });
  p.net.run_until_idle();
  EXPECT_EQ(p.a->fired, (std::vector<Time>{9ms}));
  // advance() runs at 0 and 1 (before the callbacks) and at 9; the stale 5 ms wake-up is absorbed.
  EXPECT_EQ(p.a->advanced, (std::vector<Time>{0ms, 1ms, 9ms}));
}

TEST(SimHosts, DeadlineMovedEarlierFiresEarlierOnce) {
  Pair p;
  p.a->deadline = 9ms;
  p.net.at(0ms, [] {});
  p.net.at(1ms, [&] { p.a->deadline = 4ms; });
  p.net.run_until_idle();
  EXPECT_EQ(p.a->fired, (std::vector<Time>{4ms}));
}

TEST(SimHosts, TimerOutputGoesOutOnTheLink) {
  Pair p(1, LinkParams{.latency = 2ms});
  p.a->deadline = 3ms;
  p.a->on_fire = [&](Time) { p.a->out.push_back(ipv4_packet(kA, kB, 9)); };
  p.net.at(0ms, [] {});
  p.net.run_until_idle();
  EXPECT_EQ(p.b->arrivals, (std::vector<Arrival>{{5ms, 9, 40}}));
}

TEST(SimHosts, HookRunsAfterEachDeliveryAndItsOutputIsSent) {
  // b echoes every packet back from its hook: a ping over a 10 ms link.
  Pair p(1, LinkParams{.latency = 10ms});
  std::vector<Time> hook_times;
  p.net.on_event(p.hb, [&](HostId h) {
    EXPECT_EQ(h, p.hb);
    hook_times.push_back(p.net.now());
    for (; !p.b->arrivals.empty(); p.b->arrivals.pop_back())
      p.b->out.push_back(ipv4_packet(kB, kA, uint8_t(p.b->arrivals.back().tag + 100)));
  });
  p.send_at(1ms, 1, 1);
  p.net.run_until_idle();
  EXPECT_EQ(p.a->arrivals, (std::vector<Arrival>{{21ms, 101, 40}}));
  EXPECT_EQ(hook_times, (std::vector<Time>{1ms, 11ms}));  // the at() at 1 ms, the delivery
}

TEST(SimHosts, AtAdvancesEveryHostBeforeTheCallback) {
  Pair p;
  p.net.at(4ms, [&] {
    EXPECT_EQ(p.a->advanced.back(), 4ms);
    EXPECT_EQ(p.b->advanced.back(), 4ms);
  });
  p.net.at(p.ha, 6ms, [&] {
    EXPECT_EQ(p.a->advanced.back(), 6ms);
    EXPECT_EQ(p.b->advanced.back(), 4ms) << "a host-scoped callback touches one host";
  });
  p.net.run_until_idle();
  EXPECT_EQ(p.a->advanced.size(), 2u);
}

TEST(SimRouting, UnroutablePacketsAreCountedNotSent) {
  Pair p;
  p.net.at(0ms, [&] {
    p.a->out.push_back(ipv4_packet(kA, IpAddr::v4(192, 0, 2, 1), 1));
    p.a->out.push_back({0x45, 0});  // too short to have a destination
  });
  p.net.run_until_idle();
  EXPECT_EQ(p.net.unroutable(), 2u);
  EXPECT_TRUE(p.b->arrivals.empty());
}

TEST(SimRouting, ExplicitAndDefaultRoutes) {
  SimNetwork net;
  auto src = std::make_unique<ScriptedNode>();
  auto r1 = std::make_unique<ScriptedNode>();
  auto r2 = std::make_unique<ScriptedNode>();
  ScriptedNode *s = src.get(), *n1 = r1.get(), *n2 = r2.get();
  const HostId hs = net.add_node(std::move(src), {kA}, "src");
  const HostId h1 = net.add_node(std::move(r1), {IpAddr::v4(10, 0, 1, 1)}, "r1");
  const HostId h2 = net.add_node(std::move(r2), {IpAddr::v4(10, 0, 2, 1)}, "r2");
  const LinkId l1 = net.connect(hs, h1, LinkParams{.latency = 1ms});
  const LinkId l2 = net.connect(hs, h2, LinkParams{.latency = 2ms});
  const IpAddr far = IpAddr::v4(198, 51, 100, 7);
  const IpAddr v6 = *IpAddr::parse("2001:db8::9");
  net.add_route(hs, far, l2);
  net.set_default_route(hs, l1);
  net.at(0ms, [&] {
    s->out.push_back(ipv4_packet(kA, far, 1));
    s->out.push_back(ipv4_packet(kA, IpAddr::v4(203, 0, 113, 5), 2));
    s->out.push_back(testing::ipv6_packet(*IpAddr::parse("2001:db8::1"), v6, 3));
  });
  net.run_until_idle();
  EXPECT_EQ(n2->arrivals, (std::vector<Arrival>{{2ms, 1, 40}}));
  EXPECT_EQ(n1->arrivals, (std::vector<Arrival>{{1ms, 2, 40}, {1ms, 3, 41}}));
  EXPECT_EQ(net.link_stats(l1, Side::b_to_a).offered, 0u);
  EXPECT_THROW(net.add_route(h1, far, l2), std::invalid_argument);    // h1 is not on l2
  EXPECT_THROW(net.set_default_route(hs, 7), std::invalid_argument);  // no link 7
}

TEST(SimRouting, BlackholeSwallowsEverything) {
  SimNetwork net;
  auto src = std::make_unique<ScriptedNode>();
  ScriptedNode* s = src.get();
  const HostId hs = net.add_node(std::move(src), {kA}, "src");
  const HostId hole = net.add_blackhole({kB});
  net.connect(hs, hole, LinkParams{.latency = 1ms});
  net.at(0ms, [&] { s->out.push_back(ipv4_packet(kA, kB, 1)); });
  EXPECT_TRUE(net.run_until_idle());
  EXPECT_EQ(static_cast<BlackholeNode&>(net.node(hole)).received(), 1u);
  EXPECT_THROW(net.stack(hole), std::logic_error);
}

// A busy two-way exchange with jitter, loss and a queue: its full trace.
std::vector<Arrival> busy_trace(uint64_t seed) {
  LinkParams lp{
      .latency = 3ms, .jitter = 2ms, .loss = 0.05, .bandwidth_bps = 8'000'000, .queue_limit = 8};
  Pair p(seed, lp);
  for (int i = 0; i < 200; ++i) {
    p.send_at(Time(i * 250us), 1 + i % 3, uint8_t(i), 200 + (i * 37) % 1200);
    p.net.at(Time(i * 300us), [&p, i] { p.b->out.push_back(ipv4_packet(kB, kA, uint8_t(i))); });
  }
  p.net.run_until_idle();
  // The scenario exercises every random path: queue overflow, loss, jitter.
  const LinkStats& ab = p.net.link_stats(p.link, Side::a_to_b);
  EXPECT_GT(ab.queue_drops, 0u);
  EXPECT_GT(ab.lost, 0u);
  std::vector<Arrival> trace = p.b->arrivals;
  trace.insert(trace.end(), p.a->arrivals.begin(), p.a->arrivals.end());
  return trace;
}

TEST(SimDeterminism, SameSeedSameTraceOtherSeedOtherTrace) {
  const auto first = busy_trace(42);
  EXPECT_GT(first.size(), 200u);
  EXPECT_EQ(busy_trace(42), first);
  EXPECT_NE(busy_trace(43), first);
}

TEST(SimPool, SteadyFlowReusesPacketBuffers) {
  Pair p(1, LinkParams{.latency = 1ms});
  for (int i = 0; i < 5000; ++i) p.send_at(Time(i * 500us), 1, uint8_t(i));
  p.net.run_until_idle();
  EXPECT_EQ(p.b->arrivals.size(), 5000u);
  // At most two packets are ever in flight (1 ms latency, one every 0.5 ms).
  EXPECT_LE(p.net.packet_buffers_allocated(), 3u);
}

}  // namespace
}  // namespace synq::sim
