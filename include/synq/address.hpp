// IP addresses (v4 and v6), endpoints and four-tuples.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace synq {

enum class IpVersion : uint8_t { v4 = 4, v6 = 6 };

/// An IPv4 or IPv6 address. IPv4 uses the first 4 bytes of `bytes`, the rest
/// are zero, so comparison and hashing work on the whole array.
struct IpAddr {
  IpVersion version = IpVersion::v4;
  std::array<uint8_t, 16> bytes{};

  static constexpr IpAddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    IpAddr r;
    r.bytes[0] = a, r.bytes[1] = b, r.bytes[2] = c, r.bytes[3] = d;
    return r;
  }
  /// From a host-order 32-bit value (0x0a000001 is 10.0.0.1).
  static constexpr IpAddr v4(uint32_t host_order) {
    return v4(uint8_t(host_order >> 24), uint8_t(host_order >> 16), uint8_t(host_order >> 8),
              uint8_t(host_order));
  }
  static IpAddr v6(const std::array<uint8_t, 16>& b) {
    IpAddr r;
    r.version = IpVersion::v6;
    r.bytes = b;
    return r;
  }
  /// Parses dotted-quad IPv4 or RFC 4291 text IPv6 (via inet_pton).
  static std::optional<IpAddr> parse(std::string_view text);

  bool is_v4() const { return version == IpVersion::v4; }
  bool is_unspecified() const {
    for (size_t i = 0; i < size(); ++i)
      if (bytes[i]) return false;
    return true;
  }
  size_t size() const { return is_v4() ? 4 : 16; }
  uint32_t v4_host_order() const {
    return uint32_t(bytes[0]) << 24 | uint32_t(bytes[1]) << 16 | uint32_t(bytes[2]) << 8 | bytes[3];
  }
  std::string to_string() const;

  /// Equality as two 64-bit compares: demux tables compare addresses on every
  /// probe, and a byte-array compare became a memcmp call there.
  friend bool operator==(const IpAddr& a, const IpAddr& b) {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a.bytes.data(), 8);
    std::memcpy(&a1, a.bytes.data() + 8, 8);
    std::memcpy(&b0, b.bytes.data(), 8);
    std::memcpy(&b1, b.bytes.data() + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0 && a.version == b.version;
  }
  friend auto operator<=>(const IpAddr& a, const IpAddr& b) {
    if (auto c = a.version <=> b.version; c != 0) return c;
    return a.bytes <=> b.bytes;
  }
};

struct Endpoint {
  IpAddr addr;
  uint16_t port = 0;
  std::string to_string() const;  // "10.0.0.1:80" or "[::1]:80"
  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.port == b.port && a.addr == b.addr;
  }
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

/// A connection's identity, from the local stack's point of view.
struct FourTuple {
  Endpoint local;
  Endpoint remote;
  friend bool operator==(const FourTuple& a, const FourTuple& b) {
    return a.remote.port == b.remote.port && a.local.port == b.local.port &&
           a.remote.addr == b.remote.addr && a.local.addr == b.local.addr;
  }
  friend auto operator<=>(const FourTuple&, const FourTuple&) = default;
};

/// Fast, non-cryptographic hash for demux tables (the keyed hashes for ISNs
/// and cookies live in src/stack/isn.* and src/listen/).
uint64_t hash_value(const FourTuple& t, uint64_t salt = 0);
uint64_t hash_value(const Endpoint& e, uint64_t salt = 0);

}  // namespace synq

template <>
struct std::hash<synq::FourTuple> {
  size_t operator()(const synq::FourTuple& t) const noexcept { return synq::hash_value(t); }
};
template <>
struct std::hash<synq::Endpoint> {
  size_t operator()(const synq::Endpoint& e) const noexcept { return synq::hash_value(e); }
};
