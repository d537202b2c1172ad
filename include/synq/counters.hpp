// Counters under their Linux names (/proc/net/snmp and /proc/net/netstat),
// plus freebsd-only names where the freebsd model differs. A dropped segment
// increments the counter Linux increments at the same spot. Where Linux
// counts nothing and only names an SKB_DROP_REASON_* (seen by tracing, not by
// nstat) synq counts nothing either: e.g. a segment without ACK in a
// synchronized state (TCP_FLAGS), an out-of-window RST (TCP_INVALID_SEQUENCE),
// a RST without ACK in SYN-SENT (TCP_RESET), new text in CLOSE-WAIT; each such
// return in src/tcp/input.cpp says so.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace synq {

// X(group, name): group is the /proc section ("Ip", "Tcp", "TcpExt", "Udp",
// "FreeBSD"; "Xnu" for xnu's own tcpstat fields, tcps_synchallenge and
// tcps_rstchallenge, which FreeBSD's netstat does not have). Enumerators are group_name, e.g.
// Counter::TcpExt_ListenOverflows.
#define SYNQ_COUNTER_LIST(X)        \
  X(Ip, InReceives)                 \
  X(Ip, InHdrErrors)                \
  X(Ip, InAddrErrors)               \
  X(Ip, InUnknownProtos)            \
  X(Ip, InDelivers)                 \
  X(Ip, OutRequests)                \
  X(Ip, ReasmFails)                 \
  X(Tcp, ActiveOpens)               \
  X(Tcp, PassiveOpens)              \
  X(Tcp, AttemptFails)              \
  X(Tcp, EstabResets)               \
  X(Tcp, CurrEstab)                 \
  X(Tcp, InSegs)                    \
  X(Tcp, OutSegs)                   \
  X(Tcp, RetransSegs)               \
  X(Tcp, InErrs)                    \
  X(Tcp, OutRsts)                   \
  X(Tcp, InCsumErrors)              \
  X(Udp, InDatagrams)               \
  X(Udp, NoPorts)                   \
  X(Udp, InErrors)                  \
  X(Udp, OutDatagrams)              \
  X(Udp, RcvbufErrors)              \
  X(Udp, InCsumErrors)              \
  X(TcpExt, SyncookiesSent)         \
  X(TcpExt, SyncookiesRecv)         \
  X(TcpExt, SyncookiesFailed)       \
  X(TcpExt, EmbryonicRsts)          \
  X(TcpExt, PAWSActive)             \
  X(TcpExt, PAWSEstab)              \
  X(TcpExt, TW)                     \
  X(TcpExt, DelayedACKs)            \
  X(TcpExt, ListenOverflows)        \
  X(TcpExt, ListenDrops)            \
  X(TcpExt, TCPTimeouts)            \
  X(TcpExt, TCPLossProbes)          \
  X(TcpExt, TCPFastRetrans)         \
  X(TcpExt, TCPSlowStartRetrans)    \
  X(TcpExt, TCPRenoRecovery)        \
  X(TcpExt, TCPRenoFailures)        \
  X(TcpExt, TCPAbortOnData)         \
  X(TcpExt, TCPAbortOnClose)        \
  X(TcpExt, TCPAbortOnMemory)       \
  X(TcpExt, TCPAbortOnTimeout)      \
  X(TcpExt, TCPAbortOnLinger)       \
  X(TcpExt, TCPSynRetrans)          \
  X(TcpExt, TCPReqQFullDoCookies)   \
  X(TcpExt, TCPReqQFullDrop)        \
  X(TcpExt, TCPDeferAcceptDrop)     \
  X(TcpExt, TCPACKSkippedSynRecv)   \
  X(TcpExt, TCPACKSkippedPAWS)      \
  X(TcpExt, TCPACKSkippedSeq)       \
  X(TcpExt, TCPACKSkippedChallenge) \
  X(TcpExt, TCPChallengeACK)        \
  X(TcpExt, TCPSYNChallenge)        \
  X(TcpExt, TCPOFOQueue)            \
  X(TcpExt, TCPOFODrop)             \
  X(TcpExt, TCPRcvQDrop)            \
  X(TcpExt, TCPZeroWindowDrop)      \
  X(TcpExt, TCPWantZeroWindowAdv)   \
  X(TcpExt, TCPPureAcks)            \
  X(TcpExt, TCPHPAcks)              \
  X(TcpExt, TCPDSACKRecv)           \
  X(TcpExt, TCPSackRecovery)        \
  X(TcpExt, TCPSACKReneging)        \
  X(TcpExt, TCPTimeWaitOverflow)    \
  X(TcpExt, TCPOrigDataSent)        \
  X(TcpExt, TCPDelivered)           \
  X(FreeBSD, listendrop)            \
  X(FreeBSD, sc_added)              \
  X(FreeBSD, sc_retransmitted)      \
  X(FreeBSD, sc_dupsyn)             \
  X(FreeBSD, sc_dropped)            \
  X(FreeBSD, sc_completed)          \
  X(FreeBSD, sc_bucketoverflow)     \
  X(FreeBSD, sc_cacheoverflow)      \
  X(FreeBSD, sc_reset)              \
  X(FreeBSD, sc_stale)              \
  X(FreeBSD, sc_aborted)            \
  X(FreeBSD, sc_badack)             \
  X(FreeBSD, sc_unreach)            \
  X(FreeBSD, sc_zonefail)           \
  X(FreeBSD, sc_sendcookie)         \
  X(FreeBSD, sc_recvcookie)         \
  X(Xnu, synchallenge)              \
  X(Xnu, rstchallenge)

