// Knobs of a stack, by their sysctl names. Typed fields for the hot path;
// set()/get() by name for CLIs, scenarios and scripts (`sysctl -q net.X=Y`).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace synq {

struct Sysctls {
  // --- Linux (defaults: Linux 6.x; memory-derived ones as on the 6.18 reference host)
  int somaxconn = 4096;            // net.core.somaxconn (128 before 5.4)
  int tcp_max_syn_backlog = 2048;  // net.ipv4.tcp_max_syn_backlog (memory-derived)
  int tcp_syncookies = 1;          // net.ipv4.tcp_syncookies: 0 off, 1 on overflow, 2 always
  int tcp_abort_on_overflow = 0;   // net.ipv4.tcp_abort_on_overflow
  int tcp_synack_retries = 5;      // net.ipv4.tcp_synack_retries
  int tcp_syn_retries = 6;         // net.ipv4.tcp_syn_retries
  // net.ipv4.tcp_syn_linear_timeouts (Linux 6.18: 4): the first N SYN
  // retransmissions use the initial RTO without backoff, then it doubles;
  // connect() makes tcp_syn_retries + N retransmissions in all.
  int tcp_syn_linear_timeouts = 4;
  int tcp_timestamps = 1;      // net.ipv4.tcp_timestamps
  int tcp_window_scaling = 1;  // net.ipv4.tcp_window_scaling
  int tcp_sack = 1;            // net.ipv4.tcp_sack
  int tcp_ecn = 2;             // net.ipv4.tcp_ecn (2: accept ECN when asked, never ask)
  std::array<int, 3> tcp_rmem{4096, 131072, 6291456};  // net.ipv4.tcp_rmem
  std::array<int, 3> tcp_wmem{4096, 16384, 4194304};   // net.ipv4.tcp_wmem
  int tcp_fin_timeout = 60;  // net.ipv4.tcp_fin_timeout (seconds, FIN-WAIT-2)
  // net.ipv4.tcp_max_tw_buckets: Linux sets ehash size / 2 at boot (131072
  // on this project's 24 GB hosts, read from /proc/sys).
  int tcp_max_tw_buckets = 131072;
  int tcp_retries2 = 15;                                 // net.ipv4.tcp_retries2
  int tcp_rto_min_us = 200000;                           // net.ipv4.tcp_rto_min_us
  int tcp_challenge_ack_limit = 2147483647;              // net.ipv4.tcp_challenge_ack_limit
  int tcp_invalid_ratelimit = 500;                       // net.ipv4.tcp_invalid_ratelimit (ms)
  std::array<int, 2> ip_local_port_range{32768, 60999};  // net.ipv4.ip_local_port_range
  int ip_default_ttl = 64;                               // net.ipv4.ip_default_ttl
  // --- synq's own knobs (no Linux sysctl exists for these)
  int tcp_time_wait_ms =
      60000;                    // synq.tcp_time_wait_ms: TIME-WAIT length (2MSL; Linux: 60 s fixed)
  int tcp_delack_min_ms = 40;   // synq.tcp_delack_min_ms (Linux TCP_DELACK_MIN)
  int tcp_delack_max_ms = 200;  // synq.tcp_delack_max_ms (Linux TCP_DELACK_MAX)
  std::string listen_model = "linux";  // synq.listen_model: linux|bsd44|freebsd|xnu
  std::string syn_queue_check =
      "strict";  // synq.syn_queue_check: strict (qlen > B) | legacy (qlen >= B)
  // --- FreeBSD
  int kern_ipc_soacceptqueue = 128;           // kern.ipc.soacceptqueue
  int freebsd_syncache_rexmtlimit = 3;        // net.inet.tcp.syncache.rexmtlimit
  int freebsd_syncache_rst_on_sock_fail = 1;  // net.inet.tcp.syncache.rst_on_sock_fail
  int freebsd_syncookies = 1;                 // net.inet.tcp.syncookies
  int freebsd_syncookies_only = 0;            // net.inet.tcp.syncookies_only
  int freebsd_syncache_bucketlimit = 30;      // net.inet.tcp.syncache.bucketlimit
  int freebsd_syncache_hashsize = 512;        // net.inet.tcp.syncache.hashsize
  int freebsd_syncache_cachelimit = 15360;    // net.inet.tcp.syncache.cachelimit
  // --- XNU
  int xnu_somaxconn = 128;          // kern.ipc.somaxconn (xnu)
  int xnu_challengeack_limit = 10;  // net.inet.tcp.challengeack_limit (xnu)
  // net.inet.tcp.keepinit (xnu, ms): the connection-establishment timer
  // (tcp_timer.c "int tcp_keepinit = TCPTV_KEEP_INIT;", 75 s).
  int xnu_tcp_keepinit = 75000;
  // --- 4.4BSD
  int bsd44_somaxconn = 5;  // bsd44.somaxconn (SOMAXCONN, compile-time in 4.4BSD)
  // bsd44.variant: which 4.4BSD tcp_input() the listener follows. "lite"
  // (4.4BSD-Lite, 1994): every segment asks sonewconn() first; "lite2"
  // (4.4BSD-Lite2, 1995): only a pure SYN does, others are answered first.
  std::string bsd44_variant = "lite";
  // bsd44.rexmt: the embryonic connection's SYN-ACK schedule. "synq": RTO 1 s
  // doubling; "historical": 4.4BSD's t_rxtcur 6 s, then TCP_REXMTVAL 12 s ×
  // tcp_backoff[] (SYN-ACKs at 0, 6, 30 s, RST|ACK at 75 s).
  std::string bsd44_rexmt = "synq";

  /// Sets a knob by sysctl name. Values are text as `sysctl -w` takes them
  /// ("4096", "4096 131072 6291456", "linux"). On failure returns false and,
  /// if `error` is given, says what was expected.
  bool set(std::string_view name, std::string_view value, std::string* error = nullptr);
  /// The knob's value as `sysctl -n` prints it, or nullopt for an unknown name.
  std::optional<std::string> get(std::string_view name) const;

  /// Window scale derived from tcp_rmem's max, as Linux's tcp_select_initial_window does.
  int derived_wscale() const;
};

struct SysctlInfo {
  std::string_view name;
  std::string_view help;
};
/// Every knob synq knows, in a stable order.
std::span<const SysctlInfo> sysctl_list();

}  // namespace synq
