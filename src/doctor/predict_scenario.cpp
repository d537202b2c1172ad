// Builds the `synq lab` scenario of an observed listener and its variants,
// and writes a scenario as TOML (doctor/predict_scenario.hpp).
#include "doctor/predict_scenario.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include "synq/sysctl.hpp"

namespace synq::doctor {

namespace {

// The server knobs that decide what the listen queues do, and the client
// knobs that decide how long a client keeps retrying its SYN.
constexpr const char* kServerKnobs[] = {"net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_syncookies",
                                        "net.ipv4.tcp_abort_on_overflow",
                                        "net.ipv4.tcp_synack_retries"};
constexpr const char* kClientKnobs[] = {"net.ipv4.tcp_syn_retries",
                                        "net.ipv4.tcp_syn_linear_timeouts"};

void set_knob(std::vector<std::pair<std::string, std::string>>& to, const std::string& name,
              int64_t value, std::vector<std::string>& notes) {
  Sysctls probe;
  std::string why;
  if (!probe.set(name, std::to_string(value), &why)) {
    notes.push_back(fmt::format("{} = {} is outside what the lab models ({}): its default is used",
                                name, value, why));
    return;
  }
  std::erase_if(to, [&](const auto& kv) { return kv.first == name; });
  to.emplace_back(name, std::to_string(value));
}

// How long after its first SYN a client's connect() gives up, in seconds.
// An active open times out on time, not on a count: at the first
// retransmission timer at or after tcp_model_timeout(tcp_syn_retries, 1 s)
// (net/ipv4/tcp_timer.c, tcp_write_timeout → retransmits_timed_out →
// tcp_model_timeout: (2^(R+1) − 1) s up to R = 6, then 120 s per retry more).
// The first tcp_syn_linear_timeouts retransmissions keep the 1 s RTO, later
// ones double it up to TCP_RTO_MAX (tcp_retransmit_timer). (6, 4) gives
// 131 s and (1, 2) 3 s, as measured on 6.18 (docs/kernel-facts.md).
double connect_give_up_s(int64_t syn_retries, int64_t linear_timeouts) {
  constexpr double kRtoMax = 120;
  const double budget = syn_retries <= 6 ? std::ldexp(1.0, static_cast<int>(syn_retries) + 1) - 1
                                         : 127 + static_cast<double>(syn_retries - 6) * kRtoMax;
  double t = 0;
  int backoff = 0;
  for (int64_t retransmits = 0;; ++retransmits) {
    t += std::min(std::ldexp(1.0, std::min(backoff, 7)), kRtoMax);
    if (retransmits > 0 && t >= budget) return t;
    if (retransmits + 1 > linear_timeouts) ++backoff;
  }
}

std::string rate_text(double r) {
  return fmt::format("{:.4g}", r);
}

// A TOML basic string: quotes, backslashes and control characters escaped
// (TOML 1.0, "String"); everything else, UTF-8 included, as is.
std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\')
      out += {'\\', c};
    else if (u < 0x20 || u == 0x7f)
      out += fmt::format("\\u{:04X}", u);
    else
      out += c;
  }
  return out + "\"";
}

// The shortest text that reads back as the same double ({} in fmt), written
// as a float ("166.0", not "166").
std::string toml_number(double v) {
  std::string text = fmt::format("{}", v);
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}

std::string toml_numbers(const std::vector<double>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + toml_number(values[i]);
  return out + "]";
}

// [SECTION.sysctl]: integers as integers, anything else as a string.
void toml_sysctls(std::string& out, const char* section,
                  const std::vector<std::pair<std::string, std::string>>& knobs) {
  if (knobs.empty()) return;
  out += fmt::format("[{}.sysctl]\n", section);
  for (const auto& [k, v] : knobs) {
    int64_t parsed = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
    const bool integer = ec == std::errc() && end == v.data() + v.size();
    out += fmt::format("{} = {}\n", toml_string(k), integer ? v : toml_string(v));
  }
}

// How the description names an accept policy.
std::string accept_text(const lab::AcceptPolicy& a) {
  switch (a.kind) {
    case lab::AcceptPolicy::Kind::never:
      return "never accepted";
    case lab::AcceptPolicy::Kind::at:
      return "each connection accepted as it arrives";
    case lab::AcceptPolicy::Kind::rate:
      break;
  }
  return fmt::format("{} accept() per second", rate_text(a.param));
}

}  // namespace

lab::AcceptPolicy accept_policy(double accept_per_s, double arrival_per_s) {
  if (accept_per_s <= 0) return {lab::AcceptPolicy::Kind::never, 0};
  if (accept_per_s >= kAcceptOnArrivalFactor * arrival_per_s)
    return {lab::AcceptPolicy::Kind::at, 0};
  return {lab::AcceptPolicy::Kind::rate, accept_per_s};
}

