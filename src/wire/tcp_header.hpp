// TCP header and options as values. Parsing/building live in wire.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace synq::wire {

namespace tcp_flags {
inline constexpr uint8_t FIN = 0x01;
inline constexpr uint8_t SYN = 0x02;
inline constexpr uint8_t RST = 0x04;
inline constexpr uint8_t PSH = 0x08;
inline constexpr uint8_t ACK = 0x10;
inline constexpr uint8_t URG = 0x20;
inline constexpr uint8_t ECE = 0x40;
inline constexpr uint8_t CWR = 0x80;
}  // namespace tcp_flags

struct SackBlock {
  uint32_t left = 0;   // first sequence number of the block
  uint32_t right = 0;  // sequence number just past the block
  friend bool operator==(const SackBlock&, const SackBlock&) = default;
};

/// The options synq understands. Unknown options are skipped on parse.
/// On build they are written in Linux's order (tcp_options_write):
/// MSS, SACK-permitted+TS (or NOP,NOP,TS / NOP,NOP,SACK-permitted), NOP+WS, NOP,NOP+SACK blocks.
struct TcpOptions {
  bool has_mss = false;
  uint16_t mss = 0;
  bool has_wscale = false;
  uint8_t wscale = 0;  // as received (may exceed 14; the engine clamps)
  bool sack_permitted = false;
  bool has_timestamps = false;
  uint32_t ts_val = 0;
  uint32_t ts_ecr = 0;
  uint8_t sack_count = 0;  // 0..4 blocks
  std::array<SackBlock, 4> sack{};
  friend bool operator==(const TcpOptions&, const TcpOptions&) = default;
};

struct TcpHeader {
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;  // raw 16-bit field, unscaled
  uint16_t urgent = 0;
  TcpOptions options{};
  bool has(uint8_t f) const { return (flags & f) == f; }
  friend bool operator==(const TcpHeader&, const TcpHeader&) = default;
};

/// A parsed segment: header plus a view of the payload (no copy).
struct TcpSegment {
  TcpHeader h;
  std::span<const uint8_t> payload;
  /// Sequence space occupied: payload + SYN + FIN.
  uint32_t seg_len() const {
    return static_cast<uint32_t>(payload.size()) + ((h.flags & tcp_flags::SYN) ? 1 : 0) +
           ((h.flags & tcp_flags::FIN) ? 1 : 0);
  }
};

}  // namespace synq::wire
