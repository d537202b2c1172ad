// Helpers for the script module's tests.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "script/parser.hpp"

namespace synq::script::test {

inline std::string example_path(const std::string& name) {
  return std::string(SYNQ_SOURCE_DIR) + "/tests/scripts/examples/" + name;
}

inline std::string read_example(const std::string& name) {
  std::ifstream in(example_path(name), std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Parses `text` and fails the test (with the rendered error) if it does not parse.
inline Script parse_ok(const std::string& text, ParseOptions opts = {}) {
  auto r = parse_script(text, opts);
  if (!r.ok()) {
    ADD_FAILURE() << render(r.error());
    return Script{};
  }
  return std::move(r).value();
}

/// The rendered error for `text`, or "parsed" if it parsed.
inline std::string parse_error(const std::string& text, const std::string& file = "t.pkt") {
  auto r = parse_script(text, ParseOptions{file, {}});
  return r.ok() ? std::string("parsed") : render(r.error());
}

inline Duration ms(int64_t v) {
  return std::chrono::milliseconds(v);
}
inline Duration us(int64_t v) {
  return std::chrono::microseconds(v);
}

}  // namespace synq::script::test
