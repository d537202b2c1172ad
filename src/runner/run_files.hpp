// `synq script`: runs script files against one target and prints, per script,
// PASS or FAIL (with the first mismatch), then "N passed, N failed".
// On the linux target each script runs in a child process inside its own new
// network namespace, which disappears with the child whatever happens.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace synq::runner {

struct ScriptFilesOptions {
  std::string target = "synq";  // synq | linux
  std::string model = "linux";  // synq target: synq.listen_model
  /// Header options that override the scripts' ("tolerance_usecs=20000", "strict").
  std::vector<std::string> header_options;
  bool verbose = false;  // also print notes under passing scripts
  /// linux target: how many scripts run at once, each in its own namespace.
  int jobs = 1;
};

/// A script's expected-to-differ marker, `//! expect-differ <target>: <reason>`.
struct DifferMarker {
  std::string target;
  std::string reason;
  unsigned line = 0;
};
/// The markers in a script's text, or an error for a malformed one.
std::vector<DifferMarker> find_differ_markers(const std::string& text, std::string* error);

/// Why a script file cannot run: `unreadable` (missing, a directory: the
/// CLI's exit 66) or `bad` (empty, no events, a parse error: exit 65).
struct ScriptFileProblem {
  enum class Kind { unreadable, bad };
  Kind kind;
  std::string message;  // "file:line:column: expected X, got Y" where a line is known
};
/// Reads and parses `path` without running it; nullopt if it can run.
std::optional<ScriptFileProblem> check_script_file(const std::string& path,
                                                   const ScriptFilesOptions& options);

/// Why this target/model pair cannot run (the linux target is the host's
/// Linux kernel: it cannot play another model), or an empty string.
std::string check_target_and_model(const ScriptFilesOptions& options);

/// Runs every file; returns how many failed. Output as described above.
int run_script_files(const std::vector<std::string>& files, const ScriptFilesOptions& options,
                     std::ostream& out);

}  // namespace synq::runner
