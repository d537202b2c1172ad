// The listener's decision trace, kept for the result: each decision as a
// Decision (up to RunOptions::decision_limit) with the queues right after
// it, and every drop counted per reason in time bins (LabResult::drops, the
// report's "drops over time") however many decisions are kept.
#pragma once

#include <cstdint>
#include <vector>

#include "lab/run/timeline_recorder.hpp"
#include "lab/run/world.hpp"
#include "synq/trace.hpp"

namespace synq::lab {

class DecisionRecorder {
 public:
  DecisionRecorder(LabWorld& world, TimelineRecorder& timeline);

  /// One decision; `client` is the client it concerns, or -1.
  void record(const ListenEvent& e, int client);

  std::vector<Decision> take_decisions() { return std::move(decisions_); }
  DropSeries take_drops() { return std::move(drops_); }

 private:
  std::vector<uint32_t>& drop_bins(const ListenEvent& e);

  LabWorld& w_;
  TimelineRecorder& timeline_;
  std::vector<Decision> decisions_;
  DropSeries drops_;
  // A drop series, found by the address of its reason key.
  struct DropKey {
    const char* reason;           // listen_reason_key's data
    std::vector<uint32_t>* bins;  // in drops_.by_reason (map nodes do not move)
  };
  std::vector<DropKey> drop_keys_;
};

}  // namespace synq::lab
