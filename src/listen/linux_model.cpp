#include "listen/linux_model.hpp"

#include "listen/listener.hpp"
#include "listen/passive_open.hpp"
#include "tcp/seq.hpp"

namespace synq::listen {

using wire::tcp_flags::ACK;
using wire::tcp_flags::FIN;
using wire::tcp_flags::RST;
using wire::tcp_flags::SYN;
using D = ListenDecision;

namespace {

// tcp_in_window: does [seq, end_seq) touch the window [s_win, e_win]?
bool in_window(uint32_t seq, uint32_t end_seq, uint32_t s_win, uint32_t e_win) {
  if (seq == s_win) return true;
  if (tcp::seq_gt(end_seq, s_win) && tcp::seq_lt(seq, e_win)) return true;
  return seq == e_win && seq == end_seq;
}

}  // namespace

int LinuxModel::clamp_backlog(int backlog, const Sysctls& s) const {
  // spec §1: the compare is unsigned, so a negative backlog becomes somaxconn.
  if (static_cast<unsigned>(backlog) > static_cast<unsigned>(s.somaxconn)) return s.somaxconn;
  return backlog;
}

bool LinuxModel::syn_queue_full(const QueueLengths& q, const Sysctls& s) {
  if (s.syn_queue_check == "legacy") return q.syn_queue >= q.backlog;
  return q.syn_queue > q.backlog;
}

void LinuxModel::on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                                     const wire::TcpSegment& seg) {
  const uint8_t f = seg.h.flags;
  if (f & ACK) {
    // spec §2 "Other segments": SYN|ACK or a stray ACK → RST seq = its ack
    // (send_reset_reply never answers a RST|ACK).
    if (!(f & RST)) {
      po.send_reset_reply(t, seg);
      po.trace(l, t, f, D::rst, "ACK for no request (§2 other segments)", Counter::Tcp_OutRsts);
    } else {
      po.trace(l, t, f, D::drop, "RST|ACK to a listener (§2 other segments)");
    }
    return;
  }
  // spec §2 "Other segments": RST, SYN|RST, flagless, SYN|FIN → dropped.
  // Linux counts no MIB for these (tcp_rcv_state_process, TCP_LISTEN).
  if ((f & RST) || !(f & SYN) || (f & FIN)) {
    po.trace(l, t, f, D::drop, "RST, SYN|FIN or flagless segment to a listener (§2)");
    return;
  }
  on_syn(po, l, t, seg);
}

void LinuxModel::on_syn(PassiveOpener& po, Listener& l, const FourTuple& t,
                        const wire::TcpSegment& seg) {
  // Order of checks: spec §2 "On a SYN" (tcp_conn_request).
  const Sysctls& s = po.sysctls();
  Counters& c = po.counters();
  const QueueLengths q = l.lengths();
  const uint8_t f = seg.h.flags;
  bool want_cookie = false;
  if (s.tcp_syncookies == 2 || syn_queue_full(q, s)) {
    if (s.tcp_syncookies != 0) {
      c.inc(Counter::TcpExt_TCPReqQFullDoCookies);
      want_cookie = true;
    } else {
      // spec §2 SYN step 1: SYN queue full, cookies off → drop.
      c.inc(Counter::TcpExt_TCPReqQFullDrop);
      c.inc(Counter::TcpExt_ListenDrops);
      po.trace(l, t, f, D::drop, "SYN queue full, cookies off (§2 SYN step 1)",
               Counter::TcpExt_TCPReqQFullDrop);
      return;
    }
  }
  if (accept_queue_full(q)) {
    // spec §2 SYN step 2: accept queue full → silent drop, cookies or not.
    c.inc(Counter::TcpExt_ListenOverflows);
    c.inc(Counter::TcpExt_ListenDrops);
    po.trace(l, t, f, D::drop, "accept queue full (§2 SYN step 2)",
             Counter::TcpExt_ListenOverflows);
    return;
  }
  if (!want_cookie && s.tcp_syncookies == 0 &&
      s.tcp_max_syn_backlog - static_cast<int>(q.syn_queue) < (s.tcp_max_syn_backlog >> 2)) {
    // spec §2 SYN step 3: cookies off and under a quarter of tcp_max_syn_backlog
    // left → drop the unproven peer (synq keeps no peer metrics: none is proven).
    c.inc(Counter::TcpExt_ListenDrops);
    po.trace(l, t, f, D::drop, "under a quarter of tcp_max_syn_backlog left (§2 SYN step 3)",
             Counter::TcpExt_ListenDrops);
    return;
  }
  if (want_cookie) {
    // TODO(issue 3): answer with a SYN cookie (spec §2 "SYN cookies"). Until
    // then the SYN is dropped; TCPReqQFullDoCookies was counted above.
    c.inc(Counter::TcpExt_ListenDrops);
    po.trace(l, t, f, D::drop, "cookie wanted, cookies not implemented yet",
             Counter::TcpExt_TCPReqQFullDoCookies);
    return;
  }
  // spec §2 SYN step 6: a request with a 1 s timer.
  const uint32_t req = po.new_request(l, t, seg);
  po.arm_timer(req, po.now() + synack_timeout(0));
  po.trace(l, t, f, D::request, "SYN queued, SYN-ACK sent (§2 SYN step 6)");
}

