// synq's exit codes, from sysexits.h, and the one way a subcommand fails
// with one of them. docs/cli.md and main.cpp's --help footer list them.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace synq::cli {

enum Exit : int {
  kOk = 0,
  kFailed = 1,       // a run or a check failed (a script FAILs, a lab run's result is an error)
  kUsage = 64,       // EX_USAGE: a bad flag, value or combination of flags
  kDataErr = 65,     // EX_DATAERR: a scenario, trace or script file that does not parse
  kNoInput = 66,     // EX_NOINPUT: an input file missing, unreadable or a directory
  kSoftware = 70,    // EX_SOFTWARE: an internal error (a bug)
  kCantCreate = 73,  // EX_CANTCREAT: an output file cannot be created
  kIoErr = 74,       // EX_IOERR: writing an output failed
};

/// Stops the command: main() prints "synq: MESSAGE" on stderr and exits `code`.
/// Usage errors (kUsage) are better thrown as CLI::ValidationError, which
/// CLI11 prints with the --help hint.
[[noreturn]] inline void fail(Exit code, const std::string& message) {
  throw CLI::Error("synq", message, static_cast<int>(code));
}

}  // namespace synq::cli
