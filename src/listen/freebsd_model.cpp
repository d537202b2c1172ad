#include "listen/freebsd_model.hpp"

#include "base/keyed_hash.hpp"

#include <algorithm>
#include <string>

#include "listen/listener.hpp"
#include "listen/passive_open.hpp"
#include "tcp/connection.hpp"
#include "tcp/seq.hpp"

namespace synq::listen {

using wire::tcp_flags::ACK;
using wire::tcp_flags::RST;
using wire::tcp_flags::SYN;
using D = ListenDecision;
using namespace std::chrono_literals;

namespace {

constexpr Duration kRexmitInitial = 1s;                    // tcp_rexmit_initial (TCPTV_RTOBASE)
constexpr Duration kRexmitSlop = 200ms;                    // tcp_rexmit_slop (TCPTV_CPU_VAR)
constexpr Duration kRexmitMin = 30ms;                      // tcp_rexmit_min (TCPTV_MIN)
constexpr Duration kRexmtMax = 64s;                        // TCPTV_REXMTMAX
constexpr Duration kOverInterval = 60s;                    // kern.ipc.sooverinterval
constexpr unsigned kBackoff[] = {1, 2, 4, 8, 16, 32, 64};  // tcp_backoff[], 64 beyond

}  // namespace

int FreeBsdModel::clamp_backlog(int backlog, const Sysctls& s) const {
  // spec §1: solisten_proto: backlog < 0 or > somaxconn (kern.ipc.soacceptqueue) → somaxconn.
  if (backlog < 0 || backlog > s.kern_ipc_soacceptqueue) return s.kern_ipc_soacceptqueue;
  return backlog;
}

Duration FreeBsdModel::rexmt_after(unsigned rxmits) {
  if (rxmits <= 1) return kRexmitInitial;
  const unsigned shift = kBackoff[std::min<unsigned>(rxmits - 1, std::size(kBackoff) - 1)];
  return std::clamp<Duration>(kRexmitInitial * shift + kRexmitSlop, kRexmitMin, kRexmtMax);
}

void FreeBsdModel::init(PassiveOpener& po) {
  if (cache_) return;
  cache_ = std::make_unique<FreeBsdSyncache>(
      po.sysctls(), derive_key(po.host().seed(), "synq-freebsd-syncache-bucket"));
  cookies_.emplace(derive_key(po.host().seed(), "synq-freebsd-syncookie"));
}

bool FreeBsdModel::cookies_only(const PassiveOpener& po) const {
  // syncache_cookiesonly: cookies on, and paused after an overflow or syncookies_only.
  const Sysctls& s = po.sysctls();
  return s.freebsd_syncookies && (cache_->paused(po.now()) || s.freebsd_syncookies_only);
}

FreeBsdCookieOptions FreeBsdModel::cookie_options(const Request& r) const {
  FreeBsdCookieOptions o;
  o.mss = r.peer_mss;
  o.wscale_ok = r.wscale_ok;
  o.wscale = r.snd_wscale;
  o.sack_ok = r.sack_ok;
  return o;
}

void FreeBsdModel::drop_entry(PassiveOpener& po, Listener& l, uint32_t req) {
  cache_->erase(cache_->bucket_of(po.requests().at(req).tuple), req);
  po.remove_request(l, req);
}

// ------------------------------------------------------------------ segments

void FreeBsdModel::on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                                       const wire::TcpSegment& seg) {
  init(po);
  const uint8_t f = seg.h.flags;
  // tcp_input, LISTEN, in FreeBSD's order.
  if ((f & (RST | ACK | SYN)) == ACK) {
    on_ack_without_entry(po, l, t, seg);
    return;
  }
  if (f & RST) {
    // syncache_chkrst without an entry: tcps_badrst, ignored.
    po.trace(l, t, f, D::ignore, "RST without a syncache entry");
    return;
  }
  if (!(f & SYN)) {
    po.trace(l, t, f, D::ignore, "segment without SYN to a listener");
    return;
  }
  if (f & ACK) {
    // SYN|ACK is bogus on a listen socket: tcps_badsyn, RST (seq = its ack).
    po.send_reset_reply(t, seg);
    po.trace(l, t, f, D::rst, "SYN|ACK to a listener: RST", Counter::Tcp_OutRsts);
    return;
  }
  on_syn(po, l, t, seg);  // net.inet.tcp.drop_synfin = 0: SYN|FIN is a SYN
}

