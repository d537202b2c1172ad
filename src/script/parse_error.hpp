// Script parse errors: a position and an "expected <what>, got <what>" message,
// returned as values (never thrown) so a bad script can never take the caller down.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace synq::script {

/// Where in a script something is. Lines and columns are 1-based; columns count
/// bytes (a tab is one column). Line 0 means "not in a file" (a command-line option).
struct SourceLoc {
  uint32_t line = 0;
  uint32_t column = 0;
  friend bool operator==(const SourceLoc&, const SourceLoc&) = default;
};

struct ParseError {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;  // "expected <what>, got <what>"
  friend bool operator==(const ParseError&, const ParseError&) = default;
};

/// "file:line:column: message" (or "file: message" when line is 0), the format
/// compilers use so editors can jump to it.
std::string render(const ParseError& e);

/// A value or the error that prevented it.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(ParseError error) : v_(std::in_place_index<1>, std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const ParseError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ParseError> v_;
};

}  // namespace synq::script
