#include "base/keyed_hash.hpp"

#include <sodium.h>

#include <cstdlib>

namespace synq {

namespace {
void ensure_sodium() {
  // sodium_init is idempotent and thread-safe; it only selects implementations.
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();
}
}  // namespace

SipKey derive_key(uint64_t seed, std::string_view purpose) {
  ensure_sodium();
  SipKey key{};
  uint8_t seed_bytes[8];
  for (int i = 0; i < 8; ++i) seed_bytes[i] = uint8_t(seed >> (8 * i));
  crypto_generichash(key.data(), key.size(), seed_bytes, sizeof seed_bytes,
                     reinterpret_cast<const unsigned char*>(purpose.data()), purpose.size());
  return key;
}

uint64_t siphash24(const void* data, size_t len, const SipKey& key) {
  ensure_sodium();
  uint8_t out[crypto_shorthash_siphash24_BYTES];
  crypto_shorthash_siphash24(out, static_cast<const unsigned char*>(data), len, key.data());
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | out[i];
  return v;
}

}  // namespace synq