enum class Counter : uint16_t {
#define SYNQ_COUNTER_ENUM(group, name) group##_##name,
  SYNQ_COUNTER_LIST(SYNQ_COUNTER_ENUM)
#undef SYNQ_COUNTER_ENUM
      kCount
};

inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::kCount);

struct CounterInfo {
  std::string_view group;  // "TcpExt"
  std::string_view name;   // "ListenOverflows"
};
const CounterInfo& counter_info(Counter c);
/// The one name every output uses for a counter, in text and JSON alike: for
/// Linux's /proc counters nstat's group and name run together
/// ("TcpExtListenDrops", "TcpPassiveOpens", "IpInReceives"); for the freebsd
/// model's counters the wording of FreeBSD's `netstat -s -p tcp`, with
/// "syncache" before the lines netstat indents under "syncache entries
/// added" ("listen queue overflows", "syncache entries added", "syncache
/// bucket overflow", "cookies sent").
std::string_view counter_display_name(Counter c);
/// True for the counters FreeBSD's netstat names (the FreeBSD group).
inline bool is_freebsd_counter(Counter c) {
  return counter_info(c).group == "FreeBSD";
}
/// Looks up "ListenOverflows" or "TcpExt.ListenOverflows" / "TcpExtListenOverflows",
/// or a display name ("syncache entries added").
/// A bare name that exists in several groups (InCsumErrors) resolves to Tcp.
std::optional<Counter> counter_by_name(std::string_view name);

/// A stack's counters. Plain array: incrementing is one add, no lookup.
class Counters {
 public:
  void inc(Counter c, uint64_t by = 1) { v_[static_cast<size_t>(c)] += by; }
  void dec(Counter c, uint64_t by = 1) { v_[static_cast<size_t>(c)] -= by; }
  uint64_t get(Counter c) const { return v_[static_cast<size_t>(c)]; }
  uint64_t operator[](Counter c) const { return get(c); }
  void reset() { v_.fill(0); }

  /// nstat-like table: one line per non-zero counter under its display name
  /// ("TcpExtListenOverflows  3"), or every counter when `all`.
  std::string to_table(bool all = false) const;
  /// {"TcpExt": {"ListenOverflows": 3, ...}, "Tcp": {...}, ...}; every counter.
  std::string to_json() const;
  /// Flat {"ListenOverflows": 3, "Tcp.InCsumErrors": ...} keyed by Linux name;
  /// names that collide across groups are qualified "Udp.InCsumErrors".
  std::string to_flat_json() const;

 private:
  std::array<uint64_t, kCounterCount> v_{};
};

}  // namespace synq
