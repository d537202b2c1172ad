#include "lab/sweep.hpp"

#include <atomic>
#include <charconv>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "listen/backlog_model.hpp"
#include "synq/sysctl.hpp"

namespace synq::lab {

namespace {

bool to_number(const std::string& v, double& out) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc{} && p == v.data() + v.size() && !v.empty() && std::isfinite(out);
}

template <typename Int>
bool to_int(const std::string& v, Int& out) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc{} && p == v.data() + v.size() && !v.empty();
}

SweepRow summarize(const LabResult& r) {
  SweepRow row;
  row.error = r.error;
  row.clients = r.clients.size();
  std::vector<double> times;
  size_t dropped = 0;
  for (const auto& c : r.clients) {
    ++row.outcomes[static_cast<size_t>(c.outcome)];
    if (c.connect_time_s >= 0) times.push_back(c.connect_time_s);
    dropped += c.saw_drop();
    row.syn_dropped += c.syn_drops > 0;
    row.ack_dropped += c.acks_dropped > 0;
    row.reset += c.reset;
  }
  const double n = std::max<double>(1, double(row.clients));
  row.drop_rate = double(dropped) / n;
  row.fail_rate = double(row.clients - row.outcomes[0]) / n;
  const double p99 = percentile(times, 0.99);
  row.p99_connect_s = std::isnan(p99) ? 0 : p99;
  row.listen_drops = r.server.get(Counter::TcpExt_ListenDrops);
  row.max_accept_queue = r.max_accept_queue;
  row.max_syn_queue = r.max_syn_queue;
  return row;
}

}  // namespace

