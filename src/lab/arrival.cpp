#include <charconv>

#include <fmt/format.h>

#include "lab/scenario.hpp"

namespace synq::lab {

namespace {
// "kind" or "kind:number"; returns false if the number part is malformed.
bool split(const std::string& text, std::string& kind, double& value, bool& has_value) {
  auto colon = text.find(':');
  kind = text.substr(0, colon);
  has_value = colon != std::string::npos;
  if (!has_value) return true;
  const char* b = text.data() + colon + 1;
  const char* e = text.data() + text.size();
  auto [p, ec] = std::from_chars(b, e, value);
  return ec == std::errc{} && p == e && b != e;
}
}  // namespace

std::optional<Arrival> Arrival::parse(const std::string& text, std::string* error) {
  std::string kind;
  double v = 0;
  bool has = false;
  const bool number_ok = split(text, kind, v, has);
  if (kind == "burst" && !has) return Arrival{Kind::burst, 0};
  if ((kind == "every" || kind == "poisson") && has && number_ok && v > 0)
    return Arrival{kind == "every" ? Kind::every : Kind::poisson, v};
  if (error)
    *error =
        fmt::format("expected burst, every:SECONDS or poisson:PER_SECOND (> 0), got '{}'", text);
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
  if (error) *error = fmt::format("expected never, at:SECONDS or rate:PER_SECOND, got '{}'", text);
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

}  // namespace synq::lab
