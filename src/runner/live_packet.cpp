#include "runner/live_packet.hpp"

namespace synq::runner {

namespace {

uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

}  // namespace

std::vector<script::PacketOption> parse_ordered_options(std::span<const uint8_t> b) {
  using K = script::PacketOption::Kind;
  std::vector<script::PacketOption> out;
  size_t i = 0;
  while (i < b.size()) {
    script::PacketOption o;
    const uint8_t kind = b[i];
    if (kind == 0) {  // EOL: the rest is padding
      o.kind = K::eol;
      out.push_back(o);
      break;
    }
    if (kind == 1) {
      o.kind = K::nop;
      out.push_back(o);
      ++i;
      continue;
    }
    if (i + 1 >= b.size()) break;
    const size_t len = b[i + 1];
    if (len < 2 || i + len > b.size()) break;
    const uint8_t* d = b.data() + i + 2;
    switch (kind) {
      case 2:
        if (len != 4) return out;
        o.kind = K::mss;
        o.value = uint32_t(d[0]) << 8 | d[1];
        out.push_back(o);
        break;
      case 3:
        if (len != 3) return out;
        o.kind = K::wscale;
        o.value = d[0];
        out.push_back(o);
        break;
      case 4:
        o.kind = K::sack_permitted;
        out.push_back(o);
        break;
      case 5:
        o.kind = K::sack;
        for (size_t k = 0; k + 8 <= len - 2; k += 8)
          o.sack.push_back(wire::SackBlock{be32(d + k), be32(d + k + 4)});
        out.push_back(o);
        break;
      case 8:
        if (len != 10) return out;
        o.kind = K::timestamp;
        o.ts_val = be32(d);
        o.ts_ecr = be32(d + 4);
        out.push_back(o);
        break;
      default:  // an option the dialect cannot write: not shown, not compared
        break;
    }
    i += len;
  }
  return out;
}

std::vector<uint8_t> ordered_option_bytes(const std::vector<script::PacketOption>& options,
                                          uint32_t seq_offset, std::optional<uint32_t> ts_ecr) {
  using K = script::PacketOption::Kind;
  std::vector<uint8_t> b;
  auto be32 = [&b](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<uint8_t>(v >> shift));
  };
  for (const auto& o : options) {
    switch (o.kind) {
      case K::nop:
        b.push_back(1);
        break;
      case K::eol:
        b.push_back(0);
        break;
      case K::mss:
        b.insert(b.end(),
                 {2, 4, static_cast<uint8_t>(o.value >> 8), static_cast<uint8_t>(o.value)});
        break;
      case K::wscale:
        b.insert(b.end(), {3, 3, static_cast<uint8_t>(o.value)});
        break;
      case K::sack_permitted:
        b.insert(b.end(), {4, 2});
        break;
      case K::sack:
        b.insert(b.end(), {5, static_cast<uint8_t>(2 + 8 * o.sack.size())});
        for (const auto& blk : o.sack) {
          be32(blk.left + seq_offset);
          be32(blk.right + seq_offset);
        }
        break;
      case K::timestamp:
        b.insert(b.end(), {8, 10});
        be32(o.ts_val);
        be32(ts_ecr.value_or(o.ts_ecr));
        break;
    }
  }
  while (b.size() % 4 != 0) b.push_back(0);
  return b;
}

std::optional<LiveTcp> parse_live_tcp(std::span<const uint8_t> ip_packet) {
  auto ip = wire::parse_ip(ip_packet);
  if (!ip.ok() || ip.value().protocol != wire::ip_proto::TCP) return std::nullopt;
  // Checksums are not verified: a real kernel's outbound packets may leave
  // them to (absent) offload hardware.
  auto seg = wire::parse_tcp(ip.value(), /*verify_checksum=*/false);
  if (!seg.ok()) return std::nullopt;
  LiveTcp p{ip.value(), seg.value(), {}};
  const auto& tcp = ip.value().payload;
  const size_t header_len = size_t(tcp[12] >> 4) * 4;
  if (header_len > 20 && header_len <= tcp.size())
    p.options = parse_ordered_options(tcp.subspan(20, header_len - 20));
  return p;
}

