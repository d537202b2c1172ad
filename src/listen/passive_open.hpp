// The passive open's shared mechanics: half-open requests and their timers,
// SYN-ACKs, completion into the accept queue, resets, the decision trace.
// Segments and timers are dispatched to the listener's BacklogModel, which
// decides using this toolkit. Runs inside a Stack, reached via ListenerHost.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "listen/listener.hpp"
#include "listen/request.hpp"
#include "synq/counters.hpp"
#include "synq/sysctl.hpp"
#include "synq/time.hpp"
#include "synq/trace.hpp"
#include "tcp/connection.hpp"
#include "wire/tcp_header.hpp"

namespace synq::listen {

/// Per-listener socket options that shape requests and children.
struct ListenerOptions {
  int synack_retries = -1;   // TCP_SYNCNT on the listener (-1: tcp_synack_retries)
  uint16_t user_mss = 0;     // TCP_MAXSEG
  int rcvbuf = 0;            // SO_RCVBUF as stored (0: tcp_rmem[1])
  uint8_t defer_accept = 0;  // TCP_DEFER_ACCEPT in retransmissions (issue 3)
};

class ListenerHost {
 public:
  virtual ~ListenerHost() = default;
  virtual Time now() const = 0;
  virtual Counters& counters() = 0;
  virtual const Sysctls& sysctls() const = 0;
  virtual void send_segment(const FourTuple& t, const wire::TcpHeader& h,
                            std::span<const uint8_t> payload) = 0;
  /// RFC 9293 §3.10.7.1 reset in reply to `seg` received on tuple `t`.
  virtual void send_reset_reply(const FourTuple& t, const wire::TcpSegment& seg) = 0;
  virtual uint32_t isn(const FourTuple& t) = 0;
  /// StackConfig::seed: models derive their own secrets from it (SYN cookie keys).
  virtual uint64_t seed() const = 0;
  virtual uint32_t ts_offset(const FourTuple& t) = 0;
  virtual ListenerOptions listener_options(int listener_fd) const = 0;
  /// Our MSS for a peer address (from the link MTU, before TCP_MAXSEG).
  virtual uint16_t path_mss(const FourTuple& t) const = 0;
  /// The request's SYN-ACK timer is now `deadline`.
  virtual void request_timer_changed(uint32_t req, uint32_t generation, Time deadline) = 0;
  /// Creates an established child on `t` from `p` and appends it to l's
  /// accept queue (through Listener::accept_queue_push). Returns its slot.
  virtual uint32_t create_child(Listener& l, const FourTuple& t, const tcp::PassiveOpen& p) = 0;
  /// Feeds a segment to a child connection.
  virtual void deliver_to_child(uint32_t child, const wire::TcpSegment& seg) = 0;
  /// The decision trace: tracing() is false when nobody listens (skip the work).
  virtual bool tracing() const = 0;
  virtual void trace(const ListenEvent& e) = 0;
};

class PassiveOpener {
 public:
  explicit PassiveOpener(ListenerHost& host) : host_(host) {}

  // ---- dispatch (from the Stack) to the listener's BacklogModel
  /// A segment for `t` that matched no connection and no request, to listener l.
  /// `time_wait_isn`: the segment is a SYN that ended a TIME-WAIT on `t`
  /// (Linux TCP_TW_SYN) and this is the ISN that connection's verdict asks
  /// for (tcp::Connection::time_wait_syn_isn); the model decides its use.
  void on_listener_segment(Listener& l, const FourTuple& t, const wire::TcpSegment& seg,
                           std::optional<uint32_t> time_wait_isn = std::nullopt);
  /// A segment that matched request `req` of listener l.
  void on_request_segment(Listener& l, uint32_t req, const wire::TcpSegment& seg);
  /// The request's timer fired.
  void on_request_timer(Listener& l, uint32_t req);
  /// The listener closes: its model decides what its requests do
  /// (BacklogModel::on_listener_close). Call before aborting its children.
  void close_listener(Listener& l);
  /// Removes every request of l silently (the default on_listener_close).
  void drop_all_requests(Listener& l);

  std::optional<uint32_t> find_request(const FourTuple& t) const { return requests_.find(t); }
  const RequestTable& requests() const { return requests_; }
  RequestTable& requests() { return requests_; }

  // ---- the toolkit models use
  ListenerHost& host() { return host_; }
  Counters& counters() { return host_.counters(); }
  const Sysctls& sysctls() const { return host_.sysctls(); }
  Time now() const { return host_.now(); }
  /// Creates a request from a SYN (options negotiated per sysctls), adds it to
  /// l's SYN queue and sends the SYN-ACK. Does not arm its timer.
  uint32_t new_request(Listener& l, const FourTuple& t, const wire::TcpSegment& syn);
  /// As new_request, but our ISN is `iss` (e.g. a FreeBSD syncache entry whose
  /// ISS is a SYN cookie). Sends the SYN-ACK; does not arm the timer.
  uint32_t new_request_with_iss(Listener& l, const FourTuple& t, const wire::TcpSegment& syn,
                                uint32_t iss);
  /// Fills `r` from a SYN exactly as new_request does (options negotiated per
  /// sysctls, ISN from the host) without storing it or sending anything: the
  /// SYN-ACK of a stateless (cookie) answer is send_synack(r) on such a value.
  void negotiate(Request& r, const Listener& l, const FourTuple& t, const wire::TcpSegment& syn);
  void send_synack(const Request& r);
  /// Removes the request from l's SYN queue and frees it, telling l's model
  /// first (BacklogModel::on_request_removed). complete() goes through here too.
  void remove_request(Listener& l, uint32_t req);
  void arm_timer(uint32_t req, Time deadline);
  /// Turns request `req` into an established child at the tail of l's accept
  /// queue (PassiveOpens) and feeds it `ack` (which may carry data).
  void complete(Listener& l, uint32_t req, const wire::TcpSegment& ack);
  /// Completes a connection that has no request (a validated SYN cookie).
  void complete_without_request(Listener& l, const FourTuple& t, const tcp::PassiveOpen& p,
                                const wire::TcpSegment& ack);
  /// RFC 9293 §3.10.7.1 reset in reply to `seg` (never to a RST).
  void send_reset_reply(const FourTuple& t, const wire::TcpSegment& seg) {
    host_.send_reset_reply(t, seg);
  }
  /// A bare ACK for request r (out-of-window answer, RFC 9293 §3.10.7.4).
  void send_request_ack(const Request& r);
  /// The RST|ACK a BSD kernel's tcp_drop() sends for request r when it gives
  /// up on it (<SEQ=ISS+1><ACK=IRS+1><CTL=RST,ACK>, no options); counts
  /// Tcp_OutRsts, since the host counts only the RSTs it builds itself.
  void send_request_reset(const Request& r);
  /// The listener's SYN-ACK retries: TCP_SYNCNT if set, else tcp_synack_retries.
  int synack_retries(const Listener& l) const;
  /// Records one decision: increments the reason's counters (always) and
  /// traces it (only when somebody listens). `kernel_log` is the line the
  /// kernel printed for it, if any (ListenEvent::log).
  void record(const Listener& l, const FourTuple& t, uint8_t tcp_flags, ListenDecision d,
              ListenReason r, std::string_view kernel_log = {});

 private:
  ListenerHost& host_;
  RequestTable requests_;
};

/// SYN-ACK timeout after `n` firings: min(1 s << n, 120 s) (TCP_TIMEOUT_INIT, TCP_RTO_MAX).
Duration synack_timeout(unsigned n);

}  // namespace synq::listen
