// Virtual and wall time as the core sees it: a duration since the driver's
// epoch. The core never reads a clock; drivers pass `now` in.
#pragma once

#include <chrono>
#include <cstdint>

namespace synq {

/// Time since the driver's epoch (virtual time in the simulator, time since
/// start for the TUN driver). Nanosecond resolution, 292 years of range.
using Time = std::chrono::nanoseconds;
using Duration = std::chrono::nanoseconds;

inline constexpr Time kNever = Time::max();

using namespace std::chrono_literals;

/// Seconds as a double, for printing and JSON.
inline constexpr double to_seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}
inline constexpr Duration from_seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

}  // namespace synq
