#include "listen/linux_model.hpp"

#include <algorithm>

#include "listen/listener.hpp"
#include "listen/passive_open.hpp"
#include "tcp/seq.hpp"

namespace synq::listen {

using wire::tcp_flags::ACK;
using wire::tcp_flags::CWR;
using wire::tcp_flags::ECE;
using wire::tcp_flags::FIN;
using wire::tcp_flags::RST;
using wire::tcp_flags::SYN;
using D = ListenDecision;
using R = ListenReason;

int LinuxModel::clamp_backlog(int backlog, const Sysctls& s) const {
  // passive-open.md §1: the compare is unsigned, so a negative backlog becomes somaxconn.
  if (static_cast<unsigned>(backlog) > static_cast<unsigned>(s.somaxconn)) return s.somaxconn;
  return backlog;
}

bool LinuxModel::syn_queue_full(const QueueLengths& q, const Sysctls& s) {
  if (s.syn_queue_check == "legacy") return q.syn_queue >= q.backlog;
  return q.syn_queue > q.backlog;
}

int LinuxModel::pruned_retries(int retries, uint32_t qlen, uint32_t young, uint32_t backlog) {
  // reqsk_timer_handler: "we reserve half of room for young embrions; and
  // abort old ones without pity, if old ones are about to clog our table".
  // Only when more than half of max(8, B) is taken: one retry less for every
  // doubling of 2*young that qlen still reaches, but never below 2.
  if (uint64_t{qlen} * 2 <= std::max<uint64_t>(8, backlog)) return retries;
  uint64_t y = uint64_t{young} * 2;
  while (retries > 2 && qlen >= y) {
    --retries;
    y <<= 1;
  }
  return retries;
}

// ------------------------------------------------------------------ bookkeeping

void LinuxModel::on_request_removed(uint32_t, const Request& r) {
  // reqsk_queue_removed: a request that never timed out was young.
  if (r.num_timeout == 0 && young_ > 0) --young_;
}

const LinuxSyncookies& LinuxModel::cookies(PassiveOpener& po) {
  if (!cookies_) cookies_.emplace(po.host().seed());
  return *cookies_;
}

void LinuxModel::note_overflow(Time now) {
  // tcp_synq_overflow: the stamp moves only when it is more than a second
  // old (or in the future), so a flood does not rewrite it on every SYN.
  if (!last_overflow_ || now < *last_overflow_ || now > *last_overflow_ + std::chrono::seconds(1))
    last_overflow_ = now;
}

bool LinuxModel::recent_overflow(Time now) const {
  // tcp_synq_no_recent_overflow: time_after(now, last_overflow + TCP_SYNCOOKIE_VALID).
  return last_overflow_ && !(now > *last_overflow_ + LinuxSyncookies::kValid);
}

std::string_view LinuxModel::flood_log(const Listener& l, const Sysctls& s) {
  // tcp_syn_flood_action: once per listener, and never with tcp_syncookies = 2
  // (cookies are then the normal answer, not a sign of a flood). Linux ≥ 5.x
  // prints the listener's bound address and port.
  if (synflood_warned_ || s.tcp_syncookies == 2) return {};
  synflood_warned_ = true;
  log_line_ = "TCP: Possible SYN flooding on port " + l.local().to_string() +
              (s.tcp_syncookies ? ". Sending cookies." : ". Dropping request.");
  return log_line_;
}

// ------------------------------------------------------------------ segments to the listener

void LinuxModel::on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                                     const wire::TcpSegment& seg,
                                     std::optional<uint32_t> time_wait_isn) {
  const uint8_t f = seg.h.flags;
  if (f & ACK) {
    // tcp_v4_cookie_check: an ACK without SYN or RST may be a cookie's third ACK.
    if (!(f & (SYN | RST)) && on_cookie_ack(po, l, t, seg)) return;
    // passive-open.md §2 "Other segments": SYN|ACK or a stray ACK → RST seq = its ack
    // (send_reset_reply never answers a RST|ACK).
    if (!(f & RST)) {
      po.send_reset_reply(t, seg);
      po.record(l, t, f, D::rst, R::ack_to_listener);
    } else {
      po.record(l, t, f, D::drop, R::rst_to_listener);
    }
    return;
  }
  // passive-open.md §2 "Other segments": RST, SYN|RST, flagless, SYN|FIN → dropped.
  // Linux counts no MIB for these (tcp_rcv_state_process, TCP_LISTEN).
  if ((f & RST) || !(f & SYN) || (f & FIN)) {
    po.record(l, t, f, D::drop,
              (f & RST)   ? R::rst_to_listener
              : (f & SYN) ? R::syn_fin_to_listener
                          : R::no_syn_to_listener);
    return;
  }
  on_syn(po, l, t, seg, time_wait_isn);
}

