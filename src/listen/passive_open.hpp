// The passive open (spec §2): segments to a listener, half-open requests and
// their SYN-ACK timers, completion into the accept queue. The BacklogModel
// makes the policy decisions; this file does the mechanics that every model
// shares. Runs inside a Stack, which it reaches through ListenerHost.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "listen/listener.hpp"
#include "listen/request.hpp"
#include "synq/counters.hpp"
#include "synq/sysctl.hpp"
#include "synq/time.hpp"
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
};

class PassiveOpener {
 public:
  explicit PassiveOpener(ListenerHost& host) : host_(host) {}

  /// A segment for `t` that matched no connection and no request, to listener l.
  void on_listener_segment(Listener& l, const FourTuple& t, const wire::TcpSegment& seg);
  /// A segment that matched request `req` of listener l (tcp_check_req).
  void on_request_segment(Listener& l, uint32_t req, const wire::TcpSegment& seg);
  /// The request's SYN-ACK timer fired (reqsk_timer_handler).
  void on_request_timer(Listener& l, uint32_t req);
  /// The listener closes: its requests vanish silently (spec §2 "Closing a listener").
  void drop_all_requests(Listener& l);

  std::optional<uint32_t> find_request(const FourTuple& t) const { return requests_.find(t); }
  const RequestTable& requests() const { return requests_; }
  RequestTable& requests() { return requests_; }

 private:
  void new_request(Listener& l, const FourTuple& t, const wire::TcpSegment& syn);
  void send_synack(const Request& r);
  void remove_request(Listener& l, uint32_t req);
  void arm_timer(uint32_t req, Time deadline);
  void complete(Listener& l, uint32_t req, const wire::TcpSegment& ack);
  int synack_retries(const Listener& l) const;

  ListenerHost& host_;
  RequestTable requests_;
};

/// SYN-ACK timeout after `n` firings: min(1 s << n, 120 s) (TCP_TIMEOUT_INIT, TCP_RTO_MAX).
Duration synack_timeout(unsigned n);

}  // namespace synq::listen
