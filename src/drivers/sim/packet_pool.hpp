// Buffers for packets in flight. A released buffer keeps its capacity and is
// reused by the next packet, so a steady flow allocates nothing.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace synq::sim {

class PacketPool {
 public:
  static constexpr size_t kInitialCapacity = 2048;  // an MTU-sized packet fits without growing

  uint32_t acquire(std::span<const uint8_t> bytes) {
    uint32_t id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      id = static_cast<uint32_t>(buffers_.size());
      buffers_.emplace_back().reserve(kInitialCapacity);
      free_.reserve(buffers_.size());  // release() never has to grow the free list
    }
    buffers_[id].assign(bytes.begin(), bytes.end());
    return id;
  }
  std::span<const uint8_t> get(uint32_t id) const { return buffers_[id]; }
  void release(uint32_t id) { free_.push_back(id); }
  size_t in_use() const { return buffers_.size() - free_.size(); }
  size_t allocated() const { return buffers_.size(); }

 private:
  std::vector<std::vector<uint8_t>> buffers_;
  std::vector<uint32_t> free_;
};

}  // namespace synq::sim
