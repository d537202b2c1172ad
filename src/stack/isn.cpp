#include "stack/isn.hpp"

#include <sodium.h>

#include <cstring>

namespace synq::stack {
namespace {

// Expands the 64-bit seed into a 16-byte SipHash key for one purpose. BLAKE2b
// keyed by the purpose string: different purposes get unrelated keys.
std::array<uint8_t, 16> derive_key(uint64_t seed, const char* purpose) {
  std::array<uint8_t, 16> key{};
  uint8_t seed_bytes[8];
  for (int i = 0; i < 8; ++i) seed_bytes[i] = uint8_t(seed >> (8 * i));
  crypto_generichash(key.data(), key.size(), seed_bytes, sizeof seed_bytes,
                     reinterpret_cast<const unsigned char*>(purpose), std::strlen(purpose));
  return key;
}

// Writes an address in its natural length (4 or 16 bytes) and returns the next position.
uint8_t* put_addr(uint8_t* p, const IpAddr& a) {
  std::memcpy(p, a.bytes.data(), a.size());
  return p + a.size();
}

uint64_t siphash(const uint8_t* data, size_t len, const std::array<uint8_t, 16>& key) {
  uint8_t out[crypto_shorthash_siphash24_BYTES];
  crypto_shorthash_siphash24(out, data, len, key.data());
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | out[i];
  return v;
}

}  // namespace

IsnGenerator::IsnGenerator(uint64_t seed) {
  // sodium_init is idempotent and thread-safe; it only selects implementations.
  if (sodium_init() < 0) std::abort();
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
  uint32_t f = static_cast<uint32_t>(siphash(buf, size_t(p - buf), isn_key_));
  uint32_t m = static_cast<uint32_t>(static_cast<uint64_t>(now.count()) >> 6);
  return f + m;
}

uint32_t IsnGenerator::ts_offset(const IpAddr& local, const IpAddr& remote) const {
  uint8_t buf[32];
  uint8_t* p = put_addr(buf, local);
  p = put_addr(p, remote);
  return static_cast<uint32_t>(siphash(buf, size_t(p - buf), ts_key_));
}

}  // namespace synq::stack
