// Reads one network namespace of the running Linux host into a NetnsSnapshot:
// listeners through netlink sock_diag (inet_diag, AF_INET and AF_INET6; never
// by running `ss`), SYN-RECV request sockets per listener, the owning
// processes from /proc/PID/fd, knobs from /proc/sys and counters from
// /proc/net/snmp and /proc/net/netstat.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "doctor/snapshot.hpp"

namespace synq::doctor {

/// A host read that cannot be done (no such namespace, netlink refused, ...):
/// what() is one line for the user, naming the file or call and the cause.
struct HostReadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Moves the calling process into the network namespace `name` as made by
/// `ip netns add` (/run/netns/NAME) for the rest of its life. Throws
/// HostReadError ("no network namespace 'x' (/run/netns/x: No such file or
/// directory)", or "entering it needs CAP_SYS_ADMIN").
void enter_netns(const std::string& name);

struct ReadOptions {
  bool owners = true;  // scan /proc/*/fd for the owning processes
};

/// Reads the namespace the process is in now. `netns_name` is only recorded.
/// Throws HostReadError when sock_diag or /proc cannot be read at all; a knob
/// that does not exist on this kernel is simply absent from `knobs`.
NetnsSnapshot read_snapshot(const std::string& netns_name, const ReadOptions& options = {});

}  // namespace synq::doctor
