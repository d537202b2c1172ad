// The linux backlog model (spec §1, §2): a SYN queue of compact requests and
// an accept queue, with strict `>` full checks.
#pragma once

#include "listen/backlog_model.hpp"

namespace synq::listen {

struct Request;

class LinuxModel final : public BacklogModel {
 public:
  std::string_view name() const override { return "linux"; }
  int clamp_backlog(int backlog, const Sysctls& s) const override;
  void on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                           const wire::TcpSegment& seg) override;
  void on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                          const wire::TcpSegment& seg) override;
  void on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) override;

  /// inet_csk_reqsk_queue_is_full: `qlen > B`, or `qlen >= B` with syn_queue_check=legacy.
  static bool syn_queue_full(const QueueLengths& q, const Sysctls& s);
  /// sk_acceptq_is_full: `acc > B`, so B+1 children fit.
  static bool accept_queue_full(const QueueLengths& q) { return q.accept_queue > q.backlog; }

 private:
  void on_syn(PassiveOpener& po, Listener& l, const FourTuple& t, const wire::TcpSegment& seg);
  void on_third_ack(PassiveOpener& po, Listener& l, uint32_t req, const wire::TcpSegment& seg);
};

}  // namespace synq::listen
