#include "synq/sysctl.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <vector>

#include <fmt/format.h>

namespace synq {

namespace {

enum class Kind { integer, triple, pair, word };

struct Entry {
  std::string_view name;
  std::string_view help;
  Kind kind;
  int Sysctls::*integer = nullptr;
  std::array<int, 3> Sysctls::*triple = nullptr;
  std::array<int, 2> Sysctls::*pair = nullptr;
  std::string Sysctls::*word = nullptr;
  int min = INT_MIN;
  int max = INT_MAX;
  std::string_view words = {};  // "a|b|c" for Kind::word
};

Entry int_knob(std::string_view n, std::string_view h, int Sysctls::*m, int lo, int hi) {
  return Entry{n, h, Kind::integer, m, nullptr, nullptr, nullptr, lo, hi, {}};
}

const std::vector<Entry>& entries() {
  static const std::vector<Entry> e = {
      int_knob("net.core.somaxconn", "listen() backlog limit", &Sysctls::somaxconn, 0, INT_MAX),
      int_knob("net.ipv4.tcp_max_syn_backlog", "SYN backlog pressure threshold",
               &Sysctls::tcp_max_syn_backlog, 0, INT_MAX),
      int_knob("net.ipv4.tcp_syncookies", "0 off, 1 on SYN queue overflow, 2 always",
               &Sysctls::tcp_syncookies, 0, 2),
      int_knob("net.ipv4.tcp_abort_on_overflow", "RST a third ACK when the accept queue is full",
               &Sysctls::tcp_abort_on_overflow, 0, 1),
      int_knob("net.ipv4.tcp_synack_retries", "SYN-ACK retransmissions",
               &Sysctls::tcp_synack_retries, 0, 255),
      int_knob("net.ipv4.tcp_syn_retries", "SYN retransmissions of connect()",
               &Sysctls::tcp_syn_retries, 1, 127),
      int_knob("net.ipv4.tcp_syn_linear_timeouts", "SYN retransmissions before backoff starts",
               &Sysctls::tcp_syn_linear_timeouts, 0, 10),
      int_knob("net.ipv4.tcp_timestamps", "RFC 7323 timestamps", &Sysctls::tcp_timestamps, 0, 2),
      int_knob("net.ipv4.tcp_window_scaling", "RFC 7323 window scaling",
               &Sysctls::tcp_window_scaling, 0, 1),
      int_knob("net.ipv4.tcp_sack", "RFC 2018 SACK", &Sysctls::tcp_sack, 0, 1),
      int_knob("net.ipv4.tcp_ecn", "ECN: 0 off, 1 request, 2 accept", &Sysctls::tcp_ecn, 0, 2),
      Entry{"net.ipv4.tcp_rmem",
            "receive buffer min default max (bytes)",
            Kind::triple,
            nullptr,
            &Sysctls::tcp_rmem,
            nullptr,
            nullptr,
            1,
            INT_MAX,
            {}},
      Entry{"net.ipv4.tcp_wmem",
            "send buffer min default max (bytes)",
            Kind::triple,
            nullptr,
            &Sysctls::tcp_wmem,
            nullptr,
            nullptr,
            1,
            INT_MAX,
            {}},
      int_knob("net.ipv4.tcp_fin_timeout", "orphan FIN-WAIT-2 lifetime (s)",
               &Sysctls::tcp_fin_timeout, 0, INT_MAX),
      int_knob("net.ipv4.tcp_max_tw_buckets",
               "TIME-WAIT sockets at most; beyond, a closing socket skips TIME-WAIT",
               &Sysctls::tcp_max_tw_buckets, 0, INT_MAX),
      int_knob("net.ipv4.tcp_retries2", "data retransmissions before ETIMEDOUT",
               &Sysctls::tcp_retries2, 0, 255),
      int_knob("net.ipv4.tcp_rto_min_us", "minimum RTO (us)", &Sysctls::tcp_rto_min_us, 1, INT_MAX),
      int_knob("net.ipv4.tcp_challenge_ack_limit", "challenge ACKs per second",
               &Sysctls::tcp_challenge_ack_limit, 0, INT_MAX),
      int_knob("net.ipv4.tcp_invalid_ratelimit",
               "min gap between dup ACKs for invalid segments (ms)",
               &Sysctls::tcp_invalid_ratelimit, 0, INT_MAX),
      Entry{"net.ipv4.ip_local_port_range",
            "ephemeral port range",
            Kind::pair,
            nullptr,
            nullptr,
            &Sysctls::ip_local_port_range,
            nullptr,
            1,
            65535,
            {}},
      int_knob("net.ipv4.ip_default_ttl", "TTL of sent packets", &Sysctls::ip_default_ttl, 1, 255),
      int_knob("synq.tcp_time_wait_ms", "TIME-WAIT length, 2MSL (ms; Linux: 60000 fixed)",
               &Sysctls::tcp_time_wait_ms, 0, INT_MAX),
      int_knob("synq.tcp_delack_min_ms", "delayed-ACK timeout (ms)", &Sysctls::tcp_delack_min_ms, 1,
               INT_MAX),
      int_knob("synq.tcp_delack_max_ms", "delayed-ACK ceiling (ms)", &Sysctls::tcp_delack_max_ms, 1,
               INT_MAX),
      Entry{"synq.listen_model", "default listener backlog model", Kind::word, nullptr, nullptr,
            nullptr, &Sysctls::listen_model, 0, 0, "linux|bsd44|freebsd|xnu"},
      Entry{"synq.syn_queue_check", "linux SYN-queue full test: strict (qlen > B) or legacy (>=)",
            Kind::word, nullptr, nullptr, nullptr, &Sysctls::syn_queue_check, 0, 0,
            "strict|legacy"},
      int_knob("kern.ipc.soacceptqueue", "freebsd listen() backlog limit",
               &Sysctls::kern_ipc_soacceptqueue, 0, 65535),
      int_knob("net.inet.tcp.syncache.rexmtlimit", "freebsd SYN-ACK retransmissions",
               &Sysctls::freebsd_syncache_rexmtlimit, 0, 255),
      int_knob("net.inet.tcp.syncache.rst_on_sock_fail",
               "freebsd: RST when the socket can't be made",
               &Sysctls::freebsd_syncache_rst_on_sock_fail, 0, 1),
      int_knob("net.inet.tcp.syncookies", "freebsd SYN cookies", &Sysctls::freebsd_syncookies, 0,
               1),
      int_knob("net.inet.tcp.syncookies_only", "freebsd: cookies only, no syncache",
               &Sysctls::freebsd_syncookies_only, 0, 1),
      int_knob("net.inet.tcp.syncache.bucketlimit", "freebsd entries per syncache bucket",
               &Sysctls::freebsd_syncache_bucketlimit, 1, 65535),
      int_knob("net.inet.tcp.syncache.hashsize", "freebsd syncache buckets",
               &Sysctls::freebsd_syncache_hashsize, 1, 1 << 20),
      int_knob("net.inet.tcp.syncache.cachelimit", "freebsd syncache total entries",
               &Sysctls::freebsd_syncache_cachelimit, 1, INT_MAX),
      int_knob("kern.ipc.somaxconn", "xnu listen() backlog limit", &Sysctls::xnu_somaxconn, 0,
               65535),
      int_knob("net.inet.tcp.challengeack_limit",
               "xnu challenge ACKs (bad SYN or RST) per connection per second",
               &Sysctls::xnu_challengeack_limit, 0, INT_MAX),
      // xnu tcp_timer.c sysctl_msec_to_ticks: milliseconds, EINVAL below 1 tick (1 ms).
      int_knob("net.inet.tcp.keepinit",
               "xnu connection-establishment timer, ms (TCPTV_KEEP_INIT: 75000)",
               &Sysctls::xnu_tcp_keepinit, 1, INT_MAX),
      int_knob("bsd44.somaxconn", "4.4BSD SOMAXCONN (compile-time constant there)",
               &Sysctls::bsd44_somaxconn, 0, 65535),
      Entry{"bsd44.variant",
            "4.4BSD tcp_input: lite (1994, sonewconn for every segment) or lite2 (1995, "
            "only a pure SYN asks sonewconn; an ACK to a full listener gets a RST)",
            Kind::word, nullptr, nullptr, nullptr, &Sysctls::bsd44_variant, 0, 0, "lite|lite2"},
      Entry{"bsd44.rexmt",
            "4.4BSD SYN-ACK schedule: synq (RTO 1 s doubling) or historical (6 s, then "
            "12 s x tcp_backoff[]: 0, 6, 30 s; 500 ms ticks)",
            Kind::word, nullptr, nullptr, nullptr, &Sysctls::bsd44_rexmt, 0, 0, "synq|historical"},
  };
  return e;
}

const Entry* find(std::string_view name) {
  // Accept the /proc/sys spelling too: net/ipv4/tcp_syncookies.
  std::string dotted(name);
  for (auto& c : dotted)
    if (c == '/') c = '.';
  for (const auto& e : entries())
    if (e.name == dotted) return &e;
  return nullptr;
}

bool parse_ints(std::string_view text, int* out, size_t n, const Entry& e, std::string* error) {
  size_t got = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    if (p == end) break;
    if (got == n) {
      if (error)
        *error = fmt::format("{}: expected {} integer(s), got more: '{}'", e.name, n, text);
      return false;
    }
    long long v = 0;
    auto [q, ec] = std::from_chars(p, end, v);
    if (ec != std::errc{} || (q < end && *q != ' ' && *q != '\t')) {
      if (error) *error = fmt::format("{}: expected an integer, got '{}'", e.name, text);
      return false;
    }
    if (v < e.min || v > e.max) {
      if (error) *error = fmt::format("{}: {} is out of range [{}, {}]", e.name, v, e.min, e.max);
      return false;
    }
    out[got++] = static_cast<int>(v);
    p = q;
  }
  if (got != n) {
    if (error) *error = fmt::format("{}: expected {} integer(s), got '{}'", e.name, n, text);
    return false;
  }
  return true;
}

}  // namespace