void LinuxModel::on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) {
  Request& r = po.requests().at(req);
  Counters& c = po.counters();
  c.inc(Counter::TcpExt_TCPTimeouts);  // spec §2 SYN-ACK timer: one per firing
  const int max_retries = po.synack_retries(l);
  // TODO(issue 3): pruning under pressure (spec §2: when 2*qlen > max(8, B),
  // old requests get fewer retries) and TCP_DEFER_ACCEPT's expiry rules.
  if (r.num_timeout >= max_retries) {
    // spec §2 SYN-ACK timer: after the last retry the request goes silently
    // (counted by the TCPTimeouts above).
    const FourTuple t = r.tuple;
    po.remove_request(l, req);
    po.trace(l, t, 0, D::expire, "SYN-ACK retries exhausted (§2 SYN-ACK timer)",
             Counter::TcpExt_TCPTimeouts);
    return;
  }
  po.send_synack(r);
  c.inc(Counter::TcpExt_TCPSynRetrans);
  c.inc(Counter::Tcp_RetransSegs);
  ++r.num_timeout;
  po.arm_timer(req, po.now() + synack_timeout(r.num_timeout));
  po.trace(l, r.tuple, 0, D::synack, "SYN-ACK timer: retransmission (§2 SYN-ACK timer)",
           Counter::TcpExt_TCPSynRetrans);
}

