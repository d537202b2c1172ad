// format_time: the unit follows the magnitude, values are rounded to the
// nanosecond first, a rounding that reaches 1000 moves to the next unit, and
// the column form keeps numbers and units aligned.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "lab/format_time.hpp"

namespace synq::lab {
namespace {

TEST(FormatTime, EachUnitAtItsEdges) {
  EXPECT_EQ(format_time(0), "0 s");
  EXPECT_EQ(format_time(1e-9), "1 ns");
  EXPECT_EQ(format_time(999e-9), "999 ns");
  EXPECT_EQ(format_time(1e-6), "1 µs");
  EXPECT_EQ(format_time(250e-6), "250 µs");
  EXPECT_EQ(format_time(999.9e-6), "999.9 µs");
  EXPECT_EQ(format_time(1e-3), "1 ms");
  EXPECT_EQ(format_time(1.5e-3), "1.5 ms");
  EXPECT_EQ(format_time(1), "1 s");
  EXPECT_EQ(format_time(3.021), "3.021 s");
  EXPECT_EQ(format_time(59), "59 s");
  EXPECT_EQ(format_time(131), "131 s");
}

TEST(FormatTime, RoundsToTheNanosecondBeforeChoosingTheUnit) {
  // A double of an integer ns count may sit a hair below it.
  EXPECT_EQ(format_time(0.30000000000000004), "300 ms");
  EXPECT_EQ(format_time(0.1 + 0.2), "300 ms");
  EXPECT_EQ(format_time(999.9999999e-9), "1 µs");  // 999.9999999 ns → 1000 ns
  EXPECT_EQ(format_time(0.4e-9), "0 s");           // below half a nanosecond
  EXPECT_EQ(format_time(1.0016e-6), "1.002 µs");   // 1001.6 ns → 1002 ns
}

TEST(FormatTime, ThreeDecimalsThatRoundToAThousandMoveUpAUnit) {
  EXPECT_EQ(format_time(999.9996e-6), "1 ms");  // 999999.6 ns is 1000000 ns: not "1000 µs"
  EXPECT_EQ(format_time(0.9999996), "1 s");     // not "1000 ms"
  EXPECT_EQ(format_time(999.9994e-6), "999.999 µs");
  EXPECT_EQ(format_time(1.0004), "1 s");  // three decimals of a second are kept, no more
  EXPECT_EQ(format_time(63.5), "63.5 s");
  EXPECT_EQ(format_time(12345.6789), "12345.679 s");  // seconds are the largest unit
}

TEST(FormatTime, NeverAndNegative) {
  EXPECT_EQ(format_time(std::numeric_limits<double>::quiet_NaN()), "never");
  EXPECT_EQ(format_time(std::numeric_limits<double>::infinity()), "never");
  EXPECT_EQ(format_time(-250e-6), "-250 µs");
  EXPECT_EQ(format_time(-1.5), "-1.5 s");
}

// Display width in columns: "µ" is two bytes but one column.
size_t columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

TEST(FormatTime, ColumnFormKeepsNumbersAndUnitsAligned) {
  EXPECT_EQ(format_time_column(0), "       0 s ");
  EXPECT_EQ(format_time_column(250e-6), "     250 µs");
  EXPECT_EQ(format_time_column(1.5e-3), "     1.5 ms");
  EXPECT_EQ(format_time_column(3.021), "   3.021 s ");
  EXPECT_EQ(format_time_column(std::nan("")), "      never");
  for (double t : {0.0, 999e-9, 1e-6, 999.9e-6, 1e-3, 59.0, 131.0, 1234.567})
    EXPECT_EQ(columns(format_time_column(t)), 11u) << t;
  // Too wide for the column: every digit is kept and the line grows.
  EXPECT_EQ(format_time_column(12345.678), "12345.678 s ");
}

}  // namespace
}  // namespace synq::lab
