// Min-heap of timer deadlines with lazy deletion. Each entry names a timer
// owner (a connection slot or a listener request) and the generation of that
// owner; the owner keeps its current deadline, and an entry whose deadline or
// generation no longer matches is skipped when it reaches the top. Re-arming
// is O(log n); nothing ever scans all timers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "synq/time.hpp"

namespace synq::stack {

enum class TimerKind : uint8_t { connection, request };

struct TimerEntry {
  Time deadline{};
  TimerKind kind = TimerKind::connection;
  uint32_t index = 0;       // connection slot or request index
  uint32_t generation = 0;  // of that slot when the entry was pushed
};

class TimerHeap {
 public:
  void push(const TimerEntry& e) {
    heap_.push_back(e);
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  bool empty() const { return heap_.empty(); }
  const TimerEntry& top() const { return heap_.front(); }
  void pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
  }
  size_t size() const { return heap_.size(); }

  /// Drops every entry for which `stale(entry)` holds; used when stale entries
  /// outnumber live ones so the heap stays proportional to live timers.
  template <class Pred>
  void compact(Pred stale) {
    heap_.erase(std::remove_if(heap_.begin(), heap_.end(), stale), heap_.end());
    std::make_heap(heap_.begin(), heap_.end(), later);
  }

 private:
  static bool later(const TimerEntry& a, const TimerEntry& b) { return a.deadline > b.deadline; }
  std::vector<TimerEntry> heap_;
};

}  // namespace synq::stack