void LinuxModel::on_syn(PassiveOpener& po, Listener& l, const FourTuple& t,
                        const wire::TcpSegment& seg, std::optional<uint32_t> tw_isn) {
  // Order of checks: passive-open.md §2 "On a SYN" (tcp_conn_request).
  const Sysctls& s = po.sysctls();
  Counters& c = po.counters();
  const QueueLengths q = l.lengths();
  const uint8_t f = seg.h.flags;
  bool want_cookie = false;
  std::string_view log;
  // A SYN that ended a TIME-WAIT comes with its ISN (tcp_conn_request's `isn`):
  // it skips the cookie decision and the tcp_max_syn_backlog rule.
  if ((s.tcp_syncookies == 2 || syn_queue_full(q, s)) && !tw_isn) {
    log = flood_log(l, s);
    if (s.tcp_syncookies != 0) {
      c.inc(Counter::TcpExt_TCPReqQFullDoCookies);
      want_cookie = true;
    } else {
      // passive-open.md §2 SYN step 1: SYN queue full, cookies off → drop.
      po.record(l, t, f, D::drop, R::syn_queue_full, log);
      return;
    }
  }
  if (accept_queue_full(q)) {
    // passive-open.md §2 SYN step 2: accept queue full → silent drop, cookies or not.
    po.record(l, t, f, D::drop, R::accept_queue_full, log);
    return;
  }
  if (!want_cookie && !tw_isn && s.tcp_syncookies == 0 &&
      s.tcp_max_syn_backlog - static_cast<int>(q.syn_queue) < (s.tcp_max_syn_backlog >> 2)) {
    // passive-open.md §2 SYN step 3: cookies off and under a quarter of tcp_max_syn_backlog
    // left → drop the unproven peer (synq keeps no peer metrics: none is proven).
    po.record(l, t, f, D::drop, R::syn_backlog_quarter_left);
    return;
  }
  if (want_cookie) {
    send_cookie(po, l, t, seg);
    po.record(l, t, f, D::cookie, R::cookie_sent, log);
    return;
  }
  // passive-open.md §2 SYN step 6: a request with a 1 s timer.
  const uint32_t req =
      tw_isn ? po.new_request_with_iss(l, t, seg, *tw_isn) : po.new_request(l, t, seg);
  ++young_;  // reqsk_queue_added (on_request_removed and the timer take it back)
  po.arm_timer(req, po.now() + synack_timeout(0));
  po.record(l, t, f, D::request, R::request_created);
}

void LinuxModel::send_cookie(PassiveOpener& po, Listener& l, const FourTuple& t,
                             const wire::TcpSegment& seg) {
  // passive-open.md §2 SYN step 5 (tcp_conn_request with want_cookie): negotiate as for a
  // request, encode what matters into the ISN and TSval, send, keep nothing.
  const Sysctls& s = po.sysctls();
  const Time now = po.now();
  Request r;  // a value on the stack: never enters the SYN queue, never retransmitted
  po.negotiate(r, l, t, seg);
  if (!r.ts_ok) {
    // Without timestamps the cookie has nowhere to keep window scaling and
    // SACK, so the SYN-ACK offers neither (tcp_clear_options).
    r.wscale_ok = false;
    r.snd_wscale = 0;
    r.sack_ok = false;
  }
  // The peer's MSS, clamped by TCP_MAXSEG like tcp_parse_options does.
  uint16_t mss = r.peer_mss;
  const uint16_t user_mss = po.host().listener_options(l.fd()).user_mss;
  if (user_mss && user_mss < mss) mss = user_mss;
  r.iss = cookies(po).encode(t, r.irs, LinuxSyncookies::minute_count(now),
                             LinuxSyncookies::mss_index(mss));
  if (r.ts_ok) {
    // cookie_init_timestamp: the options ride in our clock's low 6 bits; the
    // per-peer offset is added on top as for any TSval. send_synack sends
    // ts_clock(now, ts_offset), so shift the offset by what the encoding changed.
    LinuxSyncookies::TsOptions o;
    o.wscale_ok = r.wscale_ok;
    o.snd_wscale = r.snd_wscale;
    o.sack_ok = r.sack_ok;
    // tcp_ecn_create_request: the SYN asked for ECN (ECE|CWR) and tcp_ecn allows it.
    o.ecn_ok = (seg.h.flags & (ECE | CWR)) == (ECE | CWR) && s.tcp_ecn != 0;
    const uint32_t clock = tcp::ts_clock(now, 0);
    r.ts_offset += LinuxSyncookies::encode_ts(clock, o) - clock;
  }
  note_overflow(now);  // cookie_init_sequence → tcp_synq_overflow
  po.send_synack(r);
}

