// The lab's server application (server_app.hpp).
#include "lab/run/server_app.hpp"

#include <algorithm>
#include <cmath>

namespace synq::lab {

ServerApp::ServerApp(LabWorld& world, const ClientDirectory& directory, ClientFleet& clients,
                     TimelineRecorder& timeline)
    : w_(world), directory_(directory), clients_(clients), timeline_(timeline) {
  workers_idle_ = static_cast<uint32_t>(std::max(0, w_.scenario.workers));
}

void ServerApp::schedule_accepts() {
  const Scenario& s = w_.scenario;
  for (double t : s.accept_once_at) {
    w_.net.at(w_.server, from_seconds(t), [this] {
      timeline_.snapshot("before a single accept()");
      const uint32_t idx = accept_one("server calls accept() once:");
      if (idx == DescriptorIndex::kNone) {
        timeline_.note(TimelineEntry::Kind::server, -1,
                       "server calls accept() once: nothing queued");
        return;
      }
      respond(idx);  // answered like any accepted connection
    });
  }
  if (s.workers > 0) return;
  if (s.accept.kind == AcceptPolicy::Kind::at) {
    w_.net.at(w_.server, from_seconds(s.accept.param), [this] {
      accept_loop_running_ = true;
      timeline_.note(TimelineEntry::Kind::server, -1, "server application starts calling accept()");
      timeline_.snapshot("before the first accept()");
    });
  } else if (s.accept.kind == AcceptPolicy::Kind::rate) {
    schedule_rate_accept(0);
  }
}

// One token per 1/rate seconds, each scheduled by the one before: the event
// queue holds one, not the run's whole schedule.
void ServerApp::schedule_rate_accept(uint64_t n) {
  const double t = static_cast<double>(n) / w_.scenario.accept.param;
  if (t > w_.scenario.duration_s) return;
  w_.net.at(w_.server, from_seconds(t), [this, n] {
    ++accept_tokens_;
    schedule_rate_accept(n + 1);
  });
}

// accept() once; returns the served index, or kNone if nothing was queued.
uint32_t ServerApp::accept_one(std::string_view what) {
  Stack& st = w_.server_stack();
  Endpoint peer;
  auto fd = st.accept(w_.listener, &peer);
  if (!fd.ok()) return DescriptorIndex::kNone;
  ++accepted_;
  const int client = directory_.client_at(peer);
  const auto idx = static_cast<uint32_t>(served_.size());
  served_.push_back({.fd = *fd});
  served_by_fd_.set(*fd, idx);
  if (client >= 0) clients_.mark_accepted(client);
  if (timeline_.enabled())  // peer.to_string() makes a string: not for huge runs
    timeline_.note(TimelineEntry::Kind::server, client, "{} {}", what, peer.to_string());
  return idx;
}

double ServerApp::service_time() {
  const ServiceTime& sv = w_.scenario.service;
  switch (sv.kind) {
    case ServiceTime::Kind::fixed:
      return sv.a;
    case ServiceTime::Kind::exponential:
      return -std::log1p(-w_.net.rng().uniform01()) * sv.a;
    case ServiceTime::Kind::uniform:
      return sv.a + (sv.b - sv.a) * w_.net.rng().uniform01();
  }
  return 0;
}

void ServerApp::on_host_event() {
  Stack& st = w_.server_stack();
  // Served connections a packet or timer touched; the listener's readiness
  // needs no look of its own: the accept loops below run on every event.
  st.drain_ready([this](int fd, uint32_t) {
    const uint32_t idx = served_by_fd_.at(fd);
    if (fd != w_.listener && idx != DescriptorIndex::kNone) mark_dirty(idx);
  });
  while (workers_idle_ > 0) {
    const uint32_t idx = accept_one("a worker accept()s");
    if (idx == DescriptorIndex::kNone) break;
    --workers_idle_;
    w_.net.at(w_.server, w_.net.now() + from_seconds(service_time()), [this, idx] {
      ++workers_idle_;  // the worker is free: on_host_event runs after this callback
      respond(idx);
    });
  }
  while (w_.scenario.workers == 0 && (accept_loop_running_ || accept_tokens_ > 0)) {
    const uint32_t idx = accept_one("server accept() returns");
    if (idx == DescriptorIndex::kNone) break;
    if (accept_tokens_ > 0) --accept_tokens_;
    respond(idx);
  }
  for (size_t k = 0; k < dirty_.size(); ++k) {
    Served& c = served_[dirty_[k]];
    c.queued = false;
    if (c.phase != ServedPhase::closed) step_served(st, c);
  }
  dirty_.clear();
}

// Its service is over (or there is none): answer once the request is in.
void ServerApp::respond(uint32_t idx) {
  served_[idx].phase = ServedPhase::responding;
  mark_dirty(idx);
}

void ServerApp::mark_dirty(uint32_t idx) {
  if (served_[idx].queued) return;
  served_[idx].queued = true;
  dirty_.push_back(idx);
}

void ServerApp::step_served(Stack& st, Served& c) {
  const Scenario& s = w_.scenario;
  while (true) {
    auto n = st.recv(c.fd, buf_);
    if (!n.ok() || *n == 0) break;
    c.received += static_cast<uint32_t>(*n);
  }
  if (c.phase != ServedPhase::responding || c.received < s.request_bytes) return;
  if (c.sent < s.response_bytes) {
    response_.assign(s.response_bytes - c.sent, 'r');
    if (auto n = st.send(c.fd, response_); n.ok()) c.sent += static_cast<uint32_t>(*n);
  }
  if (c.sent >= s.response_bytes) {
    served_by_fd_.clear(c.fd);
    st.close(c.fd);
    c.phase = ServedPhase::closed;
  }
}

}  // namespace synq::lab
