// Output files (--json, --pcap, --report, --out-dir): checked before a run so
// that a typo costs nothing, and written with the errno's words on failure.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace synq::cli {

/// Throws exit 73 ("PATH: cannot create: Permission denied") unless `path`
/// ("-": stdout; empty: no output) could be created or overwritten. Leaves nothing behind: a
/// file it had to create for the test is removed.
void check_output_path(const std::string& path);

/// Creates `dir` and its parents if missing; exit 73 if it cannot, or if it
/// exists and is not a directory. Returns the directories it created,
/// outermost first, for remove_created_dirs() should a later check fail.
std::vector<std::string> make_output_dir(const std::string& dir);

/// Removes directories make_output_dir() created, innermost first, each only
/// if still empty: a refused command leaves nothing behind.
void remove_created_dirs(const std::vector<std::string>& dirs);

/// Writes `text` to `path` ("-": stdout); exit 74 with the errno's words on failure.
void write_output(const std::string& path, const std::string& text);
/// The same for output made in pieces (a million JSON lines need not be one
/// string): `fill` calls `write` for each piece; `write` returns false once a
/// write failed (the error is reported when `fill` returns).
void write_output_with(
    const std::string& path,
    const std::function<void(const std::function<bool(std::string_view)>&)>& fill);

}  // namespace synq::cli