bool Sysctls::set(std::string_view name, std::string_view value, std::string* error) {
  const Entry* e = find(name);
  if (!e) {
    if (error) *error = fmt::format("unknown sysctl '{}'", name);
    return false;
  }
  switch (e->kind) {
    case Kind::integer: {
      int v;
      if (!parse_ints(value, &v, 1, *e, error)) return false;
      this->*(e->integer) = v;
      return true;
    }
    case Kind::triple: {
      std::array<int, 3> v;
      if (!parse_ints(value, v.data(), 3, *e, error)) return false;
      if (v[0] > v[1] || v[1] > v[2]) {
        if (error)
          *error = fmt::format("{}: expected min <= default <= max, got '{}'", e->name, value);
        return false;
      }
      this->*(e->triple) = v;
      return true;
    }
    case Kind::pair: {
      std::array<int, 2> v;
      if (!parse_ints(value, v.data(), 2, *e, error)) return false;
      if (v[0] > v[1]) {
        if (error) *error = fmt::format("{}: expected low <= high, got '{}'", e->name, value);
        return false;
      }
      this->*(e->pair) = v;
      return true;
    }
    case Kind::word: {
      std::string_view w = value;
      while (!w.empty() && w.front() == ' ') w.remove_prefix(1);
      while (!w.empty() && w.back() == ' ') w.remove_suffix(1);
      std::string_view rest = e->words;
      while (!rest.empty()) {
        auto bar = rest.find('|');
        auto option = rest.substr(0, bar);
        if (option == w) {
          this->*(e->word) = std::string(w);
          return true;
        }
        rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
      }
      if (error) *error = fmt::format("{}: expected one of {}, got '{}'", e->name, e->words, value);
      return false;
    }
  }
  return false;
}

