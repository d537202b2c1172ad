// Backtick blocks: split into command lines; `sysctl` assignments become typed
// (name, value) items the runner can apply to the stack's knobs, the rest stay
// raw shell commands for the host target.
#pragma once

#include <cstdint>
#include <string_view>

#include "script/ast.hpp"

namespace synq::script {

/// `raw` is the text between the backticks; `first_line` is the script line of
/// the opening backtick (where raw's first line is).
ShellBlock split_shell_block(std::string_view raw, uint32_t first_line);

}  // namespace synq::script
