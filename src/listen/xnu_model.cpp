#include "listen/xnu_model.hpp"

#include "listen/bsd44_model.hpp"
#include "listen/listener.hpp"
#include "listen/passive_open.hpp"

namespace synq::listen {

using wire::tcp_flags::ACK;
using wire::tcp_flags::RST;
using wire::tcp_flags::SYN;
using D = ListenDecision;
using R = ListenReason;

int XnuModel::clamp_backlog(int backlog, const Sysctls& s) const {
  // passive-open.md §1: xnu solisten: backlog <= 0 or > somaxconn → somaxconn (128).
  if (backlog <= 0 || backlog > s.xnu_somaxconn) return s.xnu_somaxconn;
  return backlog;
}

uint32_t XnuModel::victim(const PassiveOpener& po, const Listener& l) {
  // The listener's request list is newest first; so_incomp is oldest first and
  // tcp_dropdropablreq starts at its head. (Under a sustained flood — more
  // evictions per second than so_incqlen — xnu jumps a pseudo-random distance
  // into the queue; synq always takes the oldest, so runs stay deterministic.)
  uint32_t oldest = kNoRequest;
  for (uint32_t i = l.first_request(); i != kNoRequest; i = po.requests().at(i).next) oldest = i;
  return oldest;
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
  if (!wants_socket || !full(l.lengths())) {
    BsdEmbryonic::listen_input(po, l, t, seg);
    return;
  }
  // passive-open.md §5: full → tcps_listendrop (counted by either outcome's reason),
  // then evict one embryonic connection.
  const uint32_t evict = victim(po, l);
  if (evict == kNoRequest) {
    // passive-open.md §5: no embryonic connection to evict → the SYN is dropped
    // silently. Every connection in so_qlen is then a completed one: the
    // accept queue is what is full.
    po.record(l, t, f, D::drop, R::accept_queue_full_xnu);
    return;
  }
  // The victim is closed silently (tcp_close: no RST); SYN-RCVD → CLOSED.
  const FourTuple vt = po.requests().at(evict).tuple;
  po.remove_request(l, evict);
  po.record(l, vt, 0, D::drop, R::evicted);
  BsdEmbryonic::open(po, l, t, seg);
  po.record(l, t, f, D::request, R::request_created_xnu);
}

void XnuModel::on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                                  const wire::TcpSegment& seg) {
  BsdEmbryonic::on_segment(po, l, req, seg);
}

void XnuModel::on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) {
  BsdEmbryonic::on_timer(po, l, req);
}

}  // namespace synq::listen
