// The xnu backlog model (passive-open.md §1, §5): macOS keeps one count — embryonic plus
// completed connections (so_qlen) — and checks it when a SYN asks for a new
// socket. When it is full, tcp_dropdropablreq() evicts one embryonic
// connection to make room: the oldest, or under a burst one at a
// pseudo-random place or none, and then the SYN is dropped. The embryonic
// connection keeps BSD's timers (BsdEmbryonic) and has xnu's own input
// (XnuEmbryonic).
#pragma once

#include <cstdint>
#include <vector>

#include "listen/backlog_model.hpp"
#include "listen/bsd44_model.hpp"
#include "listen/xnu_embryonic.hpp"

namespace synq::listen {

class XnuModel final : public BacklogModel {
 public:
  std::string_view name() const override { return "xnu"; }
  int clamp_backlog(int backlog, const Sysctls& s) const override;
  uint16_t default_peer_mss(IpVersion v) const override;
  void on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                           const wire::TcpSegment& seg,
                           std::optional<uint32_t> time_wait_isn) override;
  void on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                          const wire::TcpSegment& seg) override;
  void on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) override;
  void on_request_removed(uint32_t req, const Request& r) override;
  /// soclose_locked(): every so_incomp socket is soaborted (tcp_drop: RST|ACK),
  /// oldest first, before so_comp — as 4.4BSD (BsdEmbryonic::abort_all). The
  /// SOF_OVERFLOW ones it skips are those tcp_dropdropablreq took, which synq
  /// has already removed.
  void on_listener_close(PassiveOpener& po, Listener& l) override {
    BsdEmbryonic::abort_all(po, l);
  }

  /// sonewconn_internal with kern.ipc.soqlimitcompat = 1 (the default):
  /// refuse when so_qlen (embryonic + completed) >= so_qlimit.
  static bool full(const QueueLengths& q) { return q.syn_queue + q.accept_queue >= q.backlog; }
  /// tcp_dropdropablreq(): the embryonic connection to close for a new SYN,
  /// or kNoRequest (none, or the burst walk passed the tail: the SYN is
  /// dropped). Advances the burst state below.
  uint32_t dropdropablreq(PassiveOpener& po, const Listener& l);

 private:
  /// RandomULong(), from the stack's seed and the listener's port.
  uint64_t random_ulong(PassiveOpener& po, const Listener& l);

  // tcp_dropdropablreq()'s function statics (one set per listener in synq).
  uint32_t rnd_ = 0;          // "static uint32_t rnd"
  uint64_t old_runtime_ = 0;  // "static uint64_t old_runtime" (net_uptime(), s)
  uint32_t cur_cnt_ = 0;      // calls in the current second
  uint32_t old_cnt_ = 0;      // calls per second over the last elapsed stretch
  uint64_t random_state_ = 0;
  bool random_seeded_ = false;
  // Each embryonic connection's challenge-ACK limit, by request slot.
  std::vector<XnuChallengeLimit> challenge_;
};

}  // namespace synq::listen
