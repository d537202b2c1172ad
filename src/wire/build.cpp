// Building complete IPv4/IPv6 + TCP/UDP packets with valid checksums.
#include <cstring>

#include "wire/bytes.hpp"
#include "wire/tcp_option_kinds.hpp"
#include "wire/tcp_options_writer.hpp"
#include "wire/wire.hpp"

namespace synq::wire {
namespace {

using detail::store_be16;
using detail::store_be32;

constexpr uint16_t kIpv4DontFragment = 0x4000;
constexpr size_t kUdpHeader = 8;

/// Checks the sizes and writes the IP header for a transport segment of
/// `l4_len` bytes. Returns the total packet length, or 0 if it cannot be built.
size_t write_ip_header(std::span<uint8_t> out, const IpAddr& src, const IpAddr& dst,
                       uint8_t protocol, size_t l4_len, const IpParams& params) {
  if (src.version != dst.version) return 0;
  const size_t hl = ip_header_length(src.version);
  const size_t total = hl + l4_len;
  if (total > out.size()) return 0;
  uint8_t* p = out.data();
  if (src.is_v4()) {
    if (total > 0xffff) return 0;  // the total length field is 16 bits
    p[0] = 0x45;                   // version 4, IHL 5 (synq sends no IP options)
    p[1] = params.tos;
    store_be16(p + 2, static_cast<uint16_t>(total));
    store_be16(p + 4, params.ip_id);
    store_be16(p + 6, params.dont_fragment ? kIpv4DontFragment : 0);
    p[8] = params.ttl;
    p[9] = protocol;
    store_be16(p + 10, 0);
    std::memcpy(p + 12, src.bytes.data(), 4);
    std::memcpy(p + 16, dst.bytes.data(), 4);
    store_be16(p + 10, checksum_finish(checksum_add(0, std::span<const uint8_t>(p, hl))));
  } else {
    if (l4_len > 0xffff) return 0;  // no jumbograms
    // Version 6, traffic class = tos, flow label 0.
    p[0] = static_cast<uint8_t>(0x60 | params.tos >> 4);
    p[1] = static_cast<uint8_t>((params.tos & 0x0f) << 4);
    p[2] = 0;
    p[3] = 0;
    store_be16(p + 4, static_cast<uint16_t>(l4_len));
    p[6] = protocol;
    p[7] = params.ttl;
    std::memcpy(p + 8, src.bytes.data(), 16);
    std::memcpy(p + 24, dst.bytes.data(), 16);
  }
  return total;
}

/// The TCP/UDP checksum over `l4`, whose checksum field must be zero.
uint16_t transport_checksum(const IpAddr& src, const IpAddr& dst, uint8_t protocol,
                            std::span<const uint8_t> l4) {
  uint32_t sum = pseudo_header_sum(src, dst, protocol, uint32_t(l4.size()));
  return checksum_finish(checksum_add(sum, l4));
}

}  // namespace

size_t tcp_options_length(const TcpOptions& opts) {
  return detail::write_tcp_options(nullptr, opts);
}

size_t build_tcp(std::span<uint8_t> out, const IpAddr& src, const IpAddr& dst, const TcpHeader& h,
                 std::span<const uint8_t> payload, const IpParams& ip) {
  const size_t optlen = tcp_options_length(h.options);
  const size_t hlen = tcp_opt::BASE_HEADER + optlen;
  const size_t tcp_len = hlen + payload.size();
  const size_t total = write_ip_header(out, src, dst, ip_proto::TCP, tcp_len, ip);
  if (total == 0) return 0;
  uint8_t* t = out.data() + ip_header_length(src.version);
  // The payload first, with memmove: a caller may have placed it in `out`
  // already (zero-copy), and nothing else overlaps it.
  if (!payload.empty()) std::memmove(t + hlen, payload.data(), payload.size());
  store_be16(t, h.sport);
  store_be16(t + 2, h.dport);
  store_be32(t + 4, h.seq);
  store_be32(t + 8, h.ack);
  t[12] = static_cast<uint8_t>((hlen / 4) << 4);
  t[13] = h.flags;
  store_be16(t + 14, h.window);
  store_be16(t + 16, 0);
  store_be16(t + 18, h.urgent);
  detail::write_tcp_options(t + tcp_opt::BASE_HEADER, h.options);
  store_be16(t + 16, transport_checksum(src, dst, ip_proto::TCP, std::span(t, tcp_len)));
  return total;
}

size_t build_udp(std::span<uint8_t> out, const IpAddr& src, const IpAddr& dst, uint16_t sport,
                 uint16_t dport, std::span<const uint8_t> payload, const IpParams& ip) {
  const size_t udp_len = kUdpHeader + payload.size();
  if (udp_len > 0xffff) return 0;  // the UDP length field is 16 bits
  const size_t total = write_ip_header(out, src, dst, ip_proto::UDP, udp_len, ip);
  if (total == 0) return 0;
  uint8_t* u = out.data() + ip_header_length(src.version);
  if (!payload.empty()) std::memmove(u + kUdpHeader, payload.data(), payload.size());
  store_be16(u, sport);
  store_be16(u + 2, dport);
  store_be16(u + 4, static_cast<uint16_t>(udp_len));
  store_be16(u + 6, 0);
  uint16_t csum = transport_checksum(src, dst, ip_proto::UDP, std::span(u, udp_len));
  // RFC 768: a computed zero is sent as all ones; zero means "no checksum".
  store_be16(u + 6, csum == 0 ? 0xffff : csum);
  return total;
}

}  // namespace synq::wire
