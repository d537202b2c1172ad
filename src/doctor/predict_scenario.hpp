// The `synq lab` scenario `synq doctor --predict` builds from an observed
// listener, and its variants (a larger backlog, more accepting, abort on
// overflow); internal to doctor/predict.cpp.
#pragma once

#include <string>
#include <vector>

#include "doctor/predict.hpp"
#include "lab/scenario.hpp"

namespace synq::doctor {

/// A client population this large keeps one run well under a second of CPU.
inline constexpr int kPredictMaxClients = 5000;
/// Arrivals for at least this long (or 200 clients, whichever is more):
/// long enough for the queues to reach their steady state.
inline constexpr double kPredictMinArrivalSpan = 30;
/// Runs last at most this long after the last arrival, however long the
/// host's clients keep retrying their SYN.
inline constexpr double kPredictMaxGiveUp = 600;
/// A rate predict() assumes when none was measured (labelled in the output).
inline constexpr double kAssumedArrivalPerS = 100;
/// An accept rate at least this many times the arrival rate takes every
/// connection as it arrives: the lab's rate:R accept banks the ticks it does
/// not use, so the queue stays empty, and is simulated as an accept loop
/// (`at:0`), which costs no tick events (rate:R costs one per 1/R s of the
/// whole run: seconds of CPU at 50000/s).
inline constexpr double kAcceptOnArrivalFactor = 2;

/// How the application accepts at `accept_per_s` (0: never; infinity or at
/// least kAcceptOnArrivalFactor × the arrivals: an accept loop from the start).
lab::AcceptPolicy accept_policy(double accept_per_s, double arrival_per_s);

/// The scenario as observed: the listener's backlog, the namespace's knobs,
/// Poisson arrivals and an accept loop at the given rates (accept 0: never).
/// `notes` gets a sentence for each knob it had to adjust or could not read.
lab::Scenario observed_scenario(const PredictInput& in, double arrival_per_s, double accept_per_s,
                                std::vector<std::string>& notes);

struct PredictVariant {
  std::string name;    // "backlog 4× (needs net.core.somaxconn ≥ 512)"
  std::string change;  // the `synq lab` flags that make it from the base scenario
  lab::Scenario scenario;
};

/// The base scenario and the variants beside it, as observed first.
std::vector<PredictVariant> predict_variants(const lab::Scenario& base, const PredictInput& in,
                                             double arrival_per_s, double accept_per_s);

/// `s` as a TOML file `synq lab FILE` reads (docs/lab.md, "Scenario files").
std::string scenario_to_toml(const lab::Scenario& s);

}  // namespace synq::doctor
