// A SYN-flood source for the lab: a simulator node that sends bare SYNs from
// spoofed addresses at a fixed rate and swallows whatever comes back (the
// SYN-ACKs go nowhere, as with spoofed sources on a real network).
#pragma once

#include <cstdint>
#include <vector>

#include "drivers/sim/node.hpp"
#include "synq/address.hpp"

namespace synq::lab {

class SynFloodNode final : public sim::SimNode {
 public:
  /// `sources`: the spoofed addresses, used round robin; SYNs go to `target`
  /// every 1/rate seconds in [start, stop).
  SynFloodNode(std::vector<IpAddr> sources, Endpoint target, double rate, Time start, Time stop);

  void input(Time, std::span<const uint8_t>) override { ++received_; }
  void advance(Time now) override;
  Time next_deadline() const override { return next_ < stop_ ? next_ : kNever; }
  void drain_output(const sim::PacketSink& sink) override;

  uint64_t sent() const { return sent_; }
  uint64_t received() const { return received_; }

 private:
  std::vector<IpAddr> sources_;
  Endpoint target_;
  Duration gap_;
  Time next_;
  Time stop_;
  uint64_t sent_ = 0;
  uint64_t received_ = 0;
  uint32_t pending_ = 0;  // SYNs due and not yet drained
  std::vector<uint8_t> buf_;
};

}  // namespace synq::lab
