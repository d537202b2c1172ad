#include <charconv>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "base/input_file.hpp"
#include "lab/scenario.hpp"

namespace synq::lab {

namespace {
// "kind" or "kind:number"; returns false if the number part is malformed.
// NaN and infinities parse as numbers but mean nothing as a rate or a time.
bool split(const std::string& text, std::string& kind, double& value, bool& has_value) {
  auto colon = text.find(':');
  kind = text.substr(0, colon);
  has_value = colon != std::string::npos;
  if (!has_value) return true;
  const char* b = text.data() + colon + 1;
  const char* e = text.data() + text.size();
  auto [p, ec] = std::from_chars(b, e, value);
  return ec == std::errc{} && p == e && b != e && std::isfinite(value);
}
}  // namespace

std::optional<Arrival> Arrival::parse(const std::string& text, std::string* error) {
  if (text.rfind("trace:", 0) == 0 && text.size() > 6) {
    // The file is read (and checked) when the run starts; the CLI reads it
    // before that so a bad trace stops the command before anything runs.
    Arrival a{Kind::trace, 0, text.substr(6)};
    return a;
  }
  std::string kind;
  double v = 0;
  bool has = false;
  const bool number_ok = split(text, kind, v, has);
  if (kind == "burst" && !has) return Arrival{Kind::burst, 0, {}};
  if ((kind == "every" || kind == "poisson") && has && number_ok && v > 0)
    return Arrival{kind == "every" ? Kind::every : Kind::poisson, v, {}};
  if (error)
    *error = fmt::format(
        "expected burst, every:SECONDS, poisson:PER_SECOND (finite numbers > 0) or trace:FILE, "
        "got '{}'",
        text);
  return std::nullopt;
}

std::string Arrival::to_string() const {
  switch (kind) {
    case Kind::burst:
      return "burst";
    case Kind::every:
      return fmt::format("every:{}", param);
    case Kind::poisson:
      return fmt::format("poisson:{}", param);
    case Kind::trace:
      return "trace:" + trace_path;
  }
  return "?";
}

std::optional<AcceptPolicy> AcceptPolicy::parse(const std::string& text, std::string* error) {
  std::string kind;
  double v = 0;
  bool has = false;
  const bool number_ok = split(text, kind, v, has);
  if (kind == "never" && !has) return AcceptPolicy{Kind::never, 0};
  if (kind == "at" && has && number_ok && v >= 0) return AcceptPolicy{Kind::at, v};
  if (kind == "rate" && has && number_ok && v > 0) return AcceptPolicy{Kind::rate, v};
  if (error)
    *error = fmt::format(
        "expected never, at:SECONDS (>= 0) or rate:PER_SECOND (> 0), finite numbers, got '{}'",
        text);
  return std::nullopt;
}

std::string AcceptPolicy::to_string() const {
  switch (kind) {
    case Kind::never:
      return "never";
    case Kind::at:
      return fmt::format("at:{}", param);
    case Kind::rate:
      return fmt::format("rate:{}", param);
  }
  return "?";
}

std::optional<ServiceTime> ServiceTime::parse(const std::string& text, std::string* error) {
  std::string kind;
  double v = 0;
  bool has = false;
  auto colon2 = text.find(':', text.find(':') == std::string::npos ? 0 : text.find(':') + 1);
  if (text.rfind("uniform:", 0) == 0 && colon2 != std::string::npos) {
    double lo = 0, hi = 0;
    bool lo_ok = split("u:" + text.substr(8, colon2 - 8), kind, lo, has);
    bool hi_ok = split("u:" + text.substr(colon2 + 1), kind, hi, has);
    if (lo_ok && hi_ok && lo >= 0 && hi >= lo) return ServiceTime{Kind::uniform, lo, hi};
  } else {
    const bool number_ok = split(text, kind, v, has);
    if (kind == "fixed" && has && number_ok && v >= 0) return ServiceTime{Kind::fixed, v, 0};
    if (kind == "exp" && has && number_ok && v > 0) return ServiceTime{Kind::exponential, v, 0};
  }
  if (error)
    *error = fmt::format(
        "expected fixed:SECONDS (>= 0), exp:MEAN_SECONDS (> 0) or uniform:LOW:HIGH "
        "(0 <= LOW <= HIGH), finite numbers, got '{}'",
        text);
  return std::nullopt;
}

std::string ServiceTime::to_string() const {
  switch (kind) {
    case Kind::fixed:
      return fmt::format("fixed:{}", a);
    case Kind::exponential:
      return fmt::format("exp:{}", a);
    case Kind::uniform:
      return fmt::format("uniform:{}:{}", a, b);
  }
  return "?";
}

std::optional<std::vector<LinkOutage>> LinkOutage::parse(const std::string& text,
                                                         std::string* error) {
  std::vector<LinkOutage> out;
  if (text.empty() || text == "none") return out;
  const auto fail = [&](const std::string& why) -> std::optional<std::vector<LinkOutage>> {
    if (error)
      *error = fmt::format(
          "expected FROM:UNTIL[,FROM:UNTIL...] in seconds (0 <= FROM < UNTIL, windows in order, "
          "not overlapping) or 'none', got '{}': {}",
          text, why);
    return std::nullopt;
  };
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    const size_t colon = item.find(':');
    if (colon == std::string::npos) return fail(fmt::format("'{}' has no ':'", item));
    double from = 0, until = 0;
    bool has = false;
    std::string kind;
    // split() reads "kind:number"; give it each half in that form.
    if (!split("x:" + item.substr(0, colon), kind, from, has) || !has || from < 0)
      return fail(fmt::format("'{}' is not a time >= 0", item.substr(0, colon)));
    if (!split("x:" + item.substr(colon + 1), kind, until, has) || !has || until <= from)
      return fail(fmt::format("'{}' is not a time after {:g}", item.substr(colon + 1), from));
    if (!out.empty() && from < out.back().until_s)
      return fail(fmt::format("{:g}:{:g} starts before the previous window ends", from, until));
    out.push_back({from, until});
    start = comma + 1;
  }
  return out;
}