bool LinuxModel::on_cookie_ack(PassiveOpener& po, Listener& l, const FourTuple& t,
                               const wire::TcpSegment& seg) {
  const Sysctls& s = po.sysctls();
  Counters& c = po.counters();
  const uint8_t f = seg.h.flags;
  // cookie_v4_check: only with cookies on, and only if this listener sent a
  // cookie in the last 2 minutes; otherwise it is a stray ACK.
  if (s.tcp_syncookies == 0 || !recent_overflow(po.now())) return false;
  const uint32_t peer_isn = seg.h.seq - 1;
  const auto mss_index =
      cookies(po).decode(t, peer_isn, seg.h.ack - 1, LinuxSyncookies::minute_count(po.now()));
  if (!mss_index) {
    // passive-open.md §2 SYN cookies: bad or expired cookie → SyncookiesFailed, then RST (seq =
    // ack).
    po.send_reset_reply(t, seg);
    po.record(l, t, f, D::rst, R::cookie_bad);
    return true;
  }
  c.inc(Counter::TcpExt_SyncookiesRecv);

  // cookie_timestamp_decode: the SYN's options, from the echoed TSval.
  const wire::TcpOptions& o = seg.h.options;
  const uint32_t ts_offset = po.host().ts_offset(t);
  LinuxSyncookies::TsOptions ts{};
  bool options_ok = true;
  if (o.has_timestamps) {
    const uint32_t echoed = o.ts_ecr ? o.ts_ecr - ts_offset : 0;
    ts = LinuxSyncookies::decode_ts(echoed);
    options_ok =
        s.tcp_timestamps && (!ts.sack_ok || s.tcp_sack) && (!ts.wscale_ok || s.tcp_window_scaling);
  }
  if (!options_ok) {
    // Options the stack no longer allows (a sysctl changed since the SYN): the
    // listener answers it as a stray ACK (RST), SyncookiesRecv already counted.
    po.send_reset_reply(t, seg);
    po.record(l, t, f, D::rst, R::cookie_options_disabled);
    return true;
  }
  if (accept_queue_full(l.lengths())) {
    // passive-open.md §2 SYN cookies: good cookie, accept queue full → overflow counters
    // and a silent drop, whatever tcp_abort_on_overflow says (tcp_v4_syn_recv_sock).
    po.record(l, t, f, D::drop, R::accept_queue_full_cookie_ack);
    return true;
  }
  tcp::PassiveOpen p;
  p.iss = seg.h.ack - 1;
  p.irs = peer_isn;
  p.peer_mss = LinuxSyncookies::kMssTable[*mss_index];
  // Linux cookie_v4_check: the child's window is rounded to the table MSS
  // (measured: peer MSS 1300 with timestamps → window 65000, not 65160).
  p.window_mss = p.peer_mss;
  p.ts_ok = o.has_timestamps;
  p.ts_recent = o.has_timestamps ? o.ts_val : 0;
  p.ts_offset = ts_offset;
  p.wscale_ok = ts.wscale_ok;
  p.snd_wscale = ts.wscale_ok ? ts.snd_wscale : 0;
  p.rcv_wscale = ts.wscale_ok ? tcp::our_wscale(s) : 0;
  p.sack_ok = ts.sack_ok;
  p.snd_wnd = static_cast<uint32_t>(seg.h.window) << p.snd_wscale;
  po.complete_without_request(l, t, p, seg);
  return true;
}

// ------------------------------------------------------------------ the SYN-ACK timer

void LinuxModel::on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) {
  Request& r = po.requests().at(req);
  // passive-open.md §2 SYN-ACK timer: TCPTimeouts once per firing — each outcome below
  // lists it among its reason's counters.
  const QueueLengths q = l.lengths();
  const int retries = po.synack_retries(l);
  const int max_retries = pruned_retries(retries, q.syn_queue, young_, q.backlog);
  const int defer = po.host().listener_options(l.fd()).defer_accept;
  // syn_ack_recalc. With TCP_DEFER_ACCEPT an acked request (its bare ACK was
  // dropped) lives until the deferring period is over, and gets no SYN-ACK
  // until the last retransmission of that period: a last chance for data.
  bool expire = r.num_timeout >= max_retries;
  bool resend = true;
  if (defer) {
    expire = expire && (!r.acked || r.num_timeout >= defer);
    resend = !r.acked || r.num_timeout >= defer - 1;
  }
  if (expire) {
    // passive-open.md §2 SYN-ACK timer: after the last retry the request goes silently
    // (counted by the TCPTimeouts above); under pressure sooner (pruning).
    const FourTuple t = r.tuple;
    po.remove_request(l, req);
    po.record(l, t, 0, D::expire, max_retries < retries ? R::request_pruned : R::request_expired);
    return;
  }
  if (resend) po.send_synack(r);
  if (r.num_timeout++ == 0 && young_ > 0) --young_;  // no longer young
  po.arm_timer(req, po.now() + synack_timeout(r.num_timeout));
  po.record(l, r.tuple, 0, resend ? D::synack : D::ignore,
            resend ? R::synack_retransmitted : R::defer_accept_wait);
}

