#include "stack/isn.hpp"

#include "base/keyed_hash.hpp"

#include <cstring>

namespace synq::stack {
namespace {

// Writes an address in its natural length (4 or 16 bytes) and returns the next position.
uint8_t* put_addr(uint8_t* p, const IpAddr& a) {
  std::memcpy(p, a.bytes.data(), a.size());
  return p + a.size();
}

}  // namespace

IsnGenerator::IsnGenerator(uint64_t seed) {
  isn_key_ = derive_key(seed, "synq-isn-rfc6528");
  ts_key_ = derive_key(seed, "synq-ts-offset");
}

uint32_t IsnGenerator::isn(const FourTuple& t, Time now) const {
  uint8_t buf[16 + 16 + 4];
  uint8_t* p = put_addr(buf, t.local.addr);
  p = put_addr(p, t.remote.addr);
  *p++ = uint8_t(t.local.port >> 8);
  *p++ = uint8_t(t.local.port);
  *p++ = uint8_t(t.remote.port >> 8);
  *p++ = uint8_t(t.remote.port);
  uint32_t f = static_cast<uint32_t>(siphash24(buf, size_t(p - buf), isn_key_));
  uint32_t m = static_cast<uint32_t>(static_cast<uint64_t>(now.count()) >> 6);
  return f + m;
}

uint32_t IsnGenerator::ts_offset(const IpAddr& local, const IpAddr& remote) const {
  uint8_t buf[32];
  uint8_t* p = put_addr(buf, local);
  p = put_addr(p, remote);
  return static_cast<uint32_t>(siphash24(buf, size_t(p - buf), ts_key_));
}

}  // namespace synq::stack
