// libFuzzer target for src/wire: parse_ip → parse_tcp/parse_udp → format_tcp,
// then rebuild the parsed segment and check that it parses back to the same
// thing. Not part of the CMake build; see fuzz/README.md.
//
// Input layout: one control byte, then the packet.
//   bit 0: recompute the IPv4 header checksum before parsing
//   bit 1: recompute the TCP/UDP checksum before parsing
// Without the fix-ups almost every mutation dies at a checksum, so the
// fuzzer would never reach option parsing, formatting or the builders.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "wire/wire.hpp"

using namespace synq::wire;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "wire_fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

void fix_ipv4_checksum(std::vector<uint8_t>& pkt) {
  if (pkt.size() < 20 || (pkt[0] >> 4) != 4) return;
  const size_t ihl = size_t(pkt[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > pkt.size()) return;
  pkt[10] = pkt[11] = 0;
  const uint16_t c = checksum_finish(checksum_add(0, std::span(pkt).first(ihl)));
  pkt[10] = uint8_t(c >> 8);
  pkt[11] = uint8_t(c);
}

/// Recomputes the transport checksum in place (the payload view aliases `pkt`).
void fix_l4_checksum(std::vector<uint8_t>& pkt) {
  auto ip = parse_ip(pkt);
  if (!ip.ok()) return;
  const auto l4 = ip.value().payload;
  size_t field;
  uint8_t proto = ip.value().protocol;
  if (proto == ip_proto::TCP && l4.size() >= 20) {
    field = 16;
  } else if (proto == ip_proto::UDP && l4.size() >= 8) {
    field = 6;
  } else {
    return;
  }
  size_t len = l4.size();
  if (proto == ip_proto::UDP) {
    const size_t ulen = size_t(l4[4]) << 8 | l4[5];
    if (ulen < 8 || ulen > len) return;
    len = ulen;
  }
  uint8_t* p = pkt.data() + (l4.data() - pkt.data());
  p[field] = p[field + 1] = 0;
  uint32_t sum = pseudo_header_sum(ip.value().src, ip.value().dst, proto, uint32_t(len));
  const uint16_t c = checksum_finish(checksum_add(sum, std::span<const uint8_t>(p, len)));
  p[field] = uint8_t(c >> 8);
  p[field + 1] = uint8_t(c);
}

void roundtrip_tcp(const IpPacket& ip, const TcpSegment& seg) {
  static std::vector<uint8_t> out(70000);
  IpParams params;
  params.ttl = ip.ttl;
  params.tos = ip.tos;
  const size_t n = build_tcp(out, ip.src, ip.dst, seg.h, seg.payload, params);
  if (n == 0) {
    // Only legitimate when the rebuilt packet would exceed the 16-bit length.
    check(20 + tcp_options_length(seg.h.options) + seg.payload.size() > 0xffff - 20,
          "build_tcp refused a packet that fits");
    return;
  }
  const auto pkt = std::span<const uint8_t>(out.data(), n);
  auto ip2 = parse_ip(pkt);
  check(ip2.ok(), "rebuilt IP packet does not parse");
  check(ip2.value().src == ip.src && ip2.value().dst == ip.dst, "addresses changed");
  check(ip2.value().ttl == ip.ttl && ip2.value().tos == ip.tos, "ttl/tos changed");
  auto seg2 = parse_tcp(ip2.value());
  check(seg2.ok(), "rebuilt TCP segment does not parse (or bad checksum)");
  const TcpHeader& a = seg.h;
  const TcpHeader& b = seg2.value().h;
  check(a.sport == b.sport && a.dport == b.dport && a.seq == b.seq && a.ack == b.ack &&
            a.flags == b.flags && a.window == b.window && a.urgent == b.urgent,
        "fixed header fields changed");
  const TcpOptions& oa = a.options;
  const TcpOptions& ob = b.options;
  check(oa.has_mss == ob.has_mss && oa.mss == ob.mss && oa.has_wscale == ob.has_wscale &&
            oa.wscale == ob.wscale && oa.sack_permitted == ob.sack_permitted &&
            oa.has_timestamps == ob.has_timestamps && oa.ts_val == ob.ts_val &&
            oa.ts_ecr == ob.ts_ecr,
        "options changed");
  check(ob.sack_count <= oa.sack_count, "SACK blocks appeared");
  for (size_t i = 0; i < ob.sack_count; ++i) check(oa.sack[i] == ob.sack[i], "SACK block changed");
  check(size_t(pkt[ip_header_length(ip.src.version) + 12] >> 4) * 4 == 20 + tcp_options_length(oa),
        "data offset disagrees with tcp_options_length");
  check(seg2.value().payload.size() == seg.payload.size() &&
            std::memcmp(seg2.value().payload.data(), seg.payload.data(), seg.payload.size()) == 0,
        "payload changed");
  // Building the re-parsed header again is a fixed point.
  static std::vector<uint8_t> again(70000);
  const size_t m = build_tcp(again, ip.src, ip.dst, b, seg2.value().payload, params);
  check(m == n && std::memcmp(again.data(), out.data(), n) == 0, "build is not idempotent");
  (void)format_tcp(ip2.value(), seg2.value());
}

void roundtrip_udp(const IpPacket& ip, const UdpDatagram& d) {
  static std::vector<uint8_t> out(70000);
  const size_t n = build_udp(out, ip.src, ip.dst, d.sport, d.dport, d.payload);
  if (n == 0) return;
  auto ip2 = parse_ip(std::span<const uint8_t>(out.data(), n));
  check(ip2.ok(), "rebuilt UDP packet does not parse");
  auto d2 = parse_udp(ip2.value());
  check(d2.ok(), "rebuilt UDP datagram does not parse");
  check(d2.value().sport == d.sport && d2.value().dport == d.dport &&
            d2.value().payload.size() == d.payload.size() &&
            std::memcmp(d2.value().payload.data(), d.payload.data(), d.payload.size()) == 0,
        "UDP round trip changed the datagram");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t control = data[0];
  // An exact-size copy, so ASan catches any read past the packet.
  std::vector<uint8_t> pkt(data + 1, data + size);
  if (control & 1) fix_ipv4_checksum(pkt);
  if (control & 2) fix_l4_checksum(pkt);

  auto ip = parse_ip(pkt);
  if (!ip.ok()) {
    check(!parse_error_name(ip.error()).empty(), "unnamed error");
    return 0;
  }
  const IpPacket& p = ip.value();
  check(p.payload.data() >= pkt.data() &&
            p.payload.data() + p.payload.size() <= pkt.data() + pkt.size(),
        "IP payload view outside the packet");

  // Every transport parser must be safe on every payload, whatever the protocol says.
  auto tcp_checked = parse_tcp(p, true);
  auto tcp = parse_tcp(p, false);
  auto udp = parse_udp(p, false);
  (void)parse_udp(p, true);
  if (tcp_checked.ok()) check(tcp.ok(), "parse_tcp accepts only with checksum verification");
  if (tcp.ok()) {
    const auto& s = tcp.value();
    check(s.payload.data() >= p.payload.data() &&
              s.payload.data() + s.payload.size() <= p.payload.data() + p.payload.size(),
          "TCP payload view outside the IP payload");
    (void)format_tcp(p, s);
    IpPacket bare = p;  // no packet bytes: options rendered from the parsed values
    bare.payload = {};
    (void)format_tcp(bare, s);
    if (p.protocol == ip_proto::TCP) roundtrip_tcp(p, s);
  }
  if (udp.ok() && p.protocol == ip_proto::UDP) roundtrip_udp(p, udp.value());
  return 0;
}
