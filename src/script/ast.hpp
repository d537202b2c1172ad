// The typed syntax tree of a packetdrill-dialect script. The parser fills it;
// the runner interprets it. Nothing here knows about the stack.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "script/parse_error.hpp"
#include "synq/address.hpp"
#include "synq/time.hpp"
#include "wire/tcp_header.hpp"

namespace synq::script {

// ---------------------------------------------------------------- header

enum class IpVersionOption : uint8_t { ipv4, ipv4_mapped_ipv6, ipv6 };

/// A `--name[=value]` option synq does not interpret itself (e.g. packetdrill's
/// --tcp_ts_tick_usecs). Kept so the runner can honour or reject it.
struct OtherOption {
  std::string name;  // without the leading "--"
  std::optional<std::string> value;
  SourceLoc loc;
  friend bool operator==(const OtherOption&, const OtherOption&) = default;
};

/// Options from `--name=value` lines at the top of a script, overridden by the
/// ones passed in (packetdrill's rule: the command line wins).
struct HeaderOptions {
  std::optional<IpVersionOption> ip_version;
  std::optional<uint16_t> mss;
  std::optional<uint32_t> mtu;
  std::optional<int64_t> tolerance_usecs;
  std::optional<IpAddr> local_ip;
  std::optional<IpAddr> remote_ip;
  /// synq extension: every outbound packet must match exactly, including
  /// fields packetdrill lets the kernel choose (see docs/scripts.md).
  bool strict = false;
  std::vector<OtherOption> other;
  friend bool operator==(const HeaderOptions&, const HeaderOptions&) = default;
};

// ---------------------------------------------------------------- timing

/// When an event happens. Times are exact: "0.100" is 100 ms, never a float.
struct Timing {
  enum class Kind : uint8_t {
    none,            // an untimed `command` block (packetdrill's init/cleanup command)
    absolute,        // 0.100
    relative,        // +0.1 (after the previous event)
    absolute_range,  // 0.1~0.2 (outbound packets only)
    relative_range,  // +0.1~+0.2 (outbound packets only)
    any,             // * (outbound packets only)
  };
  Kind kind = Kind::none;
  Duration start{0};
  Duration end{0};  // the range's upper bound; equal to start when not a range
  /// `+0...0.200 accept(...)`: a blocking system call that returns at this
  /// absolute time (packetdrill's "end time"). Syscalls only.
  std::optional<Duration> blocking_until;
  std::string to_string() const;
  friend bool operator==(const Timing&, const Timing&) = default;
};

// ---------------------------------------------------------------- syscalls

struct Expr;

struct IntExpr {
  int64_t value = 0;
  bool hex = false;  // written as 0x..., so it prints back that way
  friend bool operator==(const IntExpr&, const IntExpr&) = default;
};
struct EllipsisExpr {  // `...`: "don't care" / "let the runner pick"
  friend bool operator==(const EllipsisExpr&, const EllipsisExpr&) = default;
};
struct WordExpr {  // a symbolic constant: SOCK_STREAM, SO_LINGER, POLLIN
  std::string name;
  friend bool operator==(const WordExpr&, const WordExpr&) = default;
};
struct StringExpr {
  std::string value;               // escapes decoded
  bool trailing_ellipsis = false;  // "abc"...
  friend bool operator==(const StringExpr&, const StringExpr&) = default;
};
struct OrExpr {  // A|B|C
  std::vector<Expr> terms;
  friend bool operator==(const OrExpr&, const OrExpr&) = default;
};
struct ListExpr {  // [1], [], [{fd=4, ...}]
  std::vector<Expr> items;
  friend bool operator==(const ListExpr&, const ListExpr&) = default;
};
struct StructField;
struct StructExpr {  // {onoff=1, linger=0}
  std::vector<StructField> fields;
  friend bool operator==(const StructExpr&, const StructExpr&) = default;
};
struct CallExpr {  // htons(8080), inet_addr("192.0.2.1")
  std::string name;
  std::vector<Expr> args;
  friend bool operator==(const CallExpr&, const CallExpr&) = default;
};

/// A syscall argument or result, parsed generically so a new syscall needs no
/// grammar change: the runner gives meaning to names and shapes.
struct Expr {
  std::variant<IntExpr, EllipsisExpr, WordExpr, StringExpr, OrExpr, ListExpr, StructExpr, CallExpr>
      v;
  SourceLoc loc;

