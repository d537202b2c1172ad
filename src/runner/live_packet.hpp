// Packets between the wire and the script's syntax: parse what a target sent
// (keeping TCP options in wire order, NOPs included, as packetdrill compares
// them), and the per-connection numbers that map live sequence numbers and
// timestamps to the script's relative ones (packetdrill's run_packet.c rules).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "script/ast.hpp"
#include "wire/wire.hpp"

namespace synq::runner {

/// A TCP/IPv4-or-6 packet a target sent, parsed.
struct LiveTcp {
  wire::IpPacket ip;
  wire::TcpSegment seg;
  std::vector<script::PacketOption> options;  // in wire order
};

/// Parses an outbound IP packet; nothing if it is not a well-formed TCP segment.
std::optional<LiveTcp> parse_live_tcp(std::span<const uint8_t> ip_packet);

/// The TCP options bytes as script options, in order. Unknown kinds are
/// skipped; a malformed list stops the walk.
std::vector<script::PacketOption> parse_ordered_options(std::span<const uint8_t> bytes);

/// The options in the script's order, as bytes (NOPs and EOLs where written),
/// padded with EOL to a multiple of 4 — packetdrill sends them as written.
/// `seq_offset` is added to SACK block edges; `ts_ecr` replaces a TS ecr.
std::vector<uint8_t> ordered_option_bytes(const std::vector<script::PacketOption>& options,
                                          uint32_t seq_offset, std::optional<uint32_t> ts_ecr);

/// One connection of a script (packetdrill's `struct socket`): its ports and
/// how its live numbers map to the script's.
struct ScriptConn {
  bool explicit_ports = false;  // named by `sport>dport` in the script
  uint16_t local_port = 0;      // the target's side
  uint16_t remote_port = 0;     // the script's side
  bool local_port_known = false;
  // The target's ISN as the script writes it (usually 0) and as it really is.
  // Inbound sequence numbers are sent as written (the script's own ISN is
  // literal), so only the target's side needs a map.
  uint32_t script_local_isn = 0;
  uint32_t live_local_isn = 0;
  // TCP timestamps: the first outbound TSval anchors the script's values;
  // each script TSval seen is remembered to translate later echo replies.
  bool ts_anchored = false;
  uint32_t first_script_ts = 0;
  uint32_t first_live_ts = 0;
  std::unordered_map<uint32_t, uint32_t> ts_script_to_live;

  uint32_t local_offset() const { return live_local_isn - script_local_isn; }
  bool owns(const LiveTcp& p) const;
  /// The live packet in script syntax, numbers mapped to the script's.
  script::Packet to_script(const LiveTcp& p, bool show_ports) const;
  /// Remembers the TSval mapping of a matched outbound packet.
  void learn_ts(const script::Packet& expected, const LiveTcp& p);
  /// The live TSecr for a script TSecr, or nothing when no outbound TSval
  /// can explain it.
  std::optional<uint32_t> live_ts_ecr(uint32_t script_ecr) const;
};

/// The first field where `actual` (already in script numbers) fails to match
/// `expected`: "flags", "seq", "length", "ack", "win", "urg", "options",
/// "TS val", "TS ecr"; empty when they match. `strict` is the --strict
/// extension (every field, TS values included; a missing `win` is an error).
std::string first_mismatch(const script::Packet& expected, const script::Packet& actual,
                           bool strict);

}  // namespace synq::runner
