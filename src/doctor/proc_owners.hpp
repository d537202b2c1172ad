// Which processes hold which sockets: every /proc/PID/fd/N is a symlink whose
// target reads "socket:[INODE]" for a socket (fs/proc/fd.c via d_path and
// net/socket.c, sockfs_dname), the inode sock_diag reports as idiag_inode.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "doctor/snapshot.hpp"

namespace synq::doctor {

/// "socket:[12345]" → 12345; anything else (files, pipes, "anon_inode:...") → nullopt.
std::optional<uint64_t> socket_inode_from_link(std::string_view link_target);

/// /proc/PID/cmdline's text (argv NUL-separated, usually NUL-terminated) → argv.
std::vector<std::string> split_cmdline(std::string_view cmdline);

/// Scans <proc_root>/[0-9]*/fd/* once and returns, for each inode in
/// `wanted`, the processes holding it (sorted by pid) with their comm and
/// argv. Entries that cannot be read — a process that exited meanwhile, or
/// another user's fd table (EACCES when not root) — are skipped silently:
/// that is how /proc is, not an error.
std::map<uint64_t, std::vector<Owner>> scan_socket_owners(const std::set<uint64_t>& wanted,
                                                          const std::string& proc_root = "/proc");

}  // namespace synq::doctor
