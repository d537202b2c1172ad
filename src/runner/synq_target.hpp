// The synq target: a Stack in virtual time. The script's clock is the stack's
// clock, so a 63 s script runs in milliseconds and timing is exact.
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "runner/target.hpp"
#include "synq/stack.hpp"

namespace synq::runner {

struct SynqTargetConfig {
  IpAddr local;                 // the stack's address
  std::string model = "linux";  // synq.listen_model for every listener
  uint64_t seed = 1;
  /// Where the script is: a command block naming a shell script there (e.g.
  /// packetdrill's `../common/defaults.sh`) has its sysctls applied.
  std::string script_dir;
};

class SynqTarget final : public Target {
 public:
  explicit SynqTarget(const SynqTargetConfig& config);
  std::string_view name() const override { return "synq"; }
  bool live() const override { return false; }
  void start_clock() override {}
  Duration now() override { return now_; }
  std::optional<OutPacket> wait_packet(Duration until) override;
  std::string inject(std::span<const uint8_t> ip_packet) override;
  CallOutcome call(const Call& c) override;
  std::string set_sysctl(std::string_view name, std::string_view value) override;
  std::string run_shell(const std::string& command) override;

  Stack& stack() { return stack_; }

 private:
  void drain();
  SynqTargetConfig config_;
  Stack stack_;
  Duration now_{0};
  std::deque<OutPacket> out_;
};

}  // namespace synq::runner
