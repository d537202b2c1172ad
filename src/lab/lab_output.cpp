// A finished run as text (the terminal summary) and as JSON (docs/lab.md).
// Both name counters alike (counter_display_name); the text shows times in
// the unit that suits them (format_time), the JSON as seconds rounded to the
// nanosecond, the simulator's resolution, so no float noise
// (0.30000000000000004) reaches a reader.
#include <cmath>
#include <functional>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "lab/format_time.hpp"
#include "lab/lab_run.hpp"
#include "wire/wire.hpp"

namespace synq::lab {

namespace {

// The JSON's "flags" reads like the line's "Flags [...]"; empty for none
// (a timer's decision has no segment).
std::string flags_text(uint8_t f) {
  return f ? wire::tcp_flags_text(f) : std::string();
}

using nlohmann::ordered_json;

// Seconds as JSON, exact to the nanosecond: the nearest double to n / 1e9
// prints as at most nine decimals. Null for NaN/infinity (never happened).
ordered_json json_seconds(double s) {
  if (!std::isfinite(s)) return ordered_json();
  // Beyond ±2^53 ns (104 days) a double holds no fractional nanoseconds to
  // round away, and llround would overflow long before a Time does.
  if (std::fabs(s) >= 9e6) return s;
  return static_cast<double>(std::llround(s * 1e9)) / 1e9;
}

// json_seconds as text, for the per-client lines written without a JSON tree.
void append_seconds(std::string& out, double s) {
  if (!std::isfinite(s) || s < 0) {
    out += "null";
    return;
  }
  fmt::format_to(std::back_inserter(out), "{}", json_seconds(s).get<double>());
}

// For the freebsd model, or whenever one of FreeBSD's counters moved.
bool shows_netstat(const LabResult& r) {
  if (r.scenario.model == "freebsd") return true;
  for (size_t i = 0; i < kCounterCount; ++i) {
    const auto c = static_cast<Counter>(i);
    if (is_freebsd_counter(c) && r.server.get(c) != 0) return true;
  }
  return false;
}

// Counters by display name: Linux's (nstat names) or FreeBSD's (netstat wording).
ordered_json counters_json(const Counters& counters, bool freebsd) {
  ordered_json j = ordered_json::object();
  for (size_t i = 0; i < kCounterCount; ++i) {
    const auto c = static_cast<Counter>(i);
    if (is_freebsd_counter(c) == freebsd) j[std::string(counter_display_name(c))] = counters.get(c);
  }
  return j;
}

std::string counters_text(const Counters& counters, bool freebsd) {
  std::string out;
  for (size_t i = 0; i < kCounterCount; ++i) {
    const auto c = static_cast<Counter>(i);
    if (is_freebsd_counter(c) != freebsd || counters.get(c) == 0) continue;
    out += fmt::format("  {:<38}{:>12}\n", counter_display_name(c), counters.get(c));
  }
  return out;
}

}  // namespace

std::string summary_text(const LabResult& r) {
  std::string out;
  const auto& s = r.scenario;
  out +=
      fmt::format("scenario {}: model {}, listen(fd, {}), {} clients ({}), {}, {}\n", s.name,
                  s.model, s.backlog, s.clients, s.arrival.to_string(),
                  s.workers > 0 ? fmt::format("{} workers ({})", s.workers, s.service.to_string())
                                : "accept " + s.accept.to_string(),
                  format_time(s.duration_s));
  if (!r.error.empty()) return out + "error: " + r.error + "\n";
  for (const auto& o : s.outages)
    out += fmt::format("link down from {} to {} (both directions)\n", format_time(o.from_s),
                       format_time(o.until_s));
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
    out += fmt::format("connect time: p50 {}, p90 {}, p99 {}, max {}\n",
                       format_time(percentile(times, 0.5)), format_time(percentile(times, 0.9)),
                       format_time(percentile(times, 0.99)), format_time(percentile(times, 1.0)));
  out += fmt::format("queue high-water marks: SYN queue {}, accept queue {}; accepted {}\n",
                     r.max_syn_queue, r.max_accept_queue, r.accepted);
  if (r.attacker_syns) out += fmt::format("attacker SYNs sent: {}\n", r.attacker_syns);
  out += "server counters (non-zero; nstat's names):\n";
  out += counters_text(r.server, false);
  if (shows_netstat(r)) {
    out += "server counters (non-zero; FreeBSD's netstat -s -p tcp names):\n";
    out += counters_text(r.server, true);
  }
  return out;
}

std::string client_json_line(const ClientResult& c) {
  std::string out;
  out.reserve(200);
  fmt::format_to(std::back_inserter(out), R"({{"id":{},"port":{},"start_s":)", c.id, c.port);
  append_seconds(out, c.start_s);
  fmt::format_to(std::back_inserter(out), R"(,"outcome":"{}","connect_time_s":)",
                 outcome_name(c.outcome));
  append_seconds(out, c.connect_time_s);
  out += R"(,"end_s":)";
  append_seconds(out, c.end_s);
  if (c.error != Errno::ok)
    fmt::format_to(std::back_inserter(out), R"(,"error":"{}")", errno_name(c.error));
  fmt::format_to(std::back_inserter(out),
                 R"(,"accepted":{},"syn_drops":{},"acks_dropped":{},"reset":{},"saw_drop":{}}})",
                 c.accepted, c.syn_drops, c.acks_dropped, c.reset, c.saw_drop());
  return out;
}

void write_client_lines(const LabResult& r, const std::function<bool(std::string_view)>& sink) {
  std::string line;
  for (const auto& c : r.clients) {
    line = client_json_line(c);
    line += '\n';
    if (!sink(line)) return;
  }
}

std::string to_json(const LabResult& r, const std::string& clients_file, int indent) {
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
                   {"outage", LinkOutage::to_string(s.outages)},
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
  j["counters"] = counters_json(r.server, false);
  if (shows_netstat(r)) j["netstat"] = counters_json(r.server, true);
  j["client_counters"] = counters_json(r.client, false);

  size_t counts[5] = {};
  std::vector<double> times;
  for (const auto& c : r.clients) {
    ++counts[static_cast<size_t>(c.outcome)];
    if (c.connect_time_s >= 0) times.push_back(c.connect_time_s);
  }
  ordered_json outcomes = ordered_json::object();
  for (size_t i = 0; i < 5; ++i) outcomes[outcome_name(static_cast<Outcome>(i))] = counts[i];
  j["outcomes"] = outcomes;
  const auto pct = [&](double p) { return json_seconds(percentile(times, p)); };
  j["connect_time_s"] = {
      {"p50", pct(0.5)}, {"p90", pct(0.9)}, {"p99", pct(0.99)}, {"max", pct(1.0)}};
  j["high_water"] = {{"syn_queue", r.max_syn_queue}, {"accept_queue", r.max_accept_queue}};
  j["accepted"] = r.accepted;
  j["attacker_syns"] = r.attacker_syns;
  j["events_processed"] = r.events;
  j["max_clients_in_flight"] = r.max_clients_in_flight;

  // The clients are spliced into the dump as lines (client_json_line): a
  // million of them as JSON trees cost more than the whole run. A huge run
  // names a JSON Lines file instead (to_json's clients_file).
  static constexpr const char* kClientsMark = "@@synq-clients@@";
  if (clients_file.empty())
    j["clients"] = kClientsMark;
  else
    j["clients_file"] = clients_file;
  ordered_json queues = ordered_json::array();
  for (const auto& q : r.queues)
    queues.push_back(
        {{"t", json_seconds(q.t)}, {"syn_queue", q.syn_queue}, {"accept_queue", q.accept_queue}});
  j["queues"] = std::move(queues);
  ordered_json drops = ordered_json::object();
  drops["bin_s"] = json_seconds(r.drops.bin_s);
  ordered_json by_reason = ordered_json::object();
  for (const auto& [reason, bins] : r.drops.by_reason) by_reason[reason] = bins;
  drops["by_reason"] = std::move(by_reason);
  j["drops"] = std::move(drops);

  ordered_json story = ordered_json::array();
  for (const auto& e : r.story)
    story.push_back(
        {{"t", json_seconds(e.t)}, {"kind", e.kind}, {"client", e.client}, {"text", e.text}});
  j["story"] = std::move(story);

  ordered_json tl = ordered_json::array();
  static constexpr const char* kKinds[] = {"packet", "client", "server", "snapshot", "decision"};
  for (const auto& e : r.timeline) {
    ordered_json o = {
        {"t", json_seconds(e.t)}, {"kind", kKinds[static_cast<size_t>(e.kind)]}, {"text", e.text}};
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
    ordered_json o = {{"t", json_seconds(d.t)}, {"peer", d.peer}, {"decision", d.decision}};
    o["counter"] = d.counter.empty() ? ordered_json() : ordered_json(d.counter);
    o["reason"] = d.reason;
    o["reason_key"] = d.reason_key;
    o["tcp_flags"] = flags_text(d.tcp_flags);
    o["client"] = d.client;
    o["syn_queue"] = d.syn_queue;
    o["accept_queue"] = d.accept_queue;
    decisions.push_back(std::move(o));
  }
  j["decisions"] = std::move(decisions);
  std::string doc = j.dump(indent);
  if (!clients_file.empty()) return doc;
  const std::string mark = fmt::format("\"{}\"", kClientsMark);
  const size_t at = doc.find(mark);
  if (at == std::string::npos) return doc;  // cannot happen: the mark is ours
  std::string lines = "[";
  for (size_t i = 0; i < r.clients.size(); ++i) {
    lines += i == 0 ? "\n  " : ",\n  ";
    lines += client_json_line(r.clients[i]);
  }
  lines += r.clients.empty() ? "]" : "\n ]";
  doc.replace(at, mark.size(), lines);
  return doc;
}

}  // namespace synq::lab
