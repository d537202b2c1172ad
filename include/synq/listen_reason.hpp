// Why a listener decided what it did: one list of reasons, said once (the way
// counters.hpp lists counters and Linux's DEFINE_DROP_REASON lists drop
// reasons). Each entry names
//   id       the C++ enumerator (ListenReason::id),
//   key      a stable snake_case word that reports, stories, JSON and tests
//            match on — one key per *meaning*, shared by every model that has
//            that meaning (all four models say "accept_queue_full"),
//   text     the human words (model-specific only where the kernels differ),
//   section  where the behaviour is specified,
//   counters the counters this decision increments (0 to 3), in the order
//            the trace shows them (the first is ListenEvent::counter).
// An id differs from its key only where two models (or two paths of one
// model) share a meaning but count it differently: the key is the meaning,
// the id picks the counters. PassiveOpener::record() increments an entry's
// counters and traces it in one call, so a counter is never named twice.
//
// Counters a decision does not own are not listed: RSTs are counted
// (Tcp_OutRsts) where the stack sends them, and facts that go with several
// outcomes (SyncookiesRecv before the accept-queue check, FreeBSD's
// sc_completed, sc_recvcookie, a conditional sc_bucketoverflow) are counted
// by the model where they happen.
//
// docs/architecture.md lists every entry; a unit test keeps it in step.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "synq/counters.hpp"

