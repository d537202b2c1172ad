// xnu's embryonic connection (passive-open.md §5): a tcpcb in SYN_RECEIVED,
// over synq's compact Request. Its timers are BSD's (BsdEmbryonic::on_timer:
// SYN-ACKs by the RTO, RST|ACK at 75 s), but its input is xnu's tcp_input()
// (xnu-11417.101.15), which has moved away from 4.4BSD: RFC 5961 challenges
// for a SYN or an in-window RST instead of a reset, a RST only at exactly
// last_ack_sent, a RST for seq < IRS, and one rate limit for the challenges
// (tcp_is_ack_ratelimited, net.inet.tcp.challengeack_limit per second).
#pragma once

#include <cstdint>

#include "listen/backlog_model.hpp"
#include "synq/time.hpp"

namespace synq::listen {

/// tcp_is_ack_ratelimited()'s per-connection state (tcpcb
/// t_challengeack_last / t_challengeack_count).
struct XnuChallengeLimit {
  Time last{0};
  uint32_t count = 0;
  bool started = false;  // t_challengeack_last != 0
  /// True when the challenge must not be sent (tcp_is_ack_ratelimited): the
  /// first call of each one-second window (from the first challenge in it) is
  /// always allowed, then `limit` calls in all.
  bool limited(Time now, int limit);
};

struct XnuEmbryonic {
  /// tcp_input() for a segment of embryonic connection `req`, in xnu's order:
  /// the SYN_RECEIVED ACK test, the RST test, seq < IRS, the trims, the SYN
  /// test, the ACK. It completes, stays or is removed. `ch` is the
  /// connection's challenge-ACK rate limit.
  static void on_segment(PassiveOpener& po, Listener& l, uint32_t req, const wire::TcpSegment& seg,
                         XnuChallengeLimit& ch);
};

}  // namespace synq::listen
