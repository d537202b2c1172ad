#include "drivers/sim/sim_network.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace synq::sim {

// ------------------------------------------------------------------ FinishTimes

void SimNetwork::FinishTimes::drop_until(Time now) {
  while (count_ > 0 && ring_[head_] <= now) {
    head_ = (head_ + 1) & (ring_.size() - 1);
    --count_;
  }
}

void SimNetwork::FinishTimes::push(Time t) {
  if (count_ == ring_.size()) {
    // Grow to the next power of two, unrolling the ring; happens only while the
    // queue reaches a new high-water mark.
    std::vector<Time> bigger(std::max<size_t>(16, ring_.size() * 2));
    for (uint32_t i = 0; i < count_; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
    ring_ = std::move(bigger);
    head_ = 0;
  }
  ring_[(head_ + count_) & (ring_.size() - 1)] = t;
  ++count_;
}

// ------------------------------------------------------------------ topology

SimNetwork::SimNetwork(uint64_t seed) : seed_(seed), rng_(seed) {
  sink_ = [this](std::span<const uint8_t> packet) { transmit(sink_host_, packet); };
}

SimNetwork::~SimNetwork() = default;

HostId SimNetwork::add_host_entry(std::unique_ptr<SimNode> node, std::vector<IpAddr> addresses,
                                  std::string name) {
  auto h = std::make_unique<Host>();
  h->name = std::move(name);
  h->addresses = std::move(addresses);
  h->node = std::move(node);
  hosts_.push_back(std::move(h));
  return static_cast<HostId>(hosts_.size() - 1);
}

HostId SimNetwork::add_node(std::unique_ptr<SimNode> node, std::vector<IpAddr> addresses,
                            std::string name) {
  const HostId id = add_host_entry(std::move(node), std::move(addresses), std::move(name));
  rearm_timer(id);
  return id;
}

HostId SimNetwork::add_blackhole(std::vector<IpAddr> addresses, std::string name) {
  return add_node(std::make_unique<BlackholeNode>(), std::move(addresses), std::move(name));
}

LinkId SimNetwork::connect(HostId a, HostId b, const LinkParams& a_to_b, const LinkParams& b_to_a) {
  if (a >= hosts_.size() || b >= hosts_.size() || a == b)
    throw std::invalid_argument("SimNetwork::connect: needs two distinct existing hosts");
  const auto id = static_cast<LinkId>(links_.size());
  Link& l = links_.emplace_back();
  l.dir[0].params = a_to_b;
  l.dir[0].from = a;
  l.dir[0].to = b;
  l.dir[1].params = b_to_a;
  l.dir[1].from = b;
  l.dir[1].to = a;
  for (const IpAddr& addr : hosts_[b]->addresses) hosts_[a]->routes.push_back({addr, id * 2 + 0});
  for (const IpAddr& addr : hosts_[a]->addresses) hosts_[b]->routes.push_back({addr, id * 2 + 1});
  return id;
}

uint32_t SimNetwork::direction_of(const char* what, LinkId link, HostId from) const {
  if (link >= links_.size()) throw std::invalid_argument(std::string(what) + ": no such link");
  if (from == links_[link].dir[0].from) return link * 2 + 0;
  if (from == links_[link].dir[1].from) return link * 2 + 1;
  throw std::invalid_argument(std::string(what) + ": host is not an end of the link");
}

void SimNetwork::add_route(HostId from, const IpAddr& dst, LinkId link) {
  const uint32_t d = direction_of("SimNetwork::add_route", link, from);
  auto& routes = hosts_.at(from)->routes;
  // A later route for the same destination replaces the earlier one.
  std::erase_if(routes, [&](const Route& r) { return r.dst == dst; });
  routes.push_back({dst, d});
}

void SimNetwork::set_default_route(HostId from, LinkId link) {
  hosts_.at(from)->default_direction = direction_of("SimNetwork::set_default_route", link, from);
}

void SimNetwork::set_link_params(LinkId link, Side side, const LinkParams& p) {
  links_.at(link).dir[static_cast<int>(side)].params = p;
}

const LinkParams& SimNetwork::link_params(LinkId link, Side side) const {
  return links_.at(link).dir[static_cast<int>(side)].params;
}

// ------------------------------------------------------------------ access

const std::string& SimNetwork::host_name(HostId h) const {
  return hosts_.at(h)->name;
}
const std::vector<IpAddr>& SimNetwork::host_addresses(HostId h) const {
  return hosts_.at(h)->addresses;
}
SimNode& SimNetwork::node(HostId h) {
  return *hosts_.at(h)->node;
}

Stack& SimNetwork::stack(HostId h) {
  Host& host = *hosts_.at(h);
  if (!host.stack) throw std::logic_error("SimNetwork::stack: host " + host.name + " is no Stack");
  return *host.stack;
}

const LinkStats& SimNetwork::link_stats(LinkId link, Side side) const {
  return links_.at(link).dir[static_cast<int>(side)].stats;
}

// ------------------------------------------------------------------ applications

void SimNetwork::at(Time t, Callback fn) {
  at(kAllHosts, t, std::move(fn));
}

void SimNetwork::at(HostId h, Time t, Callback fn) {
  uint32_t slot;
  if (!free_callbacks_.empty()) {
    slot = free_callbacks_.back();
    free_callbacks_.pop_back();
    callbacks_[slot] = std::move(fn);
  } else {
    slot = static_cast<uint32_t>(callbacks_.size());
    callbacks_.push_back(std::move(fn));
  }
  events_queue_.push(std::max(t, now_), EventKind::callback, slot, h);
}

void SimNetwork::on_event(HostId h, HostHook hook) {
  hosts_.at(h)->hook = std::move(hook);
}

// ------------------------------------------------------------------ capture

bool SimNetwork::capture_all(const std::string& path, std::string* error) {
  auto w = pcap::PcapngWriter::open(path, error);
  if (!w) return false;
  capture_all_ = std::move(w);
  return true;
}

bool SimNetwork::capture_link(LinkId link, const std::string& path, std::string* error) {
  if (link >= links_.size()) {
    if (error) *error = "SimNetwork::capture_link: no such link";
    return false;
  }
  auto w = pcap::PcapngWriter::open(path, error);
  if (!w) return false;
  links_[link].capture = std::move(w);
  return true;
}

void SimNetwork::flush_captures() {
  if (capture_all_) capture_all_->flush();
  for (Link& l : links_)
    if (l.capture) l.capture->flush();
}

void SimNetwork::close_captures() {
  capture_all_.reset();
  for (Link& l : links_) l.capture.reset();
}

// ------------------------------------------------------------------ packets

std::optional<uint32_t> SimNetwork::route(const Host& h, std::span<const uint8_t> packet) const {
  IpAddr dst;
  if (packet.size() >= 20 && (packet[0] >> 4) == 4) {
    std::copy_n(packet.begin() + 16, 4, dst.bytes.begin());
  } else if (packet.size() >= 40 && (packet[0] >> 4) == 6) {
    dst.version = IpVersion::v6;
    std::copy_n(packet.begin() + 24, 16, dst.bytes.begin());
  } else {
    return std::nullopt;
  }
  // Linear: a simulated host has a handful of routes, and this beats hashing them.
  for (const Route& r : h.routes)
    if (r.dst == dst) return r.direction;
  return h.default_direction;
}

void SimNetwork::tap(const Direction& d, uint32_t dir, TapEvent ev,
                     std::span<const uint8_t> packet) {
  if (!tap_) return;
  tap_(TapRecord{now_, dir / 2, static_cast<Side>(dir % 2), d.from, d.to, ev, packet});
}

void SimNetwork::capture(const Direction& d, uint32_t dir, TapEvent ev,
                         std::span<const uint8_t> packet) {
  auto& per_link = links_[dir / 2].capture;
  if (!capture_all_ && !per_link) return;
  // Only lost packets pay for a comment: a run's carried packets write none.
  std::string comment;
  if (ev != TapEvent::transmit && ev != TapEvent::deliver) {
    comment = ev == TapEvent::lost        ? "lost by the link ("
              : ev == TapEvent::link_down ? "lost: the link is down ("
                                          : "dropped by the link's full queue (";
    comment += hosts_[d.from]->name;
    comment += '>';
    comment += hosts_[d.to]->name;
    comment += ')';
  }
  if (capture_all_) capture_all_->write(now_, packet, comment);
  if (per_link) per_link->write(now_, packet, comment);
}

void SimNetwork::transmit(HostId from, std::span<const uint8_t> packet) {
  const auto d = route(*hosts_[from], packet);
  if (!d) {
    ++unroutable_;
    return;
  }
  Direction& dir = direction(*d);
  const LinkParams& p = dir.params;
  ++dir.stats.offered;
  for (const Outage& o : p.outages) {
    if (now_ >= o.from && now_ < o.until) {
      ++dir.stats.down_drops;
      capture(dir, *d, TapEvent::link_down, packet);
      tap(dir, *d, TapEvent::link_down, packet);
      return;
    }
  }

  Time finish = now_;
  if (p.bandwidth_bps > 0) {
    dir.queue.drop_until(now_);
    if (dir.queue.size() >= p.queue_limit) {
      ++dir.stats.queue_drops;
      capture(dir, *d, TapEvent::queue_drop, packet);
      tap(dir, *d, TapEvent::queue_drop, packet);
      return;
    }
    const uint64_t bits_ns = uint64_t(packet.size()) * 8u * 1'000'000'000u;
    const auto serialization = Duration{static_cast<int64_t>(
        std::max<uint64_t>(1, (bits_ns + p.bandwidth_bps - 1) / p.bandwidth_bps))};
    finish = std::max(now_, dir.busy_until) + serialization;
    dir.busy_until = finish;
    dir.queue.push(finish);
    dir.stats.max_queue = std::max(dir.stats.max_queue, dir.queue.size());
  }
  ++dir.stats.sent;
  dir.stats.sent_bytes += packet.size();

  if (rng_.bernoulli(p.loss)) {
    ++dir.stats.lost;
    capture(dir, *d, TapEvent::lost, packet);
    tap(dir, *d, TapEvent::lost, packet);
    return;
  }
  Time arrival = finish + p.latency + rng_.uniform_duration(p.jitter);
  if (!p.allow_reorder) arrival = std::max(arrival, dir.last_arrival);
  dir.last_arrival = std::max(arrival, dir.last_arrival);

  events_queue_.push(arrival, EventKind::deliver, *d, pool_.acquire(packet));
  capture(dir, *d, TapEvent::transmit, packet);
  tap(dir, *d, TapEvent::transmit, packet);
}

void SimNetwork::deliver(uint32_t d, uint32_t buffer) {
  Direction& dir = direction(d);
  const auto packet = pool_.get(buffer);
  ++dir.stats.delivered;
  dir.stats.delivered_bytes += packet.size();
  tap(dir, d, TapEvent::deliver, packet);
  const HostId to = dir.to;
  hosts_[to]->node->input(now_, packet);
  pool_.release(buffer);
  service(to);
}

// ------------------------------------------------------------------ hosts

void SimNetwork::service(HostId h) {
  Host& host = *hosts_[h];
  if (host.hook) host.hook(h);
  sink_host_ = h;
  host.node->drain_output(sink_);
  rearm_timer(h);
}

// Keeps at most one live timer event per host, at the earliest time the node
// may need it. A deadline that moved later leaves the earlier event in place;
// when it fires early, fire_timer() finds nothing due and re-arms. A deadline
// that moved earlier gets a new event and the old one goes stale (generation).
void SimNetwork::rearm_timer(HostId h) {
  Host& host = *hosts_[h];
  Time d = host.node->next_deadline();
  if (d == kNever || d >= host.timer_at) return;
  d = std::max(d, now_);
  host.timer_at = d;
  ++host.timer_gen;
  events_queue_.push(d, EventKind::timer, h, host.timer_gen);
}

void SimNetwork::fire_timer(HostId h, uint32_t gen) {
  Host& host = *hosts_[h];
  if (gen != host.timer_gen) return;  // superseded by an earlier deadline
  host.timer_at = kNever;
  if (host.node->next_deadline() > now_) {
    rearm_timer(h);  // woke early: the deadline moved later since it was armed
    return;
  }
  host.node->advance(now_);
  service(h);
}

void SimNetwork::run_callback(uint32_t slot, uint32_t h) {
  Callback fn = std::move(callbacks_[slot]);
  callbacks_[slot] = nullptr;
  free_callbacks_.push_back(slot);
  if (h == kAllHosts) {
    for (auto& host : hosts_) host->node->advance(now_);
    fn();
    // Index loop: the callback or a hook may add hosts.
    for (HostId i = 0; i < hosts_.size(); ++i) service(i);
  } else {
    hosts_.at(h)->node->advance(now_);
    fn();
    service(h);
  }
}

// ------------------------------------------------------------------ running

bool SimNetwork::step() {
  if (events_queue_.empty()) return false;
  const Event e = events_queue_.pop();
  now_ = std::max(now_, e.time);
  ++events_;
  switch (e.kind) {
    case EventKind::deliver:
      deliver(e.a, e.b);
      break;
    case EventKind::timer:
      fire_timer(e.a, e.b);
      break;
    case EventKind::callback:
      run_callback(e.a, e.b);
      break;
  }
  return true;
}

void SimNetwork::run_until(Time t) {
  while (!events_queue_.empty() && events_queue_.top().time <= t) step();
  if (t != kNever && t > now_) now_ = t;
}

bool SimNetwork::run_until_idle(Time limit) {
  while (!events_queue_.empty() && events_queue_.top().time <= limit) step();
  return events_queue_.empty();
}

bool SimNetwork::run_until(const std::function<bool()>& done, Time limit) {
  while (!done()) {
    if (events_queue_.empty() || events_queue_.top().time > limit) return false;
    step();
  }
  return true;
}

}  // namespace synq::sim
