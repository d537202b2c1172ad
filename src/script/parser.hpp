// The packetdrill-dialect parser: script text → typed AST or a positioned error.
// See docs/scripts.md ("Dialect") for what is accepted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "script/ast.hpp"
#include "script/parse_error.hpp"

namespace synq::script {

struct ParseOptions {
  /// Used in error messages and Script::file.
  std::string file = "<script>";
  /// Command-line style header options ("--mss=1000", "--strict"); they
  /// override the same options written at the top of the script.
  std::vector<std::string> command_line;
};

/// Parses a whole script. Never throws; any input, however malformed, gives a
/// Script or the first error as "file:line:column: expected X, got Y".
Result<Script> parse_script(std::string_view text, const ParseOptions& options = {}) noexcept;

/// Reads and parses a script file (options.file defaults to `path`).
Result<Script> parse_script_file(const std::string& path, ParseOptions options = {}) noexcept;

/// Parses one packet spec without a time, e.g. "> S. 0:0(0) ack 1 <mss 1460>",
/// as the runner's diff output and tests write them.
Result<Packet> parse_packet(std::string_view text, const std::string& file = "<packet>") noexcept;

}  // namespace synq::script
