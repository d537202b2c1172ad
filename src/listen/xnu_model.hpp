// The xnu backlog model (passive-open.md §1, §5): macOS keeps one count — embryonic plus
// completed connections (so_qlen) — and checks it when a SYN asks for a new
// socket. When it is full, tcp_dropdropablreq() evicts one embryonic
// connection to make room; only if none exists is the SYN dropped. The
// embryonic connection itself behaves as in BSD (BsdEmbryonic).
#pragma once

#include "listen/backlog_model.hpp"

namespace synq::listen {

class XnuModel final : public BacklogModel {
 public:
  std::string_view name() const override { return "xnu"; }
  int clamp_backlog(int backlog, const Sysctls& s) const override;
  void on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                           const wire::TcpSegment& seg,
                           std::optional<uint32_t> time_wait_isn) override;
  void on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                          const wire::TcpSegment& seg) override;
  void on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) override;

  /// sonewconn_internal with kern.ipc.soqlimitcompat = 1 (the default):
  /// refuse when so_qlen (embryonic + completed) >= so_qlimit.
  static bool full(const QueueLengths& q) { return q.syn_queue + q.accept_queue >= q.backlog; }
  /// The embryonic connection tcp_dropdropablreq() would pick: the oldest
  /// (the head of so_incomp), or kNoRequest when there is none.
  static uint32_t victim(const PassiveOpener& po, const Listener& l);
};

}  // namespace synq::listen