bool ScriptConn::owns(const LiveTcp& p) const {
  if (p.seg.h.dport != remote_port) return false;
  return !local_port_known || p.seg.h.sport == local_port;
}

script::Packet ScriptConn::to_script(const LiveTcp& p, bool show_ports) const {
  script::Packet s;
  s.direction = script::Direction::outbound;
  if (show_ports) {
    s.sport = p.seg.h.sport;
    s.dport = p.seg.h.dport;
  }
  const auto& h = p.seg.h;
  s.flags = h.flags;
  s.seq_start = h.seq - local_offset();
  s.payload_len = static_cast<uint16_t>(p.seg.payload.size());
  s.seq_end = s.seq_start + s.payload_len;
  if (h.flags & wire::tcp_flags::ACK) s.ack = h.ack;  // the script's own ISN is literal
  s.window = h.window;
  if (h.flags & wire::tcp_flags::URG) s.urgent = h.urgent;
  s.options = p.options;
  for (auto& o : s.options)
    if (o.kind == script::PacketOption::Kind::timestamp && ts_anchored)
      o.ts_val = first_script_ts + (o.ts_val - first_live_ts);
  return s;
}

void ScriptConn::learn_ts(const script::Packet& expected, const LiveTcp& p) {
  const script::PacketOption* want = nullptr;
  const script::PacketOption* got = nullptr;
  for (const auto& o : expected.options)
    if (o.kind == script::PacketOption::Kind::timestamp) want = &o;
  for (const auto& o : p.options)
    if (o.kind == script::PacketOption::Kind::timestamp) got = &o;
  if (!want || !got) return;
  ts_script_to_live[want->ts_val] = got->ts_val;
  if (!ts_anchored) {
    ts_anchored = true;
    first_script_ts = want->ts_val;
    first_live_ts = got->ts_val;
  }
}

std::optional<uint32_t> ScriptConn::live_ts_ecr(uint32_t script_ecr) const {
  if (auto it = ts_script_to_live.find(script_ecr); it != ts_script_to_live.end())
    return it->second;
  // Between two known values: the kernel's clock ticks like the script's (1 ms).
  if (ts_anchored) return script_ecr - first_script_ts + first_live_ts;
  return std::nullopt;
}

std::string first_mismatch(const script::Packet& e, const script::Packet& a, bool strict) {
  if (e.sport && (e.sport != a.sport || e.dport != a.dport)) return "ports";
  if (e.flags != a.flags) return "flags";
  if (e.seq_start != a.seq_start) return "seq";
  if (e.payload_len != a.payload_len) return "length";
  if ((e.flags & wire::tcp_flags::ACK) && e.ack && e.ack != a.ack) return "ack";
  if (e.window ? e.window != a.window : strict) return "win";
  if (e.urgent ? e.urgent != a.urgent.value_or(0) : (strict && a.urgent.value_or(0) != 0))
    return "urg";
  if (e.any_options) return {};
  if (e.options.size() != a.options.size()) return "options";
  using K = script::PacketOption::Kind;
  for (size_t i = 0; i < e.options.size(); ++i) {
    const auto& x = e.options[i];
    const auto& y = a.options[i];
    if (x.kind != y.kind) return "options";
    switch (x.kind) {
      case K::mss:
      case K::wscale:
        if (x.value != y.value) return "options";
        break;
      case K::sack:
        if (x.sack != y.sack) return "options";
        break;
      case K::timestamp:
        // packetdrill checks TS values only with --tcp_ts_tick_usecs; the
        // kernel's clock is its own. --strict compares them (mapped).
        if (strict && x.ts_val != y.ts_val) return "TS val";
        if (strict && x.ts_ecr != y.ts_ecr) return "TS ecr";
        break;
      default:
        break;
    }
  }
  return {};
}

}  // namespace synq::runner