void FreeBsdModel::send_cookie_only(PassiveOpener& po, Listener& l, const FourTuple& t,
                                    const wire::TcpSegment& seg, uint32_t bucket) {
  // No entry is kept: the SYN-ACK's ISS is the cookie (syncache_add with sc = &scs).
  Request r;
  po.negotiate(r, l, t, seg);
  r.iss = cookies_->generate(t, r.irs, cookie_options(r), bucket, po.now());
  po.send_synack(r);
  po.counters().inc(Counter::FreeBSD_sc_sendcookie);
  po.trace(l, t, seg.h.flags, D::cookie, "syncache paused or full: SYN cookie, nothing stored (§4)",
           Counter::FreeBSD_sc_sendcookie);
}

void FreeBsdModel::on_syn(PassiveOpener& po, Listener& l, const FourTuple& t,
                          const wire::TcpSegment& seg) {
  const Sysctls& s = po.sysctls();
  Counters& c = po.counters();
  const uint32_t b = cache_->bucket_of(t);
  const uint8_t f = seg.h.flags;
  if (cookies_only(po)) {
    send_cookie_only(po, l, t, seg, b);
    return;
  }
  if (cache_->size() >= cache_->cache_limit()) {
    // The zone is at net.inet.tcp.syncache.cachelimit: toss this bucket's
    // oldest entry (and pause) to make room.
    c.inc(Counter::FreeBSD_sc_zonefail);
    const uint32_t victim = cache_->oldest(b);
    if (victim == kNoRequest) {
      if (s.freebsd_syncookies) {
        send_cookie_only(po, l, t, seg, b);
      } else {
        // spec §4: cache full, this bucket empty, cookies off → the SYN is dropped.
        po.trace(l, t, f, D::drop, "syncache full, cookies off (§4)", Counter::FreeBSD_sc_zonefail);
      }
      return;
    }
    const FourTuple vt = po.requests().at(victim).tuple;
    cache_->set_last_overflow(b, po.now());
    drop_entry(po, l, victim);
    if (!s.freebsd_syncookies || cache_->pause(po.now())) c.inc(Counter::FreeBSD_sc_bucketoverflow);
    po.trace(l, vt, 0, D::drop, "syncache full: oldest entry of the bucket dropped (§4)",
             Counter::FreeBSD_sc_zonefail);
  } else if (cache_->bucket_length(b) >= cache_->bucket_limit()) {
    // syncache_insert: spec §4 bucket overflow drops its oldest entry and
    // (cookies on) pauses the syncache: cookies only for a while.
    const uint32_t victim = cache_->oldest(b);
    const FourTuple vt = po.requests().at(victim).tuple;
    if (!s.freebsd_syncookies || cache_->pause(po.now())) c.inc(Counter::FreeBSD_sc_bucketoverflow);
    cache_->set_last_overflow(b, po.now());
    drop_entry(po, l, victim);
    po.trace(l, vt, 0, D::drop, "bucket overflow: its oldest entry dropped (§4)",
             Counter::FreeBSD_sc_bucketoverflow);
  }
  Request proto;
  po.negotiate(proto, l, t, seg);
  uint32_t iss = proto.iss;
  if (s.freebsd_syncookies) {
    // With cookies on every entry's ISS is a cookie (syncookie_generate), so
    // an entry lost to an overflow can still complete.
    iss = cookies_->generate(t, proto.irs, cookie_options(proto), b, po.now());
    c.inc(Counter::FreeBSD_sc_sendcookie);
  }
  const uint32_t req = po.new_request_with_iss(l, t, seg, iss);
  cache_->insert(b, req);
  Request& r = po.requests().at(req);
  r.num_timeout = 1;  // sc_rxmits counts every SYN-ACK sent
  po.arm_timer(req, po.now() + rexmt_after(1));
  c.inc(Counter::FreeBSD_sc_added);
  po.trace(l, t, f, D::request, "syncache entry added, SYN-ACK sent (§4)",
           Counter::FreeBSD_sc_added);
}

