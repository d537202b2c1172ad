// TCP header and option parsing (RFC 9293 §3.1-3.2, RFC 7323, RFC 2018).
#include <optional>

#include "wire/bytes.hpp"
#include "wire/parse_result.hpp"
#include "wire/tcp_option_kinds.hpp"
#include "wire/wire.hpp"

namespace synq::wire {
namespace {

using detail::fail;
using detail::load_be16;
using detail::load_be32;

/// Parses the option bytes between the fixed header and the data offset.
///
/// Strictness, and how it differs from Linux: Linux's tcp_parse_options()
/// silently stops parsing at an option whose length is < 2 or runs past the
/// header, and silently ignores a known option with the wrong length, then
/// processes the segment anyway. synq rejects all of these with
/// bad_option_length instead, because (1) an option running past the header
/// leaves every later option ambiguous and RFC 9293 §3.1 requires options to
/// fit the header, (2) no conforming stack emits a wrong-length MSS/WS/SACK/TS
/// (RFC 9293 §3.2 makes their lengths fixed), so such segments are corrupt or
/// hostile, and (3) one typed, countable error is easier to reason about
/// than a half-parsed option set. The stack counts the drop (InErrs).
/// Unknown kinds are skipped by their length; a repeated option overwrites
/// the earlier one (last wins), which is also what Linux does.
std::optional<ParseError> parse_options(std::span<const uint8_t> o, TcpOptions& out) {
  size_t i = 0;
  while (i < o.size()) {
    const uint8_t kind = o[i];
    if (kind == tcp_opt::EOL) break;  // the rest is padding
    if (kind == tcp_opt::NOP) {
      ++i;
      continue;
    }
    if (o.size() - i < 2) return ParseError::bad_option_length;  // no room for the length byte
    const size_t len = o[i + 1];
    if (len < 2 || len > o.size() - i) return ParseError::bad_option_length;
    const uint8_t* body = &o[i + 2];
    switch (kind) {
      case tcp_opt::MSS:
        if (len != tcp_opt::LEN_MSS) return ParseError::bad_option_length;
        out.has_mss = true;
        out.mss = load_be16(body);
        break;
      case tcp_opt::WSCALE:
        if (len != tcp_opt::LEN_WSCALE) return ParseError::bad_option_length;
        out.has_wscale = true;
        out.wscale = body[0];
        break;
      case tcp_opt::SACK_PERM:
        if (len != tcp_opt::LEN_SACK_PERM) return ParseError::bad_option_length;
        out.sack_permitted = true;
        break;
      case tcp_opt::TIMESTAMP:
        if (len != tcp_opt::LEN_TIMESTAMP) return ParseError::bad_option_length;
        out.has_timestamps = true;
        out.ts_val = load_be32(body);
        out.ts_ecr = load_be32(body + 4);
        break;
      case tcp_opt::SACK: {
        // 1..4 blocks: 4 is the most that fits in 40 option bytes (2 + 4*8 = 34).
        const size_t data = len - tcp_opt::LEN_SACK_BASE;
        if (data == 0 || data % tcp_opt::LEN_SACK_PER_BLOCK != 0)
          return ParseError::bad_option_length;
        const size_t n = data / tcp_opt::LEN_SACK_PER_BLOCK;
        out.sack = {};
        out.sack_count = static_cast<uint8_t>(n);
        for (size_t b = 0; b < n; ++b) {
          out.sack[b].left = load_be32(body + b * 8);
          out.sack[b].right = load_be32(body + b * 8 + 4);
        }
        break;
      }
      default:  // unknown (MD5, TCP-AO, MPTCP, TFO, experimental...): skip
        break;
    }
    i += len;
  }
  return std::nullopt;
}

}  // namespace

Parsed<TcpSegment> parse_tcp(const IpPacket& ip, bool verify_checksum) {
  const auto seg = ip.payload;
  if (seg.size() < tcp_opt::BASE_HEADER) return fail<TcpSegment>(ParseError::too_short);
  const size_t doff = size_t(seg[12] >> 4) * 4;
  if (doff < tcp_opt::BASE_HEADER || doff > seg.size())
    return fail<TcpSegment>(ParseError::bad_header_length);
  // Checksum before options, as Linux does (tcp_v4_rcv checks the checksum;
  // options are parsed later): a corrupted option is a checksum error.
  if (verify_checksum) {
    uint32_t sum = pseudo_header_sum(ip.src, ip.dst, ip_proto::TCP, uint32_t(seg.size()));
    if (checksum_finish(checksum_add(sum, seg)) != 0)
      return fail<TcpSegment>(ParseError::bad_checksum);
  }

  TcpSegment s;
  TcpHeader& h = s.h;
  h.sport = load_be16(&seg[0]);
  h.dport = load_be16(&seg[2]);
  h.seq = load_be32(&seg[4]);
  h.ack = load_be32(&seg[8]);
  // Byte 13 holds CWR..FIN; the low nibble of byte 12 (reserved + AE) is ignored.
  h.flags = seg[13];
  h.window = load_be16(&seg[14]);
  h.urgent = load_be16(&seg[18]);
  if (auto err =
          parse_options(seg.subspan(tcp_opt::BASE_HEADER, doff - tcp_opt::BASE_HEADER), h.options))
    return fail<TcpSegment>(*err);
  s.payload = seg.subspan(doff);
  return {s};
}

}  // namespace synq::wire
