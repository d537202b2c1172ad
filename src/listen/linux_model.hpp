// The linux backlog model (passive-open.md §1, §2): a SYN queue of compact requests and
// an accept queue, with strict `>` full checks; SYN cookies when the SYN
// queue overflows (or always); pruning of old requests under pressure;
// TCP_DEFER_ACCEPT.
#pragma once

#include <optional>
#include <string>

#include "listen/backlog_model.hpp"
#include "listen/syncookies_linux.hpp"
#include "synq/time.hpp"

namespace synq::listen {

struct Request;

class LinuxModel final : public BacklogModel {
 public:
  std::string_view name() const override { return "linux"; }
  int clamp_backlog(int backlog, const Sysctls& s) const override;
  void on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                           const wire::TcpSegment& seg,
                           std::optional<uint32_t> time_wait_isn) override;
  void on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                          const wire::TcpSegment& seg) override;
  void on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) override;
  void on_request_removed(uint32_t req, const Request& r) override;

  /// inet_csk_reqsk_queue_is_full: `qlen > B`, or `qlen >= B` with syn_queue_check=legacy.
  static bool syn_queue_full(const QueueLengths& q, const Sysctls& s);
  /// sk_acceptq_is_full: `acc > B`, so B+1 children fit.
  static bool accept_queue_full(const QueueLengths& q) { return q.accept_queue > q.backlog; }
  /// reqsk_timer_handler's pruning (passive-open.md §2 "Pruning under pressure"): the
  /// retries a request may have when `young` of `qlen` requests never timed out.
  static int pruned_retries(int retries, uint32_t qlen, uint32_t young, uint32_t backlog);

  /// Requests of this listener whose timer never fired (Linux queue->young).
  uint32_t young() const { return young_; }

 private:
  void on_syn(PassiveOpener& po, Listener& l, const FourTuple& t, const wire::TcpSegment& seg,
              std::optional<uint32_t> tw_isn);
  void send_cookie(PassiveOpener& po, Listener& l, const FourTuple& t, const wire::TcpSegment& seg);
  /// A bare ACK (no SYN, no RST) that matched no request: a cookie? Returns
  /// false if the listener should treat it as a stray ACK (RST).
  bool on_cookie_ack(PassiveOpener& po, Listener& l, const FourTuple& t,
                     const wire::TcpSegment& seg);
  void on_third_ack(PassiveOpener& po, Listener& l, uint32_t req, const wire::TcpSegment& seg);
  /// tcp_syn_flood_action's one-time log line ("" after the first time).
  std::string_view flood_log(const Listener& l, const Sysctls& s);
  const LinuxSyncookies& cookies(PassiveOpener& po);
  /// tcp_synq_overflow: stamp the listener (at most once per second).
  void note_overflow(Time now);
  /// !tcp_synq_no_recent_overflow: a cookie went out in the last 2 minutes.
  bool recent_overflow(Time now) const;

  std::optional<LinuxSyncookies> cookies_;  // made on first use from the stack seed
  std::optional<Time> last_overflow_;       // when this listener last sent a cookie
  // Requests that never timed out: +1 when one is made (on_syn), -1 when its
  // timer first fires or when it goes (on_request_removed, which the opener
  // calls for every removal, completion included).
  uint32_t young_ = 0;
  bool synflood_warned_ = false;  // queue->synflood_warned: the log line is printed once
  std::string log_line_;          // storage for the trace event's log view
};

}  // namespace synq::listen
