// The bsd44 backlog model (passive-open.md §1, §3): 4.4BSD's single limit. Every segment
// that reaches the listener first asks sonewconn() for an embryonic socket;
// that fails when qlen + acc > 3*B/2 and the segment is dropped without a
// word (4.4BSD-Lite; with bsd44.variant=lite2, 4.4BSD-Lite2, only a pure SYN
// asks, and an ACK gets its RST even then). Embryonic connections (synq Requests) live in
// SYN-RECEIVED, resend their SYN-ACK by the RTO, die with a RST|ACK at the 75 s
// connection-establishment timer and complete on the ACK with no further check.
//
// The embryonic-connection half (a BSD tcpcb in SYN_RECEIVED) is shared with
// the xnu model, which inherited it: BsdEmbryonic below.
#pragma once

#include "listen/backlog_model.hpp"
#include "synq/time.hpp"

namespace synq::listen {

/// A BSD embryonic connection (tcp_input in SYN_RECEIVED, tcp_timers' REXMT
/// and KEEP timers), over synq's compact Request.
struct BsdEmbryonic {
  /// TCPTV_KEEP_INIT: the connection-establishment timer (75 s; a constant
  /// in 4.4BSD, xnu's default for net.inet.tcp.keepinit).
  static constexpr Duration kKeepInit = std::chrono::seconds(75);
  /// TCP_MAXRXTSHIFT: the retransmission timer gives up after 12 backoffs.
  static constexpr unsigned kMaxRxtShift = 12;
  /// When the request created at time 0 sends SYN-ACK number n (n = 0 first):
  /// RTO 1 s doubling, each interval capped at TCPTV_REXMTMAX (64 s). With
  /// `historical` (bsd44.rexmt=historical, bsd44 only): 4.4BSD's own timer,
  /// 6 s, then TCP_REXMTVAL (12 s) × tcp_backoff[]: 0, 6, 30, 78, 142, … s.
  static Duration synack_time(unsigned n, bool historical = false);
  /// When the request created at time 0 is reset: at its keepinit (TCPTV_KEEP_INIT
  /// or xnu's net.inet.tcp.keepinit as it was when the SYN came), or,
  /// once keep_rearmed, when the retransmission timer gives up (511 s; 718 s
  /// on the historical schedule).
  static Duration end_time(const Request& r);
  /// bsd44 only: 4.4BSD tcp_input() re-arms TCPT_KEEP for every segment.
  static void rearm_keep(PassiveOpener& po, uint32_t req);
  /// A new embryonic connection: SYN-ACK sent, timer armed; `keep_init` is
  /// its connection-establishment timer.
  static uint32_t open(PassiveOpener& po, Listener& l, const FourTuple& t,
                       const wire::TcpSegment& syn, bool historical = false,
                       Duration keep_init = kKeepInit);
  /// Its timer: SYN-ACK retransmission, or the 75 s establishment timeout.
  static void on_timer(PassiveOpener& po, Listener& l, uint32_t req);
  /// The listener closes: soclose() soaborts every embryonic connection,
  /// oldest first; each tcp_drop() sends its RST|ACK.
  static void abort_all(PassiveOpener& po, Listener& l);
  /// tcp_input LISTEN for a segment that got a socket: RST → drop, ACK → RST,
  /// SYN → new embryonic connection (with `keep_init`), anything else → drop.
  static void listen_input(PassiveOpener& po, Listener& l, const FourTuple& t,
                           const wire::TcpSegment& seg, bool historical = false,
                           Duration keep_init = kKeepInit);
};

class Bsd44Model final : public BacklogModel {
 public:
  std::string_view name() const override { return "bsd44"; }
  int clamp_backlog(int backlog, const Sysctls& s) const override;
  uint16_t default_peer_mss(IpVersion v) const override;
  void on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                           const wire::TcpSegment& seg,
                           std::optional<uint32_t> time_wait_isn) override;
  void on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                          const wire::TcpSegment& seg) override;
  void on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) override;
  void on_listener_close(PassiveOpener& po, Listener& l) override {
    BsdEmbryonic::abort_all(po, l);
  }

  /// tcp_input SYN_RECEIVED as 4.4BSD-Lite/Lite2 have it (both alike there),
  /// in its order: the left-edge trim (a SYN below rcv_nxt loses its SYN and
  /// the rest goes on), the window, RST, SYN (two RSTs), the ACK test (ISS
  /// itself passes and completes). xnu's own input is XnuEmbryonic.
  static void embryonic_segment(PassiveOpener& po, Listener& l, uint32_t req,
                                const wire::TcpSegment& in);

  /// sonewconn (4.4BSD uipc_socket2.c): refuse when so_q0len + so_qlen > 3*B/2.
  static bool over(const QueueLengths& q) {
    return q.syn_queue + q.accept_queue > 3 * q.backlog / 2;
  }
};

}  // namespace synq::listen
