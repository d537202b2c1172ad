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

uint16_t FreeBsdModel::default_peer_mss(IpVersion v) const {
  // FreeBSD main tcp_subr.c tcp_newtcpcb(): "tp->t_maxseg = isipv6 ? V_tcp_v6mssdflt :
  // V_tcp_mssdflt;" (TCP6_MSS 1220, TCP_MSS 536), which tcp_input.c tcp_mss_update()
  // keeps for offer 0 (syncache_socket with sc_peer_mss 0: no MSS option).
  return v == IpVersion::v6 ? 1220 : 536;
}

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

FreeBsdCookieOptions FreeBsdModel::cookie_options(const Request& r, const wire::TcpSegment& syn) {
  FreeBsdCookieOptions o;
  // syncache_add: "if (to->to_flags & TOF_MSS) sc->sc_peer_mss = to->to_mss;"
  // — without the option sc_peer_mss stays 0, which syncookie_generate rounds
  // down to tcp_sc_msstab[0] = 216 (r.peer_mss is tcp_mss_update's 536 / 1220
  // default, default_peer_mss: the MSS an entry that completes gets).
  o.mss = syn.h.options.has_mss ? syn.h.options.mss : 0;
  o.wscale_ok = r.wscale_ok;
  o.wscale = r.snd_wscale;
  o.sack_ok = r.sack_ok;
  return o;
}

void FreeBsdModel::syncache_timeout(PassiveOpener& po, uint32_t b, uint32_t req, bool docallout) {
  // syncache_timeout: sc_rxttime = ticks + rexmt; sc_rxmits++; the bucket's
  // callout only ever moves earlier here.
  Request& r = po.requests().at(req);
  const Time rxttime = po.now() + rexmt_after(r.num_timeout + 1u);
  cache_->entry(b, req).rxttime = rxttime;
  ++r.num_timeout;
  if (rxttime < cache_->nextc(b)) {
    cache_->set_nextc(b, rxttime);
    if (docallout) arm_bucket(po, b);
    return;
  }
  if (docallout && r.deadline != cache_->nextc(b)) po.arm_timer(req, cache_->nextc(b));
}

void FreeBsdModel::arm_bucket(PassiveOpener& po, uint32_t b) {
  const Time at = cache_->nextc(b);
  for (const FreeBsdSyncache::Entry& e : cache_->entries(b))
    if (po.requests().at(e.req).deadline != at) po.arm_timer(e.req, at);
}

