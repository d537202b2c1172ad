// TCP option kinds and lengths (RFC 9293 §3.2, RFC 7323, RFC 2018).
#pragma once

#include <cstdint>

namespace synq::wire::tcp_opt {

inline constexpr uint8_t EOL = 0;
inline constexpr uint8_t NOP = 1;
inline constexpr uint8_t MSS = 2;
inline constexpr uint8_t WSCALE = 3;
inline constexpr uint8_t SACK_PERM = 4;
inline constexpr uint8_t SACK = 5;
inline constexpr uint8_t TIMESTAMP = 8;

inline constexpr uint8_t LEN_MSS = 4;
inline constexpr uint8_t LEN_WSCALE = 3;
inline constexpr uint8_t LEN_SACK_PERM = 2;
inline constexpr uint8_t LEN_SACK_BASE = 2;
inline constexpr uint8_t LEN_SACK_PER_BLOCK = 8;
inline constexpr uint8_t LEN_TIMESTAMP = 10;
/// NOP NOP TS: what timestamps cost every segment (Linux TCPOLEN_TSTAMP_ALIGNED),
/// so the MSS and the SYN-ACK window are reduced by it.
inline constexpr uint8_t LEN_TIMESTAMP_ALIGNED = 12;

/// The TCP header's data offset is 4 bits of 32-bit words: 60 bytes at most,
/// 20 of them fixed.
inline constexpr size_t MAX_OPTION_SPACE = 40;
inline constexpr size_t BASE_HEADER = 20;

}  // namespace synq::wire::tcp_opt
