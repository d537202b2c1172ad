// Helpers for the wire tests: an independent, deliberately naive RFC 1071
// checksum (byte pairs, 32-bit accumulator) to check synq's fast one against,
// hex decoding for packet vectors, and fix-ups for hand-built packets.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "wire/wire.hpp"

namespace synq::wire::testing {

/// RFC 1071 §4.1 reference: add big-endian 16-bit words, pad an odd byte on
/// the right, fold the carries. Returns the *uncomplemented* 16-bit sum.
inline uint16_t ref_sum(std::span<const uint8_t> d, uint32_t initial = 0) {
  uint64_t sum = initial;
  size_t i = 0;
  for (; i + 1 < d.size(); i += 2) sum += uint32_t(d[i]) << 8 | d[i + 1];
  if (i < d.size()) sum += uint32_t(d[i]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}
inline uint16_t ref_checksum(std::span<const uint8_t> d, uint32_t initial = 0) {
  return static_cast<uint16_t>(~ref_sum(d, initial));
}

/// The pseudo-header laid out byte by byte as RFC 9293 §3.1 / RFC 8200 §8.1 draw it.
inline std::vector<uint8_t> ref_pseudo_header(const IpAddr& src, const IpAddr& dst, uint8_t proto,
                                              uint32_t len) {
  std::vector<uint8_t> p(src.bytes.begin(), src.bytes.begin() + src.size());
  p.insert(p.end(), dst.bytes.begin(), dst.bytes.begin() + dst.size());
  if (src.is_v4()) {
    p.insert(p.end(), {0, proto, uint8_t(len >> 8), uint8_t(len)});
  } else {
    p.insert(p.end(), {uint8_t(len >> 24), uint8_t(len >> 16), uint8_t(len >> 8), uint8_t(len), 0,
                       0, 0, proto});
  }
  return p;
}

/// "45 00 00 3c ..." → bytes; whitespace ignored.
inline std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else if (c == ' ' || c == '\n' || c == '\t') {
      continue;
    } else {
      throw std::invalid_argument("bad hex");
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(uint8_t(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) throw std::invalid_argument("odd hex");
  return out;
}

inline uint16_t be16(std::span<const uint8_t> p, size_t at) {
  return static_cast<uint16_t>(p[at] << 8 | p[at + 1]);
}
inline void put16(std::span<uint8_t> p, size_t at, uint16_t v) {
  p[at] = uint8_t(v >> 8);
  p[at + 1] = uint8_t(v);
}

/// Recomputes the IPv4 header checksum of `pkt` with the reference.
inline void fix_ipv4_checksum(std::vector<uint8_t>& pkt) {
  const size_t ihl = size_t(pkt[0] & 0x0f) * 4;
  put16(pkt, 10, 0);
  put16(pkt, 10, ref_checksum(std::span(pkt).first(ihl)));
}

/// Recomputes the TCP (or UDP) checksum of an IPv4 packet with IHL 5 / an
/// IPv6 packet without extension headers, with the reference.
inline void fix_l4_checksum(std::vector<uint8_t>& pkt, size_t csum_offset_in_l4) {
  const bool v4 = (pkt[0] >> 4) == 4;
  const size_t hl = v4 ? size_t(pkt[0] & 0x0f) * 4 : 40;
  const size_t l4_len = v4 ? be16(pkt, 2) - hl : be16(pkt, 4);
  IpAddr src, dst;
  src.version = dst.version = v4 ? IpVersion::v4 : IpVersion::v6;
  const size_t a = v4 ? 12 : 8, n = v4 ? 4 : 16;
  std::copy_n(pkt.begin() + a, n, src.bytes.begin());
  std::copy_n(pkt.begin() + a + n, n, dst.bytes.begin());
  const uint8_t proto = v4 ? pkt[9] : pkt[6];
  auto l4 = std::span(pkt).subspan(hl, l4_len);
  put16(l4, csum_offset_in_l4, 0);
  const auto ph = ref_pseudo_header(src, dst, proto, uint32_t(l4_len));
  put16(l4, csum_offset_in_l4, ref_checksum(l4, ref_sum(ph)));
}

inline IpAddr v6addr(std::initializer_list<uint8_t> tail, uint8_t first = 0x20,
                     uint8_t second = 0x01) {
  std::array<uint8_t, 16> b{};
  b[0] = first;
  b[1] = second;
  b[2] = 0x0d;
  b[3] = 0xb8;
  size_t i = 16 - tail.size();
  for (uint8_t t : tail) b[i++] = t;
  return IpAddr::v6(b);
}

// Real packets captured with tshark on Linux loopback (kernel 6.x, Debian 12):
// a python client connecting to 127.0.0.1:8765 and sending "hello". Ethernet
// header stripped. Loopback uses checksum offload, so the TCP checksum field
// holds the kernel's *partial* checksum (the folded pseudo-header sum, 0xfe30
// for a 40-byte segment 127.0.0.1 → 127.0.0.1); the IPv4 checksums are real.
inline constexpr std::string_view kKernelSyn =
    "45 00 00 3c ce 7a 40 00 40 06 6e 3f 7f 00 00 01 7f 00 00 01"
    " 86 dc 22 3d 2a 84 4f 84 00 00 00 00 a0 02 ff d7 fe 30 00 00"
    " 02 04 ff d7 04 02 08 0a 03 a9 e3 0e 00 00 00 00 01 03 03 0a";
inline constexpr std::string_view kKernelSynAck =
    "45 00 00 3c 00 00 40 00 40 06 3c ba 7f 00 00 01 7f 00 00 01"
    " 22 3d 86 dc 1e ab 49 5d 2a 84 4f 85 a0 12 ff cb fe 30 00 00"
    " 02 04 ff d7 04 02 08 0a 20 0e 14 12 03 a9 e3 0e 01 03 03 0a";
inline constexpr std::string_view kKernelData =
    "45 00 00 39 ce 7c 40 00 40 06 6e 40 7f 00 00 01 7f 00 00 01"
    " 86 dc 22 3d 2a 84 4f 85 1e ab 49 5e 80 18 00 40 fe 2d 00 00"
    " 01 01 08 0a 03 a9 e3 0e 20 0e 14 12 68 65 6c 6c 6f";

}  // namespace synq::wire::testing