void FreeBsdModel::on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                                      const wire::TcpSegment& seg) {
  init(po);
  Request& r = po.requests().at(req);
  const FourTuple t = r.tuple;
  const uint8_t f = seg.h.flags;
  Counters& c = po.counters();
  if (cookies_only(po)) {
    // Paused: syncache lookups are skipped, as if the entry were not there.
    on_listener_segment(po, l, t, seg);
    return;
  }
  if ((f & (RST | ACK | SYN)) == ACK) {
    // syncache_expand: the entry leaves the syncache before it is checked.
    const uint32_t iss = r.iss, irs = r.irs, wnd = r.window;
    if (r.ts_ok && seg.h.options.has_timestamps) r.ts_recent = seg.h.options.ts_val;
    if (seg.h.ack != iss + 1 || tcp::seq_le(seg.h.seq, irs) || tcp::seq_gt(seg.h.seq, irs + wnd)) {
      // ACK ≠ ISS+1 or SEQ outside the window: entry freed, RST (seq = its ack).
      drop_entry(po, l, req);
      po.send_reset_reply(t, seg);
      po.trace(l, t, f, D::rst, "ACK does not match the syncache entry: entry freed, RST",
               Counter::Tcp_OutRsts);
      return;
    }
    cache_->erase(cache_->bucket_of(t), req);
    if (!socket_allowed(po, l, t, seg)) {
      po.remove_request(l, req);
      return;
    }
    c.inc(Counter::FreeBSD_sc_completed);
    po.complete(l, req, seg);
    return;
  }
  if (f & RST) {
    // syncache_chkrst: an exact RST drops the entry; one elsewhere in the
    // window gets a challenge ACK; outside it is ignored.
    const uint32_t rcv_nxt = r.irs + 1;
    if (seg.h.seq == rcv_nxt) {
      c.inc(Counter::FreeBSD_sc_reset);
      drop_entry(po, l, req);
      po.trace(l, t, f, D::drop, "RST at IRS+1: syncache entry dropped", Counter::FreeBSD_sc_reset);
    } else if (tcp::seq_ge(seg.h.seq, rcv_nxt) && tcp::seq_lt(seg.h.seq, rcv_nxt + r.window)) {
      po.send_request_ack(r);
      po.trace(l, t, f, D::ack, "RST in window but not at IRS+1: challenge ACK");
    } else {
      po.trace(l, t, f, D::ignore, "RST out of window");
    }
    return;
  }
  if (!(f & SYN)) {
    po.trace(l, t, f, D::ignore, "segment without SYN to a syncache entry");
    return;
  }
  if (f & ACK) {
    // SYN|ACK: syncache_badack drops the entry; RST.
    c.inc(Counter::FreeBSD_sc_badack);
    drop_entry(po, l, req);
    po.send_reset_reply(t, seg);
    po.trace(l, t, f, D::rst, "SYN|ACK for a syncache entry: entry dropped, RST",
             Counter::FreeBSD_sc_badack);
    return;
  }
  // spec §4: a duplicate SYN (any ISN: FreeBSD does not compare) resends the
  // SYN-ACK and restarts the retransmission schedule.
  c.inc(Counter::FreeBSD_sc_dupsyn);
  if (r.ts_ok && seg.h.options.has_timestamps)
    r.ts_recent = seg.h.options.ts_val;
  else
    r.ts_ok = false;
  po.send_synack(r);
  r.num_timeout = 1;
  po.arm_timer(req, po.now() + rexmt_after(1));
  po.trace(l, t, f, D::synack, "duplicate SYN: SYN-ACK resent, timer reset (§4)",
           Counter::FreeBSD_sc_dupsyn);
}

