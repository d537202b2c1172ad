#include "lab/describe.hpp"

#include <fmt/format.h>

namespace synq::lab {

namespace {

// Seconds as people write them: "0.25 s", "10 ms", "70 s".
std::string seconds(double s) {
  if (s > 0 && s < 1) return fmt::format("{:g} ms", s * 1000);
  return fmt::format("{:g} s", s);
}

std::string clients_part(const Scenario& s) {
  const std::string n = fmt::format("{} client{}", s.clients, s.clients == 1 ? "" : "s");
  if (s.arrival.kind == Arrival::Kind::trace)
    return fmt::format("clients at the times in {}", s.arrival.trace_path);
  // Explicit start times win over the arrival process for the clients they list.
  if (!s.client_start_s.empty()) return n + " at scripted times";
  switch (s.arrival.kind) {
    case Arrival::Kind::burst:
      return n + " at once";
    case Arrival::Kind::every:
      return fmt::format("{}, one every {}", n, seconds(s.arrival.param));
    case Arrival::Kind::poisson:
      return fmt::format("{}, Poisson arrivals at {:g}/s", n, s.arrival.param);
    case Arrival::Kind::trace:
      break;
  }
  return n;
}

std::string service_part(const ServiceTime& t) {
  switch (t.kind) {
    case ServiceTime::Kind::fixed:
      return fmt::format("{} service", seconds(t.a));
    case ServiceTime::Kind::exponential:
      return fmt::format("exp({}) service", seconds(t.a));
    case ServiceTime::Kind::uniform:
      return fmt::format("uniform {}..{} service", seconds(t.a), seconds(t.b));
  }
  return "?";
}

// Who calls accept(), and when: workers replace the accept policy.
std::string accept_part(const Scenario& s) {
  std::string out;
  if (s.workers > 0) {
    out = fmt::format("{} worker{} with {}", s.workers, s.workers == 1 ? "" : "s",
                      service_part(s.service));
  } else {
    switch (s.accept.kind) {
      case AcceptPolicy::Kind::never:
        out = s.accept_once_at.empty() ? "accept() never called" : "no accept loop";
        break;
      case AcceptPolicy::Kind::at:
        out = fmt::format("accept() from {} on", seconds(s.accept.param));
        break;
      case AcceptPolicy::Kind::rate:
        out = fmt::format("accept() {:g} times a second", s.accept.param);
        break;
    }
  }
  for (double t : s.accept_once_at) out += fmt::format(", one accept() at {}", seconds(t));
  return out;
}

}  // namespace

std::string describe(const Scenario& s) {
  const Scenario d;  // what a custom run starts from
  std::string out = fmt::format("listen(fd, {}); {}", s.backlog, clients_part(s));
  if (s.connect_timeout_s > 0)
    out += fmt::format(" giving up after {}", seconds(s.connect_timeout_s));
  out += "; " + accept_part(s);
  if (s.attacker.rate > 0)
    out += fmt::format("; a SYN flood of {:g}/s from {} spoofed sources", s.attacker.rate,
                       s.attacker.sources);
  if (s.latency_ms != d.latency_ms || s.jitter_ms != d.jitter_ms)
    out += fmt::format("; {:g} ms one-way", s.latency_ms) +
           (s.jitter_ms > 0 ? fmt::format(" + up to {:g} ms jitter", s.jitter_ms) : "");
  if (s.loss > 0) out += fmt::format("; {:g}% loss", s.loss * 100);
  for (const auto& o : s.outages)
    out += fmt::format("; link down {:g}–{:g} s", o.from_s, o.until_s);
  if (s.bandwidth_bps > 0) out += fmt::format("; {} bit/s", s.bandwidth_bps);
  for (const auto& [k, v] : s.server_sysctls) out += fmt::format("; {}={}", k, v);
  for (const auto& [k, v] : s.client_sysctls) out += fmt::format("; clients' {}={}", k, v);
  if (s.request_bytes != d.request_bytes || s.response_bytes != d.response_bytes)
    out += fmt::format("; {} B requests, {} B responses", s.request_bytes, s.response_bytes);
  out += fmt::format("; {}", seconds(s.duration_s));
  if (s.seed != d.seed) out += fmt::format(", seed {}", s.seed);
  return out;
}

}  // namespace synq::lab
