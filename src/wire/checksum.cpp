// RFC 1071 Internet checksum and the TCP/UDP pseudo-headers (RFC 9293 §3.1,
// RFC 768, RFC 8200 §8.1).
//
// The running sum handed between the functions is a one's-complement sum of
// *big-endian* 16-bit words, kept in a uint32_t that is only partially folded.
// Internally the bulk of the data is summed in native byte order, 8 bytes per
// load, into 64-bit accumulators (RFC 1071 §2(B): the one's-complement sum is
// byte-order independent up to a final byte swap, and §2(C): it can be
// computed in wider words and folded afterwards).
#include <bit>
#include <cstring>

#include "wire/wire.hpp"

namespace synq::wire {
namespace {

/// Adds 64-bit words as two 32-bit halves so no carry is ever lost: each
/// 32-byte iteration adds < 2^34 to each accumulator, so they cannot overflow
/// before 2^30 iterations (32 GiB of data), far beyond any packet.
inline uint64_t add_halves(uint64_t acc, uint64_t w) {
  return acc + (w >> 32) + (w & 0xffffffffu);
}

/// Folds a 64-bit one's-complement accumulator down to 16 bits (end-around carry).
inline uint32_t fold16(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint32_t>(acc);
}

/// One's-complement sum of `data` as native-order 16-bit words, folded to 16 bits.
uint32_t native_sum(const uint8_t* p, size_t n) {
  uint64_t acc0 = 0, acc1 = 0;
  while (n >= 32) {
    uint64_t w[4];
    std::memcpy(w, p, sizeof w);
    acc0 = add_halves(acc0, w[0]);
    acc1 = add_halves(acc1, w[1]);
    acc0 = add_halves(acc0, w[2]);
    acc1 = add_halves(acc1, w[3]);
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, sizeof w);
    acc0 = add_halves(acc0, w);
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, sizeof w);
    acc1 += w;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, sizeof w);
    acc0 += w;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    // RFC 1071: an odd trailing byte is padded with a zero byte on the right,
    // i.e. it is the high-order byte of a big-endian word.
    acc1 += std::endian::native == std::endian::little ? uint64_t(*p) : uint64_t(*p) << 8;
  }
  // acc0 + acc1 cannot overflow: each is < 2^63 by the bound above.
  return fold16(acc0 + acc1);
}

}  // namespace

uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data) {
  uint32_t s = native_sum(data.data(), data.size());
  if constexpr (std::endian::native == std::endian::little) {
    s = ((s & 0xff) << 8) | (s >> 8);
  }
  uint64_t total = uint64_t(sum) + s;
  // Keep the result within 32 bits without losing the carry.
  total = (total & 0xffffffffu) + (total >> 32);
  return static_cast<uint32_t>(total);
}

uint16_t checksum_finish(uint32_t sum) {
  return static_cast<uint16_t>(~fold16(sum) & 0xffff);
}

uint32_t pseudo_header_sum(const IpAddr& src, const IpAddr& dst, uint8_t protocol,
                           uint32_t length) {
  // IPv4 (RFC 9293 §3.1): src, dst, zero, protocol, 16-bit TCP length.
  // IPv6 (RFC 8200 §8.1): src, dst, 32-bit upper-layer length, 3 zero bytes,
  // next header. As 16-bit word sums both are addresses + protocol + length
  // (the 32-bit length contributes its two halves).
  uint32_t sum = checksum_add(0, std::span(src.bytes.data(), src.size()));
  sum = checksum_add(sum, std::span(dst.bytes.data(), dst.size()));
  uint64_t total = uint64_t(sum) + protocol + (length >> 16) + (length & 0xffff);
  total = (total & 0xffffffffu) + (total >> 32);
  return static_cast<uint32_t>(total);
}

}  // namespace synq::wire
