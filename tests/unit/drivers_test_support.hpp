// Helpers shared by the drivers tests: hand-made IP packets and a scripted
// SimNode that records what reaches it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "drivers/sim/node.hpp"
#include "synq/address.hpp"
#include "synq/time.hpp"

namespace synq::sim::testing {

/// A minimal IPv4 packet of `size` bytes (≥ 20) from src to dst whose first
/// payload byte is `tag`. The simulator reads only the destination.
inline std::vector<uint8_t> ipv4_packet(const IpAddr& src, const IpAddr& dst, uint8_t tag,
                                        size_t size = 40) {
  std::vector<uint8_t> p(std::max<size_t>(size, 21), 0);
  p[0] = 0x45;
  p[2] = uint8_t(p.size() >> 8);
  p[3] = uint8_t(p.size());
  p[8] = 64;
  p[9] = 253;  // RFC 3692 experimental protocol
  std::copy_n(src.bytes.begin(), 4, p.begin() + 12);
  std::copy_n(dst.bytes.begin(), 4, p.begin() + 16);
  p[20] = tag;
  return p;
}

inline std::vector<uint8_t> ipv6_packet(const IpAddr& src, const IpAddr& dst, uint8_t tag) {
  std::vector<uint8_t> p(41, 0);
  p[0] = 0x60;
  p[5] = 1;    // payload length
  p[6] = 253;  // next header
  p[7] = 64;
  std::copy_n(src.bytes.begin(), 16, p.begin() + 8);
  std::copy_n(dst.bytes.begin(), 16, p.begin() + 24);
  p[40] = tag;
  return p;
}

struct Arrival {
  Time time;
  uint8_t tag;
  size_t size;
  friend bool operator==(const Arrival&, const Arrival&) = default;
};

/// A node that sends what the test queues and records arrivals, advance calls
/// and a test-set deadline.
class ScriptedNode final : public SimNode {
 public:
  void input(Time now, std::span<const uint8_t> p) override {
    const size_t tag_at = (p[0] >> 4) == 6 ? 40 : 20;
    arrivals.push_back({now, p.size() > tag_at ? p[tag_at] : uint8_t{0}, p.size()});
  }
  void advance(Time now) override {
    advanced.push_back(now);
    if (deadline <= now) {
      fired.push_back(now);
      deadline = kNever;
      if (on_fire) on_fire(now);
    }
  }
  Time next_deadline() const override { return deadline; }
  void drain_output(const PacketSink& sink) override {
    for (auto& p : out) sink(p);
    out.clear();
  }

  std::vector<std::vector<uint8_t>> out;  // sent at the next drain
  std::vector<Arrival> arrivals;
  std::vector<Time> advanced;
  std::vector<Time> fired;
  Time deadline = kNever;
  std::function<void(Time)> on_fire;
};

inline std::string temp_path(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace synq::sim::testing
