#include "listen/bsd44_model.hpp"

#include <algorithm>

#include "listen/listener.hpp"
#include "listen/passive_open.hpp"
#include "tcp/seq.hpp"

namespace synq::listen {

using wire::tcp_flags::ACK;
using wire::tcp_flags::RST;
using wire::tcp_flags::SYN;
using D = ListenDecision;
using R = ListenReason;

namespace {

// Arms the embryonic connection's one timer: the next SYN-ACK retransmission,
// or the connection-establishment timer if that comes first.
void arm_next(PassiveOpener& po, uint32_t req) {
  const Request& r = po.requests().at(req);
  const Duration sent = BsdEmbryonic::synack_time(r.num_timeout);
  const Duration next =
      std::min<Duration>(BsdEmbryonic::synack_time(r.num_timeout + 1u), BsdEmbryonic::end_time(r));
  po.arm_timer(req, po.now() + (next - sent));
}

}  // namespace

// ------------------------------------------------------------------ embryonic connections

Duration BsdEmbryonic::synack_time(unsigned n) {
  // RTO 1 s doubling: SYN-ACK n leaves at 2^n - 1 s until the interval
  // reaches TCPTV_REXMTMAX (64 s, after SYN-ACK 6 at 63 s), then every 64 s.
  // Only a re-armed bsd44 connection (end_time) lives past 75 s to see that.
  if (n <= 7) return std::chrono::seconds((int64_t{1} << n) - 1);
  return std::chrono::seconds(127 + 64 * int64_t{n - 7});
}

Duration BsdEmbryonic::end_time(const Request& r) {
  // tcp_timers() REXMT: "if (++tp->t_rxtshift > TCP_MAXRXTSHIFT)" → tcp_drop:
  // the timeout after the 12th retransmission (1+2+...+32+7×64 = 511 s).
  return r.keep_rearmed ? synack_time(kMaxRxtShift + 1) : kKeepInit;
}

void BsdEmbryonic::rearm_keep(PassiveOpener& po, uint32_t req) {
  Request& r = po.requests().at(req);
  if (r.keep_rearmed) return;
  // The armed deadline is creation + min(next SYN-ACK, 75 s); move it to
  // creation + the next SYN-ACK under the longer bound. (TCPT_KEEP itself
  // becomes tcp_keepidle, 2 h, which REXMT's 511 s always beats.)
  const Time created =
      r.deadline - std::min<Duration>(synack_time(r.num_timeout + 1u), end_time(r));
  r.keep_rearmed = true;
  po.arm_timer(req, created + std::min<Duration>(synack_time(r.num_timeout + 1u), end_time(r)));
}

uint32_t BsdEmbryonic::open(PassiveOpener& po, Listener& l, const FourTuple& t,
                            const wire::TcpSegment& syn) {
  const uint32_t req = po.new_request(l, t, syn);
  arm_next(po, req);
  return req;
}

void BsdEmbryonic::on_timer(PassiveOpener& po, Listener& l, uint32_t req) {
  Request& r = po.requests().at(req);
  const FourTuple t = r.tuple;
  if (synack_time(r.num_timeout + 1u) >= end_time(r)) {
    // passive-open.md §3: TCPTV_KEEP_INIT (75 s) bounds the embryonic
    // connection. tcp_timers() TCPT_KEEP, state < ESTABLISHED, goes to dropit:
    // tcp_drop() (tcp_subr.c; 4.4BSD-Lite 8.1/Lite2 8.2, xnu-11417.101.15) of
    // a connection that has received a SYN sets CLOSED and calls tcp_output(),
    // which sends RST|ACK (tcp_outflags[TCPS_CLOSED]), so a waiting client
    // gets ECONNREFUSED now. SYN-RCVD → CLOSED is an attempt failure.
    //
    // bsd44 only: 4.4BSD's tcp_input() sets TCPT_KEEP to tcp_keepidle (2 h)
    // for every segment that reaches the tcpcb (Lite2 tcp_input.c l. 405-406
    // "tp->t_timer[TCPT_KEEP] = tcp_keepidle"), so a peer that sent anything
    // after its SYN is dropped instead when REXMT gives up (TCP_MAXRXTSHIFT),
    // with the same RST|ACK: end_time(). xnu re-arms only once ESTABLISHED,
    // so there the 75 s always comes first.
    po.send_request_reset(r);
    po.remove_request(l, req);
    po.record(l, t, 0, D::expire, R::request_expired_bsd);
    return;
  }
  // passive-open.md §3: SYN-ACKs are retransmitted by the normal RTO.
  po.send_synack(r);
  ++r.num_timeout;
  arm_next(po, req);
  po.record(l, t, 0, D::synack, R::synack_retransmitted_bsd);
}

void BsdEmbryonic::on_segment(PassiveOpener& po, Listener& l, uint32_t req,
                              const wire::TcpSegment& seg) {
  Request& r = po.requests().at(req);
  const FourTuple t = r.tuple;
  const uint8_t f = seg.h.flags;
  const uint32_t rcv_nxt = r.irs + 1;
  // BSD tcp_input, state SYN_RECEIVED, in its order: trim to the window, RST,
  // SYN, ACK.
  if (!tcp::seq_touches_window(seg.h.seq, seg.h.seq + seg.seg_len(), rcv_nxt, rcv_nxt + r.window)) {
    if (f & RST) {
      po.record(l, t, f, D::ignore, R::rst_out_of_window);
      return;
    }
    // dropafterack: in SYN_RECEIVED tcp_output sends SYN|ACK again. This is
    // also the answer to a retransmitted SYN (seq = IRS, wholly old).
    po.send_synack(r);
    po.record(l, t, f, D::synack, R::out_of_window_bsd);
    return;
  }
  if (f & (RST | SYN)) {
    // RST in window: the peer refused; SYN in window: an error, answered with
    // RST (tcp_drop + dropwithreset). Either way the embryonic socket goes.
    if (!(f & RST)) po.send_reset_reply(t, seg);
    po.remove_request(l, req);
    po.record(l, t, f, (f & RST) ? D::drop : D::rst,
              (f & RST) ? R::rst_in_window_bsd : R::syn_in_window_bsd);
    return;
  }
  if (!(f & ACK)) {
    po.record(l, t, f, D::ignore, R::no_ack_to_request);
    return;
  }
  if (seg.h.ack != r.iss + 1) {
    // SYN_RECEIVED: ack outside (snd_una, snd_max] → dropwithreset; the
    // embryonic connection stays.
    po.send_reset_reply(t, seg);
    po.record(l, t, f, D::rst, R::wrong_ack);
    return;
  }
  if (r.ts_ok && seg.h.options.has_timestamps) r.ts_recent = seg.h.options.ts_val;
  // passive-open.md §3: on the ACK the connection moves to the completed queue with no
  // further check (soisconnected).
  po.complete(l, req, seg);
}

void BsdEmbryonic::listen_input(PassiveOpener& po, Listener& l, const FourTuple& t,
                                const wire::TcpSegment& seg) {
  // BSD tcp_input, state LISTEN (the new socket is thrown away unless a SYN
  // makes it an embryonic connection).
  const uint8_t f = seg.h.flags;
  if (f & RST) {
    po.record(l, t, f, D::ignore, R::rst_to_listener);
    return;
  }
  if (f & ACK) {
    po.send_reset_reply(t, seg);
    po.record(l, t, f, D::rst, R::ack_to_listener);
    return;
  }
  if (!(f & SYN)) {
    po.record(l, t, f, D::ignore, R::no_syn_to_listener);
    return;
  }
  open(po, l, t, seg);
  po.record(l, t, f, D::request, R::request_created_bsd);
}

// ------------------------------------------------------------------ the model

int Bsd44Model::clamp_backlog(int backlog, const Sysctls& s) const {
  // passive-open.md §1: 4.4BSD solisten: a negative backlog is 0; so_qlimit = min(backlog,
  // SOMAXCONN).
  return std::min(std::max(backlog, 0), s.bsd44_somaxconn);
}

void Bsd44Model::on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                                     const wire::TcpSegment& seg, std::optional<uint32_t>) {
  // A SYN that ended a TIME-WAIT: 4.4BSD-Lite's tcp_input (TIME_WAIT, SYN
  // above rcv_nxt) gives the new connection iss = rcv_nxt + TCP_ISSINCR (sic:
  // the peer's sequence space; later BSDs use snd_nxt). Not modelled: the
  // verdict's ISN is Linux's rule, so bsd44 keeps its usual (RFC 6528) ISN.
  const QueueLengths q = l.lengths();
  if (over(q)) {
    // passive-open.md §3: sonewconn refuses (qlen + acc > 3B/2): any segment, even a bare
    // ACK or a RST, is dropped silently. synq counts it as Linux counts its
    // silent overflow drop: ListenOverflows and ListenDrops. When the
    // completed connections alone fill the limit it is the accept queue
    // that is full; otherwise half-open ones share the blame.
    po.record(
        l, t, seg.h.flags, D::drop,
        q.accept_queue > 3 * q.backlog / 2 ? R::accept_queue_full_bsd44 : R::listen_queue_full);
    return;
  }
  BsdEmbryonic::listen_input(po, l, t, seg);
}

void Bsd44Model::on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                                    const wire::TcpSegment& seg) {
  // 4.4BSD tcp_input() re-arms TCPT_KEEP before it looks at the state (Lite
  // tcp_input.c l. 367, Lite2 l. 405-406), whatever the segment then does.
  BsdEmbryonic::rearm_keep(po, req);
  BsdEmbryonic::on_segment(po, l, req, seg);
}

void Bsd44Model::on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) {
  BsdEmbryonic::on_timer(po, l, req);
}

}  // namespace synq::listen
