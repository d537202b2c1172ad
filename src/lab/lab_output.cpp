// A finished run as text (the terminal summary) and as JSON (docs/lab.md).
#include <cmath>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "lab/lab_run.hpp"

namespace synq::lab {

namespace {

std::string flags_text(uint8_t f) {
  // tcpdump's letters: S F R P . (ACK) U E W
  std::string s;
  if (f & 0x02) s += 'S';
  if (f & 0x01) s += 'F';
  if (f & 0x04) s += 'R';
  if (f & 0x08) s += 'P';
  if (f & 0x20) s += 'U';
  if (f & 0x40) s += 'E';
  if (f & 0x80) s += 'W';
  if (f & 0x10) s += '.';
  return s;
}

}  // namespace

std::string summary_text(const LabResult& r) {
  std::string out;
  const auto& s = r.scenario;
  out +=
      fmt::format("scenario {}: model {}, listen(fd, {}), {} clients ({}), {}, {} s\n", s.name,
                  s.model, s.backlog, s.clients, s.arrival.to_string(),
                  s.workers > 0 ? fmt::format("{} workers ({})", s.workers, s.service.to_string())
                                : "accept " + s.accept.to_string(),
                  s.duration_s);
  if (!r.error.empty()) return out + "error: " + r.error + "\n";
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  size_t counts[5] = {};
  std::vector<double> times;
  for (const auto& c : r.clients) {
    ++counts[static_cast<size_t>(c.outcome)];
    if (c.connect_time_s >= 0) times.push_back(c.connect_time_s);
  }
  out += "client outcomes:";
  for (size_t i = 0; i < 5; ++i)
    out += fmt::format(" {} {}", outcome_name(static_cast<Outcome>(i)), counts[i]);
  out += "\n";
  if (!times.empty())
    out += fmt::format("connect time: p50 {:.3f} s, p90 {:.3f} s, p99 {:.3f} s, max {:.3f} s\n",
                       percentile(times, 0.5), percentile(times, 0.9), percentile(times, 0.99),
                       percentile(times, 1.0));
  out += fmt::format("queue high-water marks: SYN queue {}, accept queue {}; accepted {}\n",
                     r.max_syn_queue, r.max_accept_queue, r.accepted);
  if (r.attacker_syns) out += fmt::format("attacker SYNs sent: {}\n", r.attacker_syns);
  out += "server counters (non-zero):\n";
  out += r.server.to_table();
  return out;
}

std::string to_json(const LabResult& r) {
  using nlohmann::ordered_json;
  const auto& s = r.scenario;
  ordered_json j;
  j["scenario"] = s.name;
  j["description"] = s.description;
  j["model"] = s.model;
  j["settings"] = {{"backlog", s.backlog},
                   {"backlog_clamped", r.backlog_clamped},
                   {"clients", s.clients},
                   {"arrival", s.arrival.to_string()},
                   {"accept", s.accept.to_string()},
                   {"workers", s.workers},
                   {"service", s.service.to_string()},
                   {"duration_s", s.duration_s},
                   {"seed", s.seed},
                   {"latency_ms", s.latency_ms},
                   {"jitter_ms", s.jitter_ms},
                   {"loss", s.loss},
                   {"bandwidth_bps", s.bandwidth_bps},
                   {"request_bytes", s.request_bytes},
                   {"response_bytes", s.response_bytes},
                   {"connect_timeout_s", s.connect_timeout_s},
                   {"attacker",
                    {{"rate", s.attacker.rate},
                     {"sources", s.attacker.sources},
                     {"start_s", s.attacker.start_s},
                     {"stop_s", s.attacker.stop_s}}}};
  ordered_json sets = ordered_json::object();
  for (const auto& [k, v] : s.server_sysctls) sets[k] = v;
  j["settings"]["server_sysctls"] = sets;
  ordered_json csets = ordered_json::object();
  for (const auto& [k, v] : s.client_sysctls) csets[k] = v;
  j["settings"]["client_sysctls"] = csets;
  if (!r.error.empty()) j["error"] = r.error;
  j["notes"] = r.notes;
  j["counters"] = ordered_json::parse(r.server.to_flat_json());
  j["client_counters"] = ordered_json::parse(r.client.to_flat_json());

  size_t counts[5] = {};
  std::vector<double> times;
  for (const auto& c : r.clients) {
    ++counts[static_cast<size_t>(c.outcome)];
    if (c.connect_time_s >= 0) times.push_back(c.connect_time_s);
  }
  ordered_json outcomes = ordered_json::object();
  for (size_t i = 0; i < 5; ++i) outcomes[outcome_name(static_cast<Outcome>(i))] = counts[i];
  j["outcomes"] = outcomes;
  const auto pct = [&](double p) {
    const double v = percentile(times, p);
    return std::isnan(v) ? ordered_json() : ordered_json(v);
  };
  j["connect_time_s"] = {
      {"p50", pct(0.5)}, {"p90", pct(0.9)}, {"p99", pct(0.99)}, {"max", pct(1.0)}};
  j["high_water"] = {{"syn_queue", r.max_syn_queue}, {"accept_queue", r.max_accept_queue}};
  j["accepted"] = r.accepted;
  j["attacker_syns"] = r.attacker_syns;
  j["events_processed"] = r.events;
  j["max_clients_in_flight"] = r.max_clients_in_flight;

  ordered_json clients = ordered_json::array();
  for (const auto& c : r.clients) {
    ordered_json o = {{"id", c.id},
                      {"port", c.port},
                      {"start_s", c.start_s},
                      {"outcome", outcome_name(c.outcome)}};
    o["connect_time_s"] = c.connect_time_s >= 0 ? ordered_json(c.connect_time_s) : ordered_json();
    o["end_s"] = c.end_s >= 0 ? ordered_json(c.end_s) : ordered_json();
    if (c.error != Errno::ok) o["error"] = errno_name(c.error);
    o["accepted"] = c.accepted;
    o["syn_drops"] = c.syn_drops;
    clients.push_back(std::move(o));
  }
  j["clients"] = std::move(clients);
  ordered_json queues = ordered_json::array();
  for (const auto& q : r.queues)
    queues.push_back({{"t", q.t}, {"syn_queue", q.syn_queue}, {"accept_queue", q.accept_queue}});
  j["queues"] = std::move(queues);
  ordered_json drops = ordered_json::object();
  drops["bin_s"] = r.drops.bin_s;
  ordered_json by_reason = ordered_json::object();
  for (const auto& [reason, bins] : r.drops.by_reason) by_reason[reason] = bins;
  drops["by_reason"] = std::move(by_reason);
  j["drops"] = std::move(drops);

  ordered_json story = ordered_json::array();
  for (const auto& e : r.story)
    story.push_back({{"t", e.t}, {"kind", e.kind}, {"client", e.client}, {"text", e.text}});
  j["story"] = std::move(story);

  ordered_json tl = ordered_json::array();
  static constexpr const char* kKinds[] = {"packet", "client", "server", "snapshot", "decision"};
  for (const auto& e : r.timeline) {
    ordered_json o = {{"t", e.t}, {"kind", kKinds[static_cast<size_t>(e.kind)]}, {"text", e.text}};
    if (e.kind == TimelineEntry::Kind::packet) {
      o["direction"] = e.direction;
      o["sport"] = e.sport;
      o["dport"] = e.dport;
      o["flags"] = flags_text(e.flags);
      o["seq"] = e.seq;
      o["ack"] = e.ack;
      o["len"] = e.len;
      if (e.lost) o["lost"] = true;
    }
    if (e.client >= 0) o["client"] = e.client;
    tl.push_back(std::move(o));
  }
  j["timeline"] = std::move(tl);
  ordered_json decisions = ordered_json::array();
  for (const auto& d : r.decisions) {
    ordered_json o = {{"t", d.t}, {"peer", d.peer}, {"decision", d.decision}};
    o["counter"] = d.counter.empty() ? ordered_json() : ordered_json(d.counter);
    o["reason"] = d.reason;
    o["tcp_flags"] = flags_text(d.tcp_flags);
    o["client"] = d.client;
    o["syn_queue"] = d.syn_queue;
    o["accept_queue"] = d.accept_queue;
    decisions.push_back(std::move(o));
  }
  j["decisions"] = std::move(decisions);
  return j.dump(1);
}

}  // namespace synq::lab