void LinuxModel::on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                                    const wire::TcpSegment& seg) {
  Request& r = po.requests().at(req);
  Counters& c = po.counters();
  const Sysctls& s = po.sysctls();
  const uint8_t f = seg.h.flags;
  const Time now = po.now();
  const Duration rate_limit = std::chrono::milliseconds(s.tcp_invalid_ratelimit);
  const FourTuple t = r.tuple;

  if (seg.h.seq == r.irs && f == SYN) {
    // spec §2 third ACK: the same SYN again → SYN-ACK at once, rate limited.
    if (r.last_synack_resend != Time::min() && now - r.last_synack_resend < rate_limit) {
      c.inc(Counter::TcpExt_TCPACKSkippedSynRecv);  // spec §2: duplicate SYN within 500 ms
      po.trace(l, t, f, D::drop, "duplicate SYN within 500 ms (§2 third ACK)",
               Counter::TcpExt_TCPACKSkippedSynRecv);
      return;
    }
    r.last_synack_resend = now;
    po.send_synack(r);
    c.inc(Counter::TcpExt_TCPSynRetrans);
    c.inc(Counter::Tcp_RetransSegs);
    po.arm_timer(req, now + synack_timeout(r.num_timeout));
    po.trace(l, t, f, D::synack, "duplicate SYN: SYN-ACK resent (§2 third ACK)",
             Counter::TcpExt_TCPSynRetrans);
    return;
  }

  if ((f & ACK) && seg.h.ack != r.iss + 1) {
    // spec §2 third ACK: ack ≠ ISN+1 → RST seq = ack; the request stays.
    po.send_reset_reply(t, seg);
    po.trace(l, t, f, D::rst, "ACK with a wrong ack number; request kept (§2 third ACK)",
             Counter::Tcp_OutRsts);
    return;
  }

  const uint32_t rcv_nxt = r.irs + 1;
  if (!in_window(seg.h.seq, seg.h.seq + seg.seg_len(), rcv_nxt, rcv_nxt + r.window)) {
    // RFC 9293 §3.10.7.4: out of window → ACK (rate limited) and drop; a RST is ignored.
    if (f & RST) {
      po.trace(l, t, f, D::ignore, "RST out of window (§2 third ACK)");
      return;
    }
    if (r.last_synack_resend != Time::min() && now - r.last_synack_resend < rate_limit) {
      c.inc(Counter::TcpExt_TCPACKSkippedSynRecv);
      po.trace(l, t, f, D::drop, "out-of-window segment, ACK rate limited",
               Counter::TcpExt_TCPACKSkippedSynRecv);
      return;
    }
    r.last_synack_resend = now;
    po.send_request_ack(r);
    po.trace(l, t, f, D::ack, "out-of-window segment answered with an ACK (RFC 9293 §3.10.7.4)");
    return;
  }

  if (f & (RST | SYN)) {
    // spec §2 third ACK: RST in window, or a SYN with a new ISN → the request
    // is removed (EmbryonicRsts, AttemptFails); a SYN is answered with RST|ACK.
    c.inc(Counter::Tcp_AttemptFails);
    if (!(f & RST)) po.send_reset_reply(t, seg);
    c.inc(Counter::TcpExt_EmbryonicRsts);
    po.remove_request(l, req);
    po.trace(l, t, f, (f & RST) ? D::drop : D::rst,
             (f & RST) ? "RST in window: request removed (§2 third ACK)"
                       : "SYN with a new ISN in window: RST|ACK, request removed (§2 third ACK)",
             Counter::TcpExt_EmbryonicRsts);
    return;
  }
  if (!(f & ACK)) {
    // tcp_check_req: no ACK → silently dropped (no MIB in Linux).
    po.trace(l, t, f, D::drop, "segment without ACK to a request");
    return;
  }
  on_third_ack(po, l, req, seg);
}

void LinuxModel::on_third_ack(PassiveOpener& po, Listener& l, uint32_t req,
                              const wire::TcpSegment& seg) {
  Request& r = po.requests().at(req);
  Counters& c = po.counters();
  const Sysctls& s = po.sysctls();
  const FourTuple t = r.tuple;
  const uint8_t f = seg.h.flags;
  // TODO(issue 3): TCP_DEFER_ACCEPT — a bare ACK while num_timeout <
  // defer_accept marks the request acked and is dropped (TCPDeferAcceptDrop).
  if (r.ts_ok && seg.h.options.has_timestamps) r.ts_recent = seg.h.options.ts_val;

  if (accept_queue_full(l.lengths())) {
    // spec §2 third ACK: accept queue full → ListenOverflows + ListenDrops.
    c.inc(Counter::TcpExt_ListenOverflows);
    c.inc(Counter::TcpExt_ListenDrops);
    if (!s.tcp_abort_on_overflow) {
      // abort_on_overflow = 0: drop the ACK, keep the request (acked); its
      // SYN-ACK timer goes on and a later ACK may complete it.
      r.acked = true;
      po.trace(l, t, f, D::drop, "accept queue full at the third ACK: ACK ignored (§2 third ACK)",
               Counter::TcpExt_ListenOverflows);
      return;
    }
    // abort_on_overflow = 1: RST (R only, seq = the ACK's ack), request removed.
    po.send_reset_reply(t, seg);
    c.inc(Counter::TcpExt_EmbryonicRsts);
    po.remove_request(l, req);
    po.trace(l, t, f, D::rst, "accept queue full, tcp_abort_on_overflow=1 (§2 third ACK)",
             Counter::TcpExt_ListenOverflows);
    return;
  }
  po.complete(l, req, seg);
}

}  // namespace synq::listen
