// Times as people read them: the unit follows the magnitude (ns, µs, ms, s)
// so a 250 µs round trip does not print as "0.000" and a 63 s expiry does
// not drown in digits. Used by everything the lab prints for a person (the
// summary, the timeline's time column, the story); JSON keeps exact numbers.
#pragma once

#include <cstdint>
#include <string>

namespace synq::lab {

/// `seconds` with at most three decimals in the largest unit that keeps the
/// value at or above 1: "0 s", "999 ns", "1 µs", "999.9 µs", "1.5 ms",
/// "3.021 s", "131 s". The value is first rounded to the nanosecond (the
/// simulator's resolution); a value that rounds up to 1000 of a unit moves
/// to the next one ("1 ms", not "1000 µs"). NaN and infinities print "never"
/// (a connect that never completed); negative values keep their sign.
std::string format_time(double seconds);

/// format_time for a fixed-width column: the number right-aligned in 8
/// columns, a space, the unit left-aligned in 2 columns (11 columns in all,
/// counting "µ" as one), so numbers and units line up from line to line.
/// Wider values ("12345.678 s") push the line right rather than lose digits.
std::string format_time_column(double seconds);

}  // namespace synq::lab
