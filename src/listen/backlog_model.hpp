// A listener's backlog model: one kernel's passive open (passive-open.md §1–§5). Each
// model is a small strategy with three entry points — a segment that reaches
// the listener, a segment for one of its half-open requests, a request's
// timer — plus listen()'s clamp. The mechanics every kernel shares (creating
// a request, sending a SYN-ACK, completing a child into the accept queue, the
// decision trace) are PassiveOpener's toolkit; a model decides and counts.
// One object per listener, so a model may keep per-listener state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "synq/address.hpp"
#include "synq/counters.hpp"
#include "synq/sysctl.hpp"
#include "tcp/tcp_limits.hpp"
#include "wire/tcp_header.hpp"

namespace synq::listen {

class Listener;
class PassiveOpener;
struct Request;

/// What a model sees of a listener's queues.
struct QueueLengths {
  uint32_t syn_queue = 0;     // qlen: half-open requests
  uint32_t accept_queue = 0;  // acc: established children not yet accepted
  uint32_t backlog = 0;       // B after clamping
};

class BacklogModel {
 public:
  virtual ~BacklogModel() = default;
  virtual std::string_view name() const = 0;
  /// listen(2)'s treatment of its argument → B (passive-open.md §1).
  virtual int clamp_backlog(int backlog, const Sysctls& s) const = 0;
  /// The peer's MSS when its SYN carries no MSS option. The default is
  /// Linux's: tcp_openreq_init() "req->mss = rx_opt->mss_clamp" stays
  /// TCP_MSS_DEFAULT (536) for both families.
  virtual uint16_t default_peer_mss(IpVersion /*v*/) const { return tcp::kDefaultPeerMss; }
  /// A segment for `t` that matched no connection and no request of l.
  /// `time_wait_isn` is set when the segment is a SYN that ended a TIME-WAIT
  /// on `t` (Linux TCP_TW_SYN): the ISN the old connection's sequence space
  /// asks for (Connection::time_wait_syn_isn). Each model says what it does
  /// with it.
  virtual void on_listener_segment(PassiveOpener& po, Listener& l, const FourTuple& t,
                                   const wire::TcpSegment& seg,
                                   std::optional<uint32_t> time_wait_isn) = 0;
  /// A segment that matched request `req` of l.
  virtual void on_request_segment(PassiveOpener& po, Listener& l, uint32_t req,
                                  const wire::TcpSegment& seg) = 0;
  /// Request `req`'s timer fired.
  virtual void on_request_timer(PassiveOpener& po, Listener& l, uint32_t req) = 0;
  /// Request `req` (`r`, still intact) is leaving the SYN queue — completed,
  /// dropped, expired or with its listener. PassiveOpener calls it for every
  /// removal, so a model's own counts of its requests change in one place.
  virtual void on_request_removed(uint32_t /*req*/, const Request& /*r*/) {}
  /// The listener is closing: what becomes of its half-open requests. Called
  /// before its unaccepted children are aborted. The default removes them
  /// silently — Linux's inet_csk_listen_stop() leaves request socks alone, and
  /// a client's later ACK finds no socket (passive-open.md §2 "Closing a listener").
  virtual void on_listener_close(PassiveOpener& po, Listener& l);
};

/// The model called `name` ("linux", "bsd44", "freebsd", "xnu"), or null if
/// synq does not implement it.
std::unique_ptr<BacklogModel> make_backlog_model(std::string_view name);

}  // namespace synq::listen