// ------------------------------------------------------------------ segments for a request

void LinuxModel::on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                                    const wire::TcpSegment& seg) {
  Request& r = po.requests().at(req);
  const Sysctls& s = po.sysctls();
  const uint8_t f = seg.h.flags;
  const Time now = po.now();
  const Duration rate_limit = std::chrono::milliseconds(s.tcp_invalid_ratelimit);
  const FourTuple t = r.tuple;

  if (seg.h.seq == r.irs && f == SYN) {
    // passive-open.md §2 third ACK: the same SYN again → SYN-ACK at once, rate limited.
    if (r.last_synack_resend != Time::min() && now - r.last_synack_resend < rate_limit) {
      po.record(l, t, f, D::drop, R::duplicate_syn_rate_limited);
      return;
    }
    r.last_synack_resend = now;
    po.send_synack(r);
    // The request's timer keeps its schedule (Linux's inet_rtx_syn_ack does
    // not touch it; measured: the SYN-ACK still comes at 1 s).
    po.record(l, t, f, D::synack, R::duplicate_syn);
    return;
  }

  if ((f & ACK) && seg.h.ack != r.iss + 1) {
    // passive-open.md §2 third ACK: ack ≠ ISN+1 → RST seq = ack; the request stays.
    po.send_reset_reply(t, seg);
    po.record(l, t, f, D::rst, R::wrong_ack);
    return;
  }

  const uint32_t rcv_nxt = r.irs + 1;
  if (!tcp::seq_touches_window(seg.h.seq, seg.h.seq + seg.seg_len(), rcv_nxt, rcv_nxt + r.window)) {
    // RFC 9293 §3.10.7.4: out of window → ACK (rate limited) and drop; a RST is ignored.
    if (f & RST) {
      po.record(l, t, f, D::ignore, R::rst_out_of_window);
      return;
    }
    if (r.last_synack_resend != Time::min() && now - r.last_synack_resend < rate_limit) {
      po.record(l, t, f, D::drop, R::out_of_window_rate_limited);
      return;
    }
    r.last_synack_resend = now;
    po.send_request_ack(r);
    po.record(l, t, f, D::ack, R::out_of_window);
    return;
  }

  if (f & (RST | SYN)) {
    // passive-open.md §2 third ACK: RST in window, or a SYN with a new ISN → the request
    // is removed (EmbryonicRsts, AttemptFails); a SYN is answered with RST|ACK.
    if (!(f & RST)) po.send_reset_reply(t, seg);
    po.remove_request(l, req);
    po.record(l, t, f, (f & RST) ? D::drop : D::rst,
              (f & RST) ? R::rst_in_window : R::syn_in_window);
    return;
  }
  if (!(f & ACK)) {
    // tcp_check_req: no ACK → silently dropped (no MIB in Linux).
    po.record(l, t, f, D::drop, R::no_ack_to_request);
    return;
  }
  on_third_ack(po, l, req, seg);
}

void LinuxModel::on_third_ack(PassiveOpener& po, Listener& l, uint32_t req,
                              const wire::TcpSegment& seg) {
  Request& r = po.requests().at(req);
  const Sysctls& s = po.sysctls();
  const FourTuple t = r.tuple;
  const uint8_t f = seg.h.flags;
  if (r.ts_ok && seg.h.options.has_timestamps) r.ts_recent = seg.h.options.ts_val;

  const int defer = po.host().listener_options(l.fd()).defer_accept;
  if (r.num_timeout < defer && seg.h.seq + seg.seg_len() == r.irs + 1) {
    // passive-open.md §2 TCP_DEFER_ACCEPT (tcp_check_req): a bare ACK while deferring is
    // dropped; the request remembers it was acked (syn_ack_recalc).
    r.acked = true;
    po.record(l, t, f, D::drop, R::defer_accept_drop);
    return;
  }

  if (accept_queue_full(l.lengths())) {
    // passive-open.md §2 third ACK: accept queue full → ListenOverflows + ListenDrops.
    if (!s.tcp_abort_on_overflow) {
      // abort_on_overflow = 0: drop the ACK, keep the request (acked); its
      // SYN-ACK timer goes on and a later ACK may complete it.
      r.acked = true;
      po.record(l, t, f, D::drop, R::third_ack_accept_queue_full);
      return;
    }
    // abort_on_overflow = 1: RST (R only, seq = the ACK's ack), request removed.
    po.send_reset_reply(t, seg);
    po.remove_request(l, req);
    po.record(l, t, f, D::rst, R::accept_queue_full_abort);
    return;
  }
  po.complete(l, req, seg);
}

}  // namespace synq::listen
