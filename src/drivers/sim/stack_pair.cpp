#include "drivers/sim/stack_pair.hpp"

#include <algorithm>
#include <utility>

namespace synq::sim {

StackPair::StackPair(StackConfig a, StackConfig b) : a_(std::move(a)), b_(std::move(b)) {
  // Feeding a packet to the peer from inside drain_output is safe: the two
  // stacks share nothing, and the peer's answers wait in its own queue.
  to_a_ = [this](std::span<const uint8_t> p) {
    a_.input(now_, p);
    ++moved_;
  };
  to_b_ = [this](std::span<const uint8_t> p) {
    b_.input(now_, p);
    ++moved_;
  };
}

size_t StackPair::exchange() {
  const size_t before = moved_;
  size_t last;
  do {
    last = moved_;
    a_.drain_output(to_b_);
    b_.drain_output(to_a_);
  } while (moved_ != last);
  return moved_ - before;
}

Time StackPair::next_deadline() const {
  return std::min(a_.next_deadline(), b_.next_deadline());
}

bool StackPair::fire_timers(Time t) {
  // A stack whose deadline stays in the past after advance() would spin here
  // forever; give up after many rounds at one instant instead.
  if (t <= now_) {
    if (++spins_at_now_ > kMaxSpinsAtOneTime) return false;
  } else {
    spins_at_now_ = 0;
  }
  now_ = std::max(now_, t);
  a_.advance(now_);
  b_.advance(now_);
  exchange();
  return true;
}

void StackPair::advance_to(Time t) {
  exchange();
  for (Time d = next_deadline(); d <= t && d != kNever; d = next_deadline())
    if (!fire_timers(d)) return;
  if (t > now_) fire_timers(t);
}

bool StackPair::run_until(const std::function<bool()>& done, Time limit) {
  exchange();
  while (!done()) {
    const Time d = next_deadline();
    if (d == kNever || d > limit || !fire_timers(d)) return false;
  }
  return true;
}

bool StackPair::run_next_timer() {
  exchange();
  const Time d = next_deadline();
  return d != kNever && fire_timers(d);
}

}  // namespace synq::sim
