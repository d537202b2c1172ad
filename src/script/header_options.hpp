// `--name[=value]` options: at the top of a script or passed in by the caller
// (command-line style). The same rules apply to both.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "script/ast.hpp"
#include "script/parse_error.hpp"

namespace synq::script {

/// Applies one option, written without the leading "--" ("mss=1000", "strict").
/// Options synq does not interpret are kept in `opts.other`. Errors name the
/// option's position: `file`, `loc` (line 0 for a command-line option).
std::optional<ParseError> apply_header_option(std::string_view text, const std::string& file,
                                              SourceLoc loc, HeaderOptions& opts);

}  // namespace synq::script