void FreeBsdModel::on_ack_without_entry(PassiveOpener& po, Listener& l, const FourTuple& t,
                                        const wire::TcpSegment& seg) {
  const Sysctls& s = po.sysctls();
  const uint8_t f = seg.h.flags;
  const uint32_t b = cache_->bucket_of(t);
  // syncache_expand without an entry: a cookie is considered only with
  // cookies on and, unless cookies-only, a bucket overflow in the last 15 s.
  std::optional<FreeBsdCookieOptions> o;
  if (s.freebsd_syncookies &&
      (cookies_only(po) || cache_->last_overflow(b) >= po.now() - FreeBsdSyncookies::kLifetime))
    o = cookies_->check(t, seg.h.seq, seg.h.ack, b, po.now());
  if (!o) {
    po.send_reset_reply(t, seg);
    po.trace(l, t, f, D::rst, "ACK without a syncache entry or valid cookie: RST",
             Counter::Tcp_OutRsts);
    return;
  }
  po.counters().inc(Counter::FreeBSD_sc_recvcookie);
  if (!socket_allowed(po, l, t, seg)) return;
  if (auto stale = po.find_request(t)) drop_entry(po, l, *stale);  // paused: entry bypassed
  tcp::PassiveOpen p;
  p.iss = seg.h.ack - 1;
  p.irs = seg.h.seq - 1;
  p.peer_mss = o->mss;
  p.wscale_ok = o->wscale_ok && s.tcp_window_scaling;
  p.snd_wscale = p.wscale_ok ? o->wscale : 0;
  p.rcv_wscale = p.wscale_ok ? tcp::our_wscale(s) : 0;
  p.sack_ok = o->sack_ok && s.tcp_sack;
  p.ts_ok = s.tcp_timestamps && seg.h.options.has_timestamps;
  p.ts_recent = seg.h.options.ts_val;
  p.ts_offset = po.host().ts_offset(t);
  p.snd_wnd = static_cast<uint32_t>(seg.h.window) << p.snd_wscale;
  p.start_state = TcpState::established;
  po.counters().inc(Counter::FreeBSD_sc_completed);
  po.complete_without_request(l, t, p, seg);
}

bool FreeBsdModel::socket_allowed(PassiveOpener& po, Listener& l, const FourTuple& t,
                                  const wire::TcpSegment& ack) {
  const QueueLengths q = l.lengths();
  if (!over(q)) return true;
  // spec §4: sonewconn fails (sol_qlen > 3*sol_qlimit/2): tcps_listendrop,
  // sc_aborted, a rate-limited log line, then RST or silence.
  Counters& c = po.counters();
  c.inc(Counter::FreeBSD_listendrop);
  c.inc(Counter::FreeBSD_sc_aborted);
  ++overflow_count_;
  std::string line;
  const Time now = po.now();
  if (last_overflow_log_ == kNever || now - last_overflow_log_ >= kOverInterval) {
    line = "sonewconn: pcb (" + l.local().to_string() +
           " (proto 6)): Listen queue overflow: " + std::to_string(q.accept_queue) +
           " already in queue awaiting acceptance (" + std::to_string(overflow_count_) +
           " occurrences)";
    last_overflow_log_ = now;
    overflow_count_ = 0;
  }
  if (po.sysctls().freebsd_syncache_rst_on_sock_fail) {
    po.send_reset_reply(t, ack);
    po.trace_with_log(l, t, ack.h.flags, D::rst,
                      "completed queue over 3B/2: no socket, RST (rst_on_sock_fail=1, §4)",
                      Counter::FreeBSD_listendrop, line);
  } else {
    po.trace_with_log(l, t, ack.h.flags, D::drop,
                      "completed queue over 3B/2: no socket, ACK dropped (rst_on_sock_fail=0, §4)",
                      Counter::FreeBSD_listendrop, line);
  }
  return false;
}

// ------------------------------------------------------------------ timer

void FreeBsdModel::on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) {
  init(po);
  Request& r = po.requests().at(req);
  const FourTuple t = r.tuple;
  Counters& c = po.counters();
  if (po.sysctls().freebsd_syncookies && cache_->paused(po.now())) {
    // syncache_timer while paused: every entry of the bucket is dropped
    // (their ISSes are cookies, so the handshakes can still complete).
    drop_entry(po, l, req);
    po.trace(l, t, 0, D::expire, "syncache paused: entry dropped at its timer (§4)");
    return;
  }
  if (r.num_timeout > static_cast<unsigned>(po.sysctls().freebsd_syncache_rexmtlimit)) {
    // spec §4: retransmits exhausted (sc_rxmits > rexmtlimit): the entry goes, silently.
    c.inc(Counter::FreeBSD_sc_stale);
    drop_entry(po, l, req);
    po.trace(l, t, 0, D::expire, "SYN-ACK retransmits exhausted (§4)", Counter::FreeBSD_sc_stale);
    return;
  }
  po.send_synack(r);
  c.inc(Counter::FreeBSD_sc_retransmitted);
  c.inc(Counter::Tcp_RetransSegs);
  po.arm_timer(req, po.now() + rexmt_after(r.num_timeout + 1u));
  ++r.num_timeout;
  po.trace(l, t, 0, D::synack, "SYN-ACK retransmitted (§4)", Counter::FreeBSD_sc_retransmitted);
}

}  // namespace synq::listen