lab::Scenario observed_scenario(const PredictInput& in, double arrival_per_s, double accept_per_s,
                                std::vector<std::string>& notes) {
  const Listener& l = in.listener;
  lab::Scenario s;
  s.name = fmt::format("predict-{}", l.local.port);
  s.description = fmt::format(
      "synq doctor --predict {}: {} with the backlog in force ({}), this namespace's knobs, "
      "{} connections/s arriving, {}",
      l.local.port, l.local.to_string(), l.send_q, rate_text(arrival_per_s),
      accept_text(accept_policy(accept_per_s, arrival_per_s)));
  s.model = "linux";
  // Send-Q is sk_max_ack_backlog, the backlog after listen() clamped it to
  // somaxconn (net/socket.c, __sys_listen_socket; net/ipv4/tcp_diag.c,
  // tcp_diag_get_info): passing it to listen() again reproduces it as long as
  // the scenario's somaxconn is not lower.
  s.backlog = static_cast<int>(std::min<uint32_t>(l.send_q, INT32_MAX));
  const int64_t somaxconn = in.host.knob("net.core.somaxconn").value_or(Sysctls{}.somaxconn);
  if (!in.host.knob("net.core.somaxconn"))
    notes.push_back(fmt::format("net.core.somaxconn was not read: {} assumed", somaxconn));
  if (somaxconn < s.backlog)
    notes.push_back(fmt::format(
        "net.core.somaxconn is {} now, below this listener's backlog {}: it was lowered after "
        "listen(), which keeps the backlog it got until listen() is called again; the scenario "
        "uses somaxconn {}",
        somaxconn, s.backlog, s.backlog));
  set_knob(s.server_sysctls, "net.core.somaxconn", std::max<int64_t>(somaxconn, s.backlog), notes);
  for (const char* k : kServerKnobs) {
    if (auto v = in.host.knob(k))
      set_knob(s.server_sysctls, k, *v, notes);
    else
      notes.push_back(fmt::format("{} was not read: the lab's Linux 6.18 default is used", k));
  }
  for (const char* k : kClientKnobs) {
    if (auto v = in.host.knob(k)) {
      set_knob(s.client_sysctls, k, *v, notes);
    } else if (std::string(k) == "net.ipv4.tcp_syn_linear_timeouts") {
      // Kernels before the knob back off from the first retransmission.
      set_knob(s.client_sysctls, k, 0, notes);
      notes.push_back(
          "no net.ipv4.tcp_syn_linear_timeouts on this kernel: clients back off from the first "
          "SYN retransmission (as with 0)");
    } else {
      notes.push_back(fmt::format("{} was not read: the lab's Linux 6.18 default is used", k));
    }
  }
  const int64_t syn_retries =
      in.host.knob("net.ipv4.tcp_syn_retries").value_or(Sysctls{}.tcp_syn_retries);
  const int64_t linear = in.host.knob("net.ipv4.tcp_syn_linear_timeouts").value_or(0);
  double give_up_s = connect_give_up_s(syn_retries, linear);
  if (give_up_s > kPredictMaxGiveUp) {
    notes.push_back(fmt::format(
        "clients here retry their SYN for {:.0f} s (tcp_syn_retries {}): the runs stop {:.0f} s "
        "after the last arrival, and clients still retrying then count as neither established "
        "nor timed out",
        give_up_s, syn_retries, kPredictMaxGiveUp));
    give_up_s = kPredictMaxGiveUp;
  }
  s.arrival.kind = lab::Arrival::Kind::poisson;
  s.arrival.param = arrival_per_s;
  const double wanted = std::max(200.0, std::ceil(kPredictMinArrivalSpan * arrival_per_s));
  s.clients = static_cast<int>(std::min<double>(wanted, kPredictMaxClients));
  if (wanted > kPredictMaxClients)
    notes.push_back(fmt::format(
        "{} clients: {:.3g} s of arrivals at {} per second (capped so each run stays fast)",
        s.clients, s.clients / arrival_per_s, rate_text(arrival_per_s)));
  // One second more lets the last client's give-up timer fire inside the run.
  s.duration_s = std::ceil(s.clients / arrival_per_s + give_up_s + 1);
  s.accept = accept_policy(accept_per_s, arrival_per_s);
  s.latency_ms = 0.05;  // loopback-like: the queues, not the path, decide
  s.seed = 1;
  return s;
}

