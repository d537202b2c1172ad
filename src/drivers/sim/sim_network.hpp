// A deterministic simulated network: hosts (each usually a synq::Stack)
// joined by point-to-point links, one event queue, one virtual clock, one
// seeded RNG. See docs/simulator.md for the model and the determinism contract.
//
//   SimNetwork net(/*seed=*/42);
//   HostId c = net.add_host({.addresses = {IpAddr::v4(10,0,0,2)}});
//   HostId s = net.add_host({.addresses = {IpAddr::v4(10,0,0,1)}});
//   net.connect(c, s, LinkParams{.latency = 10ms});
//   net.at(0s, [&] { ... net.stack(c).connect(fd, ...); });
//   net.on_event(s, [&](HostId) { ... accept/read/write ... });
//   net.run_until(10s);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "drivers/pcap/pcapng_writer.hpp"
#include "drivers/sim/event_queue.hpp"
#include "drivers/sim/link.hpp"
#include "drivers/sim/node.hpp"
#include "drivers/sim/packet_pool.hpp"
#include "drivers/sim/rng.hpp"
#include "synq/address.hpp"
#include "synq/time.hpp"

namespace synq {
class Stack;
struct StackConfig;
}  // namespace synq

namespace synq::sim {

using HostId = uint32_t;
using LinkId = uint32_t;

enum class TapEvent : uint8_t {
  transmit,    // accepted by the link (the moment the host sent it)
  deliver,     // handed to the receiving host
  lost,        // random loss
  queue_drop,  // drop-tail queue overflow
  link_down,   // handed to the link during one of its outages
};

/// What a tap sees. `packet` is valid only during the call.
struct TapRecord {
  Time time{0};
  LinkId link = 0;
  Side side = Side::a_to_b;
  HostId from = 0;
  HostId to = 0;
  TapEvent event = TapEvent::transmit;
  std::span<const uint8_t> packet;
};

class SimNetwork {
 public:
  using Callback = std::function<void()>;
  using HostHook = std::function<void(HostId)>;
  using Tap = std::function<void(const TapRecord&)>;

  explicit SimNetwork(uint64_t seed = 1);
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // ------------------------------------------------------------ topology
  /// Adds a host running a synq::Stack. Unless derive_host_seeds is turned
  /// off, the stack's seed becomes mix(network seed, config.seed, host id):
  /// a different network seed gives different ISNs, ports and secrets.
  HostId add_host(StackConfig config);
  /// Adds any node that answers to the driver interface.
  HostId add_node(std::unique_ptr<SimNode> node, std::vector<IpAddr> addresses, std::string name);
  /// A host that receives everything and answers nothing.
  HostId add_blackhole(std::vector<IpAddr> addresses, std::string name = "blackhole");
  void set_derive_host_seeds(bool on) { derive_host_seeds_ = on; }

  /// Joins a and b. Each gets a route to every address the other has now.
  LinkId connect(HostId a, HostId b, const LinkParams& a_to_b, const LinkParams& b_to_a);
  LinkId connect(HostId a, HostId b, const LinkParams& both) { return connect(a, b, both, both); }
  /// Packets from `from` to `dst` leave over `link` (from must be one of its ends).
  void add_route(HostId from, const IpAddr& dst, LinkId link);
  /// Packets from `from` to an address without a route leave over `link`.
  void set_default_route(HostId from, LinkId link);
  /// Changes one direction's parameters from now on (packets in flight keep theirs).
  void set_link_params(LinkId link, Side side, const LinkParams& p);
  const LinkParams& link_params(LinkId link, Side side) const;

  // ------------------------------------------------------------ access
  size_t host_count() const { return hosts_.size(); }
  const std::string& host_name(HostId h) const;
  const std::vector<IpAddr>& host_addresses(HostId h) const;
  SimNode& node(HostId h);
  /// The Stack of a host made by add_host; throws std::logic_error for other nodes.
  Stack& stack(HostId h);
  const LinkStats& link_stats(LinkId link, Side side) const;
  /// Packets no route could take (dropped at the sender).
  uint64_t unroutable() const { return unroutable_; }
  uint64_t events_processed() const { return events_; }
  Rng& rng() { return rng_; }
  uint64_t seed() const { return seed_; }
  /// Packet buffers ever allocated (constant in a steady state: the pool reuses them).
  size_t packet_buffers_allocated() const { return pool_.allocated(); }

  // ------------------------------------------------------------ applications
  /// Runs fn at virtual time t (now, if t is in the past). Every host is
  /// advanced to t first (so socket calls see now() == t); afterwards every
  /// host is serviced (hook, output, timer).
  void at(Time t, Callback fn);
  void after(Duration d, Callback fn) { at(now_ + d, std::move(fn)); }
  /// Like at(), but advances and services only host h.
  void at(HostId h, Time t, Callback fn);
  /// Called after each event on h (a packet delivered, a timer, an at()
  /// callback), before h's output is drained: the place for an application to
  /// accept, read and write. Spurious calls are possible; treat it like poll().
  /// A hook must not run the simulation (run_*, step).
  void on_event(HostId h, HostHook hook);

