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
using R = ListenReason;
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
  // passive-open.md §1: solisten_proto: backlog < 0 or > somaxconn (kern.ipc.soacceptqueue) →
  // somaxconn.
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

void FreeBsdModel::on_request_removed(uint32_t req, const Request& r) {
  if (cache_) cache_->erase(cache_->bucket_of(r.tuple), req);
}

// ------------------------------------------------------------------ segments

void FreeBsdModel::on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                                       const wire::TcpSegment& seg, std::optional<uint32_t>) {
  // A SYN that ended a TIME-WAIT: FreeBSD's tcp_twcheck closes the old
  // connection and lets the SYN reach the listener as any other; the
  // syncache takes a fresh ISS (tcp_new_isn), so the verdict's ISN is unused.
  init(po);
  const uint8_t f = seg.h.flags;
  // tcp_input, LISTEN, in FreeBSD's order.
  if ((f & (RST | ACK | SYN)) == ACK) {
    on_ack_without_entry(po, l, t, seg);
    return;
  }
  if (f & RST) {
    // syncache_chkrst without an entry: tcps_badrst, ignored.
    po.record(l, t, f, D::ignore, R::rst_to_listener);
    return;
  }
  if (!(f & SYN)) {
    po.record(l, t, f, D::ignore, R::no_syn_to_listener);
    return;
  }
  if (f & ACK) {
    // SYN|ACK is bogus on a listen socket: tcps_badsyn, RST (seq = its ack).
    po.send_reset_reply(t, seg);
    po.record(l, t, f, D::rst, R::ack_to_listener);
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
  po.record(l, t, seg.h.flags, D::cookie, R::cookie_sent_freebsd);
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
    // oldest entry (and pause) to make room. sc_zonefail is counted by each
    // outcome: the two reasons below, or here before a cookie.
    const uint32_t victim = cache_->oldest(b);
    if (victim == kNoRequest) {
      if (s.freebsd_syncookies) {
        c.inc(Counter::FreeBSD_sc_zonefail);
        send_cookie_only(po, l, t, seg, b);
      } else {
        // passive-open.md §4: cache full, this bucket empty, cookies off → the SYN is dropped.
        po.record(l, t, f, D::drop, R::syn_queue_full_freebsd);
      }
      return;
    }
    const FourTuple vt = po.requests().at(victim).tuple;
    cache_->set_last_overflow(b, po.now());
    po.remove_request(l, victim);
    if (!s.freebsd_syncookies || cache_->pause(po.now())) c.inc(Counter::FreeBSD_sc_bucketoverflow);
    po.record(l, vt, 0, D::drop, R::evicted_syncache_full);
  } else if (cache_->bucket_length(b) >= cache_->bucket_limit()) {
    // syncache_insert: passive-open.md §4 bucket overflow drops its oldest entry and
    // (cookies on) pauses the syncache: cookies only for a while.
    const uint32_t victim = cache_->oldest(b);
    const FourTuple vt = po.requests().at(victim).tuple;
    // sc_bucketoverflow only when this overflow starts a pause (or cookies
    // are off), so it is counted here, not by the reason.
    if (!s.freebsd_syncookies || cache_->pause(po.now())) c.inc(Counter::FreeBSD_sc_bucketoverflow);
    cache_->set_last_overflow(b, po.now());
    po.remove_request(l, victim);
    po.record(l, vt, 0, D::drop, R::evicted_bucket_overflow);
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
  po.record(l, t, f, D::request, R::request_created_freebsd);
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
    on_listener_segment(po, l, t, seg, std::nullopt);
    return;
  }
  if ((f & (RST | ACK | SYN)) == ACK) {
    // syncache_expand: the entry leaves the syncache before it is checked.
    const uint32_t iss = r.iss, irs = r.irs, wnd = r.window;
    if (r.ts_ok && seg.h.options.has_timestamps) r.ts_recent = seg.h.options.ts_val;
    if (seg.h.ack != iss + 1 || tcp::seq_le(seg.h.seq, irs) || tcp::seq_gt(seg.h.seq, irs + wnd)) {
      // ACK ≠ ISS+1 or SEQ outside the window: entry freed, RST (seq = its ack).
      po.remove_request(l, req);
      po.send_reset_reply(t, seg);
      po.record(l, t, f, D::rst, R::wrong_ack_freebsd);
      return;
    }
    // The entry leaves the syncache before the socket is made (whether or
    // not it can be): on_request_removed takes it out of its bucket.
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
      po.remove_request(l, req);
      po.record(l, t, f, D::drop, R::rst_in_window_freebsd);
    } else if (tcp::seq_ge(seg.h.seq, rcv_nxt) && tcp::seq_lt(seg.h.seq, rcv_nxt + r.window)) {
      po.send_request_ack(r);
      po.record(l, t, f, D::ack, R::rst_challenge_ack);
    } else {
      po.record(l, t, f, D::ignore, R::rst_out_of_window);
    }
    return;
  }
  if (!(f & SYN)) {
    po.record(l, t, f, D::ignore, R::no_ack_to_request);
    return;
  }
  if (f & ACK) {
    // SYN|ACK: syncache_badack drops the entry; RST.
    po.remove_request(l, req);
    po.send_reset_reply(t, seg);
    po.record(l, t, f, D::rst, R::synack_to_request);
    return;
  }
  // passive-open.md §4: a duplicate SYN (any ISN: FreeBSD does not compare) resends the
  // SYN-ACK and restarts the retransmission schedule.
  if (r.ts_ok && seg.h.options.has_timestamps)
    r.ts_recent = seg.h.options.ts_val;
  else
    r.ts_ok = false;
  po.send_synack(r);
  r.num_timeout = 1;
  po.arm_timer(req, po.now() + rexmt_after(1));
  po.record(l, t, f, D::synack, R::duplicate_syn_freebsd);
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
    po.record(l, t, f, D::rst, R::ack_to_listener);
    return;
  }
  po.counters().inc(Counter::FreeBSD_sc_recvcookie);
  if (!socket_allowed(po, l, t, seg)) return;
  if (auto stale = po.find_request(t)) po.remove_request(l, *stale);  // paused: entry bypassed
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
  po.counters().inc(Counter::FreeBSD_sc_completed);
  po.complete_without_request(l, t, p, seg);
}

