// predict_input(): the listener `synq doctor --predict PORT` models, and the
// arrival and accept rates measured for it (doctor/predict.hpp).
#include <algorithm>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "doctor/predict.hpp"

namespace synq::doctor {

namespace {

const ListenerEvidence* evidence_of(const Observation& o, const Listener& l) {
  if (!o.evidence) return nullptr;
  for (const ListenerEvidence& e : *o.evidence)
    if (l.cookie != 0 && e.cookie == l.cookie) return &e;
  // A listener the probe saw before the kernel gave it a cookie: by address.
  for (const ListenerEvidence& e : *o.evidence)
    if (e.cookie == 0 && e.local == l.local) return &e;
  return nullptr;
}

// How much the kernel's evidence says about a listener: the events counted for it.
uint64_t evidence_weight(const ListenerEvidence* e) {
  if (!e) return 0;
  return e->syns + e->ack_overflows + e->completions + e->accepts;
}

uint64_t counter_delta(const Observation& o, const std::string& name) {
  const uint64_t a = o.after.counter(name), b = o.before.counter(name);
  return a >= b ? a - b : 0;  // a counter reset (netns recreated) says nothing
}

std::string ports_seen(const NetnsSnapshot& s) {
  std::set<uint16_t> ports;
  for (const Listener& l : s.listeners) ports.insert(l.local.port);
  if (ports.empty()) return "doctor saw no listeners";
  std::string list;
  for (uint16_t p : ports) list += fmt::format("{}{}", list.empty() ? "" : ", ", p);
  return "doctor saw: " + list;
}

// Rates from the kernel's per-listener evidence (BPF).
void rates_from_evidence(const ListenerEvidence* e, const Listener& l, double window_s,
                         PredictInput& in) {
  if (!e) {
    in.arrival_per_s = 0;
    in.rates_source = fmt::format(
        "BPF evidence over {:.3g} s: no event on this listener (no SYN reached it)", window_s);
    return;
  }
  // Every SYN the listener drops is sent again by its client (tcp_syn_retries),
  // so SYNs alone count one client several times; SYNs minus drops counts each
  // connect() once (the last drop of a client that gave up is the only error).
  const uint64_t drops = e->syn_drops_accept_queue + e->syn_drops_syn_queue + e->syn_drops_other;
  const uint64_t new_clients = e->syns > drops ? e->syns - drops : 0;
  in.arrival_per_s = static_cast<double>(new_clients) / window_s;
  std::string accept_text;
  // A queue that never filled says how much the application accepted, not
  // how much it can: nothing waited for it. Linux's queue is full above the
  // backlog (include/net/sock.h, sk_acceptq_is_full).
  const bool never_full = e->accept_queue_max <= l.send_q && e->ack_overflows == 0 &&
                          e->syn_drops_accept_queue == 0 && l.recv_q <= l.send_q;
  if (e->accepts == 0 && e->completions == 0 && l.recv_q == 0) {
    in.accept_per_s = -1;  // nothing was there to accept: the rate says nothing
    accept_text = "accept rate unknown (nothing was queued to accept)";
  } else if (e->accepts > 0 && never_full) {
    in.accept_per_s = -1;
    accept_text = fmt::format(
        "{} accept() returns and the accept queue never filled (high-water mark {} of {}): the "
        "application kept up, at {:.4g}/s or more",
        e->accepts, e->accept_queue_max, l.send_q + 1, static_cast<double>(e->accepts) / window_s);
  } else {
    in.accept_per_s = static_cast<double>(e->accepts) / window_s;
    accept_text = fmt::format("{} accept() returns", e->accepts);
  }
  in.rates_source = fmt::format(
      "BPF evidence over {:.3g} s: {} SYNs, {} of them dropped and retried, so {} new "
      "connections; {}",
      window_s, e->syns, drops, new_clients, accept_text);
}

// Without BPF the namespace counters are the port's only when nothing else
// listens there: Tcp.PassiveOpens counts children created at the third ACK
// (net/ipv4/tcp_minisocks.c, tcp_create_openreq_child), TcpExt.ListenDrops
// every listener drop (include/net/tcp.h, tcp_listendrop).
void rates_from_counters(const Observation& o, uint16_t port, PredictInput& in) {
  const bool only_port = std::all_of(o.after.listeners.begin(), o.after.listeners.end(),
                                     [&](const Listener& l) { return l.local.port == port; });
  if (!only_port || o.window_s <= 0) {
    in.rates_source = o.window_s <= 0
                          ? "no watch window: rates unknown"
                          : "no BPF evidence and other ports listen in this namespace: the "
                            "namespace counters cannot be split per port, rates unknown";
    return;
  }
  const uint64_t opens = counter_delta(o, "Tcp.PassiveOpens");
  const uint64_t drops = counter_delta(o, "TcpExt.ListenDrops");
  // Children created, minus the growth of the accept queue(s), were accepted
  // (or closed by their peer before accept(), which is rare).
  int64_t queued_growth = 0;
  for (const Listener& a : o.after.listeners) queued_growth += a.recv_q;
  for (const Listener& b : o.before.listeners)
    if (b.local.port == port) queued_growth -= b.recv_q;
  in.arrival_per_s = static_cast<double>(opens) / o.window_s;
  const int64_t accepted = static_cast<int64_t>(opens) - queued_growth;
  if (opens > 0 || queued_growth != 0)
    in.accept_per_s = std::max<int64_t>(0, accepted) / o.window_s;
  in.rates_source = fmt::format(
      "namespace counters over {:.3g} s (no BPF; this port is the only one listening): "
      "Tcp.PassiveOpens +{}, TcpExt.ListenDrops +{}, accept queue {:+}",
      o.window_s, opens, drops, queued_growth);
  if (drops > 0)
    in.notes.push_back(fmt::format(
        "the arrival rate counts completed handshakes only: {} listener drops mean more clients "
        "tried (their retries are in ListenDrops too, so it cannot say how many)",
        drops));
}

}  // namespace

PredictInput predict_input(const Observation& o, uint16_t port) {
  std::vector<const Listener*> on_port;
  for (const Listener& l : o.after.listeners)
    if (l.local.port == port) on_port.push_back(&l);
  if (on_port.empty())
    throw std::invalid_argument(
        fmt::format("no listener on port {} in this namespace ({})", port, ports_seen(o.after)));
  // Several sockets on one port (IPv4 and IPv6, several addresses,
  // SO_REUSEPORT): model the busiest, by evidence, then Recv-Q.
  const Listener* pick =
      *std::max_element(on_port.begin(), on_port.end(), [&](const Listener* a, const Listener* b) {
        const uint64_t wa = evidence_weight(evidence_of(o, *a));
        const uint64_t wb = evidence_weight(evidence_of(o, *b));
        return wa != wb ? wa < wb : a->recv_q < b->recv_q;
      });
  PredictInput in;
  in.listener = *pick;
  in.host = o.after;
  in.window_s = o.window_s;
  if (on_port.size() > 1) {
    std::string others;
    for (const Listener* l : on_port)
      if (l != pick) others += (others.empty() ? "" : ", ") + l->local.to_string();
    in.notes.push_back(fmt::format(
        "{} listeners on port {}: modelling {} (the most {}); also there: {}", on_port.size(), port,
        pick->local.to_string(), o.evidence ? "events counted, then Recv-Q" : "Recv-Q", others));
  }
  if (o.evidence && o.window_s > 0)
    rates_from_evidence(evidence_of(o, *pick), *pick, o.window_s, in);
  else
    rates_from_counters(o, port, in);
  return in;
}

}  // namespace synq::doctor
