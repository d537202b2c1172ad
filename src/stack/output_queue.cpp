#include "stack/output_queue.hpp"

namespace synq::stack {

std::span<uint8_t> OutputQueue::reserve(size_t max_len) {
  if (count_ == packets_.size()) packets_.emplace_back();
  Packet& p = packets_[count_];
  if (p.bytes.size() < max_len) p.bytes.resize(max_len);
  return {p.bytes.data(), max_len};
}

void OutputQueue::commit(size_t len) {
  packets_[count_].len = len;
  ++count_;
}

void OutputQueue::drain(const std::function<void(std::span<const uint8_t>)>& sink) {
  for (size_t i = 0; i < count_; ++i) {
    // Re-index every time: the sink may queue more packets and grow packets_.
    sink(std::span<const uint8_t>(packets_[i].bytes.data(), packets_[i].len));
  }
  count_ = 0;
}

}  // namespace synq::stack
