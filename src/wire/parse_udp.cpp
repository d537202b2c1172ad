// UDP header parsing (RFC 768; IPv6 rules from RFC 8200 §8.1).
#include "wire/bytes.hpp"
#include "wire/parse_result.hpp"
#include "wire/wire.hpp"

namespace synq::wire {

using detail::fail;
using detail::load_be16;

Parsed<UdpDatagram> parse_udp(const IpPacket& ip, bool verify_checksum) {
  constexpr size_t kHeader = 8;
  const auto data = ip.payload;
  if (data.size() < kHeader) return fail<UdpDatagram>(ParseError::too_short);
  const size_t ulen = load_be16(&data[4]);
  // Linux (__udp4_lib_rcv) drops "short packets": a length field below the
  // header size or beyond the IP payload. Bytes past the UDP length are
  // trimmed, as Linux does.
  if (ulen < kHeader) return fail<UdpDatagram>(ParseError::bad_header_length);
  if (ulen > data.size()) return fail<UdpDatagram>(ParseError::bad_total_length);
  const auto dgram = data.first(ulen);

  if (verify_checksum) {
    const uint16_t field = load_be16(&dgram[6]);
    if (field == 0) {
      // RFC 768: zero means "no checksum" over IPv4. RFC 8200 §8.1: over
      // IPv6 the checksum is mandatory and a zero one must be discarded.
      if (!ip.src.is_v4()) return fail<UdpDatagram>(ParseError::bad_checksum);
    } else {
      uint32_t sum = pseudo_header_sum(ip.src, ip.dst, ip_proto::UDP, uint32_t(ulen));
      if (checksum_finish(checksum_add(sum, dgram)) != 0)
        return fail<UdpDatagram>(ParseError::bad_checksum);
    }
  }

  UdpDatagram d;
  d.sport = load_be16(&dgram[0]);
  d.dport = load_be16(&dgram[2]);
  d.payload = dgram.subspan(kHeader);
  return {d};
}

}  // namespace synq::wire
