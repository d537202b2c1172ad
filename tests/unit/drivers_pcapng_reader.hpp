// A strict, test-only reader of the pcapng files synq writes: walks every
// block, checks the framing (lengths at both ends, 32-bit padding, the
// byte-order magic, LINKTYPE_RAW, if_tsresol 9) and returns each packet with
// its timestamp and comment. It reads the format from its specification
// (draft-ietf-opsawg-pcapng), independently of the writer's code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "drivers_test_support.hpp"
#include "synq/time.hpp"

namespace synq::pcap::testing {

struct NgPacket {
  Time time{0};
  uint32_t len = 0;            // the original length
  std::vector<uint8_t> bytes;  // the captured part
  std::string comment;         // opt_comment, empty if none
  friend bool operator==(const NgPacket&, const NgPacket&) = default;
};

struct NgFile {
  bool valid = false;  // every block parsed and checked
  uint16_t linktype = 0;
  uint32_t snaplen = 0;
  int tsresol = -1;  // if_tsresol of interface 0 (-1: absent)
  std::vector<NgPacket> packets;
};

inline uint32_t le32(const std::vector<uint8_t>& b, size_t o) {
  return uint32_t(b[o]) | uint32_t(b[o + 1]) << 8 | uint32_t(b[o + 2]) << 16 |
         uint32_t(b[o + 3]) << 24;
}
inline uint16_t le16(const std::vector<uint8_t>& b, size_t o) {
  return static_cast<uint16_t>(b[o] | b[o + 1] << 8);
}

inline NgFile read_pcapng(const std::string& path) {
  const std::vector<uint8_t> b = sim::testing::read_file(path);
  NgFile f;
  size_t pos = 0;
  bool seen_shb = false, seen_idb = false;
  // Options from `o` to `end`: code, length, value padded to 4; calls fn(code, offset, length).
  const auto options = [&](size_t o, size_t end, auto fn) {
    while (o + 4 <= end) {
      const uint16_t code = le16(b, o), n = le16(b, o + 2);
      if (code == 0) return true;
      if (o + 4 + n > end) return false;
      fn(code, o + 4, n);
      o += 4 + ((n + 3u) & ~3u);
    }
    return o == end;
  };
  while (pos < b.size()) {
    if (pos + 12 > b.size()) return f;
    const uint32_t type = le32(b, pos), total = le32(b, pos + 4);
    if (total % 4 != 0 || total < 12 || pos + total > b.size()) return f;
    if (le32(b, pos + total - 4) != total) return f;
    const size_t body = pos + 8, end = pos + total - 4;
    if (type == 0x0A0D0D0A) {
      if (le32(b, body) != 0x1A2B3C4D || le16(b, body + 4) != 1) return f;
      seen_shb = true;
    } else if (type == 1) {
      f.linktype = le16(b, body);
      f.snaplen = le32(b, body + 4);
      if (!options(body + 8, end, [&](uint16_t code, size_t o, uint16_t n) {
            if (code == 9 && n == 1) f.tsresol = b[o];
          }))
        return f;
      seen_idb = true;
    } else if (type == 6) {
      if (!seen_idb || le32(b, body) != 0) return f;
      NgPacket p;
      const uint64_t ts = uint64_t(le32(b, body + 4)) << 32 | le32(b, body + 8);
      p.time = Time(static_cast<int64_t>(ts));
      const uint32_t caplen = le32(b, body + 12);
      p.len = le32(b, body + 16);
      if (body + 20 + caplen > end) return f;
      p.bytes.assign(b.begin() + long(body + 20), b.begin() + long(body + 20 + caplen));
      const size_t opts = body + 20 + ((caplen + 3u) & ~3u);
      if (!options(opts, end, [&](uint16_t code, size_t o, uint16_t n) {
            if (code == 1) p.comment.assign(b.begin() + long(o), b.begin() + long(o + n));
          }))
        return f;
      f.packets.push_back(std::move(p));
    }
    pos += total;
  }
  f.valid = seen_shb && seen_idb;
  return f;
}

}  // namespace synq::pcap::testing
