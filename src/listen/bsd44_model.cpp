#include "listen/bsd44_model.hpp"

#include <algorithm>
#include <vector>

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
  const Duration sent = BsdEmbryonic::synack_time(r.num_timeout, r.historical_rexmt);
  const Duration next = std::min<Duration>(
      BsdEmbryonic::synack_time(r.num_timeout + 1u, r.historical_rexmt), BsdEmbryonic::end_time(r));
  po.arm_timer(req, po.now() + (next - sent));
}

}  // namespace

// ------------------------------------------------------------------ embryonic connections

namespace {

// 4.4BSD's retransmission timer in slow-timeout ticks (PR_SLOWHZ 2: 500 ms),
// tcp_timer.h / tcp_var.h / tcp_subr.c of 4.4BSD-Lite (8.1) and Lite2 (8.2),
// identical in both.
constexpr int kTickMs = 500;        // PR_SLOWHZ = 2
constexpr int kRexmtMin = 2;        // TCPTV_MIN (1 s)
constexpr int kRexmtMax = 128;      // TCPTV_REXMTMAX (64 s)
constexpr int kInitialRxtcur = 12;  // tcp_newtcpcb(): ((0 >> 2) + (TCPTV_SRTTDFLT << 2)) >> 1
constexpr int kRexmtVal = 24;       // TCP_REXMTVAL: (t_srtt 0 >> 3) + t_rttvar (3 * 2 << 2)
constexpr int kBackoff[] = {1, 2, 4, 8, 16, 32, 64, 64, 64, 64, 64, 64, 64};  // tcp_backoff[]

// The historical schedule: the SYN-ACK leaves with REXMT = t_rxtcur (12
// ticks, tcp_output); each expiry n (t_rxtshift = n) re-arms it to
// TCPT_RANGESET(TCP_REXMTVAL * tcp_backoff[n], TCPTV_MIN, TCPTV_REXMTMAX)
// (tcp_timers). Ticks are taken as exact 500 ms steps from the SYN: the real
// first tick comes anywhere in the first 500 ms, which moves every time
// (the 75 s KEEP too, armed by the same segment) up to 500 ms earlier alike.
Duration historical_synack_time(unsigned n) {
  int ticks = 0;
  for (unsigned k = 0; k < n; ++k) {
    const int rexmt = k == 0 ? kInitialRxtcur : kRexmtVal * kBackoff[std::min<unsigned>(k, 12)];
    ticks += std::clamp(rexmt, kRexmtMin, kRexmtMax);
  }
  return std::chrono::milliseconds(int64_t{ticks} * kTickMs);
}

}  // namespace

Duration BsdEmbryonic::synack_time(unsigned n, bool historical) {
  // bsd44.rexmt=historical: SYN-ACKs at 0, 6, 30, 78 s, then every 64 s.
  if (historical) return historical_synack_time(n);
  // RTO 1 s doubling: SYN-ACK n leaves at 2^n - 1 s until the interval
  // reaches TCPTV_REXMTMAX (64 s, after SYN-ACK 6 at 63 s), then every 64 s.
  // Only a re-armed bsd44 connection (end_time) lives past 75 s to see that.
  if (n <= 7) return std::chrono::seconds((int64_t{1} << n) - 1);
  return std::chrono::seconds(127 + 64 * int64_t{n - 7});
}

Duration BsdEmbryonic::end_time(const Request& r) {
  // tcp_timers() REXMT: "if (++tp->t_rxtshift > TCP_MAXRXTSHIFT)" → tcp_drop:
  // the timeout after the 12th retransmission (1+2+...+32+7×64 = 511 s; on
  // the historical schedule 6+24+48+10×64 = 718 s).
  return r.keep_rearmed ? synack_time(kMaxRxtShift + 1, r.historical_rexmt)
                        : Duration{std::chrono::milliseconds(r.keepinit_ms)};
}

void BsdEmbryonic::rearm_keep(PassiveOpener& po, uint32_t req) {
  Request& r = po.requests().at(req);
  if (r.keep_rearmed) return;
  // The armed deadline is creation + min(next SYN-ACK, 75 s); move it to
  // creation + the next SYN-ACK under the longer bound. (TCPT_KEEP itself
  // becomes tcp_keepidle, 2 h, which REXMT's 511 s (718 s historical) always beats.)
  const bool h = r.historical_rexmt;
  const Time created =
      r.deadline - std::min<Duration>(synack_time(r.num_timeout + 1u, h), end_time(r));
  r.keep_rearmed = true;
  po.arm_timer(req, created + std::min<Duration>(synack_time(r.num_timeout + 1u, h), end_time(r)));
}