bool FreeBsdModel::socket_allowed(PassiveOpener& po, Listener& l, const FourTuple& t,
                                  const wire::TcpSegment& ack) {
  const QueueLengths q = l.lengths();
  if (!over(q)) return true;
  // passive-open.md §4: sonewconn fails (sol_qlen > 3*sol_qlimit/2): tcps_listendrop,
  // sc_aborted, a rate-limited log line, then RST or silence.
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
    // rst_on_sock_fail = 1: RST; 0: the ACK is dropped (the later ACK gets RST).
    po.send_reset_reply(t, ack);
    po.record(l, t, ack.h.flags, D::rst, R::accept_queue_full_freebsd, line);
  } else {
    po.record(l, t, ack.h.flags, D::drop, R::accept_queue_full_freebsd, line);
  }
  return false;
}

// ------------------------------------------------------------------ timer

void FreeBsdModel::on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) {
  init(po);
  Request& r = po.requests().at(req);
  const FourTuple t = r.tuple;
  if (po.sysctls().freebsd_syncookies && cache_->paused(po.now())) {
    // syncache_timer while paused: every entry of the bucket is dropped
    // (their ISSes are cookies, so the handshakes can still complete).
    po.remove_request(l, req);
    po.record(l, t, 0, D::expire, R::syncache_paused);
    return;
  }
  if (r.num_timeout > static_cast<unsigned>(po.sysctls().freebsd_syncache_rexmtlimit)) {
    // passive-open.md §4: retransmits exhausted (sc_rxmits > rexmtlimit): the entry goes, silently.
    po.remove_request(l, req);
    po.record(l, t, 0, D::expire, R::request_expired_freebsd);
    return;
  }
  po.send_synack(r);
  po.arm_timer(req, po.now() + rexmt_after(r.num_timeout + 1u));
  ++r.num_timeout;
  po.record(l, t, 0, D::synack, R::synack_retransmitted_freebsd);
}

}  // namespace synq::listen
