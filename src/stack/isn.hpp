// Initial sequence numbers (RFC 6528) and per-connection timestamp offsets,
// keyed by secrets derived from StackConfig::seed so runs are reproducible.
#pragma once

#include <array>
#include <cstdint>

#include "synq/address.hpp"
#include "synq/time.hpp"

namespace synq::stack {

class IsnGenerator {
 public:
  explicit IsnGenerator(uint64_t seed);

  /// RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secret),
  /// M a clock ticking every 64 ns like Linux (ktime ns >> 6), F SipHash-2-4.
  uint32_t isn(const FourTuple& t, Time now) const;
  /// Offset added to our TSval clock, per address pair (Linux secure_tcp_ts_off).
  uint32_t ts_offset(const IpAddr& local, const IpAddr& remote) const;

 private:
  std::array<uint8_t, 16> isn_key_{};
  std::array<uint8_t, 16> ts_key_{};
};

}  // namespace synq::stack
