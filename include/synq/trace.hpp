// The listener decision trace: one structured event for every segment a
// listener handles and every request timer that fires — what happened and
// which counter says so. Nothing in a kernel has this; it is what makes synq
// explain itself.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "synq/address.hpp"
#include "synq/counters.hpp"
#include "synq/listen_reason.hpp"
#include "synq/time.hpp"

namespace synq {

enum class ListenDecision : uint8_t {
  request,   // a half-open request was created and answered with a SYN-ACK
  cookie,    // answered with a SYN cookie, nothing stored
  drop,      // dropped (see reason)
  rst,       // answered with a RST (request removed if there was one)
  complete,  // the handshake completed: a child joined the accept queue
  expire,    // a request's timer gave up on it
  synack,    // a SYN-ACK was sent again (timer or duplicate SYN)
  ack,       // answered with a bare ACK (out-of-window segment to a request)
  ignore,    // the segment changed nothing and was not counted (e.g. RST out of window)
};
std::string_view listen_decision_name(ListenDecision d);

struct ListenEvent {
  Time time{0};
  int listener_fd = -1;
  FourTuple tuple;        // local = the listener's address and port
  uint8_t tcp_flags = 0;  // of the segment; 0 for a timer
  ListenDecision decision = ListenDecision::drop;
  ListenReason reason = ListenReason::accept_queue_full;  // why (listen_reason.hpp)
  // The reason's first counter, if it has any (listen_reason_info(reason)
  // lists them all): what a one-counter display shows.
  std::optional<Counter> counter;
  std::string_view model;  // "linux", "bsd44", ...
  // A line the real kernel would print to its log for this decision (rate
  // limited as there, e.g. FreeBSD's "Listen queue overflow: ..."), else empty.
  // Valid only during the trace callback: copy it to keep it.
  std::string_view log;
};

using ListenTrace = std::function<void(const ListenEvent&)>;

}  // namespace synq
