// Rendering AST nodes back in script syntax (for expected-vs-actual diffs).
#include <string>

#include "script/ast.hpp"
#include "wire/tcp_option_kinds.hpp"

namespace synq::script {

namespace {

// Seconds with the fraction's trailing zeros dropped: 0, 0.1, 2.000001.
std::string seconds(Duration d) {
  const int64_t ns = d.count();
  const bool negative = ns < 0;
  const uint64_t mag = negative ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string out = (negative ? "-" : "") + std::to_string(mag / 1'000'000'000);
  uint64_t frac = mag % 1'000'000'000;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 9 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += '.' + digits;
  }
  return out;
}

std::string hex(int64_t v) {
  static const char* digits = "0123456789abcdef";
  uint64_t u = static_cast<uint64_t>(v);
  std::string s;
  do {
    s.insert(s.begin(), digits[u & 0xf]);
    u >>= 4;
  } while (u != 0);
  return "0x" + s;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

template <class T>
std::string joined(const std::vector<T>& items, const char* sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i].to_string();
  }
  return out;
}

struct ExprPrinter {
  std::string operator()(const IntExpr& e) const {
    return e.hex ? hex(e.value) : std::to_string(e.value);
  }
  std::string operator()(const EllipsisExpr&) const { return "..."; }
  std::string operator()(const WordExpr& e) const { return e.name; }
  std::string operator()(const StringExpr& e) const {
    return quoted(e.value) + (e.trailing_ellipsis ? "..." : "");
  }
  std::string operator()(const OrExpr& e) const { return joined(e.terms, "|"); }
  std::string operator()(const ListExpr& e) const { return "[" + joined(e.items, ", ") + "]"; }
  std::string operator()(const StructExpr& e) const {
    std::string out = "{";
    for (size_t i = 0; i < e.fields.size(); ++i) {
      if (i) out += ", ";
      out += e.fields[i].name + "=" + e.fields[i].value.to_string();
    }
    return out + "}";
  }
  std::string operator()(const CallExpr& e) const {
    return e.name + "(" + joined(e.args, ", ") + ")";
  }
};

std::string option_to_string(const PacketOption& o) {
  switch (o.kind) {
    case PacketOption::Kind::nop:
      return "nop";
    case PacketOption::Kind::eol:
      return "eol";
    case PacketOption::Kind::mss:
      return "mss " + std::to_string(o.value);
    case PacketOption::Kind::wscale:
      return "wscale " + std::to_string(o.value);
    case PacketOption::Kind::sack_permitted:
      return "sackOK";
    case PacketOption::Kind::sack: {
      std::string out = "sack";
      for (const auto& b : o.sack)
        out += " " + std::to_string(b.left) + ":" + std::to_string(b.right);
      return out;
    }
    case PacketOption::Kind::timestamp:
      return "TS val " + std::to_string(o.ts_val) + " ecr " + std::to_string(o.ts_ecr);
  }
  return "?";
}

}  // namespace

std::string Timing::to_string() const {
  std::string out;
  switch (kind) {
    case Kind::none:
      break;
    case Kind::absolute:
      out = seconds(start);
      break;
    case Kind::relative:
      out = "+" + seconds(start);
      break;
    case Kind::absolute_range:
      out = seconds(start) + "~" + seconds(end);
      break;
    case Kind::relative_range:
      out = "+" + seconds(start) + "~+" + seconds(end);
      break;
    case Kind::any:
      out = "*";
      break;
  }
  if (blocking_until) out += "..." + seconds(*blocking_until);
  return out;
}

std::string Expr::to_string() const {
  return std::visit(ExprPrinter{}, v);
}

std::string Syscall::to_string() const {
  std::string out = name + "(" + joined(args, ", ") + ") = " + result.to_string();
  if (errno_name) {
    out += " " + *errno_name;
    if (errno_text) out += " (" + *errno_text + ")";
  }
  if (note) out += " (" + *note + ")";
  return out;
}

std::string flags_to_string(uint8_t flags) {
  namespace f = wire::tcp_flags;
  // tcpdump's order, which packetdrill prints too.
  static constexpr std::pair<uint8_t, char> order[] = {
      {f::FIN, 'F'}, {f::SYN, 'S'}, {f::RST, 'R'}, {f::PSH, 'P'},
      {f::ACK, '.'}, {f::URG, 'U'}, {f::ECE, 'E'}, {f::CWR, 'W'},
  };
  std::string out;
  for (auto [bit, letter] : order) {
    if (flags & bit) out += letter;
  }
  return out.empty() ? "-" : out;
}

size_t PacketOption::wire_length() const {
  namespace k = wire::tcp_opt;
  switch (kind) {
    case Kind::nop:
    case Kind::eol:
      return 1;
    case Kind::mss:
      return k::LEN_MSS;
    case Kind::wscale:
      return k::LEN_WSCALE;
    case Kind::sack_permitted:
      return k::LEN_SACK_PERM;
    case Kind::sack:
      return k::LEN_SACK_BASE + k::LEN_SACK_PER_BLOCK * sack.size();
    case Kind::timestamp:
      return k::LEN_TIMESTAMP;
  }
  return 0;
}

wire::TcpOptions Packet::tcp_options() const {
  wire::TcpOptions out;
  for (const auto& o : options) {
    switch (o.kind) {
      case PacketOption::Kind::nop:
      case PacketOption::Kind::eol:
        break;
      case PacketOption::Kind::mss:
        out.has_mss = true;
        out.mss = static_cast<uint16_t>(o.value);
        break;
      case PacketOption::Kind::wscale:
        out.has_wscale = true;
        out.wscale = static_cast<uint8_t>(o.value);
        break;
      case PacketOption::Kind::sack_permitted:
        out.sack_permitted = true;
        break;
      case PacketOption::Kind::sack:
        // The parser caps a SACK option at the 4 blocks 40 option bytes can hold.
        out.sack_count = 0;
        for (const auto& b : o.sack) {
          if (out.sack_count < out.sack.size()) out.sack[out.sack_count++] = b;
        }
        break;
      case PacketOption::Kind::timestamp:
        out.has_timestamps = true;
        out.ts_val = o.ts_val;
        out.ts_ecr = o.ts_ecr;
        break;
    }
  }
  return out;
}

std::string Packet::to_string() const {
  std::string out = direction == Direction::inbound ? "<" : ">";
  if (sport && dport) out += " " + std::to_string(*sport) + ">" + std::to_string(*dport);
  out += " " + flags_to_string(flags);
  if (absolute_seq) out += " abs";
  out += " " + std::to_string(seq_start) + ":" + std::to_string(seq_end) + "(" +
         std::to_string(payload_len) + ")";
  if (ack) out += " ack " + std::to_string(*ack);
  if (window) out += " win " + std::to_string(*window);
  if (urgent) out += " urg " + std::to_string(*urgent);
  if (any_options) {
    out += " <...>";
  } else if (!options.empty()) {
    out += " <";
    for (size_t i = 0; i < options.size(); ++i) {
      if (i) out += ",";
      out += option_to_string(options[i]);
    }
    out += ">";
  }
  return out;
}

}  // namespace synq::script
