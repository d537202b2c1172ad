#include "flag_values.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace synq::cli {

namespace {

[[noreturn]] void bad(const std::string& flag, const std::string& text, const std::string& want) {
  throw CLI::ValidationError(flag, fmt::format("expected {}, got '{}'", want, text));
}

// Limits in plain digits: 31536000, not 3.1536e+07.
std::string plain(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

}  // namespace

int64_t int_flag(const std::string& flag, const std::string& text, int64_t lo, int64_t hi) {
  const std::string want = fmt::format("an integer from {} to {}", lo, hi);
  int64_t v = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec == std::errc::result_out_of_range) bad(flag, text, want + " (it is out of range)");
  if (ec != std::errc{} || p != e || b == e) bad(flag, text, want);
  if (v < lo || v > hi) bad(flag, text, want);
  return v;
}

uint64_t u64_flag(const std::string& flag, const std::string& text) {
  const std::string want =
      fmt::format("an integer from 0 to {}", std::numeric_limits<uint64_t>::max());
  // from_chars for unsigned refuses a sign already; say so for "-1" rather
  // than a generic message, since wrapping it is what other tools do.
  if (!text.empty() && text[0] == '-') bad(flag, text, want + " (no sign)");
  uint64_t v = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec == std::errc::result_out_of_range) bad(flag, text, want + " (it is out of range)");
  if (ec != std::errc{} || p != e || b == e) bad(flag, text, want);
  return v;
}

double number_flag(const std::string& flag, const std::string& text, double lo, bool lo_open,
                   double hi) {
  const std::string want =
      fmt::format("a finite number {} {} and <= {}", lo_open ? ">" : ">=", plain(lo), plain(hi));
  double v = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc{} || p != e || b == e || !std::isfinite(v)) bad(flag, text, want);
  if (v < lo || (lo_open && v == lo) || v > hi) bad(flag, text, want);
  return v;
}

}  // namespace synq::cli
