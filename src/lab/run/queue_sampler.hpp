// The listener's queue lengths over a run (LabResult::queues) and their
// high-water marks. Small runs keep every change; big runs keep one
// minimum/maximum band per interval, so the samples stay a few thousand
// whatever the run's length.
#pragma once

#include <cstdint>
#include <vector>

#include "lab/lab_run.hpp"
#include "synq/stack.hpp"

namespace synq::lab {

class QueueSampler {
 public:
  /// `resolution_s` 0 keeps every change; otherwise one band per interval that long.
  explicit QueueSampler(double resolution_s) : resolution_s_(resolution_s) {}

  /// The resolution RunOptions asks for, or one chosen from the run's size
  /// (every change up to 5000 clients, else 4000 bands over the run).
  static double resolution_for(const RunOptions& o, uint32_t clients, double duration_s);

  void sample(double now_s, const ListenerQueues& q);
  /// Ends the interval in progress (call once, when the run ends).
  void flush();

  double resolution_s() const { return resolution_s_; }
  uint32_t max_syn_queue() const { return max_syn_; }
  uint32_t max_accept_queue() const { return max_acc_; }
  std::vector<QueueSample> take() { return std::move(samples_); }

 private:
  double resolution_s_;
  std::vector<QueueSample> samples_;
  uint32_t max_syn_ = 0, max_acc_ = 0;
  // The interval in progress (-1: none yet) and the band the queues moved in.
  int64_t bin_ = -1;
  uint32_t bin_syn_max_ = 0, bin_acc_max_ = 0;
  uint32_t bin_syn_min_ = 0, bin_acc_min_ = 0;
  uint32_t last_syn_ = 0, last_acc_ = 0;  // the previous sample's values
};

}  // namespace synq::lab
