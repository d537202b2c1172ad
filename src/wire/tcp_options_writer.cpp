// TCP option serialisation in exactly the order and padding of Linux's
// tcp_options_write() (net/ipv4/tcp_output.c), so synq's packets are
// byte-identical to a kernel's:
//
//   MSS                        02 04 mm mm
//   SACK-permitted + TS        04 02 08 0a tsval tsecr   (TS and SACK-perm together)
//   or NOP NOP + TS            01 01 08 0a tsval tsecr   (TS without SACK-perm)
//   NOP NOP + SACK-permitted   01 01 04 02               (SACK-perm without TS)
//   NOP + window scale         01 03 03 ws
//   NOP NOP + SACK blocks      01 01 05 len blocks...
//
// Every item is 4-byte aligned, so the total is a multiple of 4 with no
// trailing EOL padding. SACK blocks go last and only as many as fit in the
// 40-byte option space (tcp_established_options(): none unless at least one
// block fits; the rest are dropped).
#include "wire/tcp_options_writer.hpp"

#include <algorithm>

#include "wire/bytes.hpp"
#include "wire/tcp_option_kinds.hpp"

namespace synq::wire::detail {
namespace {

/// Writes 4 bytes at `out + len` if writing, and advances len.
inline void put4(uint8_t* out, size_t& len, uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  if (out) {
    out[len] = a, out[len + 1] = b, out[len + 2] = c, out[len + 3] = d;
  }
  len += 4;
}

inline void put32(uint8_t* out, size_t& len, uint32_t v) {
  if (out) store_be32(out + len, v);
  len += 4;
}

}  // namespace

size_t write_tcp_options(uint8_t* out, const TcpOptions& o) {
  using namespace tcp_opt;
  size_t len = 0;
  if (o.has_mss) {
    put4(out, len, MSS, LEN_MSS, static_cast<uint8_t>(o.mss >> 8), static_cast<uint8_t>(o.mss));
  }
  if (o.has_timestamps) {
    if (o.sack_permitted) {
      put4(out, len, SACK_PERM, LEN_SACK_PERM, TIMESTAMP, LEN_TIMESTAMP);
    } else {
      put4(out, len, NOP, NOP, TIMESTAMP, LEN_TIMESTAMP);
    }
    put32(out, len, o.ts_val);
    put32(out, len, o.ts_ecr);
  } else if (o.sack_permitted) {
    put4(out, len, NOP, NOP, SACK_PERM, LEN_SACK_PERM);
  }
  if (o.has_wscale) put4(out, len, NOP, WSCALE, LEN_WSCALE, o.wscale);
  if (o.sack_count > 0) {
    // Aligned SACK base (NOP NOP kind len) plus at least one block must fit.
    const size_t remaining = MAX_OPTION_SPACE - len;
    if (remaining >= 4 + LEN_SACK_PER_BLOCK) {
      const size_t n =
          std::min<size_t>({o.sack_count, o.sack.size(), (remaining - 4) / LEN_SACK_PER_BLOCK});
      put4(out, len, NOP, NOP, SACK, static_cast<uint8_t>(LEN_SACK_BASE + n * LEN_SACK_PER_BLOCK));
      for (size_t b = 0; b < n; ++b) {
        put32(out, len, o.sack[b].left);
        put32(out, len, o.sack[b].right);
      }
    }
  }
  return len;
}

}  // namespace synq::wire::detail
