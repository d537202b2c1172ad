// sysctls of the current network namespace through /proc/sys: net.ipv4.* and
// net.core.somaxconn are per namespace, so a script's settings stay private.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace synq::tun {

/// Writes `value` to /proc/sys/<name with dots as slashes>. Returns an empty
/// string on success, else why not ("no such sysctl", permission...).
std::string write_proc_sysctl(std::string_view name, std::string_view value);
/// Reads it back, whitespace as the kernel prints it (tabs between values).
std::optional<std::string> read_proc_sysctl(std::string_view name);

}  // namespace synq::tun
