// Numbers given on the command line, checked whole: no NaN, no infinity, no
// silent wrap of "-1" into an unsigned or of 99999999999 into an int. Each
// failure is a usage error (exit 64) naming the flag and the valid range in
// plain digits (CLI11's own range check prints 300-digit double limits).
#pragma once

#include <cstdint>
#include <string>

namespace synq::cli {

/// An integer in [lo, hi].
int64_t int_flag(const std::string& flag, const std::string& text, int64_t lo, int64_t hi);
/// An unsigned 64-bit integer (a seed): "-1" and 2^64 are refused, not wrapped.
uint64_t u64_flag(const std::string& flag, const std::string& text);
/// A finite number of seconds (or a rate) in [lo, hi], or (lo, hi] when `lo_open`.
double number_flag(const std::string& flag, const std::string& text, double lo, bool lo_open,
                   double hi);

}  // namespace synq::cli
