// tcpdump-style rendering of a TCP segment, as `tcpdump -n -S` prints it
// after its timestamp (print-ip.c/print-ip6.c name the protocol, print-tcp.c
// the rest), so traces diff against real captures:
//   IP 10.0.0.2.40000 > 10.0.0.1.80: Flags [S], seq 1000, win 65535,
//   options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0
// (IPv6: "IP6 2001:db8::2.40000 > ..."). Sequence numbers are absolute
// (-S): a trace line must not depend on the lines before it.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <array>
#include <iterator>

#include <fmt/format.h>

#include "wire/bytes.hpp"
#include "wire/tcp_option_kinds.hpp"
#include "wire/tcp_options_writer.hpp"
#include "wire/wire.hpp"

namespace synq::wire {
namespace {

using detail::load_be16;
using detail::load_be32;
using Out = std::back_insert_iterator<fmt::memory_buffer>;

void append_address(fmt::memory_buffer& buf, const IpAddr& a) {
  // inet_ntop gives the same RFC 5952 text tcpdump prints (a pure function, no I/O).
  std::array<char, INET6_ADDRSTRLEN> text{};
  const int family = a.is_v4() ? AF_INET : AF_INET6;
  if (inet_ntop(family, a.bytes.data(), text.data(), text.size()) == nullptr) text[0] = '\0';
  buf.append(std::string_view(text.data()));
}

// tcpdump's flag letters, in its table order (bittok2str_nosep).
void append_flags(fmt::memory_buffer& buf, uint8_t flags) {
  static constexpr std::array<std::pair<uint8_t, char>, 8> kLetters{{
      {tcp_flags::FIN, 'F'},
      {tcp_flags::SYN, 'S'},
      {tcp_flags::RST, 'R'},
      {tcp_flags::PSH, 'P'},
      {tcp_flags::ACK, '.'},
      {tcp_flags::URG, 'U'},
      {tcp_flags::ECE, 'E'},
      {tcp_flags::CWR, 'W'},
  }};
  if (flags == 0) {
    buf.append(std::string_view("none"));
    return;
  }
  for (auto [bit, letter] : kLetters)
    if (flags & bit) buf.push_back(letter);
}

std::string_view option_name(uint8_t kind) {
  switch (kind) {
    case tcp_opt::EOL:
      return "eol";
    case tcp_opt::NOP:
      return "nop";
    case tcp_opt::MSS:
      return "mss";
    case tcp_opt::WSCALE:
      return "wscale";
    case tcp_opt::SACK_PERM:
      return "sackOK";
    case tcp_opt::SACK:
      return "sack";
    case tcp_opt::TIMESTAMP:
      return "TS";
    case 19:
      return "md5";
    case 28:
      return "uto";
    case 29:
      return "tcp-ao";
    case 30:
      return "mptcp";
    case 34:
      return "tfo";
    case 254:
      return "exp";
    default:
      return {};
  }
}

/// Renders raw option bytes the way tcpdump does, including its "[len N]"
/// annotation for a length that disagrees with the kind and "[bad opt]" for
/// an option that runs past the header.
void append_options(fmt::memory_buffer& buf, std::span<const uint8_t> o) {
  Out out(buf);
  buf.append(std::string_view(", options ["));
  size_t i = 0;
  bool any = false;  // tcpdump's `ch`: a separator is due, and "]" closes a bad list
  while (i < o.size()) {
    if (any) buf.push_back(',');
    const uint8_t kind = o[i++];
    size_t len = 1;
    if (kind != tcp_opt::EOL && kind != tcp_opt::NOP) {
      if (i >= o.size()) goto bad;
      len = o[i++];
      if (len < 2 || len > o.size() - i + 2) goto bad;
    }
    {
      const size_t left = o.size() - i;  // bytes after kind (and length)
      const uint8_t* p = o.data() + i;
      size_t datalen = 0;
      if (auto name = option_name(kind); !name.empty()) {
        buf.append(name);
      } else {
        fmt::format_to(out, "unknown-{}", kind);
      }
      switch (kind) {
        case tcp_opt::EOL:
        case tcp_opt::NOP:
        case tcp_opt::SACK_PERM:
          break;
        case tcp_opt::MSS:
          datalen = 2;
          if (datalen > left) goto bad;
          fmt::format_to(out, " {}", load_be16(p));
          break;
        case tcp_opt::WSCALE:
          datalen = 1;
          if (datalen > left) goto bad;
          fmt::format_to(out, " {}", p[0]);
          break;
        case tcp_opt::TIMESTAMP:
          datalen = 8;
          if (datalen > left) goto bad;
          fmt::format_to(out, " val {} ecr {}", load_be32(p), load_be32(p + 4));
          break;
        case tcp_opt::SACK:
          datalen = len - 2;
          if (datalen % 8 != 0) {
            buf.append(std::string_view(" invalid sack"));
          } else {
            // Absolute edges, as with tcpdump -S.
            fmt::format_to(out, " {} ", datalen / 8);
            for (size_t b = 0; b < datalen; b += 8) {
              if (b + 8 > left) goto bad;
              fmt::format_to(out, "{{{}:{}}}", load_be32(p + b), load_be32(p + b + 4));
            }
          }
          break;
        default:
          datalen = len - 2;
          if (datalen > left) goto bad;
          if (datalen) buf.append(std::string_view(" 0x"));
          for (size_t b = 0; b < datalen; ++b) fmt::format_to(out, "{:02x}", p[b]);
          break;
      }
      i += datalen;
      const size_t expected = datalen + (kind == tcp_opt::EOL || kind == tcp_opt::NOP ? 1 : 2);
      if (expected != len) fmt::format_to(out, "[len {}]", len);
      any = true;
      if (kind == tcp_opt::EOL) break;
    }
  }
  buf.push_back(']');
  return;
bad:
  // tcpdump closes the list only if an option was printed before the bad one.
  buf.append(std::string_view(any ? "[bad opt]]" : "[bad opt]"));
}

}  // namespace

std::string format_tcp(const IpPacket& ip, const TcpSegment& seg) {
  const TcpHeader& h = seg.h;
  fmt::memory_buffer buf;
  Out out(buf);
  buf.append(std::string_view(ip.src.is_v4() ? "IP " : "IP6 "));
  append_address(buf, ip.src);
  fmt::format_to(out, ".{} > ", h.sport);
  append_address(buf, ip.dst);
  fmt::format_to(out, ".{}: Flags [", h.dport);
  append_flags(buf, h.flags);
  buf.push_back(']');

  const size_t length = seg.payload.size();
  if (length > 0 || (h.flags & (tcp_flags::SYN | tcp_flags::FIN | tcp_flags::RST))) {
    fmt::format_to(out, ", seq {}", h.seq);
    if (length > 0) fmt::format_to(out, ":{}", static_cast<uint32_t>(h.seq + length));
  }
  if (h.flags & tcp_flags::ACK) fmt::format_to(out, ", ack {}", h.ack);
  fmt::format_to(out, ", win {}", h.window);
  if (h.flags & tcp_flags::URG) fmt::format_to(out, ", urg {}", h.urgent);

  // Prefer the option bytes as received when `seg` was parsed from
  // ip.payload (its payload is the tail of ip.payload): that shows the
  // sender's order, padding and unknown options. Otherwise render what
  // build_tcp would write for seg.h.options.
  std::span<const uint8_t> opts;
  std::array<uint8_t, tcp_opt::MAX_OPTION_SPACE> built{};
  const auto raw = ip.payload;
  size_t doff = 0;
  if (raw.size() >= tcp_opt::BASE_HEADER) doff = size_t(raw[12] >> 4) * 4;
  if (doff >= tcp_opt::BASE_HEADER && doff <= raw.size() &&
      seg.payload.size() == raw.size() - doff && seg.payload.data() == raw.data() + doff) {
    opts = raw.subspan(tcp_opt::BASE_HEADER, doff - tcp_opt::BASE_HEADER);
  } else {
    opts = std::span(built.data(), detail::write_tcp_options(built.data(), h.options));
  }
  if (!opts.empty()) append_options(buf, opts);

  fmt::format_to(out, ", length {}", length);
  return fmt::to_string(buf);
}

std::string tcp_flags_text(uint8_t flags) {
  fmt::memory_buffer buf;
  append_flags(buf, flags);
  return fmt::to_string(buf);
}

}  // namespace synq::wire
