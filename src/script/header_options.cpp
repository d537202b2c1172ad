#include "script/header_options.hpp"

#include <charconv>

namespace synq::script {

namespace {

// Parses a whole decimal number in [lo, hi].
std::optional<int64_t> decimal_in(std::string_view s, int64_t lo, int64_t hi) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

}  // namespace

std::optional<ParseError> apply_header_option(std::string_view text, const std::string& file,
                                              SourceLoc loc, HeaderOptions& opts) {
  const size_t eq = text.find('=');
  const std::string name(text.substr(0, eq));
  std::optional<std::string> value;
  if (eq != std::string_view::npos) value = std::string(text.substr(eq + 1));

  auto fail = [&](std::string what) {
    std::string got = value ? "'" + *value + "'" : std::string("no value");
    return ParseError{file, loc.line, loc.column, "expected " + what + ", got " + got};
  };
  auto need_value = [&]() -> std::optional<ParseError> {
    if (!value || value->empty()) return fail("a value for --" + name);
    return std::nullopt;
  };

  if (name == "strict") {
    if (value) return fail("no value for --strict");
    opts.strict = true;
    return std::nullopt;
  }
  if (name == "ip_version") {
    if (auto e = need_value()) return e;
    if (*value == "ipv4") {
      opts.ip_version = IpVersionOption::ipv4;
    } else if (*value == "ipv6") {
      opts.ip_version = IpVersionOption::ipv6;
    } else if (*value == "ipv4-mapped-ipv6") {
      opts.ip_version = IpVersionOption::ipv4_mapped_ipv6;
    } else {
      return fail("ipv4, ipv6 or ipv4-mapped-ipv6 for --ip_version");
    }
    return std::nullopt;
  }
  if (name == "mss") {
    if (auto e = need_value()) return e;
    auto v = decimal_in(*value, 1, 65535);
    if (!v) return fail("an MSS of 1..65535 for --mss");
    opts.mss = static_cast<uint16_t>(*v);
    return std::nullopt;
  }
  if (name == "mtu") {
    if (auto e = need_value()) return e;
    // 68 is IPv4's minimum MTU (RFC 791); the IP total length caps it at 65535.
    auto v = decimal_in(*value, 68, 65535);
    if (!v) return fail("an MTU of 68..65535 for --mtu");
    opts.mtu = static_cast<uint32_t>(*v);
    return std::nullopt;
  }
  if (name == "tolerance_usecs") {
    if (auto e = need_value()) return e;
    auto v = decimal_in(*value, 0, int64_t{1} << 40);
    if (!v) return fail("a non-negative number of microseconds for --tolerance_usecs");
    opts.tolerance_usecs = *v;
    return std::nullopt;
  }
  if (name == "local_ip" || name == "remote_ip") {
    if (auto e = need_value()) return e;
    auto addr = IpAddr::parse(*value);
    if (!addr) return fail("an IPv4 or IPv6 address for --" + name);
    (name == "local_ip" ? opts.local_ip : opts.remote_ip) = *addr;
    return std::nullopt;
  }
  if (name.empty()) return fail("an option name after '--'");
  // Replace an earlier setting of the same option, so the caller's copy wins.
  for (auto& o : opts.other) {
    if (o.name == name) {
      o.value = value;
      o.loc = loc;
      return std::nullopt;
    }
  }
  opts.other.push_back(OtherOption{name, value, loc});
  return std::nullopt;
}

}  // namespace synq::script
