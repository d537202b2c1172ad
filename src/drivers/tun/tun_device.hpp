// A TUN device (IFF_TUN | IFF_NO_PI): raw IP packets in and out of the
// current network namespace's kernel. What the kernel routes to the device is
// read here; what is written here the kernel receives as if from the wire.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "synq/address.hpp"

namespace synq::tun {

struct TunConfig {
  std::string name = "synq0";
  IpAddr local;         // the kernel's address on the device
  int prefix_len = 16;  // local's subnet
  IpAddr remote;        // gets a host route through the device
  uint32_t mtu = 1500;
};

class TunDevice {
 public:
  /// Creates, addresses and brings up the device, and routes `remote` through
  /// it (IPv4 only). Returns the device or why not.
  static std::optional<TunDevice> open(const TunConfig& config, std::string* error);

  TunDevice(TunDevice&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  TunDevice& operator=(TunDevice&& o) noexcept;
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;
  ~TunDevice();

  /// Hands one IP packet to the kernel. Returns false on a short or failed write.
  bool write(std::span<const uint8_t> ip_packet);
  /// One packet the kernel sent through the device, waiting at most `timeout`
  /// (zero: do not wait). Empty when none came.
  std::optional<std::vector<uint8_t>> read(std::chrono::nanoseconds timeout);
  int fd() const { return fd_; }

 private:
  explicit TunDevice(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace synq::tun
