#include "listen/passive_open.hpp"

#include <algorithm>

#include "stack/dcheck.hpp"
#include "tcp/seq.hpp"

namespace synq::listen {

using wire::tcp_flags::ACK;
using wire::tcp_flags::FIN;
using wire::tcp_flags::RST;
using wire::tcp_flags::SYN;

Duration synack_timeout(unsigned n) {
  // TCP_TIMEOUT_INIT (1 s) doubled per firing, capped at TCP_RTO_MAX (120 s).
  if (n >= 7) return 120s;
  return std::min<Duration>(Duration(1s) * (1u << n), 120s);
}

namespace {

// tcp_in_window: does [seq, end_seq) touch the window [s_win, e_win]?
bool in_window(uint32_t seq, uint32_t end_seq, uint32_t s_win, uint32_t e_win) {
  if (seq == s_win) return true;
  if (tcp::seq_gt(end_seq, s_win) && tcp::seq_lt(seq, e_win)) return true;
  return seq == e_win && seq == end_seq;
}

// The window field of our SYN-ACK: never scaled (RFC 7323 §2.2). Linux
// tcp_openreq_init_rwin rounds it to the MSS less the timestamp option.
uint16_t synack_window(const Sysctls& s, uint16_t mss, bool ts_ok, int rcvbuf) {
  const uint16_t seg = static_cast<uint16_t>(mss - (ts_ok ? 12 : 0));
  return static_cast<uint16_t>(std::min<uint32_t>(tcp::initial_rcv_window(s, seg, rcvbuf), 65535));
}

}  // namespace

int PassiveOpener::synack_retries(const Listener& l) const {
  int n = host_.listener_options(l.fd()).synack_retries;
  return n > 0 ? n : host_.sysctls().tcp_synack_retries;
}

void PassiveOpener::on_listener_segment(Listener& l, const FourTuple& t,
                                        const wire::TcpSegment& seg) {
  const uint8_t f = seg.h.flags;
  if (f & ACK) {
    // spec §2 "Other segments": SYN|ACK or a stray ACK → RST seq = its ack
    // (send_reset_reply never answers a RST|ACK).
    host_.send_reset_reply(t, seg);
    return;
  }
  // spec §2 "Other segments": RST, SYN|RST, flagless, SYN|FIN → dropped.
  // Linux counts no MIB for these (tcp_rcv_state_process, TCP_LISTEN).
  if (f & RST) return;
  if (!(f & SYN)) return;
  if (f & FIN) return;

  switch (l.model().on_syn(l.lengths(), host_.sysctls(), host_.counters())) {
    case SynAction::request:
      new_request(l, t, seg);
      return;
    case SynAction::cookie:
      // TODO(issue 3): answer with a SYN cookie (spec §2 "SYN cookies"). Until
      // then the SYN is dropped; the model already counted TCPReqQFullDoCookies.
      host_.counters().inc(Counter::TcpExt_ListenDrops);
      return;
    case SynAction::drop:
      return;  // the model counted the reason (spec §2 SYN steps 1–4)
  }
}

void PassiveOpener::new_request(Listener& l, const FourTuple& t, const wire::TcpSegment& syn) {
  const Sysctls& s = host_.sysctls();
  const ListenerOptions lo = host_.listener_options(l.fd());
  uint32_t idx = requests_.create(t, l.fd());
  Request& r = requests_.at(idx);
  const wire::TcpOptions& o = syn.h.options;
  r.irs = syn.h.seq;
  r.iss = host_.isn(t);
  r.ts_offset = host_.ts_offset(t);
  r.peer_mss = o.has_mss ? o.mss : 536;
  r.wscale_ok = s.tcp_window_scaling && o.has_wscale;
  r.snd_wscale = r.wscale_ok ? std::min<uint8_t>(o.wscale, 14) : 0;
  r.sack_ok = s.tcp_sack && o.sack_permitted;
  r.ts_ok = s.tcp_timestamps && o.has_timestamps;
  r.ts_recent = o.ts_val;
  r.our_mss = host_.path_mss(t);
  if (lo.user_mss && lo.user_mss < r.our_mss) r.our_mss = lo.user_mss;
  r.window = synack_window(s, r.our_mss, r.ts_ok, lo.rcvbuf);
  l.syn_queue_add(requests_, idx);
  send_synack(r);
  arm_timer(idx, host_.now() + synack_timeout(0));
}

void PassiveOpener::send_synack(const Request& r) {
  const Sysctls& s = host_.sysctls();
  wire::TcpOptions peer{};
  peer.has_mss = true;
  peer.mss = r.peer_mss;
  peer.has_wscale = r.wscale_ok;
  peer.wscale = r.snd_wscale;
  peer.sack_permitted = r.sack_ok;
  peer.has_timestamps = r.ts_ok;
  peer.ts_val = r.ts_recent;
  wire::TcpHeader h;
  h.sport = r.tuple.local.port;
  h.dport = r.tuple.remote.port;
  h.seq = r.iss;
  h.ack = r.irs + 1;
  h.flags = SYN | ACK;
  h.window = r.window;
  h.options = tcp::make_syn_options(s, r.our_mss, r.wscale_ok ? tcp::our_wscale(s) : 0,
                                    tcp::ts_clock(host_.now(), r.ts_offset), &peer);
  host_.send_segment(r.tuple, h, {});
}

void PassiveOpener::arm_timer(uint32_t req, Time deadline) {
  Request& r = requests_.at(req);
  r.deadline = deadline;
  host_.request_timer_changed(req, r.generation, deadline);
}

void PassiveOpener::remove_request(Listener& l, uint32_t req) {
  l.syn_queue_remove(requests_, req);
  requests_.destroy(req);
}

void PassiveOpener::drop_all_requests(Listener& l) {
  // spec §2 "Closing a listener": requests vanish; their later ACKs find no
  // socket and get a RST.
  while (l.first_request() != kNoRequest) remove_request(l, l.first_request());
}

void PassiveOpener::on_request_timer(Listener& l, uint32_t req) {
  Request& r = requests_.at(req);
  Counters& c = host_.counters();
  c.inc(Counter::TcpExt_TCPTimeouts);  // spec §2 SYN-ACK timer: one per firing
  int max_retries = synack_retries(l);
  // TODO(issue 3): pruning under pressure (spec §2: when 2*qlen > max(8, B),
  // old requests get fewer retries) and TCP_DEFER_ACCEPT's expiry rules.
  if (r.num_timeout >= max_retries) {
    // spec §2 SYN-ACK timer: after the last retry the request goes silently
    // (counted by the TCPTimeouts above).
    remove_request(l, req);
    return;
  }
  send_synack(r);
  c.inc(Counter::TcpExt_TCPSynRetrans);
  c.inc(Counter::Tcp_RetransSegs);
  ++r.num_timeout;
  arm_timer(req, host_.now() + synack_timeout(r.num_timeout));
}

void PassiveOpener::on_request_segment(Listener& l, uint32_t req, const wire::TcpSegment& seg) {
  Request& r = requests_.at(req);
  Counters& c = host_.counters();
  const Sysctls& s = host_.sysctls();
  const uint8_t f = seg.h.flags;
  const Time now = host_.now();
  const Duration rate_limit = std::chrono::milliseconds(s.tcp_invalid_ratelimit);

  if (seg.h.seq == r.irs && f == SYN) {
    // spec §2 third ACK: the same SYN again → SYN-ACK at once, rate limited.
    if (r.last_synack_resend != Time::min() && now - r.last_synack_resend < rate_limit) {
      c.inc(Counter::TcpExt_TCPACKSkippedSynRecv);  // spec §2: duplicate SYN within 500 ms
      return;
    }
    r.last_synack_resend = now;
    send_synack(r);
    c.inc(Counter::TcpExt_TCPSynRetrans);
    c.inc(Counter::Tcp_RetransSegs);
    arm_timer(req, now + synack_timeout(r.num_timeout));
    return;
  }

  if ((f & ACK) && seg.h.ack != r.iss + 1) {
    // spec §2 third ACK: ack ≠ ISN+1 → RST seq = ack; the request stays.
    host_.send_reset_reply(r.tuple, seg);
    return;
  }

  const uint32_t rcv_nxt = r.irs + 1;
  const uint32_t win = r.window;
  if (!in_window(seg.h.seq, seg.h.seq + seg.seg_len(), rcv_nxt, rcv_nxt + win)) {
    // RFC 9293 §3.10.7.4: out of window → ACK (rate limited) and drop; a RST is ignored.
    if (f & RST) return;
    if (r.last_synack_resend != Time::min() && now - r.last_synack_resend < rate_limit) {
      c.inc(Counter::TcpExt_TCPACKSkippedSynRecv);
      return;
    }
    r.last_synack_resend = now;
    wire::TcpHeader h;
    h.sport = r.tuple.local.port;
    h.dport = r.tuple.remote.port;
    h.seq = r.iss + 1;
    h.ack = rcv_nxt;
    h.flags = ACK;
    h.window = win;
    if (r.ts_ok) {
      h.options.has_timestamps = true;
      h.options.ts_val = tcp::ts_clock(now, r.ts_offset);
      h.options.ts_ecr = r.ts_recent;
    }
    host_.send_segment(r.tuple, h, {});
    return;
  }

  if (f & (RST | SYN)) {
    // spec §2 third ACK: RST in window, or a SYN with a new ISN → the request
    // is removed (EmbryonicRsts, AttemptFails); a SYN is answered with RST|ACK.
    c.inc(Counter::Tcp_AttemptFails);
    if (!(f & RST)) host_.send_reset_reply(r.tuple, seg);
    c.inc(Counter::TcpExt_EmbryonicRsts);
    remove_request(l, req);
    return;
  }
  if (!(f & ACK)) return;  // tcp_check_req: no ACK → silently dropped (no MIB in Linux)

  // TODO(issue 3): TCP_DEFER_ACCEPT — a bare ACK while num_timeout <
  // defer_accept marks the request acked and is dropped (TCPDeferAcceptDrop).

  if (r.ts_ok && seg.h.options.has_timestamps) r.ts_recent = seg.h.options.ts_val;

  switch (l.model().on_third_ack(l.lengths(), s, c)) {
    case AckAction::drop:
      // spec §2 third ACK, accept queue full, abort_on_overflow = 0: the ACK is
      // dropped (ListenOverflows/ListenDrops counted by the model), request kept.
      r.acked = true;
      return;
    case AckAction::rst:
      // spec §2 third ACK, accept queue full, abort_on_overflow = 1: RST (R
      // only, seq = the ACK's ack), request removed.
      host_.send_reset_reply(r.tuple, seg);
      c.inc(Counter::TcpExt_EmbryonicRsts);
      remove_request(l, req);
      return;
    case AckAction::complete:
      complete(l, req, seg);
      return;
  }
}

void PassiveOpener::complete(Listener& l, uint32_t req, const wire::TcpSegment& ack) {
  const Sysctls& s = host_.sysctls();
  const Request& r = requests_.at(req);
  tcp::PassiveOpen p;
  p.iss = r.iss;
  p.irs = r.irs;
  p.peer_mss = r.peer_mss;
  p.wscale_ok = r.wscale_ok;
  p.snd_wscale = r.wscale_ok ? r.snd_wscale : 0;
  p.rcv_wscale = r.wscale_ok ? tcp::our_wscale(s) : 0;
  p.sack_ok = r.sack_ok;
  p.ts_ok = r.ts_ok;
  p.ts_recent = r.ts_recent;
  p.ts_offset = r.ts_offset;
  p.snd_wnd = static_cast<uint32_t>(ack.h.window) << p.snd_wscale;
  p.start_state = TcpState::established;
  const FourTuple t = r.tuple;
  remove_request(l, req);
  uint32_t child = host_.create_child(l, t, p);
  host_.counters().inc(Counter::Tcp_PassiveOpens);
  // The ACK may carry data (or a FIN): the child processes it as its first segment.
  host_.deliver_to_child(child, ack);
}

}  // namespace synq::listen
