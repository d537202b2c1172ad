// Parameters and statistics of one direction of a simulated point-to-point link.
#pragma once

#include <cstdint>
#include <vector>

#include "synq/time.hpp"

namespace synq::sim {

/// A time the link is down: [from, until).
struct Outage {
  Time from{0};
  Time until{0};
  friend bool operator==(const Outage&, const Outage&) = default;
};

/// One direction of a link. A packet handed to the link at time t:
///  0. outage: if t falls in one of `outages`, it is lost (LinkStats::down_drops)
///     — a packet already on the wire when the link goes down still arrives;
///  1. queue: if bandwidth_bps > 0 and queue_limit packets are already waiting
///     or being serialized, it is dropped (drop-tail, LinkStats::queue_drops);
///  2. serialization: it starts when the previous packet has left
///     (FIFO) and takes size·8/bandwidth_bps (rounded up to 1 ns);
///  3. loss: with probability `loss` it is lost on the wire (LinkStats::lost);
///  4. propagation: it arrives `latency` + U[0, jitter] after serialization ends,
///     but never before the previous packet of this direction unless
///     allow_reorder.
struct LinkParams {
  Duration latency{0};
  Duration jitter{0};             // extra delay, uniform in [0, jitter]
  double loss = 0.0;              // probability in [0, 1]
  uint64_t bandwidth_bps = 0;     // bits per second; 0: infinitely fast, no queue
  uint32_t queue_limit = 1000;    // packets (waiting + serializing); netem's default limit
  bool allow_reorder = false;     // let jitter reorder packets
  std::vector<Outage> outages{};  // times this direction is down (see above)

  friend bool operator==(const LinkParams&, const LinkParams&) = default;
};

struct LinkStats {
  uint64_t offered = 0;  // packets handed to this direction
  uint64_t sent = 0;     // accepted by the queue and put on the wire
  uint64_t sent_bytes = 0;
  uint64_t delivered = 0;  // arrived at the far end
  uint64_t delivered_bytes = 0;
  uint64_t lost = 0;         // random loss on the wire
  uint64_t queue_drops = 0;  // drop-tail overflow
  uint64_t down_drops = 0;   // handed to the link while it was down (LinkParams::outages)
  uint32_t max_queue = 0;    // high-water mark of the queue, packets
};

enum class Side : uint8_t { a_to_b = 0, b_to_a = 1 };

}  // namespace synq::sim