  // ------------------------------------------------------------ capture
  /// Every packet offered to any link goes to one pcapng file
  /// (pcap::PcapngWriter: nanosecond timestamps), stamped with the time its
  /// host sent it — also the ones the link then lost or its queue dropped,
  /// each of those with a comment saying so and in which direction:
  /// "lost by the link (client>server)", "dropped by the link's full queue
  /// (server>client)" (host names). Returns false and sets error if the file
  /// cannot be opened.
  bool capture_all(const std::string& path, std::string* error = nullptr);
  /// The same for the packets offered to `link` (both directions), in their own file.
  bool capture_link(LinkId link, const std::string& path, std::string* error = nullptr);
  /// Flushes every capture file.
  void flush_captures();
  /// Closes every capture file (they are complete on disk afterwards).
  void close_captures();
  /// Sees every transmit/deliver/drop on every link.
  void set_tap(Tap tap) { tap_ = std::move(tap); }

  // ------------------------------------------------------------ running
  Time now() const { return now_; }
  /// Runs the earliest event. False if there was none.
  bool step();
  /// Runs every event at or before t, then sets the clock to t.
  void run_until(Time t);
  void run_for(Duration d) { run_until(now_ + d); }
  /// Runs until no event is left or the next one is after `limit`. True if idle.
  bool run_until_idle(Time limit = kNever);
  /// Runs until done() holds (checked before each event) or the next event is
  /// after `limit`. Returns done().
  bool run_until(const std::function<bool()>& done, Time limit = kNever);

 private:
  struct Route {
    IpAddr dst;
    uint32_t direction;  // link * 2 + side
  };
  struct Host {
    std::string name;
    std::vector<IpAddr> addresses;
    std::unique_ptr<SimNode> node;
    Stack* stack = nullptr;
    std::vector<Route> routes;
    std::optional<uint32_t> default_direction;
    HostHook hook;
    Time timer_at = kNever;  // the one live timer event, kNever if none
    uint32_t timer_gen = 0;  // bumped when that event goes stale
  };
  // A ring of the serialization end times of packets in a direction's queue.
  class FinishTimes {
   public:
    void drop_until(Time now);
    void push(Time t);
    uint32_t size() const { return count_; }

   private:
    std::vector<Time> ring_;
    size_t head_ = 0;
    uint32_t count_ = 0;
  };
  struct Direction {
    LinkParams params;
    LinkStats stats;
    HostId from = 0;
    HostId to = 0;
    Time busy_until{0};
    Time last_arrival{0};
    FinishTimes queue;
  };
  struct Link {
    Direction dir[2];
    std::unique_ptr<pcap::PcapngWriter> capture;
  };

  static constexpr uint32_t kAllHosts = 0xffffffffu;

  HostId add_host_entry(std::unique_ptr<SimNode> node, std::vector<IpAddr> addresses,
                        std::string name);
  Direction& direction(uint32_t d) { return links_[d / 2].dir[d % 2]; }
  uint32_t direction_of(const char* what, LinkId link, HostId from) const;
  std::optional<uint32_t> route(const Host& h, std::span<const uint8_t> packet) const;
  void transmit(HostId from, std::span<const uint8_t> packet);
  void deliver(uint32_t dir, uint32_t buffer);
  void fire_timer(HostId h, uint32_t gen);
  void run_callback(uint32_t slot, uint32_t host);
  void service(HostId h);
  void rearm_timer(HostId h);
  void tap(const Direction& d, uint32_t dir, TapEvent ev, std::span<const uint8_t> packet);
  /// Writes a packet offered to direction `dir` to the capture files, marked
  /// with the link's verdict unless it was carried.
  void capture(const Direction& d, uint32_t dir, TapEvent ev, std::span<const uint8_t> packet);

  uint64_t seed_;
  Rng rng_;
  bool derive_host_seeds_ = true;
  Time now_{0};
  EventQueue events_queue_;
  PacketPool pool_;
  std::vector<std::unique_ptr<Host>> hosts_;  // stable addresses: hooks may add hosts
  std::vector<Link> links_;
  std::vector<Callback> callbacks_;
  std::vector<uint32_t> free_callbacks_;
  std::unique_ptr<pcap::PcapngWriter> capture_all_;
  Tap tap_;
  PacketSink sink_;  // drains into transmit(sink_host_, ...)
  HostId sink_host_ = 0;
  uint64_t unroutable_ = 0;
  uint64_t events_ = 0;
};

}  // namespace synq::sim
