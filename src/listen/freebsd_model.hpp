// The freebsd backlog model (passive-open.md §1, §4): SYNs go into a syncache that never
// looks at the accept queue; the socket is made only when the handshake's ACK
// arrives, and that fails when the completed queue is over 3B/2 (sonewconn /
// solisten_clone): listendrop, the "Listen queue overflow" log line and a RST
// (net.inet.tcp.syncache.rst_on_sock_fail=1) or silence.
//
// Timers are FreeBSD's: one per syncache bucket (sch_timer at sch_nextc), not
// one per entry. Every entry of a bucket has its synq timer at the bucket's
// sch_nextc; whichever fires first runs syncache_timer over the whole bucket
// (on_request_timer), and a removed entry's time stays the bucket's callout
// until that firing, as in FreeBSD.
//
// SYN-ACK schedule (syncache_timeout, exact in virtual time): with rxmits the
// number of SYN-ACKs sent so far, the next one is due after
//   rxmits == 1:  tcp_rexmit_initial                                  = 1 s
//   rxmits >= 2:  tcp_rexmit_initial * tcp_backoff[rxmits - 1] + tcp_rexmit_slop
//                 (clamped to [tcp_rexmit_min 30 ms, TCPTV_REXMTMAX 64 s])
//                 = 2.2 s, 4.2 s, 8.2 s
// with tcp_backoff = {1, 2, 4, 8, 16, 32, 64, 64, ...} and slop 200 ms, so
// SYN-ACKs leave at 0, 1.0, 3.2 and 7.4 s; at 15.6 s rxmits (4) exceeds
// net.inet.tcp.syncache.rexmtlimit (3) and the entry goes (sc_stale).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "listen/backlog_model.hpp"
#include "listen/freebsd_syncache.hpp"
#include "listen/syncookies_freebsd.hpp"

namespace synq::listen {

struct Request;

class FreeBsdModel final : public BacklogModel {
 public:
  std::string_view name() const override { return "freebsd"; }
  int clamp_backlog(int backlog, const Sysctls& s) const override;
  uint16_t default_peer_mss(IpVersion v) const override;
  void on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                           const wire::TcpSegment& seg,
                           std::optional<uint32_t> time_wait_isn) override;
  void on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                          const wire::TcpSegment& seg) override;
  void on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) override;
  /// Every entry that leaves the SYN queue leaves its syncache bucket here.
  void on_request_removed(uint32_t req, const Request& r) override;

  /// sonewconn / solisten_clone: no socket when sol_qlen > 3 * sol_qlimit / 2.
  static bool over(const QueueLengths& q) { return q.accept_queue > 3 * q.backlog / 2; }
  /// syncache_timeout: the wait after SYN-ACK number `rxmits` (1 = the first).
  static Duration rexmt_after(unsigned rxmits);

 private:
  void init(PassiveOpener& po);
  bool cookies_only(const PassiveOpener& po) const;
  void on_syn(PassiveOpener& po, Listener& l, const FourTuple& t, const wire::TcpSegment& seg);
  void send_cookie_only(PassiveOpener& po, Listener& l, const FourTuple& t,
                        const wire::TcpSegment& seg, uint32_t bucket);
  void on_ack_without_entry(PassiveOpener& po, Listener& l, const FourTuple& t,
                            const wire::TcpSegment& seg);
  /// syncache_socket: false (listendrop, log, RST or silence) when over.
  bool socket_allowed(PassiveOpener& po, Listener& l, const FourTuple& t,
                      const wire::TcpSegment& ack);
  /// What syncookie_generate encodes of `syn` (and of r's negotiated options).
  static FreeBsdCookieOptions cookie_options(const Request& r, const wire::TcpSegment& syn);
  /// syncache_timeout: the entry's next SYN-ACK time, and the bucket's
  /// callout moved earlier if that is sooner (re-armed when `docallout`).
  void syncache_timeout(PassiveOpener& po, uint32_t b, uint32_t req, bool docallout);
  /// Every entry of bucket b has its synq timer at the bucket's sch_nextc.
  void arm_bucket(PassiveOpener& po, uint32_t b);
  /// syncache_pause after an overflow: counts sc_bucketoverflow as FreeBSD
  /// does and returns the line it logs when it starts a pause (else empty).
  std::string pause_syncache(PassiveOpener& po);

  std::unique_ptr<FreeBsdSyncache> cache_;
  std::optional<FreeBsdSyncookies> cookies_;
  // sonewconn's log rate limit (kern.ipc.sooverinterval, 60 s) per listener.
  Time last_overflow_log_ = kNever;
  uint32_t overflow_count_ = 0;
};

}  // namespace synq::listen
