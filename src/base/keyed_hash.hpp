// Keyed hashing for everything secret in a stack (RFC 6528 ISNs, timestamp
// offsets, SYN cookies, syncache buckets): SipHash-2-4 from libsodium, with
// 128-bit keys derived from the stack's seed — one key per purpose.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace synq {

using SipKey = std::array<uint8_t, 16>;

/// A key for `purpose` ("synq-isn-rfc6528", ...) from the 64-bit seed:
/// BLAKE2b of the seed keyed by the purpose, so purposes get unrelated keys.
SipKey derive_key(uint64_t seed, std::string_view purpose);

/// SipHash-2-4 of data under key, as a little-endian 64-bit value.
uint64_t siphash24(const void* data, size_t len, const SipKey& key);

}  // namespace synq
