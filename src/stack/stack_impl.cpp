// StackImpl: construction, the driver side (input, timers, output) and the
// callbacks of the TCP engine and the passive open.
#include "stack/stack_impl.hpp"

#include <algorithm>

#include "stack/dcheck.hpp"
#include "tcp/segment_builder.hpp"
#include "tcp/tcp_limits.hpp"

namespace synq {

namespace {
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

StackImpl::StackImpl(StackConfig config)
    : config_(std::move(config)),
      isn_(config_.seed),
      rng_state_(config_.seed ^ 0x73796e71ull),
      opener_(*this) {
  ip_id_ = static_cast<uint16_t>(splitmix64(rng_state_));
}

StackImpl::~StackImpl() = default;

bool StackImpl::is_local(const IpAddr& a) const {
  for (const IpAddr& x : config_.addresses)
    if (x == a) return true;
  return false;
}

std::optional<IpAddr> StackImpl::source_for(IpVersion v) const {
  for (const IpAddr& x : config_.addresses)
    if (x.version == v) return x;
  return std::nullopt;
}

uint16_t StackImpl::path_mss(const FourTuple& t) const {
  // Every route is a default-MTU link (1460 over IPv4, 1440 over IPv6).
  return tcp::mss_from_mtu(t.local.addr.version, tcp::kDefaultMtu);
}

// ------------------------------------------------------------------ input

void StackImpl::input(Time now, std::span<const uint8_t> packet) {
  now_ = std::max(now_, now);
  counters_.inc(Counter::Ip_InReceives);
  auto parsed = wire::parse_ip(packet);
  if (!parsed.ok()) {
    // RFC 1122 §3.2.1: malformed IP headers are silently discarded.
    if (parsed.error() == wire::ParseError::fragment)
      counters_.inc(Counter::Ip_ReasmFails);  // synq does not reassemble fragments
    else
      counters_.inc(Counter::Ip_InHdrErrors);
    return;
  }
  const wire::IpPacket& ip = parsed.value();
  if (!is_local(ip.dst)) {
    counters_.inc(Counter::Ip_InAddrErrors);  // RFC 1122 §3.2.1.3: not for us, no forwarding
    return;
  }
  switch (ip.protocol) {
    case wire::ip_proto::TCP:
      counters_.inc(Counter::Ip_InDelivers);
      tcp_input(ip);
      break;
    case wire::ip_proto::UDP:
      counters_.inc(Counter::Ip_InDelivers);
      udp_input(ip);
      break;
    default:
      counters_.inc(Counter::Ip_InUnknownProtos);  // RFC 1122 §3.2.1: unknown protocol dropped
      break;
  }
  flush_deferred();
  debug_check_invariants(/*timers_current=*/false);  // no-op with NDEBUG
}

void StackImpl::tcp_input(const wire::IpPacket& ip) {
  auto parsed = wire::parse_tcp(ip);
  if (!parsed.ok()) {
    // RFC 9293 §3.10.7: a bad segment is discarded; Linux counts InErrs (+InCsumErrors).
    counters_.inc(Counter::Tcp_InErrs);
    if (parsed.error() == wire::ParseError::bad_checksum) counters_.inc(Counter::Tcp_InCsumErrors);
    return;
  }
  const wire::TcpSegment& seg = parsed.value();
  counters_.inc(Counter::Tcp_InSegs);
  const FourTuple t{{ip.dst, seg.h.dport}, {ip.src, seg.h.sport}};

  if (const uint32_t* slot = conn_table_.find(t)) {
    tcp::Connection& c = *conns_[*slot].conn;
    // Only an orphan: Linux's TIME-WAIT is always a separate mini socket, but
    // synq keeps the connection under its descriptor until close() (the
    // engine then answers such a SYN with its ACK, as with no listener).
    const bool orphan = conns_[*slot].fd < 0 && conns_[*slot].listener_fd < 0;
    const std::optional<uint32_t> tw_isn = orphan ? c.time_wait_syn_isn(seg) : std::nullopt;
    if (tw_isn) {
      if (listen::Listener* l = listener_at(t.local)) {
        // Linux tcp_v4_rcv, TCP_TW_SYN: a SYN above rcv_nxt (or with a newer
        // timestamp) ends the TIME-WAIT and goes to the listener with the
        // connection's verdict — the ISN the new connection should take.
        end_time_wait(*slot);
        opener_.on_listener_segment(*l, t, seg, tw_isn);
        return;
      }
      // No listener: the TIME-WAIT answers it as any other segment (TCP_TW_ACK).
    }
    const uint32_t touched = *slot;
    c.on_segment(now_, seg);
    mark_ready(conns_[touched].fd);
    return;
  }
  if (auto req = opener_.find_request(t)) {
    listen::Listener* l = listener_of_fd(opener_.requests().at(*req).listener_fd);
    SYNQ_DCHECK(l != nullptr);
    opener_.on_request_segment(*l, *req, seg);
    return;
  }
  if (listen::Listener* l = listener_at(t.local)) {
    opener_.on_listener_segment(*l, t, seg);
    return;
  }
  // RFC 9293 §3.10.7.1: no connection → RST (never in reply to a RST).
  send_reset_reply(t, seg);
}

void StackImpl::send_reset_reply(const FourTuple& t, const wire::TcpSegment& seg) {
  if (seg.h.flags & wire::tcp_flags::RST) return;  // RFC 9293 §3.10.7.1: never answer a RST
  counters_.inc(Counter::Tcp_OutRsts);             // the engine counts its own RSTs; these are ours
  send_segment(t, tcp::reset_reply(t, seg), {});
}

// ------------------------------------------------------------------ output

void StackImpl::send_segment(const FourTuple& t, const wire::TcpHeader& h,
                             std::span<const uint8_t> payload) {
  const size_t max_len = wire::ip_header_length(t.local.addr.version) + 60 + payload.size();
  std::span<uint8_t> buf = output_.reserve(max_len);
  wire::IpParams ip;
  ip.ttl = static_cast<uint8_t>(config_.sysctls.ip_default_ttl);
  ip.ip_id = ip_id_++;
  size_t n = wire::build_tcp(buf, t.local.addr, t.remote.addr, h, payload, ip);
  if (n == 0) return;  // cannot happen with max_len above; nothing to count
  output_.commit(n);
  counters_.inc(Counter::Ip_OutRequests);
  counters_.inc(Counter::Tcp_OutSegs);
}

void StackImpl::drain_output(const std::function<void(std::span<const uint8_t>)>& sink) {
  output_.drain(sink);
}

// ------------------------------------------------------------------ timers

bool StackImpl::timer_stale(const stack::TimerEntry& e) const {
  if (e.kind == stack::TimerKind::connection) {
    const ConnSlot& s = conns_[e.index];
    return !s.conn || s.generation != e.generation || s.deadline != e.deadline;
  }
  const listen::Request& r = opener_.requests().at(e.index);
  return !r.in_use || r.generation != e.generation || r.deadline != e.deadline;
}

Time StackImpl::next_deadline() const {
  while (!timers_.empty() && timer_stale(timers_.top())) timers_.pop();
  return timers_.empty() ? kNever : timers_.top().deadline;
}

void StackImpl::advance(Time now) {
  const Time until = std::max(now_, now);
  while (!timers_.empty() && timers_.top().deadline <= until) {
    stack::TimerEntry e = timers_.top();
    timers_.pop();
    if (timer_stale(e)) continue;
    // Run each timer at its own deadline, so a driver that jumps far ahead
    // still sees the exact schedule (time never goes backwards).
    now_ = std::max(now_, e.deadline);
    run_timer(e);
    flush_deferred();
  }
  now_ = until;
  // Keep the heap proportional to live timers.
  if (timers_.size() > 64 && timers_.size() > 4 * (conn_table_.size() + request_count() + 1))
    timers_.compact([this](const stack::TimerEntry& e) { return timer_stale(e); });
  debug_check_invariants(/*timers_current=*/true);  // no-op with NDEBUG
}

void StackImpl::run_timer(const stack::TimerEntry& e) {
  if (e.kind == stack::TimerKind::connection) {
    ConnSlot& s = conns_[e.index];
    s.deadline = kNever;  // fired; the engine re-arms through timer_changed
    s.conn->on_timer(now_);
    mark_ready(conns_[e.index].fd);
    if (conns_[e.index].conn)
      timer_changed(*conns_[e.index].conn, conns_[e.index].conn->deadline());
    return;
  }
  listen::Listener* l = listener_of_fd(opener_.requests().at(e.index).listener_fd);
  SYNQ_DCHECK(l != nullptr);
  opener_.on_request_timer(*l, e.index);
}

void StackImpl::timer_changed(tcp::Connection& c, Time deadline) {
  ConnSlot& s = conns_[c.owner_tag];
  if (s.deadline == deadline) return;
  s.deadline = deadline;
  if (deadline != kNever)
    timers_.push({deadline, stack::TimerKind::connection, c.owner_tag, s.generation});
}

void StackImpl::request_timer_changed(uint32_t req, uint32_t generation, Time deadline) {
  if (deadline != kNever) timers_.push({deadline, stack::TimerKind::request, req, generation});
}

// ------------------------------------------------------------------ connections

uint32_t StackImpl::new_conn(const FourTuple& t, const tcp::ConnectionOptions& opts, bool reuse) {
  uint32_t slot;
  if (!free_conns_.empty()) {
    slot = free_conns_.back();
    free_conns_.pop_back();
  } else {
    slot = static_cast<uint32_t>(conns_.size());
    conns_.emplace_back();
  }
  ConnSlot& s = conns_[slot];
  s.generation++;
  s.deadline = kNever;
  s.fd = -1;
  s.listener_fd = -1;
  s.reuse = reuse;
  s.free_pending = false;
  s.conn = std::make_unique<tcp::Connection>(*this, t, opts);
  s.conn->owner_tag = slot;
  conn_table_.insert(t, slot);
  s.in_table = true;
  conn_port_use(slot, reuse ? PortUse::reuse : PortUse::noreuse);
  return slot;
}

void StackImpl::state_changed(tcp::Connection& c, TcpState from, TcpState to) {
  const uint32_t slot = c.owner_tag;
  ConnSlot& s = conns_[slot];
  if (from == TcpState::time_wait) --time_waits_;
  if (to == TcpState::time_wait) {
    ++time_waits_;
    conn_port_use(slot, PortUse::timewait);
  }
  if (to == TcpState::closed) {
    if (s.in_table) {
      conn_table_.erase(c.tuple());
      s.in_table = false;
    }
    if (s.fd < 0 && s.listener_fd < 0) schedule_free(slot);
  }
}

void StackImpl::end_time_wait(uint32_t slot) {
  // inet_twsk_deschedule_put: the tuple is free at once for the new request.
  ConnSlot& s = conns_[slot];
  SYNQ_DCHECK(s.fd < 0 && s.listener_fd < 0);
  if (s.in_table) {
    conn_table_.erase(s.conn->tuple());
    s.in_table = false;
  }
  schedule_free(slot);
}

void StackImpl::schedule_free(uint32_t slot) {
  ConnSlot& s = conns_[slot];
  if (s.free_pending) return;
  s.free_pending = true;
  pending_free_.push_back(slot);
}

void StackImpl::flush_deferred() {
  while (!pending_free_.empty()) {
    uint32_t slot = pending_free_.back();
    pending_free_.pop_back();
    ConnSlot& s = conns_[slot];
    if (!s.conn) continue;
    if (s.in_table) {
      conn_table_.erase(s.conn->tuple());
      s.in_table = false;
    }
    conn_port_use(slot, PortUse::none);
    if (s.conn->state() == TcpState::time_wait) --time_waits_;  // ended early (end_time_wait)
    s.conn.reset();
    s.generation++;
    s.deadline = kNever;
    s.free_pending = false;
    s.fd = -1;
    s.listener_fd = -1;
    free_conns_.push_back(slot);
  }
}

uint32_t StackImpl::create_child(listen::Listener& l, const FourTuple& t,
                                 const tcp::PassiveOpen& p) {
  const Socket* ls = sock(l.fd());
  SYNQ_DCHECK(ls != nullptr);
  const Inherited from_listener = inherit_options(*ls);
  uint32_t slot = new_conn(t, from_listener.conn, from_listener.reuseaddr);
  conns_[slot].listener_fd = l.fd();
  conns_[slot].conn->init_passive(now_, p);
  l.accept_queue_push(slot);
  check_accept_queue(l);
  mark_ready(l.fd());  // the listener has a connection to accept
  return slot;
}

void StackImpl::deliver_to_child(uint32_t child, const wire::TcpSegment& seg) {
  if (conns_[child].conn) conns_[child].conn->on_segment(now_, seg);
  mark_ready(conns_[child].fd);  // -1 while it waits in an accept queue
}

void StackImpl::check_accept_queue([[maybe_unused]] const listen::Listener& l) const {
#ifndef NDEBUG
  // Every queued child points back at this listener and has no descriptor.
  for (uint32_t slot : l.accept_queue()) {
    SYNQ_DCHECK(conns_[slot].conn != nullptr);
    SYNQ_DCHECK(conns_[slot].listener_fd == l.fd() && conns_[slot].fd < 0);
  }
  l.check_invariants(opener_.requests());
#endif
}

}  // namespace synq