std::string LinkOutage::to_string(const std::vector<LinkOutage>& outages) {
  if (outages.empty()) return "none";
  std::string s;
  for (const auto& o : outages)
    s += fmt::format("{}{:g}:{:g}", s.empty() ? "" : ",", o.from_s, o.until_s);
  return s;
}

std::optional<std::vector<double>> load_arrival_trace(const std::string& path, std::string* error) {
  // A directory or an empty file must not become a run with no clients.
  const InputFile file = read_input_file(path, "arrival trace");
  if (file.problem != InputProblem::none) {
    if (error) *error = file.error;
    return std::nullopt;
  }
  std::vector<double> times;
  std::istringstream f(file.text);
  std::string line;
  for (int n = 1; std::getline(f, line); ++n) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const size_t last = line.find_last_not_of(" \t\r");
    double t = 0;
    const char* b = line.data() + first;
    const char* e = line.data() + last + 1;
    auto [p, ec] = std::from_chars(b, e, t);
    if (ec != std::errc{} || p != e || !std::isfinite(t)) {
      if (error)
        *error = fmt::format("{}:{}:{}: expected a time in seconds, got '{}'", path, n, first + 1,
                             std::string(b, e));
      return std::nullopt;
    }
    if (t < 0 || (!times.empty() && t < times.back())) {
      if (error)
        *error = fmt::format("{}:{}:{}: expected times >= 0 in increasing order, got {}", path, n,
                             first + 1, t);
      return std::nullopt;
    }
    times.push_back(t);
  }
  if (times.empty()) {
    if (error) *error = fmt::format("{}: the arrival trace has no times (only comments)", path);
    return std::nullopt;
  }
  return times;
}

}  // namespace synq::lab
