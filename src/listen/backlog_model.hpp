// A listener's backlog model: the per-kernel policy of a passive open. It
// decides what happens to a SYN that would create a request and to the third
// ACK that would complete one, and how listen() clamps its argument. The
// mechanics (requests, SYN-ACK timers, the accept queue) live in
// passive_open.*; a model only looks at queue lengths and sysctls and counts
// the drops it decides, so adding a kernel is one small file.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "synq/counters.hpp"
#include "synq/sysctl.hpp"

namespace synq::listen {

/// What a model sees of a listener when it decides.
struct QueueLengths {
  uint32_t syn_queue = 0;     // qlen: half-open requests
  uint32_t accept_queue = 0;  // acc: established children not yet accepted
  uint32_t backlog = 0;       // B after clamping
};

enum class SynAction : uint8_t {
  request,  // keep a request and answer with a SYN-ACK
  cookie,   // answer with a SYN cookie, keep nothing
  drop,     // silent drop (the model counted why)
};

enum class AckAction : uint8_t {
  complete,  // create the child and queue it for accept()
  drop,      // drop the ACK, keep the request (marked acked)
  rst,       // answer RST and remove the request
};

class BacklogModel {
 public:
  virtual ~BacklogModel() = default;
  virtual std::string_view name() const = 0;
  /// listen(2)'s treatment of its argument → B.
  virtual int clamp_backlog(int backlog, const Sysctls& s) const = 0;
  /// A SYN for which no request exists yet. Increments the counters of any drop.
  virtual SynAction on_syn(const QueueLengths& q, const Sysctls& s, Counters& c) const = 0;
  /// A valid third ACK for a request. Increments the counters of any drop.
  virtual AckAction on_third_ack(const QueueLengths& q, const Sysctls& s, Counters& c) const = 0;
};

/// The model called `name`, or null if synq does not implement it (yet).
std::unique_ptr<BacklogModel> make_backlog_model(std::string_view name);

}  // namespace synq::listen
