#include "listen/xnu_model.hpp"

#include <chrono>

#include "listen/bsd44_model.hpp"
#include "listen/listener.hpp"
#include "listen/passive_open.hpp"
#include "listen/xnu_embryonic.hpp"

namespace synq::listen {

using wire::tcp_flags::ACK;
using wire::tcp_flags::RST;
using wire::tcp_flags::SYN;
using D = ListenDecision;
using R = ListenReason;

uint16_t XnuModel::default_peer_mss(IpVersion v) const {
  // xnu-11417.101.15 tcp_subr.c tcp_newtcpcb(): "tp->t_maxseg = tp->t_maxopd = isipv6 ?
  // tcp_v6mssdflt : tcp_mssdflt;" (TCP6_MSS 1024, TCP_MSS 512); tcp_input.c
  // tcp_finalize_options() calls tcp_mss() only "if (to->to_flags & TOF_MSS)".
  return v == IpVersion::v6 ? 1024 : 512;
}

int XnuModel::clamp_backlog(int backlog, const Sysctls& s) const {
  // passive-open.md §1: xnu solisten: backlog <= 0 or > somaxconn → somaxconn (128).
  if (backlog <= 0 || backlog > s.xnu_somaxconn) return s.xnu_somaxconn;
  return backlog;
}

uint64_t XnuModel::random_ulong(PassiveOpener& po, const Listener& l) {
  // xnu draws from the kernel's RNG; synq from splitmix64 over the stack's
  // seed and the listener's port, so a run repeats exactly per seed.
  if (!random_seeded_) {
    random_state_ = po.host().seed() ^ (uint64_t{l.local().port} << 32) ^ 0x786e7564726f70ULL;
    random_seeded_ = true;
  }
  random_state_ += 0x9e3779b97f4a7c15ULL;
  uint64_t z = random_state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint32_t XnuModel::dropdropablreq(PassiveOpener& po, const Listener& l) {
  // xnu-11417.101.15 bsd/netinet/tcp_input.c, tcp_dropdropablreq().
  // "if (TAILQ_EMPTY(&head->so_incomp)) return 0;"
  const uint32_t qlen = l.syn_queue_len();  // so_incqlen
  if (qlen == 0) return kNoRequest;
  // xnu first takes a socket on so_incomp that is "closed because of a
  // reset from the peer and is waiting to be garbage collected" (t_state
  // CLOSED, SS_CANTSENDMORE|SS_CANTRCVMORE): tcp_close() of an embryonic
  // socket (peer RST, the 75 s timer) leaves it queued, and counted in
  // so_qlen, until the inpcb GC frees it. synq frees a Request at once, so
  // such a zombie never holds a slot and never needs evicting; the SYN that
  // xnu would admit by evicting it is admitted here without an eviction
  // (and without the tcps_listendrop xnu counts on the way).
  //
  // The burst rule. "now_sec = net_uptime(); if ((i = (now_sec -
  // old_runtime)) != 0) { old_runtime = now_sec; old_cnt = cur_cnt / i;
  // cur_cnt = 0; }" — net_uptime() is whole seconds since boot; synq's
  // virtual clock starts at 0.
  const uint64_t now_sec =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(po.now()).count());
  if (const uint64_t i = now_sec - old_runtime_; i != 0) {
    old_runtime_ = now_sec;
    old_cnt_ = static_cast<uint32_t>(cur_cnt_ / i);
    cur_cnt_ = 0;
  }
  // "if (rnd == 0) rnd = RandomULong();" (truncated to 32 bits)
  if (rnd_ == 0) rnd_ = static_cast<uint32_t>(random_ulong(po, l));
  uint32_t j = 0;  // steps from the head of so_incomp (the oldest)
  // "if (++cur_cnt > qlen || old_cnt > qlen) { rnd = (314159 * rnd + 66329)
  // & 0xffff; j = ((qlen + 1) * rnd) >> 16; while (j-- && so) so =
  // TAILQ_NEXT(so, so_list); }"
  if (++cur_cnt_ > qlen || old_cnt_ > qlen) {
    rnd_ = (314159u * rnd_ + 66329u) & 0xffffu;
    j = ((qlen + 1) * rnd_) >> 16;
  }
  // j == qlen walks past the tail: "if (so == NULL) ... return 0". (xnu then
  // skips sockets another thread is using; synq has none.)
  if (j >= qlen) return kNoRequest;
  // so_incomp is oldest first (sonewconn_internal: TAILQ_INSERT_TAIL); the
  // listener's request list is newest first, so step j from the oldest is
  // step qlen - 1 - j from the newest.
  uint32_t v = l.first_request();
  for (uint32_t k = qlen - 1 - j; k > 0 && v != kNoRequest; --k) v = po.requests().at(v).next;
  return v;
}

void XnuModel::on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                                   const wire::TcpSegment& seg, std::optional<uint32_t>) {
  // A SYN that ended a TIME-WAIT: xnu's tcp_input (TIME_WAIT, SYN above
  // rcv_nxt) closes the old connection and takes a fresh ISN for the new
  // one, so the verdict's ISN is not used (synq's usual RFC 6528 ISN).
  const uint8_t f = seg.h.flags;
  // xnu's tcp_input asks sonewconn for a socket only for a SYN (RST, ACK and
  // SYN|ACK are handled first); everything else is BSD's LISTEN processing.
  const bool wants_socket = (f & SYN) && !(f & (ACK | RST));
  // tcp_input.c tcp_input(), LISTEN: "tp->t_timer[TCPT_KEEP] = OFFSET_FROM_START(tp,
  // TCP_CONN_KEEPINIT(tp));" — the listener's t_keepinit (TCP_CONNECTIONTIMEOUT, not
  // modelled) or else tcp_keepinit, the sysctl net.inet.tcp.keepinit (ms), read now.
  const Duration keep_init = std::chrono::milliseconds(po.sysctls().xnu_tcp_keepinit);
  if (!wants_socket || !full(l.lengths())) {
    BsdEmbryonic::listen_input(po, l, t, seg, false, keep_init);
    return;
  }
  // passive-open.md §5: full → tcps_listendrop (counted by either outcome's reason),
  // then evict one embryonic connection.
  const bool any_embryonic = l.syn_queue_len() != 0;
  const uint32_t evict = dropdropablreq(po, l);
  if (evict == kNoRequest) {
    // passive-open.md §5: tcp_input.c, tcp_input(): "if (tcp_dropdropablreq(so))
    // { ... sonewconn ... } if (!so2) { ... goto drop; }" — the SYN is dropped
    // silently. With no embryonic connection every connection in so_qlen is
    // a completed one (the accept queue is what is full); otherwise the
    // burst walk passed the tail of so_incomp.
    po.record(l, t, f, D::drop,
              any_embryonic ? R::listen_queue_full_xnu : R::accept_queue_full_xnu);
    return;
  }
  // The victim is closed silently (tcp_close: no RST); SYN-RCVD → CLOSED.
  const FourTuple vt = po.requests().at(evict).tuple;
  po.remove_request(l, evict);
  po.record(l, vt, 0, D::drop, R::evicted);
  BsdEmbryonic::open(po, l, t, seg, false, keep_init);
  po.record(l, t, f, D::request, R::request_created_xnu);
}

void XnuModel::on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                                  const wire::TcpSegment& seg) {
  // The per-connection challenge limit lives here, by request slot; a slot is
  // zeroed when its request leaves (on_request_removed). The vector grows
  // with the request pool, not per packet.
  if (req >= challenge_.size()) challenge_.resize(req + 1);
  XnuEmbryonic::on_segment(po, l, req, seg, challenge_[req]);
}

void XnuModel::on_request_removed(uint32_t req, const Request&) {
  if (req < challenge_.size()) challenge_[req] = {};
}

void XnuModel::on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) {
  BsdEmbryonic::on_timer(po, l, req);
}

}  // namespace synq::listen
