// Keeps the listener's decisions and bins its drops (decision_recorder.hpp).
#include "lab/run/decision_recorder.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace synq::lab {

namespace {
// Drop series bins per run: enough for a chart, few enough to stay small.
constexpr double kDropBinsPerRun = 100;
}  // namespace

DecisionRecorder::DecisionRecorder(LabWorld& world, TimelineRecorder& timeline)
    : w_(world), timeline_(timeline) {
  drops_.bin_s = std::max(w_.scenario.duration_s / kDropBinsPerRun, 1e-3);
}

void DecisionRecorder::record(const ListenEvent& e, int client) {
  const double t = to_seconds(e.time);
  if (e.decision == ListenDecision::drop) {
    auto& bins = drop_bins(e);
    const size_t bin = static_cast<size_t>(t / drops_.bin_s);
    if (bins.size() <= bin) bins.resize(bin + 1, 0);
    ++bins[bin];
  }
  if (decisions_.size() >= w_.options.decision_limit) return;
  Decision d;
  d.t = t;
  d.peer = e.tuple.remote.to_string();
  d.decision = std::string(listen_decision_name(e.decision));
  if (e.counter) d.counter = std::string(counter_display_name(*e.counter));
  d.reason =
      fmt::format("{} ({})", listen_reason_text(e.reason), listen_reason_info(e.reason).section);
  d.reason_key = std::string(listen_reason_key(e.reason));
  d.tcp_flags = e.tcp_flags;
  d.client = client;
  if (auto q = w_.server_stack().listener_queues(w_.listener); q.ok()) {
    d.syn_queue = q->syn_queue;
    d.accept_queue = q->accept_queue;
  }
  timeline_.note_decision(d);
  decisions_.push_back(std::move(d));
}

// The per-bin drop counts of a decision's reason key (the report's series
// group by meaning, so every model's "accept_queue_full" is one series). Keys
// are static strings: found by address, so a flood costs no string per drop.
std::vector<uint32_t>& DecisionRecorder::drop_bins(const ListenEvent& e) {
  const std::string_view key = listen_reason_key(e.reason);
  for (const auto& k : drop_keys_)
    if (k.reason == key.data()) return *k.bins;
  auto* bins = &drops_.by_reason[std::string(key)];
  drop_keys_.push_back({.reason = key.data(), .bins = bins});
  return *bins;
}

}  // namespace synq::lab
