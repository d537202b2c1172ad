// The simulator's hot path allocates nothing once warmed up: packets reuse
// pool buffers, the event heap and queue rings keep their capacity.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>

#include "drivers/sim/sim_network.hpp"
#include "drivers_test_support.hpp"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// Counting replacements of the global allocation functions (this test binary only).
void* operator new(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace synq::sim {
namespace {

// Sends one fixed-size packet every `period` from a timer; counts arrivals.
class Metronome final : public SimNode {
 public:
  Metronome(const IpAddr& src, const IpAddr& dst, Duration period, size_t size)
      : period_(period), size_(size) {
    packet_ = testing::ipv4_packet(src, dst, 0, size);
  }
  void input(Time, std::span<const uint8_t>) override { ++received; }
  void advance(Time now) override {
    if (now >= next_) {
      pending_ = true;
      next_ = now + period_;
    }
  }
  Time next_deadline() const override { return next_; }
  void drain_output(const PacketSink& sink) override {
    if (pending_) sink(packet_);
    pending_ = false;
  }
  uint64_t received = 0;

 private:
  Duration period_;
  size_t size_;
  Time next_{0};
  bool pending_ = false;
  std::vector<uint8_t> packet_;
};

TEST(SimHotPath, SteadyTrafficAllocatesNothing) {
  const IpAddr a = IpAddr::v4(10, 0, 0, 1), b = IpAddr::v4(10, 0, 0, 2);
  SimNetwork net(9);
  auto ma = std::make_unique<Metronome>(a, b, 100us, 1200);
  auto mb = std::make_unique<Metronome>(b, a, 130us, 80);
  Metronome *pa = ma.get(), *pb = mb.get();
  const HostId ha = net.add_node(std::move(ma), {a}, "a");
  const HostId hb = net.add_node(std::move(mb), {b}, "b");
  // a offers 1200 B every 100 us = 96 Mbit/s to a 50 Mbit/s link: the queue
  // overflows all the time, so the drop path is exercised too.
  const LinkId link = net.connect(ha, hb,
                                  LinkParams{.latency = 5ms,
                                             .jitter = 1ms,
                                             .loss = 0.01,
                                             .bandwidth_bps = 50'000'000,
                                             .queue_limit = 64});
  uint64_t hook_calls = 0;
  net.on_event(hb, [&](HostId) { ++hook_calls; });
  net.at(0s, [] {});
  net.run_until(1s);  // warm-up: pool, heap and rings reach their sizes
  const uint64_t received_before = pb->received + pa->received;
  const uint64_t before = g_allocations.load();
  ASSERT_GT(before, 0u) << "the counting operator new is in use";
  net.run_until(3s);
  EXPECT_EQ(g_allocations.load() - before, 0u);
  // 2 s of ~5200 packets/s a → b (the link's rate) and ~7600/s b → a.
  EXPECT_GT(pb->received + pa->received - received_before, 25000u);
  EXPECT_GT(net.link_stats(link, Side::a_to_b).queue_drops, 5000u);
  EXPECT_GT(net.link_stats(link, Side::b_to_a).lost, 0u);
  EXPECT_GT(hook_calls, 0u);
}

}  // namespace
}  // namespace synq::sim