std::vector<PredictVariant> predict_variants(const lab::Scenario& base, const PredictInput& in,
                                             double arrival_per_s, double accept_per_s) {
  std::vector<PredictVariant> out;
  out.push_back({"as observed", "", base});

  const int64_t somaxconn = in.host.knob("net.core.somaxconn").value_or(Sysctls{}.somaxconn);
  std::vector<std::string> ignored;  // observed_scenario already said what it adjusted
  PredictVariant bigger{"", "", base};
  const int backlog =
      static_cast<int>(std::clamp<int64_t>(4 * int64_t{base.backlog}, 4, INT32_MAX));
  bigger.scenario.backlog = backlog;
  set_knob(bigger.scenario.server_sysctls, "net.core.somaxconn",
           std::max<int64_t>(somaxconn, backlog), ignored);
  bigger.name = somaxconn < backlog
                    ? fmt::format("backlog {} (needs net.core.somaxconn ≥ {})", backlog, backlog)
                    : fmt::format("backlog {}", backlog);
  bigger.change = somaxconn < backlog
                      ? fmt::format("--backlog {} --set net.core.somaxconn={}", backlog, backlog)
                      : fmt::format("--backlog {}", backlog);
  out.push_back(std::move(bigger));

  PredictVariant faster{"", "", base};
  const double rate = accept_per_s > 0 ? 2 * accept_per_s : arrival_per_s;
  faster.scenario.accept = accept_policy(rate, arrival_per_s);
  if (base.accept.kind == lab::AcceptPolicy::Kind::at)
    faster.name = "2× accept rate (already accepts on arrival)";
  else
    faster.name = accept_per_s > 0 ? "2× accept rate (workers)" : "an acceptor at the arrival rate";
  faster.change = "--accept " + faster.scenario.accept.to_string();
  out.push_back(std::move(faster));

  // Whichever tcp_abort_on_overflow the host does not have.
  const int64_t abort = in.host.knob("net.ipv4.tcp_abort_on_overflow").value_or(0);
  PredictVariant flipped{"", "", base};
  set_knob(flipped.scenario.server_sysctls, "net.ipv4.tcp_abort_on_overflow", abort ? 0 : 1,
           ignored);
  flipped.name = abort ? "abort_on_overflow=0" : "abort_on_overflow=1";
  flipped.change = fmt::format("--set net.ipv4.tcp_abort_on_overflow={}", abort ? 0 : 1);
  out.push_back(std::move(flipped));
  return out;
}

std::string scenario_to_toml(const lab::Scenario& s) {
  std::string out = "# A synq lab scenario (docs/lab.md, \"Scenario files\"): synq lab FILE\n";
  auto line = [&](std::string_view key, const std::string& value) {
    out += fmt::format("{} = {}\n", key, value);
  };
  line("name", toml_string(s.name));
  line("description", toml_string(s.description));
  line("duration", toml_number(s.duration_s));
  line("seed", std::to_string(s.seed));

  out += "\n[server]\n";
  line("model", toml_string(s.model));
  line("backlog", std::to_string(s.backlog));
  if (s.workers > 0) {
    line("workers", std::to_string(s.workers));
    line("service", toml_string(s.service.to_string()));
  } else {
    line("accept", toml_string(s.accept.to_string()));
  }
  if (!s.accept_once_at.empty()) line("accept_once_at", toml_numbers(s.accept_once_at));
  toml_sysctls(out, "server", s.server_sysctls);

  out += "\n[clients]\n";
  line("count", std::to_string(s.clients));
  line("arrival", toml_string(s.arrival.to_string()));
  if (!s.client_start_s.empty()) line("start_times", toml_numbers(s.client_start_s));
  line("request_bytes", std::to_string(s.request_bytes));
  line("response_bytes", std::to_string(s.response_bytes));
  line("connect_timeout", toml_number(s.connect_timeout_s));
  toml_sysctls(out, "clients", s.client_sysctls);

  out += "\n[link]\n";
  line("latency_ms", toml_number(s.latency_ms));
  line("jitter_ms", toml_number(s.jitter_ms));
  line("loss", toml_number(s.loss));
  line("bandwidth_bps", std::to_string(s.bandwidth_bps));
  if (!s.outages.empty()) line("outage", toml_string(lab::LinkOutage::to_string(s.outages)));

  if (s.attacker.rate > 0) {
    out += "\n[attacker]\n";
    line("rate", toml_number(s.attacker.rate));
    line("sources", std::to_string(s.attacker.sources));
    line("start", toml_number(s.attacker.start_s));
    line("stop", toml_number(s.attacker.stop_s));
  }
  return out;
}

}  // namespace synq::doctor
