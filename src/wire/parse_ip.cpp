// IPv4 (RFC 791) and IPv6 (RFC 8200) header parsing.
//
// The checks and their order follow Linux's ip_rcv_core()/ipv6_rcv() so the
// caller's counters match a kernel's: IPv4 IHL, header checksum, then total
// length; fragments are refused because synq does not reassemble.
#include <cstring>
#include <optional>

#include "wire/bytes.hpp"
#include "wire/parse_result.hpp"
#include "wire/wire.hpp"

namespace synq::wire {
namespace {

using detail::fail;
using detail::load_be16;

constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kIpv6Header = 40;

// IPv4 flags/fragment-offset field: MF bit and the 13-bit offset. DF (0x4000)
// and the reserved bit are irrelevant to reassembly.
constexpr uint16_t kIpv4MoreFragments = 0x2000;
constexpr uint16_t kIpv4FragOffsetMask = 0x1fff;

// IPv6 next-header values of the extension headers (RFC 8200 §4, RFC 7045).
namespace ipv6_nh {
constexpr uint8_t HopByHop = 0;
constexpr uint8_t Routing = 43;
constexpr uint8_t Fragment = 44;
constexpr uint8_t Esp = 50;
constexpr uint8_t Auth = 51;
constexpr uint8_t DestOpts = 60;
constexpr uint8_t Mobility = 135;
constexpr uint8_t Hip = 139;
constexpr uint8_t Shim6 = 140;
constexpr uint8_t Experimental1 = 253;
constexpr uint8_t Experimental2 = 254;
}  // namespace ipv6_nh

IpAddr address_at(IpVersion v, const uint8_t* p) {
  IpAddr a;
  a.version = v;
  std::memcpy(a.bytes.data(), p, v == IpVersion::v4 ? 4 : 16);
  return a;
}

Parsed<IpPacket> parse_ipv4(std::span<const uint8_t> pkt) {
  if (pkt.size() < kIpv4MinHeader) return fail<IpPacket>(ParseError::too_short);
  const size_t ihl = size_t(pkt[0] & 0x0f) * 4;
  if (ihl < kIpv4MinHeader) return fail<IpPacket>(ParseError::bad_header_length);
  if (ihl > pkt.size()) return fail<IpPacket>(ParseError::too_short);
  // A correct header sums to 0xffff including its checksum field.
  if (checksum_finish(checksum_add(0, pkt.first(ihl))) != 0)
    return fail<IpPacket>(ParseError::bad_ip_checksum);
  const size_t total = load_be16(&pkt[2]);
  // Linux counts total > buffer as InTruncatedPkts and total < IHL as
  // InHdrErrors; both are an inconsistent total length here.
  if (total > pkt.size() || total < ihl) return fail<IpPacket>(ParseError::bad_total_length);
  const uint16_t frag = load_be16(&pkt[6]);
  if (frag & (kIpv4MoreFragments | kIpv4FragOffsetMask))
    return fail<IpPacket>(ParseError::fragment);

  IpPacket ip;
  ip.tos = pkt[1];
  ip.ttl = pkt[8];
  ip.protocol = pkt[9];
  ip.src = address_at(IpVersion::v4, &pkt[12]);
  ip.dst = address_at(IpVersion::v4, &pkt[16]);
  // IPv4 options (bytes 20..IHL) are covered by the checksum but otherwise
  // skipped: synq honours none of them (no source routing, no record-route).
  ip.payload = pkt.subspan(ihl, total - ihl);
  return {ip};
}

/// Walks the TLV options of a Hop-by-Hop or Destination Options header
/// (RFC 8200 §4.2). Pad1/PadN are skipped; any other option is one synq does
/// not know, and an unknown option whose action bits (top two) are not 00
/// requires the packet to be discarded.
std::optional<ParseError> check_ipv6_options(std::span<const uint8_t> hdr) {
  size_t i = 2;
  while (i < hdr.size()) {
    const uint8_t type = hdr[i];
    if (type == 0) {  // Pad1: a single byte, no length
      ++i;
      continue;
    }
    if (i + 2 > hdr.size()) return ParseError::bad_header_length;
    const size_t len = size_t(2) + hdr[i + 1];
    if (len > hdr.size() - i) return ParseError::bad_header_length;
    if (type != 1 /* PadN */ && (type >> 6) != 0) return ParseError::unsupported;
    i += len;
  }
  return std::nullopt;
}

Parsed<IpPacket> parse_ipv6(std::span<const uint8_t> pkt) {
  if (pkt.size() < kIpv6Header) return fail<IpPacket>(ParseError::too_short);
  const size_t payload_len = load_be16(&pkt[4]);
  // Jumbograms (payload length 0 + Jumbo option) are not supported; a zero
  // payload length is simply an empty payload, and the Jumbo option (type
  // 0xC2, action bits 11) is refused by check_ipv6_options.
  if (payload_len > pkt.size() - kIpv6Header) return fail<IpPacket>(ParseError::bad_total_length);

  IpPacket ip;
  ip.tos = static_cast<uint8_t>((pkt[0] & 0x0f) << 4 | pkt[1] >> 4);
  ip.ttl = pkt[7];
  ip.src = address_at(IpVersion::v6, &pkt[8]);
  ip.dst = address_at(IpVersion::v6, &pkt[24]);

  uint8_t next = pkt[6];
  std::span<const uint8_t> rest = pkt.subspan(kIpv6Header, payload_len);
  // Every extension header is at least 8 bytes, so this loop is bounded by
  // payload_len / 8 iterations.
  for (bool first = true;; first = false) {
    switch (next) {
      case ipv6_nh::HopByHop:
      case ipv6_nh::DestOpts:
      case ipv6_nh::Routing: {
        // RFC 8200 §4.3: Hop-by-Hop may only appear right after the header.
        if (next == ipv6_nh::HopByHop && !first) return fail<IpPacket>(ParseError::unsupported);
        if (rest.size() < 8) return fail<IpPacket>(ParseError::bad_header_length);
        const size_t len = (size_t(rest[1]) + 1) * 8;
        if (len > rest.size()) return fail<IpPacket>(ParseError::bad_header_length);
        const auto hdr = rest.first(len);
        if (next == ipv6_nh::Routing) {
          // RFC 8200 §4.4: with Segments Left = 0 the header is ignored; with
          // segments left the packet must be forwarded, which a host does not do.
          if (hdr[3] != 0) return fail<IpPacket>(ParseError::unsupported);
        } else if (auto err = check_ipv6_options(hdr)) {
          return fail<IpPacket>(*err);
        }
        next = hdr[0];
        rest = rest.subspan(len);
        break;
      }
      case ipv6_nh::Fragment:
        return fail<IpPacket>(ParseError::fragment);
      case ipv6_nh::Auth:
      case ipv6_nh::Esp:
      case ipv6_nh::Mobility:
      case ipv6_nh::Hip:
      case ipv6_nh::Shim6:
      case ipv6_nh::Experimental1:
      case ipv6_nh::Experimental2:
        return fail<IpPacket>(ParseError::unsupported);
      default:  // an upper-layer protocol (or No Next Header, 59)
        ip.protocol = next;
        ip.payload = rest;
        return {ip};
    }
  }
}

}  // namespace

Parsed<IpPacket> parse_ip(std::span<const uint8_t> packet) {
  if (packet.empty()) return fail<IpPacket>(ParseError::too_short);
  switch (packet[0] >> 4) {
    case 4:
      return parse_ipv4(packet);
    case 6:
      return parse_ipv6(packet);
    default:
      return fail<IpPacket>(ParseError::bad_version);
  }
}

}  // namespace synq::wire
