#include "listen/xnu_embryonic.hpp"

#include <algorithm>

#include "listen/listener.hpp"
#include "listen/passive_open.hpp"
#include "tcp/seq.hpp"

namespace synq::listen {

using wire::tcp_flags::ACK;
using wire::tcp_flags::FIN;
using wire::tcp_flags::RST;
using wire::tcp_flags::SYN;
using D = ListenDecision;
using R = ListenReason;

bool XnuChallengeLimit::limited(Time now, int limit) {
  // tcp_input.c, tcp_is_ack_ratelimited(): "if (tp->t_challengeack_last == 0
  // || diff >= 1000)" starts a new window (and allows); otherwise allowed
  // while "tp->t_challengeack_count < tcp_challengeack_limit". Every allowed
  // call counts.
  bool allow = false;
  if (!started || now - last >= std::chrono::seconds(1)) {
    started = true;
    last = now;
    count = 0;
    allow = true;
  } else if (count < static_cast<uint32_t>(std::max(limit, 0))) {
    allow = true;
  }
  if (allow) ++count;
  return !allow;
}

void XnuEmbryonic::on_segment(PassiveOpener& po, Listener& l, uint32_t req,
                              const wire::TcpSegment& seg, XnuChallengeLimit& ch) {
  Request& r = po.requests().at(req);
  const FourTuple t = r.tuple;
  const uint8_t f = seg.h.flags;
  const uint32_t seq = seg.h.seq;
  const uint32_t rcv_nxt = r.irs + 1;
  const uint32_t rcv_wnd = r.window;
  // Every SYN-ACK carries ack = rcv_nxt (tcp_output: "tp->last_ack_sent =
  // tp->rcv_nxt"), and nothing else is sent in SYN_RECEIVED.
  const uint32_t last_ack_sent = rcv_nxt;
  const int limit = po.sysctls().xnu_challengeack_limit;

  // passive-open.md §5: an ACK that is not for our SYN-ACK gets a RST, before
  // anything else is looked at (tcp_input.c, tcp_input(), switch case
  // TCPS_SYN_RECEIVED: "SEQ_LEQ(th->th_ack, tp->snd_una) ||
  // SEQ_GT(th->th_ack, tp->snd_max)" → dropwithreset). An ACK equal to ISS
  // fails too (SEQ_LEQ), unlike 4.4BSD. The connection stays.
  if ((f & ACK) && seg.h.ack != r.iss + 1) {
    if (f & RST) {
      // passive-open.md §5: dropwithreset never answers a RST ("if ((thflags
      // & TH_RST) || ...) goto drop"), so a RST|ACK with a wrong ack is
      // dropped silently, whatever its seq.
      po.record(l, t, f, D::ignore, R::rst_wrong_ack_xnu);
      return;
    }
    po.send_reset_reply(t, seg);
    po.record(l, t, f, D::rst, R::wrong_ack);
    return;
  }

  if (f & RST) {
    // RFC 5961 §3.2 as xnu has it (tcp_input.c, tcp_input(), "if (thflags &
    // TH_RST)"): acceptable if "SEQ_GEQ(th->th_seq, tp->last_ack_sent) &&
    // SEQ_LT(th->th_seq, tp->last_ack_sent + tp->rcv_wnd)", or, only when
    // rcv_wnd == 0 (or state >= CLOSE_WAIT), at last_ack_sent or one below.
    const bool in_window =
        tcp::seq_ge(seq, last_ack_sent) && tcp::seq_lt(seq, last_ack_sent + rcv_wnd);
    const bool at_edge = seq == last_ack_sent || seq == last_ack_sent - 1;
    if (!in_window && !(rcv_wnd == 0 && at_edge)) {
      // passive-open.md §5: outside that (including IRS, "one below", when
      // the window is open) → drop (DROP_REASON_TCP_BAD_RST).
      po.record(l, t, f, D::ignore, R::rst_out_of_window);
      return;
    }
    if (at_edge) {
      // passive-open.md §5: "case TCPS_SYN_RECEIVED: ... so->so_error =
      // ECONNREFUSED; goto close;" → tcp_close(): no segment is sent.
      po.remove_request(l, req);
      po.record(l, t, f, D::drop, R::rst_in_window_xnu);
      return;
    }
    // passive-open.md §5: in window but not at last_ack_sent: tcps_badrst,
    // then "if (tcp_is_ack_ratelimited(tp)) goto drop" else
    // "tcpstat.tcps_rstchallenge++; goto dropafterack" — and tcp_output() in
    // SYN_RECEIVED keeps TH_SYN ("if (tp->t_state != TCPS_SYN_RECEIVED ||
    // TFO_ENABLED(tp)) flags &= ~TH_SYN", tcp_output.c), so the challenge ACK
    // is our SYN-ACK again, seq ISS.
    if (ch.limited(po.now(), limit)) {
      po.record(l, t, f, D::ignore, R::challenge_rate_limited_xnu);
      return;
    }
    po.send_synack(r);
    po.record(l, t, f, D::synack, R::rst_challenge_ack_xnu);
    return;
  }

  // (RFC 1323 PAWS comes next in tcp_input(); synq does not model it for the
  // BSD-family embryonic connection.)

  if (tcp::seq_lt(seq, r.irs)) {
    // passive-open.md §5: tcp_input.c, tcp_input(): "if (tp->t_state ==
    // TCPS_SYN_RECEIVED && SEQ_LT(th->th_seq, tp->irs))" → dropwithreset
    // (the LAND fix): a RST, the connection stays.
    po.send_reset_reply(t, seg);
    po.record(l, t, f, D::rst, R::seq_below_irs_xnu);
    return;
  }

  // The left trim: "todrop = tp->rcv_nxt - th->th_seq". Here seq >= IRS, so
  // only seq == IRS has old sequence space: the SYN bit (dropped with it)
  // and then one byte.
  bool syn = f & SYN;
  const bool fin = f & FIN;
  uint32_t len = static_cast<uint32_t>(seg.payload.size());
  uint32_t s = seq;
  bool ack_now = false;     // TF_ACKNOW: tcp_output() at the end sends the SYN-ACK
  bool challenged = false;  // ack_now came from a duplicate SYN (tcps_synchallenge)
  bool limited = false;     // ... which the rate limit stopped
  int32_t todrop = static_cast<int32_t>(rcv_nxt - s);
  if (todrop > 0) {
    const bool had_syn = syn;
    if (syn) {
      syn = false;
      ++s;
      --todrop;
    }
    if (todrop > static_cast<int32_t>(len) || (todrop == static_cast<int32_t>(len) && !fin)) {
      // Wholly old: "If the SYN bit was originally set, then only send an
      // ACK if we are not rate-limiting this connection" — a retransmitted
      // SYN is answered (tcps_synchallenge) at most challengeack_limit times
      // a second.
      if (!had_syn) {
        ack_now = true;
      } else if (!ch.limited(po.now(), limit)) {
        ack_now = challenged = true;
      } else {
        limited = true;
      }
      todrop = static_cast<int32_t>(len);
    }
    s += static_cast<uint32_t>(todrop);
    len -= static_cast<uint32_t>(todrop);
  }

  // The right trim: "todrop = (th->th_seq + tlen) - (tp->rcv_nxt +
  // tp->rcv_wnd)". (A zero-length segment exactly at the right edge is not
  // trimmed: it passes.)
  const int32_t over = static_cast<int32_t>((s + len) - (rcv_nxt + rcv_wnd));
  if (over > 0) {
    if (over >= static_cast<int32_t>(len) && !(rcv_wnd == 0 && s == rcv_nxt)) {
      // passive-open.md §5: nothing in the window → dropafterack: our
      // SYN-ACK again (tcp_output in SYN_RECEIVED), not rate-limited.
      po.send_synack(r);
      po.record(l, t, f, D::synack, R::out_of_window_bsd);
      return;
    }
    if (over >= static_cast<int32_t>(len)) ack_now = true;  // window 0, at rcv_nxt
    len -= std::min<uint32_t>(len, static_cast<uint32_t>(over));
  }

  if (syn) {
    // passive-open.md §5 (RFC 5961 §4.2): a SYN still here is in the window.
    // tcp_input.c, tcp_input(): "if (!tcp_syn_data_valid(tp, th, tlen))" —
    // never valid here (it needs th_seq == irs, which the trim above turned
    // into an old SYN) → tcps_badsyn; "if (tcp_is_ack_ratelimited(tp)) ...
    // goto drop;" else "tcpstat.tcps_synchallenge++; ... goto dropafterack;":
    // the SYN-ACK again, and the connection stays (4.4BSD reset it).
    if (ch.limited(po.now(), limit)) {
      po.record(l, t, f, D::ignore, R::challenge_rate_limited_xnu);
      return;
    }
    po.send_synack(r);
    po.record(l, t, f, D::synack, R::syn_challenge_ack_xnu);
    return;
  }

  if (!(f & ACK)) {
    // "if ((thflags & TH_ACK) == 0) { if (tp->t_state == TCPS_SYN_RECEIVED)
    // ... goto step6;": kept for later, but without TFO no data or FIN is
    // processed before ESTABLISHED (dodata: TCPS_HAVEESTABLISHED), so only
    // TF_ACKNOW from the trim makes tcp_output() answer.
    if (ack_now) {
      po.send_synack(r);
      po.record(l, t, f, D::synack, challenged ? R::duplicate_syn_xnu : R::out_of_window_bsd);
      return;
    }
    // passive-open.md §5: a retransmitted SYN over the challenge limit, or a
    // segment without ACK: nothing is sent.
    po.record(l, t, f, D::ignore, limited ? R::challenge_rate_limited_xnu : R::no_ack_to_request);
    return;
  }

  // The ACK of our SYN-ACK: "case TCPS_SYN_RECEIVED: ... tp->t_state =
  // TCPS_ESTABLISHED" (no further check; soisconnected moves it to so_comp).
  // An old segment (seq = IRS) completes too; the child's own input answers
  // its old part with an ACK, as xnu's TF_ACKNOW does.
  if (r.ts_ok && seg.h.options.has_timestamps) r.ts_recent = seg.h.options.ts_val;
  po.complete(l, req, seg);
}

}  // namespace synq::listen
