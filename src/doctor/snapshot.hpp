// What `synq doctor` reads off a real Linux host, in one network namespace:
// its listening sockets (sock_diag), its knobs (/proc/sys) and its counters
// (/proc/net/{snmp,netstat}), and — when BPF is allowed — the kernel's own
// per-listener evidence over a watch window (doctor/evidence_probe.hpp).
// Plain data: the readers fill it, findings and reports only read it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace synq::doctor {

/// A local socket address as the kernel reports it (AF_INET or AF_INET6).
struct SocketAddress {
  int family = 0;                  // AF_INET or AF_INET6
  std::array<uint8_t, 16> addr{};  // network order; AF_INET uses the first 4 bytes
  uint16_t port = 0;               // host order
  /// "0.0.0.0:8080", "127.0.0.1:80", "[::]:8080", "[::1]:443"
  std::string to_string() const;
  bool operator==(const SocketAddress&) const = default;
};

/// A process holding a socket's file descriptor (/proc/PID/fd → socket:[INODE]).
struct Owner {
  int pid = 0;
  std::string comm;               // /proc/PID/comm
  std::vector<std::string> argv;  // /proc/PID/cmdline split at NULs; empty if unreadable
};

/// One listening TCP socket (state LISTEN) as sock_diag reports it.
struct Listener {
  SocketAddress local;
  uint64_t cookie = 0;  // the kernel's socket cookie (inet_diag idiag_cookie): stable identity
  uint64_t inode = 0;   // idiag_inode: matches /proc/PID/fd links "socket:[INODE]"
  uint32_t uid = 0;
  uint32_t recv_q = 0;        // idiag_rqueue: the accept queue now (sk_ack_backlog)
  uint32_t send_q = 0;        // idiag_wqueue: the backlog in force (sk_max_ack_backlog)
  uint32_t syn_recv = 0;      // request sockets (SYN-RECV) of this listener now
  bool v6only = false;        // AF_INET6 with IPV6_V6ONLY (INET_DIAG_SKV6ONLY)
  std::vector<Owner> owners;  // empty: not visible (another user's process, or none)
};

/// One network namespace at one instant.
struct NetnsSnapshot {
  std::string netns;         // the name given with --netns; empty: the current one
  uint64_t netns_inode = 0;  // inode of /proc/self/ns/net while reading
  double taken_at_s = 0;     // CLOCK_MONOTONIC seconds
  /// By sysctl name: "net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog",
  /// "net.ipv4.tcp_syncookies", "net.ipv4.tcp_abort_on_overflow",
  /// "net.ipv4.tcp_synack_retries", "net.ipv4.tcp_syn_retries",
  /// "net.ipv4.tcp_syn_linear_timeouts" (absent on kernels without it),
  /// "net.ipv4.tcp_timestamps".
  std::map<std::string, int64_t> knobs;
  /// By "Group.Name" as /proc/net/snmp and /proc/net/netstat name them:
  /// "TcpExt.ListenOverflows", "TcpExt.ListenDrops", "Tcp.PassiveOpens", ...
  std::map<std::string, uint64_t> counters;
  std::vector<Listener> listeners;

  std::optional<int64_t> knob(const std::string& name) const {
    auto it = knobs.find(name);
    return it == knobs.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  uint64_t counter(const std::string& name) const {
    auto it = counters.find(name);
    return it == counters.end() ? 0 : it->second;
  }
};

/// The kernel's own per-listener evidence over the watch window, counted by
/// BPF programs (doctor/evidence_probe.hpp; src/doctor/bpf/listen_evidence.bpf.c).
/// Counts are cumulative since the probe started.
struct ListenerEvidence {
  uint64_t cookie = 0;       // the listener's socket cookie (0 if the kernel had none yet)
  uint64_t netns_inode = 0;  // the listener's network namespace
  SocketAddress local;
  uint64_t syns = 0;  // SYNs that reached tcp_conn_request()
  uint64_t syn_drops_accept_queue =
      0;                             // SYN dropped: accept queue full (ListenOverflows, SYN time)
  uint64_t syn_drops_syn_queue = 0;  // SYN dropped: SYN queue full with cookies off
  uint64_t syn_drops_other = 0;      // SYN dropped for another reason (tcp_max_syn_backlog's last
                                     // quarter with cookies off, no memory, an LSM)
  uint64_t ack_overflows = 0;        // third ACK found the accept queue full (ACK time)
  uint64_t rst_on_overflow = 0;      // RSTs the kernel sent for those (tcp_abort_on_overflow=1)
  uint64_t synack_retransmits = 0;   // tcp:tcp_retransmit_synack
  uint64_t cookies_sent = 0;         // SYN-ACKs that carried a SYN cookie
  uint64_t cookies_validated = 0;    // ACKs whose cookie checked out (a child was attempted)
  uint64_t completions = 0;          // handshakes that put a child in the accept queue
  uint64_t accepts = 0;              // accept() calls that returned a connection
  uint32_t accept_queue_max = 0;     // high-water mark of the accept queue seen at those events
  uint32_t syn_queue_max = 0;        // high-water mark of the SYN queue seen at those events
  uint32_t backlog = 0;              // sk_max_ack_backlog at the last event
};

}  // namespace synq::doctor
