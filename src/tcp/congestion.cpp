// Congestion control: slow start and congestion avoidance (RFC 5681), fast
// retransmit / fast recovery NewReno (RFC 6582), RTO loss (RFC 5681 §3.1).
// The sender uses NewReno only; SACK blocks are sent (receiver side) but the
// peer's SACK blocks are not used to choose retransmissions.
#include <algorithm>

#include "tcp/connection_impl.hpp"

namespace synq::tcp {

void Connection::Impl::cc_on_ack(uint32_t acked) {
  if (in_loss && seq_ge(snd_una, loss_recover)) in_loss = false;
  if (in_recovery) {
    if (seq_ge(snd_una, recover)) {
      // Full ACK (RFC 6582 §3.2 step 3): deflate to min(ssthresh, FlightSize + SMSS).
      const uint32_t flight = snd_nxt - snd_una;
      cwnd = std::min(ssthresh, std::max(flight, static_cast<uint32_t>(smss)) + smss);
      in_recovery = false;
      dupacks = 0;
      restart_rtx();
    } else {
      // Partial ACK (step 4): retransmit the next hole, deflate by the amount
      // acked, add back one SMSS if that was at least one SMSS, reset the timer.
      if (retransmit_head()) count(Counter::TcpExt_TCPFastRetrans);
      cwnd = cwnd > acked ? cwnd - acked : 0;
      if (acked >= smss) cwnd += smss;
      cwnd = std::max<uint32_t>(cwnd, smss);
      restart_rtx();
    }
    return;
  }
  dupacks = 0;
  if (cwnd < ssthresh) {
    cwnd += std::min<uint32_t>(acked, 2u * smss);  // slow start (RFC 3465 L = 2)
  } else {
    ca_acked += acked;  // congestion avoidance: one SMSS per cwnd acknowledged
    if (ca_acked >= cwnd) {
      ca_acked -= cwnd;
      cwnd += smss;
    }
  }
  cwnd = std::min<uint32_t>(cwnd, 1u << 30);
}

void Connection::Impl::cc_on_dupack() {
  ++dupacks;
  if (in_recovery) {
    cwnd += smss;  // RFC 6582 §3.2 step 3 (inflate per additional duplicate)
    return;
  }
  // RFC 6582 §3.2 step 2: only when the ACK covers more than "recover".
  if (dupacks == 3 && seq_gt(snd_una, recover)) cc_enter_recovery();
}

void Connection::Impl::cc_enter_recovery() {
  const uint32_t flight = snd_nxt - snd_una;
  ssthresh = std::max(flight / 2, 2u * smss);
  recover = snd_max;
  in_recovery = true;
  count(Counter::TcpExt_TCPRenoRecovery);
  if (retransmit_head()) count(Counter::TcpExt_TCPFastRetrans);
  cwnd = ssthresh + 3u * smss;
  restart_rtx();
}

void Connection::Impl::cc_on_timeout() {
  // RFC 5681 §3.1 (4): ssthresh = max(FlightSize/2, 2·SMSS) on the first
  // timeout of a loss episode; cwnd = 1 SMSS (the loss window).
  if (!in_loss) {
    const uint32_t flight = snd_nxt - snd_una;
    ssthresh = std::max(flight / 2, 2u * smss);
  }
  cwnd = smss;
  ca_acked = 0;
  in_recovery = false;
  dupacks = 0;
  in_loss = true;
  loss_recover = snd_max;
  recover = snd_max;  // RFC 6582 §3.2 step 1 after a timeout
}

}  // namespace synq::tcp
