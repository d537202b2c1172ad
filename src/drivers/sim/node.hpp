// What the simulator drives: anything with a Stack's driver interface.
//
// A synq::Stack is the usual node (SimNetwork::add_host wraps one); tests and
// tools can add their own nodes, e.g. a scripted peer or a black hole.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "synq/time.hpp"

namespace synq::sim {

using PacketSink = std::function<void(std::span<const uint8_t>)>;

class SimNode {
 public:
  virtual ~SimNode() = default;
  /// One IP packet arrived at `now`.
  virtual void input(Time now, std::span<const uint8_t> ip_packet) = 0;
  /// Run whatever is due at or before `now` (also called with nothing due, to
  /// bring the node's clock to `now` before an application callback).
  virtual void advance(Time now) = 0;
  /// When advance() must be called next, or kNever.
  virtual Time next_deadline() const = 0;
  /// Hand every queued outgoing IP packet to `sink`, oldest first.
  virtual void drain_output(const PacketSink& sink) = 0;
};

/// A host that swallows every packet and never sends: a "silent address".
class BlackholeNode final : public SimNode {
 public:
  void input(Time, std::span<const uint8_t>) override { ++received_; }
  void advance(Time) override {}
  Time next_deadline() const override { return kNever; }
  void drain_output(const PacketSink&) override {}
  uint64_t received() const { return received_; }

 private:
  uint64_t received_ = 0;
};

}  // namespace synq::sim