uint32_t BsdEmbryonic::open(PassiveOpener& po, Listener& l, const FourTuple& t,
                            const wire::TcpSegment& syn, bool historical, Duration keep_init) {
  const uint32_t req = po.new_request(l, t, syn);
  po.requests().at(req).historical_rexmt = historical;
  po.requests().at(req).keepinit_ms = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(keep_init).count());
  arm_next(po, req);
  return req;
}

void BsdEmbryonic::abort_all(PassiveOpener& po, Listener& l) {
  // passive-open.md §3: soclose() (4.4BSD-Lite kern/uipc_socket.c; xnu
  // soclose_locked) runs "while (so->so_q0) (void) soabort(so->so_q0);":
  // PRU_ABORT → tcp_drop(), which for a connection that has received a SYN
  // sends RST|ACK (seq ISS+1, ack IRS+1). so_q0 is oldest first; synq's
  // request list is newest first, so walk it into a list and go backwards.
  std::vector<uint32_t> newest_first;
  for (uint32_t i = l.first_request(); i != kNoRequest; i = po.requests().at(i).next)
    newest_first.push_back(i);
  for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) {
    const Request& r = po.requests().at(*it);
    const FourTuple t = r.tuple;
    po.send_request_reset(r);
    po.remove_request(l, *it);
    po.record(l, t, 0, D::rst, R::listener_closed_bsd);
  }
}

void BsdEmbryonic::on_timer(PassiveOpener& po, Listener& l, uint32_t req) {
  Request& r = po.requests().at(req);
  const FourTuple t = r.tuple;
  if (synack_time(r.num_timeout + 1u, r.historical_rexmt) >= end_time(r)) {
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

void BsdEmbryonic::listen_input(PassiveOpener& po, Listener& l, const FourTuple& t,
                                const wire::TcpSegment& seg, bool historical, Duration keep_init) {
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
  open(po, l, t, seg, historical, keep_init);
  po.record(l, t, f, D::request, R::request_created_bsd);
}

// ------------------------------------------------------------------ the model

uint16_t Bsd44Model::default_peer_mss(IpVersion) const {
  // 4.4BSD-Lite2 tcp_subr.c tcp_newtcpcb(): "tp->t_maxseg = tcp_mssdflt;" (TCP_MSS 512);
  // tcp_mss() runs only from tcp_dooptions() "case TCPOPT_MAXSEG", so it stays.
  return 512;
}

int Bsd44Model::clamp_backlog(int backlog, const Sysctls& s) const {
  // passive-open.md §1: 4.4BSD solisten: a negative backlog is 0; so_qlimit = min(backlog,
  // SOMAXCONN).
  return std::min(std::max(backlog, 0), s.bsd44_somaxconn);
}

void Bsd44Model::on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                                     const wire::TcpSegment& seg, std::optional<uint32_t>) {
  const Sysctls& s = po.sysctls();
  const bool historical = s.bsd44_rexmt == "historical";
  const uint8_t f = seg.h.flags;
  if (s.bsd44_variant == "lite2" && (f & (RST | ACK | SYN)) != SYN) {
    // bsd44.variant=lite2: 4.4BSD-Lite2 tcp_input() (tcp_input.c 8.12) tests
    // the flags before sonewconn(): "if ((tiflags & (TH_RST|TH_ACK|TH_SYN))
    // != TH_SYN)", so only a pure SYN can be refused by a full listener.
    if ((f & ACK) && !(f & RST)) {
      // passive-open.md §3 (Lite2): ACK → RST (seq = its ack), full or not;
      // Lite2 tcp_input.c tcp_input(): "tcps_badsyn++; goto dropwithreset".
      po.send_reset_reply(t, seg);
      po.record(l, t, f, D::rst, R::ack_to_listener);
      return;
    }
    // passive-open.md §3 (Lite2): anything else that is not a pure SYN is
    // dropped without a socket; Lite2 tcp_input.c tcp_input(): "goto drop"
    // (dropwithreset never answers a RST, so RST|ACK lands here too).
    po.record(l, t, f, D::ignore, (f & RST) ? R::rst_to_listener : R::no_syn_to_listener);
    return;
  }
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
  BsdEmbryonic::listen_input(po, l, t, seg, historical);
}

void Bsd44Model::on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                                    const wire::TcpSegment& seg) {
  // 4.4BSD tcp_input() re-arms TCPT_KEEP before it looks at the state (Lite
  // tcp_input.c l. 367, Lite2 l. 405-406), whatever the segment then does.
  BsdEmbryonic::rearm_keep(po, req);
  embryonic_segment(po, l, req, seg);
}