std::string FreeBsdModel::pause_syncache(PassiveOpener& po) {
  // syncache_pause: sc_bucketoverflow once per pause (every time with cookies
  // off, which cannot pause); a new pause logs (LOG_WARNING) "TCP syncache
  // overflow detected; using syncookies for the next %lld seconds%s%s%s". The
  // three %s are " (last SYN: ", tcp_log_addrs(), ")" — tcp_log_addrs returns
  // NULL unless net.inet.tcp.log_debug is set (default 0), so they are empty.
  const Time now = po.now();
  if (!po.sysctls().freebsd_syncookies) {
    po.counters().inc(Counter::FreeBSD_sc_bucketoverflow);
    return {};
  }
  if (!cache_->pause(now)) return {};
  po.counters().inc(Counter::FreeBSD_sc_bucketoverflow);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(cache_->pause_until() - now).count();
  return "TCP syncache overflow detected; using syncookies for the next " +
         std::to_string(seconds) + " seconds";
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
  r.iss = cookies_->generate(t, r.irs, cookie_options(r, seg), bucket, po.now());
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
    // syncache_add (zone allocation failed): sch_last_overflow, syncache_drop
    // of TAILQ_LAST, then syncache_pause(inc).
    const FourTuple vt = po.requests().at(victim).tuple;
    cache_->set_last_overflow(b, po.now());
    po.remove_request(l, victim);
    const std::string line = pause_syncache(po);
    po.record(l, vt, 0, D::drop, R::evicted_syncache_full, line);
  } else if (cache_->bucket_length(b) >= cache_->bucket_limit()) {
    // syncache_insert: passive-open.md §4 bucket overflow drops its oldest entry and
    // (cookies on) pauses the syncache: cookies only for a while.
    // syncache_insert: syncache_pause(&sc->sc_inc), then TAILQ_LAST dropped.
    const uint32_t victim = cache_->oldest(b);
    const FourTuple vt = po.requests().at(victim).tuple;
    // sc_bucketoverflow only when this overflow starts a pause (or cookies
    // are off), so pause_syncache counts it, not the reason.
    const std::string line = pause_syncache(po);
    cache_->set_last_overflow(b, po.now());
    po.remove_request(l, victim);
    po.record(l, vt, 0, D::drop, R::evicted_bucket_overflow, line);
  }
  Request proto;
  po.negotiate(proto, l, t, seg);
  uint32_t iss = proto.iss;
  if (s.freebsd_syncookies) {
    // With cookies on every entry's ISS is a cookie (syncookie_generate), so
    // an entry lost to an overflow can still complete.
    iss = cookies_->generate(t, proto.irs, cookie_options(proto, seg), b, po.now());
    c.inc(Counter::FreeBSD_sc_sendcookie);
  }
  const uint32_t req = po.new_request_with_iss(l, t, seg, iss);
  // syncache_insert: TAILQ_INSERT_HEAD; "if (sch->sch_length == 1)
  // sch->sch_nextc = ticks + INT_MAX;" then syncache_timeout(sc, sch, 1).
  cache_->insert(b, req);
  if (cache_->bucket_length(b) == 1) cache_->set_nextc(b, kNever);
  po.requests().at(req).num_timeout = 0;  // sc_rxmits counts every SYN-ACK sent
  syncache_timeout(po, b, req, true);
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
  r.num_timeout = 0;  // "sc->sc_rxmits = 0; syncache_timeout(sc, sch, 1);"
  syncache_timeout(po, cache_->bucket_of(t), req, true);
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
  // sys/kern/uipc_socket.c, solisten_clone(): "over = (head->sol_qlen > 3 *
  // head->sol_qlimit / 2);" and, at most once per kern.ipc.sooverinterval
  // (60 s) per listener (ratecheck(&head->sol_lastover, ...)), "sonewconn: pcb
  // %p (%s): Listen queue overflow: %i already in queue awaiting acceptance
  // (%d occurrences), euid %d, rgid %d, jail %s". synq has no pcb address and
  // no credentials: it prints what a root listener in the host (prison0, whose
  // pr_name is "0") shows — euid 0, rgid 0, jail 0.
  ++overflow_count_;
  std::string line;
  const Time now = po.now();
  if (last_overflow_log_ == kNever || now - last_overflow_log_ >= kOverInterval) {
    line = "sonewconn: pcb (" + l.local().to_string() +
           " (proto 6)): Listen queue overflow: " + std::to_string(q.accept_queue) +
           " already in queue awaiting acceptance (" + std::to_string(overflow_count_) +
           " occurrences), euid 0, rgid 0, jail 0";
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
  // syncache_timer: the bucket's callout fired (every entry of the bucket has
  // its timer at sch_nextc; req's fired first). The loop visits every entry,
  // newest first (TAILQ_FOREACH from the head).
  init(po);
  const uint32_t b = cache_->bucket_of(po.requests().at(req).tuple);
  const Time now = po.now();
  const unsigned limit = static_cast<unsigned>(po.sysctls().freebsd_syncache_rexmtlimit);
  cache_->set_nextc(b, kNever);  // "sch->sch_nextc = tick + INT_MAX;"
  const bool paused = cache_->paused(now);
  // Removing entry i only moves the newer ones, already visited.
  for (size_t i = cache_->bucket_length(b); i-- > 0;) {
    const FreeBsdSyncache::Entry e = cache_->entries(b)[i];
    Request& r = po.requests().at(e.req);
    const FourTuple t = r.tuple;
    if (paused) {
      // passive-open.md §4: paused, "if (paused) { syncache_drop(sc, sch); continue; }"
      // (tcp_syncache.c, syncache_timer) drops every entry of the bucket, due
      // or not, before the sc_rxttime test; nothing is counted. Their ISSes
      // are cookies, so the handshakes can still complete.
      po.remove_request(l, e.req);
      po.record(l, t, 0, D::expire, R::syncache_paused);
      continue;
    }
    if (e.rxttime > now) {  // "if (TSTMP_GT(sc->sc_rxttime, tick))": not due yet
      if (e.rxttime < cache_->nextc(b)) cache_->set_nextc(b, e.rxttime);
      continue;
    }
    if (r.num_timeout > limit) {
      // passive-open.md §4: retransmits exhausted, "if (sc->sc_rxmits >
      // V_tcp_syncache.rexmt_limit)" (tcp_syncache.c, syncache_timer): the
      // entry goes silently, tcps_sc_stale.
      po.remove_request(l, e.req);
      po.record(l, t, 0, D::expire, R::request_expired_freebsd);
      continue;
    }
    po.send_synack(r);
    syncache_timeout(po, b, e.req, false);
    po.record(l, t, 0, D::synack, R::synack_retransmitted_freebsd);
  }
  // "if (!TAILQ_EMPTY(&(sch)->sch_bucket)) callout_reset(..., sch_nextc - tick, ...)"
  if (cache_->bucket_length(b) > 0) arm_bucket(po, b);
}

}  // namespace synq::listen
