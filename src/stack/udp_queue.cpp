#include "stack/udp_queue.hpp"

#include <algorithm>
#include <cstring>

namespace synq::stack {

bool UdpReceiveQueue::push(const Endpoint& from, std::span<const uint8_t> data, size_t limit) {
  if (count_ > 0 && bytes_ + data.size() > limit) return false;
  if (count_ == slots_.size()) {
    // Grow the ring, unrolling it so head_ becomes 0.
    std::vector<Slot> bigger(std::max<size_t>(8, slots_.size() * 2));
    for (size_t i = 0; i < count_; ++i) bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
    slots_ = std::move(bigger);
    head_ = 0;
  }
  Slot& s = slots_[(head_ + count_) % slots_.size()];
  s.from = from;
  if (s.data.size() < data.size()) s.data.resize(data.size());
  if (!data.empty()) std::memcpy(s.data.data(), data.data(), data.size());
  s.len = data.size();
  ++count_;
  bytes_ += data.size();
  return true;
}

size_t UdpReceiveQueue::pop(std::span<uint8_t> buf, Endpoint* from) {
  Slot& s = slots_[head_];
  size_t n = std::min(buf.size(), s.len);
  if (n) std::memcpy(buf.data(), s.data.data(), n);
  if (from) *from = s.from;
  bytes_ -= s.len;
  head_ = (head_ + 1) % slots_.size();
  --count_;
  return n;
}

}  // namespace synq::stack