std::optional<std::string> Sysctls::get(std::string_view name) const {
  const Entry* e = find(name);
  if (!e) return std::nullopt;
  switch (e->kind) {
    case Kind::integer:
      return fmt::format("{}", this->*(e->integer));
    case Kind::triple: {
      const auto& v = this->*(e->triple);
      return fmt::format("{}\t{}\t{}", v[0], v[1], v[2]);
    }
    case Kind::pair: {
      const auto& v = this->*(e->pair);
      return fmt::format("{}\t{}", v[0], v[1]);
    }
    case Kind::word:
      return this->*(e->word);
  }
  return std::nullopt;
}

int Sysctls::derived_wscale() const {
  // Linux tcp_select_initial_window(): space = max(tcp_rmem[2], rmem_max), then
  // shift until it fits 16 bits, at most 14 (RFC 7323 §2.3).
  constexpr int kRmemMax = 212992;  // net.core.rmem_max default
  long space = std::max(tcp_rmem[2], kRmemMax);
  int ws = 0;
  while (space > 65535 && ws < 14) {
    space >>= 1;
    ++ws;
  }
  return tcp_window_scaling ? ws : 0;
}

std::span<const SysctlInfo> sysctl_list() {
  static const std::vector<SysctlInfo> list = [] {
    std::vector<SysctlInfo> l;
    for (const auto& e : entries()) l.push_back({e.name, e.help});
    return l;
  }();
  return list;
}

}  // namespace synq
