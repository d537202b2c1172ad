#include "synq/address.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

namespace synq {

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  std::string s(text);
  IpAddr r;
  if (inet_pton(AF_INET, s.c_str(), r.bytes.data()) == 1) return r;
  r.version = IpVersion::v6;
  if (inet_pton(AF_INET6, s.c_str(), r.bytes.data()) == 1) return r;
  return std::nullopt;
}

std::string IpAddr::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::string Endpoint::to_string() const {
  if (addr.is_v4()) return fmt::format("{}:{}", addr.to_string(), port);
  return fmt::format("[{}]:{}", addr.to_string(), port);
}

namespace {
// A 64-bit mixer (splitmix64 finaliser): fast, good avalanche, not keyed.
inline uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}
inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t addr_hash(const IpAddr& a, uint64_t h) {
  h = mix(h ^ load64(a.bytes.data()));
  if (!a.is_v4()) h = mix(h ^ load64(a.bytes.data() + 8));
  return h;
}
}  // namespace

uint64_t hash_value(const Endpoint& e, uint64_t salt) {
  return mix(addr_hash(e.addr, salt) ^ e.port);
}

uint64_t hash_value(const FourTuple& t, uint64_t salt) {
  uint64_t h = addr_hash(t.local.addr, salt);
  h = addr_hash(t.remote.addr, h);
  return mix(h ^ (uint64_t(t.local.port) << 16 | t.remote.port));
}

}  // namespace synq