void Bsd44Model::embryonic_segment(PassiveOpener& po, Listener& l, uint32_t req,
                                   const wire::TcpSegment& in) {
  Request& r = po.requests().at(req);
  const FourTuple t = r.tuple;
  const uint32_t rcv_nxt = r.irs + 1;
  // 4.4BSD-Lite/Lite2 tcp_input, state SYN_RECEIVED, in its order: trim to
  // the window, RST, SYN, ACK (the two versions do not differ here).
  wire::TcpSegment seg = in;  // a copy to trim (no allocation: the payload is a view)
  if ((seg.h.flags & SYN) && tcp::seq_lt(seg.h.seq, rcv_nxt)) {
    // The left-edge trim drops a SYN below rcv_nxt (the peer's own SYN again)
    // and goes on with the rest: "tiflags &= ~TH_SYN; ti->ti_seq++;". Only
    // if nothing is left, and it has no ACK ("if (todrop != 0 || (tiflags &
    // TH_ACK) == 0) goto dropafterack;"), is it answered as old below; a
    // SYN|ACK or a SYN with new data at IRS continues without its SYN.
    const uint32_t todrop = rcv_nxt - (seg.h.seq + 1);
    if (todrop < seg.payload.size() || (todrop == 0 && (seg.h.flags & ACK))) {
      seg.h.flags = static_cast<uint8_t>(seg.h.flags & ~SYN);
      seg.h.seq += 1 + todrop;
      seg.payload = seg.payload.subspan(todrop);
    }
  }
  const uint8_t f = seg.h.flags;
  if (!tcp::seq_touches_window(seg.h.seq, seg.h.seq + seg.seg_len(), rcv_nxt, rcv_nxt + r.window)) {
    if (f & RST) {
      // passive-open.md §3: an old or out-of-window RST is dropped (tcp_input.c
      // tcp_input(), dropafterack: "if (tiflags & TH_RST) goto drop").
      po.record(l, t, f, D::ignore, R::rst_out_of_window);
      return;
    }
    // passive-open.md §3: dropafterack; in SYN_RECEIVED tcp_output sends the
    // SYN|ACK again (tcp_input.c tcp_input(): "goto dropafterack"). Also the
    // answer to a retransmitted SYN (seq = IRS, wholly old).
    po.send_synack(r);
    po.record(l, t, f, D::synack, R::out_of_window_bsd);
    return;
  }
  if (f & RST) {
    // passive-open.md §3: RST in window closes it silently (tcp_input.c
    // tcp_input(): "case TCPS_SYN_RECEIVED: so->so_error = ECONNREFUSED; goto close").
    po.remove_request(l, req);
    po.record(l, t, f, D::drop, R::rst_in_window_bsd);
    return;
  }
  if (f & SYN) {
    // passive-open.md §3: a SYN in the window, two RSTs (tcp_input.c
    // tcp_input(): "tp = tcp_drop(tp, ECONNRESET); goto dropwithreset").
    // tcp_drop() sets CLOSED and calls tcp_output(): RST|ACK <SEQ=ISS+1>
    // <ACK=IRS+1>; dropwithreset then answers the segment itself, RST
    // <SEQ=SEG.ACK> or RST|ACK <SEQ=0><ACK=SEG.SEQ+SEG.LEN>.
    po.send_request_reset(r);
    po.send_reset_reply(t, seg);
    po.remove_request(l, req);
    po.record(l, t, f, D::rst, R::syn_in_window_bsd44);
    return;
  }
  if (!(f & ACK)) {
    // passive-open.md §3: no ACK → dropped (tcp_input.c tcp_input(): "if
    // ((tiflags & TH_ACK) == 0) goto drop").
    po.record(l, t, f, D::ignore, R::no_ack_to_request);
    return;
  }
  if (tcp::seq_gt(r.iss, seg.h.ack) || tcp::seq_gt(seg.h.ack, r.iss + 1)) {
    // passive-open.md §3: ack outside [snd_una, snd_max] = [ISS, ISS+1] →
    // RST, connection kept (tcp_input.c tcp_input(): "if (SEQ_GT(tp->snd_una,
    // ti->ti_ack) || SEQ_GT(ti->ti_ack, tp->snd_max)) goto dropwithreset").
    po.send_reset_reply(t, seg);
    po.record(l, t, f, D::rst, R::wrong_ack);
    return;
  }
  if (r.ts_ok && seg.h.options.has_timestamps) r.ts_recent = seg.h.options.ts_val;
  // passive-open.md §3: on the ACK the connection moves to the completed
  // queue with no further check (soisconnected). ack = ISS passes the test
  // above too (snd_una is ISS): the kernel then leaves its SYN unacknowledged
  // until the peer's next ACK; synq's child starts with snd_una = ISS+1 and
  // takes this ACK as an old duplicate.
  po.complete(l, req, seg);
}

void Bsd44Model::on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) {
  BsdEmbryonic::on_timer(po, l, req);
}

}  // namespace synq::listen