namespace synq {

// X(id, key, text, section, counters...) — counters are Counter enumerators.
#define SYNQ_LISTEN_REASON_LIST(X)                                                                 \
  /* ---- segments to the listener itself */                                                       \
  X(ack_to_listener, ack_to_listener,                                                              \
    "ACK or SYN|ACK matching no request or cookie: RST (seq = its ack)",                           \
    "docs/passive-open.md §2 Other segments")                                                      \
  X(rst_to_listener, rst_to_listener, "RST to a listener",                                         \
    "docs/passive-open.md §2 Other segments")                                                      \
  X(no_syn_to_listener, no_syn_to_listener, "segment without SYN to a listener",                   \
    "docs/passive-open.md §2 Other segments")                                                      \
  X(syn_fin_to_listener, syn_fin_to_listener, "SYN|FIN to a listener",                             \
    "docs/passive-open.md §2 Other segments")                                                      \
  /* ---- a SYN: the queue checks */                                                               \
  X(syn_queue_full, syn_queue_full, "SYN queue full, cookies off",                                 \
    "docs/passive-open.md §2 SYN step 1", TcpExt_TCPReqQFullDrop, TcpExt_ListenDrops)              \
  X(syn_queue_full_freebsd, syn_queue_full, "syncache full and this bucket empty, cookies off",    \
    "docs/passive-open.md §4", FreeBSD_sc_zonefail)                                                \
  X(accept_queue_full, accept_queue_full, "accept queue full",                                     \
    "docs/passive-open.md §2 SYN step 2", TcpExt_ListenOverflows, TcpExt_ListenDrops)              \
  X(accept_queue_full_cookie_ack, accept_queue_full, "cookie ACK, accept queue full",              \
    "docs/passive-open.md §2 SYN cookies", TcpExt_ListenOverflows, TcpExt_ListenDrops)             \
  X(accept_queue_full_abort, accept_queue_full,                                                    \
    "accept queue full at the third ACK, tcp_abort_on_overflow=1: RST, request removed",           \
    "docs/passive-open.md §2 third ACK", TcpExt_ListenOverflows, TcpExt_ListenDrops,               \
    TcpExt_EmbryonicRsts)                                                                          \
  X(accept_queue_full_bsd44, accept_queue_full,                                                    \
    "accept queue full: acc alone > 3B/2, no socket for the segment", "docs/passive-open.md §3",   \
    TcpExt_ListenOverflows, TcpExt_ListenDrops)                                                    \
  X(accept_queue_full_freebsd, accept_queue_full,                                                  \
    "accept queue full: completed queue over 3B/2, no socket", "docs/passive-open.md §4",          \
    FreeBSD_listendrop, FreeBSD_sc_aborted)                                                        \
  X(accept_queue_full_xnu, accept_queue_full,                                                      \
    "accept queue full: so_qlen >= B and nothing embryonic to evict", "docs/passive-open.md §5",   \
    FreeBSD_listendrop)                                                                            \
  X(listen_queue_full, listen_queue_full, "qlen + acc > 3B/2: no socket for the segment",          \
    "docs/passive-open.md §3", TcpExt_ListenOverflows, TcpExt_ListenDrops)                         \
  X(listen_queue_full_xnu, listen_queue_full,                                                      \
    "so_qlen >= B, evictions outpace so_incqlen: tcp_dropdropablreq's random walk "                \
    "passed the tail, SYN dropped",                                                                \
    "docs/passive-open.md §5", FreeBSD_listendrop)                                                 \
  X(third_ack_accept_queue_full, third_ack_accept_queue_full,                                      \
    "accept queue full at the third ACK: ACK ignored, request kept",                               \
    "docs/passive-open.md §2 third ACK", TcpExt_ListenOverflows, TcpExt_ListenDrops)               \
  X(syn_backlog_quarter_left, syn_backlog_quarter_left,                                            \
    "under a quarter of tcp_max_syn_backlog left", "docs/passive-open.md §2 SYN step 3",           \
    TcpExt_ListenDrops)                                                                            \
  X(evicted, evicted, "evicted by tcp_dropdropablreq to admit a new SYN",                          \
    "docs/passive-open.md §5", Tcp_AttemptFails)                                                   \
  X(evicted_syncache_full, evicted, "syncache full: oldest entry of the bucket dropped",           \
    "docs/passive-open.md §4", FreeBSD_sc_zonefail)                                                \
  X(evicted_bucket_overflow, evicted, "bucket overflow: its oldest entry dropped",                 \
    "docs/passive-open.md §4")                                                                     \
  /* ---- a SYN: the answers */                                                                    \
  X(cookie_sent, cookie_sent, "SYN answered with a cookie", "docs/passive-open.md §2 SYN step 5",  \
    TcpExt_SyncookiesSent)                                                                         \
  X(cookie_sent_freebsd, cookie_sent, "syncache paused or full: SYN cookie, nothing stored",       \
    "docs/passive-open.md §4", FreeBSD_sc_sendcookie)                                              \
  X(request_created, request_created, "SYN queued, SYN-ACK sent",                                  \
    "docs/passive-open.md §2 SYN step 6")                                                          \
  X(request_created_bsd, request_created, "SYN: embryonic connection, SYN-ACK sent",               \
    "docs/passive-open.md §3")                                                                     \
  X(request_created_freebsd, request_created, "syncache entry added, SYN-ACK sent",                \
    "docs/passive-open.md §4", FreeBSD_sc_added)                                                   \
  X(request_created_xnu, request_created, "SYN admitted after an eviction: SYN-ACK sent",          \
    "docs/passive-open.md §5", FreeBSD_listendrop)                                                 \
  /* ---- an ACK that may be a cookie */                                                           \
  X(cookie_bad, cookie_bad, "ACK with a bad or expired cookie: RST",                               \
    "docs/passive-open.md §2 SYN cookies", TcpExt_SyncookiesFailed)                                \
  X(cookie_options_disabled, cookie_options_disabled, "cookie ACK with options now disabled: RST", \
    "docs/passive-open.md §2 SYN cookies")                                                         \
  /* ---- segments for a request */                                                                \
  X(handshake_complete, handshake_complete, "handshake complete: child queued for accept()",       \
    "docs/passive-open.md §2 third ACK", Tcp_PassiveOpens)                                         \
  X(wrong_ack, wrong_ack, "ACK with a wrong ack number: RST, request kept",                        \
    "docs/passive-open.md §2 third ACK")                                                           \
  X(wrong_ack_freebsd, wrong_ack, "ACK does not match the syncache entry: entry freed, RST",       \
    "docs/passive-open.md §4")                                                                     \
  X(duplicate_syn, duplicate_syn, "duplicate SYN: SYN-ACK resent",                                 \
    "docs/passive-open.md §2 third ACK", TcpExt_TCPSynRetrans, Tcp_RetransSegs)                    \
  X(duplicate_syn_freebsd, duplicate_syn, "duplicate SYN: SYN-ACK resent, timer reset",            \
    "docs/passive-open.md §4", FreeBSD_sc_dupsyn)                                                  \
  X(duplicate_syn_rate_limited, duplicate_syn_rate_limited, "duplicate SYN within 500 ms",         \
    "docs/passive-open.md §2 third ACK", TcpExt_TCPACKSkippedSynRecv)                              \
  X(duplicate_syn_xnu, duplicate_syn, "retransmitted SYN: challenge, SYN-ACK again",               \
    "docs/passive-open.md §5", Xnu_synchallenge, Tcp_RetransSegs)                                  \
  X(challenge_rate_limited_xnu, challenge_rate_limited,                                            \
    "SYN or RST to challenge, net.inet.tcp.challengeack_limit reached this second: dropped",       \
    "docs/passive-open.md §5")                                                                     \
  X(out_of_window, out_of_window, "out-of-window segment answered with an ACK",                    \
    "RFC 9293 §3.10.7.4")                                                                          \
  X(out_of_window_bsd, out_of_window, "old or out-of-window segment: SYN-ACK again",               \
    "docs/passive-open.md §3", Tcp_RetransSegs)                                                    \
  X(out_of_window_rate_limited, out_of_window_rate_limited,                                        \
    "out-of-window segment, ACK rate limited", "RFC 9293 §3.10.7.4", TcpExt_TCPACKSkippedSynRecv)  \
  X(rst_out_of_window, rst_out_of_window, "RST out of window",                                     \
    "docs/passive-open.md §2 third ACK")                                                           \
  X(rst_in_window, rst_in_window, "RST in window: request removed",                                \
    "docs/passive-open.md §2 third ACK", TcpExt_EmbryonicRsts, Tcp_AttemptFails)                   \
  X(rst_in_window_bsd, rst_in_window, "RST in window: embryonic connection closed",                \
    "docs/passive-open.md §3", Tcp_AttemptFails)                                                   \
  X(rst_in_window_freebsd, rst_in_window, "RST at IRS+1: syncache entry dropped",                  \
    "docs/passive-open.md §4", FreeBSD_sc_reset)                                                   \
  X(rst_challenge_ack, rst_challenge_ack, "RST in window but not at IRS+1: challenge ACK",         \
    "docs/passive-open.md §4")                                                                     \
  X(rst_challenge_ack_xnu, rst_challenge_ack,                                                      \
    "RST in window but not at last_ack_sent (IRS+1): challenge, SYN-ACK again",                    \
    "docs/passive-open.md §5", Xnu_rstchallenge, Tcp_RetransSegs)                                  \
  X(rst_in_window_xnu, rst_in_window, "RST at last_ack_sent (IRS+1): embryonic connection closed", \
    "docs/passive-open.md §5", Tcp_AttemptFails)                                                   \
  X(rst_wrong_ack_xnu, rst_wrong_ack, "RST|ACK with a wrong ack: dropped, connection kept",        \
    "docs/passive-open.md §5")                                                                     \
  X(seq_below_irs_xnu, seq_below_irs, "seq before IRS: RST, embryonic connection kept",            \
    "docs/passive-open.md §5")                                                                     \
  X(syn_in_window, syn_in_window, "SYN with a new ISN in window: RST|ACK, request removed",        \
    "docs/passive-open.md §2 third ACK", TcpExt_EmbryonicRsts, Tcp_AttemptFails)                   \
  X(syn_in_window_bsd44, syn_in_window,                                                            \
    "SYN in window: RST|ACK (tcp_drop), then RST (dropwithreset), embryonic connection closed",    \
    "docs/passive-open.md §3", Tcp_AttemptFails)                                                   \
  X(syn_challenge_ack_xnu, syn_challenge_ack,                                                      \
    "SYN in window: challenge, SYN-ACK again, connection kept", "docs/passive-open.md §5",         \
    Xnu_synchallenge, Tcp_RetransSegs)                                                             \
  X(synack_to_request, synack_to_request, "SYN|ACK for a syncache entry: entry dropped, RST",      \
    "docs/passive-open.md §4", FreeBSD_sc_badack)                                                  \
  X(no_ack_to_request, no_ack_to_request, "segment without ACK to a request",                      \
    "docs/passive-open.md §2 third ACK")                                                           \
  X(defer_accept_drop, defer_accept_drop, "TCP_DEFER_ACCEPT: bare ACK dropped",                    \
    "docs/passive-open.md §2 third ACK", TcpExt_TCPDeferAcceptDrop)                                \
  /* ---- a request's timer */                                                                     \
  X(synack_retransmitted, synack_retransmitted, "SYN-ACK timer: retransmission",                   \
    "docs/passive-open.md §2 SYN-ACK timer", TcpExt_TCPSynRetrans, Tcp_RetransSegs,                \
    TcpExt_TCPTimeouts)                                                                            \
  X(synack_retransmitted_bsd, synack_retransmitted, "RTO: SYN-ACK retransmitted",                  \
    "docs/passive-open.md §3", Tcp_RetransSegs)                                                    \
  X(synack_retransmitted_freebsd, synack_retransmitted, "SYN-ACK retransmitted",                   \
    "docs/passive-open.md §4", FreeBSD_sc_retransmitted, Tcp_RetransSegs)                          \
  X(defer_accept_wait, defer_accept_wait,                                                          \
    "SYN-ACK timer: TCP_DEFER_ACCEPT waits for data, no SYN-ACK", "docs/passive-open.md §8 L30",   \
    TcpExt_TCPTimeouts)                                                                            \
  X(request_expired, request_expired, "SYN-ACK retries exhausted",                                 \
    "docs/passive-open.md §2 SYN-ACK timer", TcpExt_TCPTimeouts)                                   \
  X(request_expired_bsd, request_expired, "connection-establishment timer, 75 s: RST|ACK",         \
    "docs/passive-open.md §3", Tcp_AttemptFails)                                                   \
  X(listener_closed_bsd, listener_closed,                                                          \
    "listener closed: embryonic connection aborted with RST|ACK", "docs/passive-open.md §3",       \
    Tcp_AttemptFails)                                                                              \
  X(request_expired_freebsd, request_expired, "SYN-ACK retransmits exhausted",                     \
    "docs/passive-open.md §4", FreeBSD_sc_stale)                                                   \
  X(request_pruned, request_pruned, "pruned under pressure",                                       \
    "docs/passive-open.md §2 Pruning under pressure", TcpExt_TCPTimeouts)                          \
  X(syncache_paused, syncache_paused, "syncache paused: the bucket timer drops every entry",       \
    "docs/passive-open.md §4")

enum class ListenReason : uint8_t {
#define SYNQ_LISTEN_REASON_ENUM(id, key, text, section, ...) id,
  SYNQ_LISTEN_REASON_LIST(SYNQ_LISTEN_REASON_ENUM)
#undef SYNQ_LISTEN_REASON_ENUM
      kCount
};

inline constexpr size_t kListenReasonCount = static_cast<size_t>(ListenReason::kCount);

struct ListenReasonInfo {
  std::string_view id;       // "accept_queue_full_xnu"
  std::string_view key;      // "accept_queue_full"
  std::string_view text;     // "accept queue full: so_qlen >= B and nothing embryonic to evict"
  std::string_view section;  // "docs/passive-open.md §5"
  std::array<Counter, 3> counter_slots{};
  uint8_t counter_count = 0;
  std::span<const Counter> counters() const { return {counter_slots.data(), counter_count}; }
};

const ListenReasonInfo& listen_reason_info(ListenReason r);
inline std::string_view listen_reason_key(ListenReason r) {
  return listen_reason_info(r).key;
}
inline std::string_view listen_reason_text(ListenReason r) {
  return listen_reason_info(r).text;
}

}  // namespace synq
