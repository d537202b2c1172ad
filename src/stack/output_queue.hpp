// The packets a stack wants sent, in order. Buffers are pooled: a drained
// queue keeps every buffer's capacity, so steady-state sending allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace synq::stack {

class OutputQueue {
 public:
  /// A writable buffer of at least `max_len` bytes at the tail; commit() makes
  /// the first `len` bytes a packet. Not calling commit() discards it.
  std::span<uint8_t> reserve(size_t max_len);
  void commit(size_t len);

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  /// Hands every packet to sink, oldest first, then empties the queue. Packets
  /// queued by the sink itself are delivered in the same call.
  void drain(const std::function<void(std::span<const uint8_t>)>& sink);

 private:
  struct Packet {
    std::vector<uint8_t> bytes;  // capacity reused across drains
    size_t len = 0;
  };
  std::vector<Packet> packets_;
  size_t count_ = 0;
};

}  // namespace synq::stack
