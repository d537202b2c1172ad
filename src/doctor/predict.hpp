// `synq doctor --predict PORT`: the observed listener turned into a `synq lab`
// scenario (its backlog, this host's knobs, the measured arrival and accept
// rates), run as observed and with a larger backlog, more workers and
// tcp_abort_on_overflow=1, side by side.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "doctor/findings.hpp"

namespace synq::doctor {

struct PredictInput {
  Listener listener;   // from Observation::after
  NetnsSnapshot host;  // knobs of the listener's namespace
  double window_s = 0;
  /// Measured over the window (BPF: SYNs and accept() returns per second);
  /// negative when not measured.
  double arrival_per_s = -1;
  double accept_per_s = -1;
  std::string rates_source;  // how the rates were obtained, for the output
  /// What predict_input chose and why, one sentence each (which listener of
  /// several on the port; what the rates are bounds of).
  std::vector<std::string> notes;
};

struct PredictRow {
  std::string variant;  // "as observed", "backlog 4×", "2× workers", "abort_on_overflow=1", ...
  std::string change;   // the lab flags that make it, e.g. "--backlog 512"
  int backlog = 0;
  int clients = 0;
  int established = 0, reset = 0, timed_out = 0;
  int dropped_syn = 0, dropped_ack = 0;  // clients that saw a SYN / third-ACK drop
  double connect_p50_s = -1, connect_p90_s = -1, connect_p99_s = -1, connect_max_s = -1;
};

struct Prediction {
  PredictInput input;
  std::string scenario_toml;  // the base scenario, so the user can run `synq lab` on it
  std::vector<PredictRow> rows;
  /// Assumptions predict() made (a rate it had to assume, a knob it had to
  /// adjust to reproduce the backlog), one sentence each.
  std::vector<std::string> notes;
};

/// Builds PredictInput from an observation. Throws std::invalid_argument with a
/// user-facing message when no listener on `port` is in `o.after`.
PredictInput predict_input(const Observation& o, uint16_t port);
Prediction predict(const PredictInput& in);
std::string render_text(const Prediction& p);
nlohmann::json to_json(const Prediction& p);

}  // namespace synq::doctor