std::optional<SweepAxis> SweepAxis::parse(const std::string& text, std::string* error) {
  const auto eq = text.find('=');
  SweepAxis a;
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    if (error) *error = fmt::format("expected name=v1,v2,... or name=LOW..HIGH, got '{}'", text);
    return std::nullopt;
  }
  a.name = text.substr(0, eq);
  const std::string rest = text.substr(eq + 1);
  if (auto dots = rest.find(".."); dots != std::string::npos) {
    uint64_t lo = 0, hi = 0;
    if (!to_int(rest.substr(0, dots), lo) || !to_int(rest.substr(dots + 2), hi) || lo == 0 ||
        hi < lo) {
      if (error) *error = fmt::format("expected LOW..HIGH with 0 < LOW <= HIGH, got '{}'", rest);
      return std::nullopt;
    }
    // Stop before doubling past HIGH: near 2^64 the product wraps to 0 and
    // the loop would never end.
    for (uint64_t v = lo;; v *= 2) {
      a.values.push_back(std::to_string(v));
      if (v > hi / 2) break;
    }
  } else {
    size_t start = 0;
    while (start <= rest.size()) {
      const auto comma = rest.find(',', start);
      const std::string v = rest.substr(start, comma == std::string::npos ? comma : comma - start);
      if (v.empty()) {
        if (error) *error = fmt::format("empty value in '{}'", text);
        return std::nullopt;
      }
      a.values.push_back(v);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::string why;
  Scenario probe;
  for (const auto& v : a.values) {
    if (!apply_parameter(probe, a.name, v, &why)) {
      if (error) *error = why;
      return std::nullopt;
    }
    // A model that is not built in would only show up as an error row.
    if (a.name == "model" && !listen::make_backlog_model(v)) {
      if (error)
        *error =
            fmt::format("model: expected linux, bsd44, freebsd or xnu (built in), got '{}'", v);
      return std::nullopt;
    }
  }
  return a;
}

bool apply_parameter(Scenario& s, const std::string& name, const std::string& value,
                     std::string* error) {
  std::string why;
  bool ok = true;
  double d = 0;
  if (name == "backlog") {
    ok = to_int(value, s.backlog);
  } else if (name == "clients") {
    ok = to_int(value, s.clients) && s.clients >= 0;
  } else if (name == "workers") {
    ok = to_int(value, s.workers) && s.workers >= 0;
  } else if (name == "seed") {
    ok = to_int(value, s.seed);
  } else if (name == "model") {
    s.model = value;
  } else if (name == "duration") {
    ok = to_number(value, d) && d > 0;
    s.duration_s = d;
  } else if (name == "latency_ms") {
    ok = to_number(value, d) && d >= 0;
    s.latency_ms = d;
  } else if (name == "outage") {
    auto v = LinkOutage::parse(value, &why);
    if (v) s.outages = *v;
    ok = v.has_value();
  } else if (name == "arrival") {
    auto v = Arrival::parse(value, &why);
    if (v) s.arrival = *v;
    ok = v.has_value();
  } else if (name == "accept") {
    auto v = AcceptPolicy::parse(value, &why);
    if (v) s.accept = *v;
    ok = v.has_value();
  } else if (name == "service") {
    auto v = ServiceTime::parse(value, &why);
    if (v) s.service = *v;
    ok = v.has_value();
  } else if (name.find('.') != std::string::npos) {
    Sysctls probe;
    ok = probe.set(name, value, &why);
    if (ok) {
      std::erase_if(s.server_sysctls, [&](const auto& kv) { return kv.first == name; });
      s.server_sysctls.emplace_back(name, value);
    }
  } else {
    if (error)
      *error = fmt::format(
          "unknown parameter '{}': expected backlog, clients, workers, model, arrival, accept, "
          "service, duration, seed, latency_ms, outage or a sysctl name",
          name);
    return false;
  }
  if (!ok && error)
    *error = why.empty() ? fmt::format("bad value '{}' for {}", value, name)
             : why.compare(0, name.size(), name) == 0 ? why  // already names the knob
                                                      : fmt::format("{}: {}", name, why);
  return ok;
}

SweepResult run_sweep(const Scenario& base, const SweepAxis& x, const std::optional<SweepAxis>& y,
                      double target, unsigned threads) {
  struct Point {
    std::string xv, yv;
  };
  std::vector<Point> points;
  for (const auto& xv : x.values) {
    if (!y)
      points.push_back({xv, ""});
    else
      for (const auto& yv : y->values) points.push_back({xv, yv});
  }
  SweepResult res;
  res.rows.resize(points.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < points.size();) {
      Scenario s = base;
      std::string err;
      bool ok = apply_parameter(s, x.name, points[i].xv, &err);
      if (ok && y) ok = apply_parameter(s, y->name, points[i].yv, &err);
      RunOptions opts;
      opts.record_timeline = false;
      opts.decision_limit = 0;
      SweepRow row;
      if (ok)
        row = summarize(run(s, opts));
      else
        row.error = err;
      row.x = points[i].xv;
      row.y = points[i].yv;
      res.rows[i] = std::move(row);
    }
  };
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, static_cast<unsigned>(points.size()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();

  // The capacity question: the smallest x (in the order given) that keeps the
  // drop rate under the target, per y value.
  std::vector<std::string> ys = y ? y->values : std::vector<std::string>{""};
  for (const auto& yv : ys) {
    std::string found;
    for (const auto& row : res.rows)
      if (row.y == yv && row.error.empty() && row.drop_rate < target) {
        found = row.x;
        break;
      }
    std::string where = yv.empty() ? "" : fmt::format(" at {}={}", y->name, yv);
    if (!res.answer.empty()) res.answer += "; ";
    res.answer +=
        found.empty()
            ? fmt::format("no {} tried keeps drops under {:g}%{}", x.name, target * 100, where)
            : fmt::format("the smallest {} that keeps drops under {:g}%{} is {}", x.name,
                          target * 100, where, found);
  }
  res.answer += " (a drop: a client saw its SYN dropped, its third ACK ignored, or a RST)";
  return res;
}

std::string sweep_table(const SweepAxis& x, const std::optional<SweepAxis>& y,
                        const SweepResult& r) {
  // "drop rate": clients that saw any drop; the three columns after it break it out.
  std::string out =
      fmt::format("{:>14} {:>16} {:>8} {:>10} {:>8} {:>8} {:>8} {:>10} {:>12} {:>10} {:>8}\n",
                  x.name, y ? y->name : "", "clients", "drop rate", "SYN drop", "ACK drop", "RST",
                  "fail rate", "p99 conn s", "ListenDrop", "max acc");
  for (const auto& row : r.rows) {
    if (!row.error.empty()) {
      out += fmt::format("{:>14} {:>16} error: {}\n", row.x, row.y, row.error);
      continue;
    }
    out += fmt::format(
        "{:>14} {:>16} {:>8} {:>10.4f} {:>8} {:>8} {:>8} {:>10.4f} {:>12.4f} {:>10} {:>8}\n", row.x,
        row.y, row.clients, row.drop_rate, row.syn_dropped, row.ack_dropped, row.reset,
        row.fail_rate, row.p99_connect_s, row.listen_drops, row.max_accept_queue);
  }
  return out;
}

std::string sweep_json(const Scenario& base, const SweepAxis& x, const std::optional<SweepAxis>& y,
                       double target, const SweepResult& r) {
  nlohmann::ordered_json j;
  j["scenario"] = base.name;
  j["x"] = {{"name", x.name}, {"values", x.values}};
  if (y) j["y"] = {{"name", y->name}, {"values", y->values}};
  j["target_drop_rate"] = target;
  j["answer"] = r.answer;
  auto rows = nlohmann::ordered_json::array();
  for (const auto& row : r.rows) {
    nlohmann::ordered_json o = {{"x", row.x}};
    if (y) o["y"] = row.y;
    if (!row.error.empty()) o["error"] = row.error;
    o["clients"] = row.clients;
    o["drop_rate"] = row.drop_rate;
    // Clients per kind of drop (one client may count in several).
    o["dropped_clients"] = {
        {"syn_dropped", row.syn_dropped}, {"ack_dropped", row.ack_dropped}, {"reset", row.reset}};
    o["fail_rate"] = row.fail_rate;
    o["p99_connect_s"] = row.p99_connect_s;
    o["listen_drops"] = row.listen_drops;
    o["max_accept_queue"] = row.max_accept_queue;
    o["max_syn_queue"] = row.max_syn_queue;
    auto outcomes = nlohmann::ordered_json::object();
    for (size_t i = 0; i < 5; ++i)
      outcomes[outcome_name(static_cast<Outcome>(i))] = row.outcomes[i];
    o["outcomes"] = outcomes;
    rows.push_back(std::move(o));
  }
  j["rows"] = std::move(rows);
  return j.dump(1);
}

}  // namespace synq::lab
