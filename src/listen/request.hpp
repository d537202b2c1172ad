// Half-open requests (Linux's request_sock): a compact, fixed-size record per
// SYN-RECEIVED peer, pooled and hashed by four-tuple. Not a Connection: a
// listener under a SYN flood holds thousands of these.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "stack/flat_hash_map.hpp"
#include "synq/address.hpp"
#include "synq/time.hpp"
#include "tcp/tcp_limits.hpp"

namespace synq::listen {

inline constexpr uint32_t kNoRequest = UINT32_MAX;

struct Request {
  FourTuple tuple;
  int listener_fd = -1;
  uint32_t generation = 0;                   // bumped on every reuse; timer entries carry it
  uint32_t iss = 0;                          // our ISN
  uint32_t irs = 0;                          // the peer's ISN
  uint32_t ts_recent = 0;                    // the peer's last TSval
  uint32_t ts_offset = 0;                    // our TSval offset
  Time deadline = kNever;                    // SYN-ACK timer
  Time last_synack_resend = Time::min();     // for the 500 ms rate limit on duplicate SYNs
  uint16_t peer_mss = tcp::kDefaultPeerMss;  // the SYN's MSS option, or the model's default
  uint16_t our_mss = 0;
  uint16_t window = 0;      // the (unscaled) window of our SYN-ACK
  uint8_t snd_wscale = 0;   // the peer's window scale
  uint8_t num_timeout = 0;  // SYN-ACK timer firings so far
  bool wscale_ok = false;
  bool sack_ok = false;
  bool ts_ok = false;
  bool acked = false;         // a third ACK was dropped for a full accept queue
  bool keep_rearmed = false;  // bsd44: a later segment pushed TCPT_KEEP past the 75 s
  // bsd44: bsd44.rexmt=historical when its SYN came (4.4BSD's 6 s / 12 s timer).
  bool historical_rexmt = false;
  // bsd44/xnu: the connection-establishment timer (TCPTV_KEEP_INIT), taken
  // when its SYN came — xnu's net.inet.tcp.keepinit; 4.4BSD's constant 75 s.
  uint32_t keepinit_ms = 75000;
  bool in_use = false;
  // The owning listener's list of requests (for close and sockets()).
  uint32_t prev = kNoRequest;
  uint32_t next = kNoRequest;
};

class RequestTable {
 public:
  /// A fresh request for `t` (zeroed except identity fields), indexed by tuple.
  uint32_t create(const FourTuple& t, int listener_fd);
  /// Frees the request and removes it from the tuple index.
  void destroy(uint32_t index);
  std::optional<uint32_t> find(const FourTuple& t) const {
    const uint32_t* p = by_tuple_.find(t);
    return p ? std::optional<uint32_t>(*p) : std::nullopt;
  }
  Request& at(uint32_t index) { return pool_[index]; }
  const Request& at(uint32_t index) const { return pool_[index]; }
  size_t live() const { return by_tuple_.size(); }

 private:
  std::vector<Request> pool_;
  std::vector<uint32_t> free_;
  stack::FlatHashMap<FourTuple, uint32_t> by_tuple_;
};

}  // namespace synq::listen
