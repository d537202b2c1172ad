// `synq lab sweep`: one scenario run over a grid of one or two parameters,
// every run on its own thread (runs share nothing and are deterministic, so
// the table does not depend on the thread count).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lab/lab_run.hpp"
#include "lab/scenario.hpp"

namespace synq::lab {

/// A parameter and its values. Names: backlog, clients, workers, model,
/// arrival, accept, service, duration, seed, latency_ms, or any sysctl name
/// (a server knob, e.g. net.ipv4.tcp_syncookies).
struct SweepAxis {
  std::string name;
  std::vector<std::string> values;
  /// "backlog=1,2,4" or "backlog=1..64" (powers of two from 1 to 64).
  static std::optional<SweepAxis> parse(const std::string& text, std::string* error);
};

/// Sets parameter `name` of `s` to `value`; false with `error` if either is bad.
bool apply_parameter(Scenario& s, const std::string& name, const std::string& value,
                     std::string* error);

struct SweepRow {
  std::string x, y;  // the values of the two parameters (y empty with one)
  size_t clients = 0;
  size_t outcomes[5] = {};
  /// Fraction of clients that saw a drop of any kind (ClientResult::saw_drop):
  /// a SYN dropped, a third ACK ignored, or a RST from the server.
  double drop_rate = 0;
  // The parts, in clients (one client can be in several).
  size_t syn_dropped = 0, ack_dropped = 0, reset = 0;
  double fail_rate = 0;  // fraction of clients not established
  double p99_connect_s = 0;
  uint64_t listen_drops = 0;  // TcpExtListenDrops
  uint32_t max_accept_queue = 0, max_syn_queue = 0;
  std::string error;
};

struct SweepResult {
  std::vector<SweepRow> rows;  // x-major order
  std::string answer;          // the capacity question, in one line
};

/// Runs every (x, y) point on `threads` threads (0: every core).
SweepResult run_sweep(const Scenario& base, const SweepAxis& x, const std::optional<SweepAxis>& y,
                      double target_drop_rate, unsigned threads);

std::string sweep_table(const SweepAxis& x, const std::optional<SweepAxis>& y,
                        const SweepResult& r);
std::string sweep_json(const Scenario& base, const SweepAxis& x, const std::optional<SweepAxis>& y,
                       double target, const SweepResult& r);

}  // namespace synq::lab
