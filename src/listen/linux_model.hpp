// The linux backlog model (spec §1, §2): two queues with strict `>` checks.
#pragma once

#include "listen/backlog_model.hpp"

namespace synq::listen {

class LinuxModel final : public BacklogModel {
 public:
  std::string_view name() const override { return "linux"; }
  int clamp_backlog(int backlog, const Sysctls& s) const override;
  SynAction on_syn(const QueueLengths& q, const Sysctls& s, Counters& c) const override;
  AckAction on_third_ack(const QueueLengths& q, const Sysctls& s, Counters& c) const override;

  /// inet_csk_reqsk_queue_is_full: `qlen > B`, or `qlen >= B` with syn_queue_check=legacy.
  static bool syn_queue_full(const QueueLengths& q, const Sysctls& s);
  /// sk_acceptq_is_full: `acc > B`, so B+1 children fit.
  static bool accept_queue_full(const QueueLengths& q) { return q.accept_queue > q.backlog; }
};

}  // namespace synq::listen
