// The simulator's event queue: a binary min-heap keyed by (time, sequence).
// The sequence number is the order of scheduling, so events at the same time
// run first-scheduled-first: ties never depend on heap internals.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "synq/time.hpp"

namespace synq::sim {

enum class EventKind : uint8_t { deliver, timer, callback };

struct Event {
  Time time{0};
  uint64_t seq = 0;
  uint32_t a = 0;  // deliver: link direction; timer: host; callback: slot
  uint32_t b = 0;  // deliver: packet buffer; timer: generation; callback: host or kAllHosts
  EventKind kind = EventKind::callback;
};

class EventQueue {
 public:
  void push(Time t, EventKind kind, uint32_t a, uint32_t b) {
    heap_.push_back(Event{t, next_seq_++, a, b, kind});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Event& top() const { return heap_.front(); }
  Event pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    Event e = heap_.back();
    heap_.pop_back();
    return e;
  }

 private:
  // std heaps are max-heaps; "later" as the less-than makes the earliest the top.
  static bool later(const Event& x, const Event& y) {
    return x.time != y.time ? x.time > y.time : x.seq > y.seq;
  }
  std::vector<Event> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace synq::sim
