// TCP sockets of the current network namespace through netlink sock_diag
// (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY with inet_diag_req_v2), the
// interface `ss` uses. Unprivileged processes may dump too: the kernel
// only withholds a few attributes (INET_DIAG_INFO details, marks) from them.
#pragma once

#include <cstdint>
#include <vector>

#include "doctor/snapshot.hpp"

namespace synq::doctor {

/// One inet_diag_msg as the kernel filled it.
struct DiagSocket {
  SocketAddress local;
  int state = 0;        // TCP_LISTEN, TCP_SYN_RECV (request sockets), ...
  uint64_t cookie = 0;  // idiag_cookie[0] | idiag_cookie[1] << 32
  uint64_t inode = 0;   // 0 for request sockets: they have no file
  uint32_t uid = 0;
  uint32_t rqueue = 0;
  uint32_t wqueue = 0;
  bool v6only = false;  // INET_DIAG_SKV6ONLY (sent for AF_INET6 sockets only)
};

/// Dumps the TCP sockets of `family` (AF_INET or AF_INET6) whose state bit is
/// set in `state_mask` (1 << TCP_LISTEN, 1 << TCP_SYN_RECV, ...). Throws
/// HostReadError naming the netlink call and errno's text when the dump
/// cannot be done.
std::vector<DiagSocket> dump_tcp_sockets(int family, uint32_t state_mask);

}  // namespace synq::doctor
