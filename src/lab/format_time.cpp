#include "lab/format_time.hpp"

#include <cmath>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

namespace synq::lab {

namespace {

struct Split {
  std::string number;  // "1.5", "-250", "never"
  std::string_view unit;
};

// The unit ladder, smallest first: how many nanoseconds one unit is.
struct Unit {
  int64_t ns;
  std::string_view name;
};
constexpr Unit kUnits[] = {{1, "ns"}, {1'000, "µs"}, {1'000'000, "ms"}, {1'000'000'000, "s"}};

// Up to three decimals, trailing zeros (and a bare point) trimmed.
std::string trimmed(double v) {
  std::string s = fmt::format("{:.3f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

Split split(double seconds) {
  if (!std::isfinite(seconds)) return {"never", {}};
  // Whole nanoseconds first: simulator times are integer ns, and a double
  // of them (t / 1e9) may sit a hair below the value it stands for.
  const double rounded_ns = std::round(seconds * 1e9);
  if (rounded_ns == 0) return {"0", "s"};
  const double mag = std::fabs(rounded_ns);
  const char* sign = rounded_ns < 0 ? "-" : "";
  size_t u = 0;
  while (u + 1 < std::size(kUnits) && mag >= static_cast<double>(kUnits[u + 1].ns)) ++u;
  // Three decimals can round up to a whole next unit (999.9996 µs → 1000 µs).
  while (u + 1 < std::size(kUnits)) {
    const double in_unit = std::round(mag / static_cast<double>(kUnits[u].ns) * 1000) / 1000;
    if (in_unit < 1000) break;
    ++u;
  }
  return {sign + trimmed(mag / static_cast<double>(kUnits[u].ns)), kUnits[u].name};
}

// Display columns of UTF-8 text: one per code point (every byte but the
// continuation bytes 10xxxxxx), which is right for "µ" and ASCII.
size_t columns(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

std::string pad_left(std::string s, size_t width) {
  const size_t w = columns(s);
  return w >= width ? s : std::string(width - w, ' ') + s;
}

std::string pad_right(std::string s, size_t width) {
  const size_t w = columns(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

}  // namespace

std::string format_time(double seconds) {
  Split s = split(seconds);
  if (s.unit.empty()) return s.number;
  return s.number + " " + std::string(s.unit);
}

std::string format_time_column(double seconds) {
  constexpr size_t kNumber = 8, kUnit = 2;
  Split s = split(seconds);
  if (s.unit.empty()) return pad_left(std::move(s.number), kNumber + 1 + kUnit);
  return pad_left(std::move(s.number), kNumber) + " " + pad_right(std::string(s.unit), kUnit);
}

}  // namespace synq::lab
