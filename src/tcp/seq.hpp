// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4).
#pragma once

#include <cstdint>

namespace synq::tcp {

inline constexpr bool seq_lt(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) < 0;
}
inline constexpr bool seq_le(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) <= 0;
}
inline constexpr bool seq_gt(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) > 0;
}
inline constexpr bool seq_ge(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) >= 0;
}
/// a <= x < b, modulo 2^32.
inline constexpr bool seq_in(uint32_t x, uint32_t a, uint32_t b) {
  return seq_le(a, x) && seq_lt(x, b);
}
inline constexpr uint32_t seq_max(uint32_t a, uint32_t b) {
  return seq_gt(a, b) ? a : b;
}
inline constexpr uint32_t seq_min(uint32_t a, uint32_t b) {
  return seq_lt(a, b) ? a : b;
}

/// Does the segment [seq, end_seq) touch the window [s_win, e_win]? RFC 9293
/// §3.10.7.4 acceptability as Linux's tcp_in_window checks it for a request
/// (BSD's tcp_input trims the same way).
inline constexpr bool seq_touches_window(uint32_t seq, uint32_t end_seq, uint32_t s_win,
                                         uint32_t e_win) {
  if (seq == s_win) return true;
  if (seq_gt(end_seq, s_win) && seq_lt(seq, e_win)) return true;
  return seq == e_win && seq == end_seq;
}

}  // namespace synq::tcp
