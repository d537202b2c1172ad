// Two stacks wired back to back with nothing in between: every packet one
// emits is input to the other at the same virtual time. No event queue, no
// copies — the smallest driver, for benchmarks and quick engine tests.
// (Each stack must own the address the other sends to; there is no routing.)
#pragma once

#include <cstddef>
#include <functional>

#include "drivers/sim/node.hpp"
#include "synq/stack.hpp"
#include "synq/time.hpp"

namespace synq::sim {

class StackPair {
 public:
  StackPair(StackConfig a, StackConfig b);

  Stack& a() { return a_; }
  Stack& b() { return b_; }
  Time now() const { return now_; }

  /// Moves packets both ways at the current time until neither stack has
  /// output left. Returns the number of packets moved.
  size_t exchange();
  /// Moves the clock to `t` (never backwards), running both stacks' timers
  /// on the way in deadline order, exchanging packets after each.
  void advance_to(Time t);
  /// exchange(), then jumps to the earliest timer until `done()` holds or
  /// nothing is left to do before `limit`. Returns done().
  bool run_until(const std::function<bool()>& done, Time limit = kNever);
  /// Jumps to the earliest timer of either stack and runs it (and the
  /// exchange it causes). False if neither has a timer.
  bool run_next_timer();

 private:
  Time next_deadline() const;
  bool fire_timers(Time t);
  static constexpr int kMaxSpinsAtOneTime = 100000;

  Stack a_;
  Stack b_;
  Time now_{0};
  size_t moved_ = 0;
  int spins_at_now_ = 0;
  PacketSink to_a_;
  PacketSink to_b_;
};

}  // namespace synq::sim
