// Queue samples and high-water marks (queue_sampler.hpp).
#include "lab/run/queue_sampler.hpp"

#include <algorithm>

namespace synq::lab {

double QueueSampler::resolution_for(const RunOptions& o, uint32_t clients, double duration_s) {
  if (o.queue_resolution_s >= 0) return o.queue_resolution_s;
  return clients > 5000 ? duration_s / 4000 : 0;
}

void QueueSampler::sample(double now_s, const ListenerQueues& q) {
  const uint32_t syn = q.syn_queue, acc = q.accept_queue;
  max_syn_ = std::max(max_syn_, syn);
  max_acc_ = std::max(max_acc_, acc);
  if (resolution_s_ > 0) {
    const auto bin = static_cast<int64_t>(now_s / resolution_s_);
    if (bin != bin_) {
      flush();
      bin_ = bin;
      bin_syn_max_ = syn;
      bin_acc_max_ = acc;
      // The level the previous sample left holds until this one: it belongs to the band.
      bin_syn_min_ = std::min(last_syn_, syn);
      bin_acc_min_ = std::min(last_acc_, acc);
    } else {
      bin_syn_max_ = std::max(bin_syn_max_, syn);
      bin_acc_max_ = std::max(bin_acc_max_, acc);
      bin_syn_min_ = std::min(bin_syn_min_, syn);
      bin_acc_min_ = std::min(bin_acc_min_, acc);
    }
    last_syn_ = syn;
    last_acc_ = acc;
    return;
  }
  if (!samples_.empty() && samples_.back().syn_queue == syn && samples_.back().accept_queue == acc)
    return;
  samples_.push_back({.t = now_s,
                      .syn_queue = syn,
                      .accept_queue = acc,
                      .syn_queue_min = syn,
                      .accept_queue_min = acc});
}

void QueueSampler::flush() {
  if (resolution_s_ <= 0 || bin_ < 0) return;
  samples_.push_back({.t = static_cast<double>(bin_) * resolution_s_,
                      .syn_queue = bin_syn_max_,
                      .accept_queue = bin_acc_max_,
                      .syn_queue_min = bin_syn_min_,
                      .accept_queue_min = bin_acc_min_});
}

}  // namespace synq::lab
