// The per-namespace numbers /proc shows about TCP: the counters of
// /proc/net/snmp and /proc/net/netstat, and the sysctl knobs under
// /proc/sys/net. Both are views of the network namespace of the *reading
// task* (proc_net is resolved through the reader's nsproxy), so a process
// that entered another namespace reads that namespace's numbers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace synq::doctor {

/// Parses the text of /proc/net/snmp or /proc/net/netstat: pairs of lines,
/// "Group: Name1 Name2 ..." then "Group: value1 value2 ...", into
/// "Group.Name" → value. Throws HostReadError naming `file_name` and the
/// line number when a pair is malformed (a header without its value line,
/// different groups, different counts, a value that is not a number).
/// Negative values are skipped: the only one the kernel prints is
/// Tcp.MaxConn = -1 (RFC 2012 "dynamic"; net/ipv4/proc.c, snmp_seq_show_tcp_udp),
/// which is a constant, not a counter.
std::map<std::string, uint64_t> parse_proc_net_counters(std::string_view text,
                                                        const std::string& file_name);

/// Reads and parses /proc/net/snmp and /proc/net/netstat (under `proc_root`).
/// Throws HostReadError when either cannot be read.
std::map<std::string, uint64_t> read_proc_net_counters(const std::string& proc_root = "/proc");

/// The sysctls `synq doctor` reads, by name.
const std::vector<std::string>& doctor_knob_names();

/// Reads each sysctl in `names` from <proc_root>/sys/<name with '.' as '/'>.
/// A knob this kernel does not have (ENOENT) is absent from the result;
/// a file that exists but cannot be read or parsed throws HostReadError.
std::map<std::string, int64_t> read_sysctl_knobs(const std::vector<std::string>& names,
                                                 const std::string& proc_root = "/proc");

}  // namespace synq::doctor
