// Parse and build IPv4, IPv6, TCP and UDP packets; Internet checksums.
// Parsing never reads out of bounds and returns a typed error for every kind
// of malformed input; the caller counts it (InHdrErrors/InErrs/InCsumErrors...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

#include "synq/address.hpp"
#include "wire/tcp_header.hpp"

namespace synq::wire {

enum class ParseError : uint8_t {
  too_short,          // fewer bytes than the header claims or needs
  bad_version,        // IP version nibble neither 4 nor 6
  bad_header_length,  // IPv4 IHL < 5, TCP data offset < 5, or beyond the packet; IPv6 extension
                      // header overrunning the payload; UDP length field < 8
  bad_total_length,   // IPv4 total length / IPv6 payload length inconsistent with the buffer;
                      // UDP length field beyond the IP payload
  bad_ip_checksum,    // IPv4 header checksum
  bad_checksum,       // TCP/UDP checksum (with pseudo-header)
  bad_option_length,  // TCP option with length < 2 or running past the header; bad MSS/WS/TS/SACK
                      // length
  fragment,           // IPv4 fragment or IPv6 fragment header (synq does not reassemble)
  unsupported,        // IPv6 extension header synq does not walk
};
std::string_view parse_error_name(ParseError e);

namespace ip_proto {
inline constexpr uint8_t TCP = 6;
inline constexpr uint8_t UDP = 17;
}  // namespace ip_proto

/// An IP packet's addressing and a view of its transport payload.
struct IpPacket {
  IpAddr src;
  IpAddr dst;
  uint8_t protocol = 0;  // IPv4 protocol / IPv6 next header (after extension headers)
  uint8_t ttl = 0;       // TTL / hop limit
  uint8_t tos = 0;       // TOS / traffic class (ECN bits are the low 2)
  std::span<const uint8_t> payload;
};

struct UdpDatagram {
  uint16_t sport = 0;
  uint16_t dport = 0;
  std::span<const uint8_t> payload;
};

/// Tiny expected-like result for the parsers.
template <class T>
struct Parsed {
  std::variant<T, ParseError> v;
  bool ok() const { return v.index() == 0; }
  const T& value() const { return std::get<0>(v); }
  ParseError error() const { return std::get<1>(v); }
};

/// Parses an IPv4 or IPv6 header (by the version nibble). Trailing bytes past
/// the IP total length (e.g. Ethernet padding) are ignored.
Parsed<IpPacket> parse_ip(std::span<const uint8_t> packet);
/// Parses the TCP header and options in ip.payload; verifies the checksum
/// with the pseudo-header unless verify_checksum is false.
Parsed<TcpSegment> parse_tcp(const IpPacket& ip, bool verify_checksum = true);
Parsed<UdpDatagram> parse_udp(const IpPacket& ip, bool verify_checksum = true);

/// RFC 1071 one's-complement sum (not yet complemented) over data, added to `sum`.
/// The sum is of big-endian 16-bit words; when chaining calls, every chunk but
/// the last must have an even length (an odd byte is padded as a word's high byte).
uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data);
/// Folds and complements a running sum into the 16-bit checksum field value.
uint16_t checksum_finish(uint32_t sum);
/// Pseudo-header sum for TCP/UDP over IPv4 or IPv6.
uint32_t pseudo_header_sum(const IpAddr& src, const IpAddr& dst, uint8_t protocol, uint32_t length);

/// Length in bytes of the options `build_tcp` writes for `opts` (multiple of 4, ≤ 40).
size_t tcp_options_length(const TcpOptions& opts);
inline size_t ip_header_length(IpVersion v) {
  return v == IpVersion::v4 ? 20 : 40;
}

struct IpParams {
  uint8_t ttl = 64;
  uint8_t tos = 0;
  uint16_t ip_id = 0;  // IPv4 identification
  bool dont_fragment = true;
};

/// Writes a complete IP+TCP packet into `out` with valid checksums.
/// Returns bytes written, or 0 if `out` is too small.
size_t build_tcp(std::span<uint8_t> out, const IpAddr& src, const IpAddr& dst, const TcpHeader& h,
                 std::span<const uint8_t> payload, const IpParams& ip = {});
/// Writes a complete IP+UDP packet into `out`. Returns bytes written or 0.
size_t build_udp(std::span<uint8_t> out, const IpAddr& src, const IpAddr& dst, uint16_t sport,
                 uint16_t dport, std::span<const uint8_t> payload, const IpParams& ip = {});

/// One line per TCP segment exactly as `tcpdump -n -S` prints it after the
/// timestamp, for traces and test diffs: "IP 10.0.0.2.40000 > 10.0.0.1.80:
/// Flags [S], seq 1000, win 65535, options [mss 1460,sackOK,TS val 1 ecr
/// 0,nop,wscale 7], length 0" ("IP6 " for IPv6).
std::string format_tcp(const IpPacket& ip, const TcpSegment& seg);
/// tcpdump's flag letters in its order (print-tcp.c tcp_flag_values:
/// F S R P . U E W): "S.", "FP.", "R"; "none" for no flag, as tcpdump says.
std::string tcp_flags_text(uint8_t flags);

}  // namespace synq::wire
