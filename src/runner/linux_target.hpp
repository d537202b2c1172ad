// The linux target: the host's kernel, in a private network namespace the
// caller has already entered (drivers/tun/netns.hpp), reached through a TUN
// device. Real system calls, wall-clock time.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "drivers/tun/tun_device.hpp"
#include "runner/target.hpp"

namespace synq::runner {

struct LinuxTargetConfig {
  IpAddr local;
  IpAddr remote;
  uint32_t mtu = 1500;
  std::string script_dir = ".";  // where shell commands run
};

class LinuxTarget final : public Target {
 public:
  /// Sets up the TUN device and writes synq's default sysctls into the
  /// namespace (so both targets start alike: tcp_rmem gives the same wscale).
  static std::optional<LinuxTarget> create(const LinuxTargetConfig& config, std::string* error);

  std::string_view name() const override { return "linux"; }
  bool live() const override { return true; }
  void start_clock() override { start_ = std::chrono::steady_clock::now(); }
  Duration now() override;
  std::optional<OutPacket> wait_packet(Duration until) override;
  std::string inject(std::span<const uint8_t> ip_packet) override;
  CallOutcome call(const Call& c) override;
  std::string set_sysctl(std::string_view name, std::string_view value) override;
  std::string run_shell(const std::string& command) override;

  LinuxTarget(LinuxTarget&&) = default;
  ~LinuxTarget() override;

 private:
  LinuxTarget(tun::TunDevice dev, LinuxTargetConfig config)
      : dev_(std::move(dev)), config_(std::move(config)) {}
  tun::TunDevice dev_;
  LinuxTargetConfig config_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::vector<int> open_fds_;
};

/// The sysctls written into every fresh namespace: each of synq's `net.*`
/// knobs at synq's default value.
std::vector<std::pair<std::string, std::string>> baseline_sysctls();

}  // namespace synq::runner
