// `synq doctor --predict PORT`: runs the observed listener's lab scenario and
// its variants through the lab's runner (the code path of `synq lab`) and
// shows them side by side (doctor/predict.hpp).
#include "doctor/predict.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "doctor/predict_scenario.hpp"
#include "lab/format_time.hpp"
#include "lab/lab_run.hpp"

namespace synq::doctor {

namespace {

std::string rate_text(double r) {
  return fmt::format("{:.4g}", r);
}

// The arrival rate predict() runs with: the measured one, else a labelled assumption.
double arrival_rate(const PredictInput& in, std::vector<std::string>& notes) {
  if (in.arrival_per_s > 0 && std::isfinite(in.arrival_per_s)) return in.arrival_per_s;
  notes.push_back(fmt::format(
      "{}: assumed {} connections/s (set the measured rate with --arrival-rate)",
      in.arrival_per_s == 0 ? "no new connection arrived in the window" : "arrival rate unknown",
      rate_text(kAssumedArrivalPerS)));
  return kAssumedArrivalPerS;
}

// The accept rate: measured (0: the application never accepted), else an
// assumption read from the accept queue now.
double accept_rate(const PredictInput& in, std::vector<std::string>& notes) {
  if (in.accept_per_s >= 0 && std::isfinite(in.accept_per_s)) return in.accept_per_s;
  // Linux's accept queue is full when it holds more than the backlog
  // (include/net/sock.h, sk_acceptq_is_full): a listener in that state now
  // is not being accepted from.
  if (in.listener.recv_q > in.listener.send_q) {
    notes.push_back(fmt::format(
        "accept rate unknown; the accept queue is full now (Recv-Q {} > Send-Q {}): assumed the "
        "application does not accept (set it with --accept-rate)",
        in.listener.recv_q, in.listener.send_q));
    return 0;
  }
  notes.push_back(
      "accept rate unknown and the accept queue is not full now: assumed the application takes "
      "each connection as it arrives (set a rate with --accept-rate)");
  return std::numeric_limits<double>::infinity();
}

PredictRow summarize(const PredictVariant& v, const lab::LabResult& r) {
  PredictRow row;
  row.variant = v.name;
  row.change = v.change;
  row.backlog = static_cast<int>(r.backlog_clamped);
  row.clients = static_cast<int>(r.clients.size());
  std::vector<double> connect;
  for (const lab::ClientResult& c : r.clients) {
    row.established += c.outcome == lab::Outcome::established;
    row.reset += c.outcome == lab::Outcome::reset;
    row.timed_out += c.outcome == lab::Outcome::timed_out;
    row.dropped_syn += c.syn_drops > 0;
    row.dropped_ack += c.acks_dropped > 0;
    if (c.outcome == lab::Outcome::established && c.connect_time_s >= 0)
      connect.push_back(c.connect_time_s);
  }
  if (!connect.empty()) {
    row.connect_p50_s = lab::percentile(connect, 0.50);
    row.connect_p90_s = lab::percentile(connect, 0.90);
    row.connect_p99_s = lab::percentile(connect, 0.99);
    row.connect_max_s = *std::max_element(connect.begin(), connect.end());
  }
  return row;
}

std::string time_or_dash(double s) {
  return s < 0 ? "—" : lab::format_time(s);
}

// "a backlog of 512 instead of 128", from the flags that make the variant.
std::string variant_phrase(const PredictRow& row, const PredictRow& base, const Prediction& p) {
  if (row.change.starts_with("--backlog"))
    return fmt::format("a backlog of {} instead of {}", row.backlog, base.backlog);
  if (row.change.starts_with("--accept rate:"))
    return fmt::format(
        "accept() at {}/s instead of {}", row.change.substr(std::string("--accept rate:").size()),
        p.input.accept_per_s > 0 ? rate_text(p.input.accept_per_s) + "/s" : std::string("never"));
  if (row.change.starts_with("--accept at:0"))
    return p.input.accept_per_s > 0 || p.input.accept_per_s < 0
               ? std::string(
                     "accept() twice as fast (it already takes each connection as it "
                     "arrives)")
               : std::string("accept() as connections arrive instead of never");
  return fmt::format("tcp_{} instead of {}", row.variant.substr(0, row.variant.find(' ')),
                     row.variant.ends_with("=1") ? "0" : "1");
}

std::string effect_sentence(const PredictRow& row, const PredictRow& base, const Prediction& p) {
  std::vector<std::string> parts;
  parts.push_back(fmt::format("p99 connect time {} → {}", time_or_dash(base.connect_p99_s),
                              time_or_dash(row.connect_p99_s)));
  auto count = [&](const char* what, int a, int b) {
    if (a != b || a > 0) parts.push_back(fmt::format("{} {} → {}", what, a, b));
  };
  if (row.established != base.established)
    parts.push_back(
        fmt::format("established {} → {} of {}", base.established, row.established, row.clients));
  count("SYN drops", base.dropped_syn, row.dropped_syn);
  count("ACK drops", base.dropped_ack, row.dropped_ack);
  count("timed out", base.timed_out, row.timed_out);
  count("reset", base.reset, row.reset);
  std::string text = variant_phrase(row, base, p) + ": ";
  for (size_t i = 0; i < parts.size(); ++i) text += (i ? ", " : "") + parts[i];
  return text;
}

nlohmann::json time_json(double s) {
  return s < 0 ? nlohmann::json(nullptr) : nlohmann::json(s);
}

}  // namespace

Prediction predict(const PredictInput& in) {
  Prediction p;
  p.input = in;
  const double arrival = arrival_rate(in, p.notes);
  const double accept = accept_rate(in, p.notes);
  if (accept >= kAcceptOnArrivalFactor * arrival && std::isfinite(accept))
    p.notes.push_back(fmt::format(
        "accept rate {}/s is at least {}× the arrivals: simulated as an accept loop that takes "
        "each connection as it arrives (--accept at:0)",
        rate_text(accept), kAcceptOnArrivalFactor));
  const lab::Scenario base = observed_scenario(in, arrival, accept, p.notes);
  // Below the arrival rate the accept queue grows by the difference whatever
  // its size: a run of finite length shows a larger backlog postponing the
  // drops, not preventing them.
  if (accept == 0)
    p.notes.push_back(
        "the application does not accept: whatever the backlog B, the B+1 connections the accept "
        "queue holds are all that complete");
  else if (accept < arrival)
    p.notes.push_back(fmt::format(
        "accept() is slower than the arrivals ({}/s < {}/s): the accept queue grows by {}/s "
        "whatever the backlog, so a backlog of B only postpones the drops by about B/{} s; "
        "only accepting faster removes them",
        rate_text(accept), rate_text(arrival), rate_text(arrival - accept),
        rate_text(arrival - accept)));
  if (in.listener.recv_q > 0)
    p.notes.push_back(fmt::format(
        "each run starts with empty queues; this listener's accept queue holds {} now, so the "
        "first simulated arrivals find room that real ones would not",
        in.listener.recv_q));
  p.scenario_toml = scenario_to_toml(base);
  // As `synq lab sweep` runs its points: no timeline or decisions kept,
  // only the per-client outcomes the rows need.
  lab::RunOptions opts;
  opts.record_timeline = false;
  opts.decision_limit = 0;
  for (const PredictVariant& v : predict_variants(base, in, arrival, accept)) {
    const lab::LabResult r = lab::run(v.scenario, opts);
    if (!r.error.empty())
      throw std::runtime_error(
          fmt::format("predict: the lab could not run '{}': {}", v.name, r.error));
    p.rows.push_back(summarize(v, r));
  }
  return p;
}

std::string render_text(const Prediction& p) {
  const PredictInput& in = p.input;
  std::string out = fmt::format(
      "Prediction for {} (backlog in force {}, Recv-Q now {}), simulated with synq lab's linux "
      "model\n",
      in.listener.local.to_string(), in.listener.send_q, in.listener.recv_q);
  out += fmt::format("  rates: {}\n", in.rates_source.empty() ? "not measured" : in.rates_source);
  for (const std::string& n : in.notes) out += "  note: " + n + "\n";
  for (const std::string& n : p.notes) out += "  note: " + n + "\n";
  out += "\n";
  size_t width = 7;
  for (const PredictRow& r : p.rows) width = std::max(width, r.variant.size());
  out += fmt::format(
      "{:<{}}  {:>7}  {:>7}  {:>7}  {:>5}  {:>9}  {:>9}  {:>9}  {:>10}  {:>10}  "
      "{:>10}  {:>10}\n",
      "variant", width, "backlog", "clients", "estab", "reset", "timed out", "SYN drops",
      "ACK drops", "p50", "p90", "p99", "max");
  for (const PredictRow& r : p.rows)
    out += fmt::format(
        "{:<{}}  {:>7}  {:>7}  {:>7}  {:>5}  {:>9}  {:>9}  {:>9}  {:>10}  {:>10}  {:>10}  "
        "{:>10}\n",
        r.variant, width, r.backlog, r.clients, r.established, r.reset, r.timed_out, r.dropped_syn,
        r.dropped_ack, time_or_dash(r.connect_p50_s), time_or_dash(r.connect_p90_s),
        time_or_dash(r.connect_p99_s), time_or_dash(r.connect_max_s));
  out += "\n(SYN/ACK drops: clients that saw one; connect times of established clients)\n";
  if (!p.rows.empty())
    for (size_t i = 1; i < p.rows.size(); ++i)
      out += effect_sentence(p.rows[i], p.rows[0], p) + "\n";
  out +=
      "\nTo run it yourself: save the scenario (--json carries it as scenario_toml) and run "
      "`synq lab FILE`, adding a variant's flags:";
  for (size_t i = 1; i < p.rows.size(); ++i)
    out += fmt::format("\n  {:<{}}  {}", p.rows[i].variant, width, p.rows[i].change);
  return out + "\n";
}

nlohmann::json to_json(const Prediction& p) {
  const PredictInput& in = p.input;
  nlohmann::json rows = nlohmann::json::array();
  for (const PredictRow& r : p.rows)
    rows.push_back({{"variant", r.variant},
                    {"change", r.change},
                    {"backlog", r.backlog},
                    {"clients", r.clients},
                    {"established", r.established},
                    {"reset", r.reset},
                    {"timed_out", r.timed_out},
                    {"dropped_syn", r.dropped_syn},
                    {"dropped_ack", r.dropped_ack},
                    {"connect_p50_s", time_json(r.connect_p50_s)},
                    {"connect_p90_s", time_json(r.connect_p90_s)},
                    {"connect_p99_s", time_json(r.connect_p99_s)},
                    {"connect_max_s", time_json(r.connect_max_s)}});
  auto rate = [](double r) { return r < 0 ? nlohmann::json(nullptr) : nlohmann::json(r); };
  nlohmann::json effects = nlohmann::json::array();
  for (size_t i = 1; i < p.rows.size(); ++i)
    effects.push_back(effect_sentence(p.rows[i], p.rows[0], p));
  return {{"listener",
           {{"local", in.listener.local.to_string()},
            {"recv_q", in.listener.recv_q},
            {"send_q", in.listener.send_q},
            {"syn_recv", in.listener.syn_recv}}},
          {"window_s", in.window_s},
          {"arrival_per_s", rate(in.arrival_per_s)},
          {"accept_per_s", rate(in.accept_per_s)},
          {"rates_source", in.rates_source},
          {"notes",
           [&] {
             auto n = nlohmann::json(in.notes);
             for (const auto& s : p.notes) n.push_back(s);
             return n;
           }()},
          {"rows", rows},
          {"effects", effects},
          {"scenario_toml", p.scenario_toml}};
}

}  // namespace synq::doctor
