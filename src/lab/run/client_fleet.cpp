// The lab's clients (client_fleet.hpp).
#include "lab/run/client_fleet.hpp"

#include <algorithm>
#include <cmath>

#include "lab/format_time.hpp"
#include "wire/tcp_header.hpp"

namespace synq::lab {

ClientFleet::ClientFleet(LabWorld& world, ClientDirectory& directory, TimelineRecorder& timeline)
    : w_(world), directory_(directory), timeline_(timeline) {
  const uint32_t n = w_.client_count();
  clients_.resize(n);
  results_.resize(n);
  for (uint32_t i = 0; i < n; ++i) clients_[i].r = &results_[i];
}

// Start times are drawn up front, but only the next start is in the event
// queue at any time: a million pending callbacks would make every event cost
// a log of them.
void ClientFleet::schedule_arrivals() {
  const Scenario& s = w_.scenario;
  double t = 0;
  starts_.resize(clients_.size());
  for (size_t i = 0; i < clients_.size(); ++i) {
    if (s.arrival.kind == Arrival::Kind::every && i > 0) t += s.arrival.param;
    if (s.arrival.kind == Arrival::Kind::poisson) {
      // Exponential inter-arrival times from the network's seeded RNG.
      t += -std::log1p(-w_.net.rng().uniform01()) / s.arrival.param;
    }
    starts_[i] = {i < s.client_start_s.size() ? s.client_start_s[i] : t, i};
  }
  // Explicit times may come in any order; start clients in time order (ties by id).
  std::stable_sort(starts_.begin(), starts_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [at, i] : starts_)
    if (at > s.duration_s) {  // never starts within the run: stays pending
      clients_[i].r->id = static_cast<int>(i);
      clients_[i].r->start_s = at;
    }
  schedule_next_start();
}

void ClientFleet::schedule_next_start() {
  if (next_start_ >= starts_.size() || starts_[next_start_].first > w_.scenario.duration_s) return;
  const double at = starts_[next_start_].first;
  w_.net.at(w_.client, from_seconds(at), [this] {
    // Every client due now starts in this one callback, in order.
    const double now = starts_[next_start_].first;
    while (next_start_ < starts_.size() && starts_[next_start_].first == now)
      start_client(starts_[next_start_++].second);
    schedule_next_start();
  });
}

void ClientFleet::start_client(size_t i) {
  using namespace address_plan;
  Stack& st = w_.client_stack();
  Client& c = clients_[i];
  c.phase = Phase::connecting;
  c.r->id = static_cast<int>(i);
  c.r->start_s = w_.now_s();
  c.addr = static_cast<uint32_t>(i / kClientsPerAddress);
  c.fd = *st.socket(SockType::stream);
  // One source address is enough below kClientsPerAddress clients; beyond,
  // spread them so ephemeral ports never run out.
  if (directory_.spans_many_addresses()) st.bind(c.fd, {IpAddr::v4(kFirstClientAddr + c.addr), 0});
  Errno e = st.connect(c.fd, server_endpoint());
  if (auto name = st.getsockname(c.fd); name.ok()) {
    c.r->port = name->port;
    directory_.add(c.addr, c.r->port, static_cast<uint32_t>(i));
  }
  client_by_fd_.set(c.fd, static_cast<uint32_t>(i));
  max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
  timeline_.note(TimelineEntry::Kind::client, static_cast<int>(i),
                 "client {} (port {}) calls connect(): {}", i, c.r->port, errno_name(e));
  const double timeout_s = w_.scenario.connect_timeout_s;
  if (timeout_s > 0)
    w_.net.at(w_.client, from_seconds(c.r->start_s + timeout_s),
              [this, i] { on_connect_timeout(i); });
}

void ClientFleet::on_connect_timeout(size_t i) {
  Client& c = clients_[i];
  if (c.phase != Phase::connecting) return;
  Stack& st = w_.client_stack();
  if (auto ready = st.poll(c.fd); ready.ok())
    step_client(st, c, *ready);  // it may have just completed
  if (c.phase != Phase::connecting) return;
  timeline_.note(TimelineEntry::Kind::client, c.r->id,
                 "client {} (port {}) gives up: no connection after {}", c.r->id, c.r->port,
                 format_time(w_.scenario.connect_timeout_s));
  finish(c, Outcome::timed_out, Errno::etimedout);
}

void ClientFleet::finish(Client& c, Outcome o, Errno e) {
  c.r->outcome = o;
  c.r->error = e;
  c.r->end_s = w_.now_s();
  // A RST from the server refused or reset it: a drop as the client sees it.
  if (e == Errno::econnrefused || e == Errno::econnreset) c.r->reset = true;
  retire(c);
}

void ClientFleet::retire(Client& c) {
  c.phase = Phase::finished;
  --in_flight_;
  client_by_fd_.clear(c.fd);
  w_.client_stack().close(c.fd);
}

// Only the descriptors a packet or timer touched: SYN-ACKs, RSTs, data,
// SYN retries giving up, data timeouts.
void ClientFleet::on_host_event() {
  Stack& st = w_.client_stack();
  st.drain_ready([&](int fd, uint32_t events) {
    const uint32_t c = client_by_fd_.at(fd);
    if (c != DescriptorIndex::kNone && clients_[c].phase != Phase::finished)
      step_client(st, clients_[c], events);
  });
}

void ClientFleet::step_client(Stack& st, Client& c, uint32_t ready) {
  const bool established = c.phase == Phase::established;
  if (ready & kError) {
    // SO_ERROR is read-and-clear: read it once.
    const auto so_error = st.getsockopt(c.fd, SockOpt::so_error);
    const Errno e = so_error.ok() ? static_cast<Errno>(*so_error) : Errno::ok;
    const Outcome o = e == Errno::etimedout ? Outcome::timed_out
                      : established         ? Outcome::reset
                                            : Outcome::refused;
    timeline_.note(TimelineEntry::Kind::client, c.r->id, "client {} (port {}): {} fails with {}",
                   c.r->id, c.r->port, established ? "connection" : "connect()", errno_name(e));
    finish(c, o, e);
    return;
  }
  if (!established) {
    if (!(ready & kWritable)) return;
    c.phase = Phase::established;
    c.r->outcome = Outcome::established;
    c.r->connect_time_s = w_.now_s() - c.r->start_s;
    if (timeline_.enabled())  // format_time makes a string: not for huge runs
      timeline_.note(TimelineEntry::Kind::client, c.r->id,
                     "client {} (port {}) is ESTABLISHED after {}", c.r->id, c.r->port,
                     format_time(c.r->connect_time_s));
  }
  const Scenario& s = w_.scenario;
  if (c.sent < s.request_bytes) {
    request_.assign(s.request_bytes - c.sent, 'q');
    if (auto n = st.send(c.fd, request_); n.ok()) c.sent += static_cast<uint32_t>(*n);
  }
  bool eof = false;
  while (true) {
    auto n = st.recv(c.fd, buf_);
    if (!n.ok()) break;
    if (*n == 0) {
      eof = true;
      break;
    }
    c.received += static_cast<uint32_t>(*n);
  }
  // The server closes after its response: wait for that FIN (EOF) so the
  // client's close is the passive one — no TIME-WAIT pinning its port.
  if (c.received >= s.response_bytes && eof) {
    c.r->end_s = w_.now_s();
    retire(c);
  }
}

void ClientFleet::on_listener_decision(int client, const ListenEvent& e) {
  if (client < 0) return;
  Client& c = clients_[static_cast<size_t>(client)];
  const bool syn = (e.tcp_flags & wire::tcp_flags::SYN) && !(e.tcp_flags & wire::tcp_flags::ACK);
  if (e.decision == ListenDecision::drop && syn) {
    ++c.r->syn_drops;
    if (!c.listener_decided) c.r->first_syn_dropped = true;
  } else if (e.decision == ListenDecision::drop && (e.tcp_flags & wire::tcp_flags::ACK)) {
    ++c.r->acks_dropped;  // its third ACK (or a later one) ignored: the child was not made
  } else if (e.decision == ListenDecision::rst) {
    c.r->reset = true;
  }
  c.listener_decided = true;
}

}  // namespace synq::lab