  const int64_t* as_int() const {
    auto* i = std::get_if<IntExpr>(&v);
    return i ? &i->value : nullptr;
  }
  const std::string* as_word() const {
    auto* w = std::get_if<WordExpr>(&v);
    return w ? &w->name : nullptr;
  }
  bool is_ellipsis() const { return std::holds_alternative<EllipsisExpr>(v); }
  /// Back in script syntax: `[{fd=4, events=POLLIN}]`.
  std::string to_string() const;
  /// Compares the values only (not where they were written).
  friend bool operator==(const Expr& a, const Expr& b) { return a.v == b.v; }
};

struct StructField {
  std::string name;
  Expr value;
  friend bool operator==(const StructField&, const StructField&) = default;
};

/// `name(args) = result [ERRNO [(text)]] [(note)]`
struct Syscall {
  std::string name;
  std::vector<Expr> args;
  Expr result;
  std::optional<std::string> errno_name;  // EINPROGRESS
  std::optional<std::string> errno_text;  // "Operation now in progress"
  std::optional<std::string> note;        // a trailing "(...)" without an errno
  std::string to_string() const;
  friend bool operator==(const Syscall&, const Syscall&) = default;
};

// ---------------------------------------------------------------- packets

enum class Direction : uint8_t {
  inbound,   // `<`: the script injects it
  outbound,  // `>`: the stack under test must send it
};

/// One item of a `<...>` option list, in the order written (order and NOPs
/// matter when matching outbound packets byte for byte).
struct PacketOption {
  enum class Kind : uint8_t { nop, eol, mss, wscale, sack_permitted, sack, timestamp };
  Kind kind = Kind::nop;
  uint32_t value = 0;  // mss or wscale
  std::vector<wire::SackBlock> sack;
  uint32_t ts_val = 0;
  uint32_t ts_ecr = 0;
  /// Bytes this option occupies on the wire.
  size_t wire_length() const;
  friend bool operator==(const PacketOption&, const PacketOption&) = default;
};

/// A TCP packet line: `< S 0:0(0) win 32792 <mss 1460,nop,wscale 7>`.
/// Sequence and ack numbers are as written: relative to the ISNs (the runner
/// maps them).
struct Packet {
  Direction direction = Direction::inbound;
  /// synq extension `sport>dport` right after the direction: which connection.
  /// Absent: the script's single default connection.
  std::optional<uint16_t> sport;
  std::optional<uint16_t> dport;
  uint8_t flags = 0;  // wire::tcp_flags bits
  /// synq extension `abs` before the sequence numbers (outbound only): they
  /// are the target's real numbers, not relative to its ISN. For a segment
  /// that is not numbered from the connection's ISN, e.g. Linux's RST|ACK
  /// with seq 0 for a new-ISN SYN in SYN-RECV (passive-open.md §7, §8 L27).
  bool absolute_seq = false;
  uint32_t seq_start = 0;
  uint32_t seq_end = 0;
  uint16_t payload_len = 0;
  std::optional<uint32_t> ack;
  std::optional<uint16_t> window;  // absent: not checked
  std::optional<uint16_t> urgent;
  bool any_options = false;  // `<...>`: options not checked (outbound only)
  std::vector<PacketOption> options;

  /// The options as the wire module's value type (order and NOP/EOL dropped).
  wire::TcpOptions tcp_options() const;
  /// Back in script syntax, canonical spacing; flags in tcpdump order (FSRP.UEW).
  std::string to_string() const;
  friend bool operator==(const Packet&, const Packet&) = default;
};

/// "FSRP.UEW" letters for a flags byte; "-" when none is set.
std::string flags_to_string(uint8_t flags);

// ---------------------------------------------------------------- shell

/// `sysctl [-q] [-w] net.X=Y` inside a backtick block.
struct SysctlSet {
  std::string name;  // net.ipv4.tcp_syncookies
  std::string value;
  uint32_t line = 0;  // script line of this command
  friend bool operator==(const SysctlSet&, const SysctlSet&) = default;
};
/// Any other shell command line, kept verbatim (continuations joined).
struct ShellCommand {
  std::string text;
  uint32_t line = 0;
  friend bool operator==(const ShellCommand&, const ShellCommand&) = default;
};
/// A backtick block: `...` possibly over several lines.
struct ShellBlock {
  std::string raw;  // between the backticks, as written
  std::vector<std::variant<SysctlSet, ShellCommand>> items;
  friend bool operator==(const ShellBlock&, const ShellBlock&) = default;
};

// ---------------------------------------------------------------- script

struct Event {
  SourceLoc loc;  // of the event's first token (its time, or the backtick)
  Timing timing;
  std::variant<Syscall, Packet, ShellBlock> action;
  const Syscall* syscall() const { return std::get_if<Syscall>(&action); }
  const Packet* packet() const { return std::get_if<Packet>(&action); }
  const ShellBlock* shell() const { return std::get_if<ShellBlock>(&action); }
  friend bool operator==(const Event&, const Event&) = default;
};

struct Script {
  std::string file;
  HeaderOptions options;
  std::vector<Event> events;
};

}  // namespace synq::script
