// A UDP socket's receive queue: datagrams in arrival order, bounded by the
// socket's receive buffer. Slots keep their byte capacity when reused, so a
// steady flow of datagrams allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "synq/address.hpp"

namespace synq::stack {

class UdpReceiveQueue {
 public:
  /// Queues a datagram unless it would take the queue past `limit` bytes
  /// (a datagram into an empty queue always fits). Returns false if dropped.
  bool push(const Endpoint& from, std::span<const uint8_t> data, size_t limit);
  /// Copies the oldest datagram into buf (truncating, like recvfrom without
  /// MSG_TRUNC) and removes it. Returns the bytes copied; queue must be non-empty.
  size_t pop(std::span<uint8_t> buf, Endpoint* from);
  bool empty() const { return count_ == 0; }
  size_t count() const { return count_; }
  size_t bytes() const { return bytes_; }
  /// Size of the next datagram (FIONREAD on a UDP socket), 0 if none.
  size_t next_size() const { return count_ ? slots_[head_].len : 0; }
  void clear() { head_ = count_ = bytes_ = 0; }

 private:
  struct Slot {
    Endpoint from;
    std::vector<uint8_t> data;
    size_t len = 0;
  };
  std::vector<Slot> slots_;  // ring buffer
  size_t head_ = 0;
  size_t count_ = 0;
  size_t bytes_ = 0;
};

}  // namespace synq::stack
