// SimNetwork hosts that run a synq::Stack. In its own file so that the
// simulator core (and its tests with plain SimNodes) does not pull in the Stack.
#include <memory>
#include <utility>

#include "drivers/sim/sim_network.hpp"
#include "synq/stack.hpp"

namespace synq::sim {
namespace {

class StackNode final : public SimNode {
 public:
  explicit StackNode(StackConfig config) : stack(std::move(config)) {}
  void input(Time now, std::span<const uint8_t> ip_packet) override { stack.input(now, ip_packet); }
  void advance(Time now) override { stack.advance(now); }
  Time next_deadline() const override { return stack.next_deadline(); }
  void drain_output(const PacketSink& sink) override { stack.drain_output(sink); }

  Stack stack;
};

}  // namespace

HostId SimNetwork::add_host(StackConfig config) {
  const auto id = static_cast<HostId>(hosts_.size());
  if (derive_host_seeds_) config.seed = mix_seed(mix_seed(seed_, config.seed), id);
  auto addresses = config.addresses;
  auto name = config.name;
  auto node = std::make_unique<StackNode>(std::move(config));
  Stack* stack = &node->stack;
  add_host_entry(std::move(node), std::move(addresses), std::move(name));
  hosts_[id]->stack = stack;
  rearm_timer(id);
  return id;
}

}  // namespace synq::sim
