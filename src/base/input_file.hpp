// Reading a file the user named as input (a scenario, an arrival trace, a
// script). One place says why it cannot be read, in the errno's words, so
// every command reports a missing file, a directory or an empty file alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace synq {

/// Why reading failed: the CLI maps `unreadable` to "no input" (exit 66)
/// and `empty` to "bad data" (exit 65).
enum class InputProblem { none, unreadable, empty };

struct InputFile {
  std::string text;
  InputProblem problem = InputProblem::none;
  std::string error;  // "PATH: cannot open the WHAT: No such file or directory"
};

/// Reads `path` whole. `what` names the kind of file in messages ("scenario
/// file"). A directory, a missing or unreadable file is `unreadable`; a file
/// with nothing but blanks is `empty` unless `allow_empty`.
InputFile read_input_file(const std::string& path, std::string_view what, bool allow_empty = false);

}  // namespace synq
