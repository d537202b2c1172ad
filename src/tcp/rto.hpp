// Exponential backoff of retransmission timeouts, as Linux computes it:
// one formula for the running timer, the SYN-ACK schedule, the persist timer
// and the give-up times (tcp_model_timeout).
#pragma once

#include "tcp/tcp_limits.hpp"

namespace synq::tcp {

/// `base` doubled `shift` times, capped at TCP_RTO_MAX (RFC 6298 §5.5; Linux
/// inet_csk_rto_backoff). The SYN-ACK schedule is backed_off(kInitialRto, n).
inline constexpr Duration backed_off(Duration base, int shift) {
  Duration r = base;
  for (int i = 0; i < shift && r < kMaxRto; ++i) r *= 2;
  return std::min(r, kMaxRto);
}

/// Linux tcp_model_timeout: how long `boundary` retransmissions take when the
/// timeout starts at `base` and doubles up to TCP_RTO_MAX. Linux turns
/// tcp_syn_retries (base TCP_TIMEOUT_INIT) and tcp_retries2 (base
/// TCP_RTO_MIN) into give-up times this way.
inline constexpr Duration model_timeout(int boundary, Duration base) {
  int thresh = 0;  // ilog2(TCP_RTO_MAX / base)
  while ((base * (int64_t{2} << thresh)) <= kMaxRto) ++thresh;
  if (boundary <= thresh) return base * ((int64_t{2} << boundary) - 1);
  return base * ((int64_t{2} << thresh) - 1) + kMaxRto * (boundary - thresh);
}

}  // namespace synq::tcp
