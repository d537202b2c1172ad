// The event loop: time, packets and the report. packetdrill's rules (run.c,
// run_packet.c) are summarised in runner.hpp.
#include "runner/script_run.hpp"

#include <algorithm>
#include <cstdio>

#include "runner/runner.hpp"
#include "wire/wire.hpp"

namespace synq::runner {

namespace {

using script::Direction;
using script::Event;
using script::Packet;
using script::Timing;

// Time on a real kernel is noisy: a floor under the script's tolerance keeps
// CI runs stable (docs/scripts.md, "Timing on the host kernel").
constexpr Duration kLiveToleranceFloor = 20ms;
// How long `*` waits for its packet.
constexpr Duration kAnyTimeWaitVirtual = 600s;
constexpr Duration kAnyTimeWaitLive = 30s;
// While a blocking call is pending on a real kernel, it is retried this often.
constexpr Duration kLiveRetrySlice = 1ms;

std::string secs(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", to_seconds(d));
  return buf;
}

bool is_inbound_packet(const Event* ev) {
  return ev && ev->packet() && ev->packet()->direction == Direction::inbound;
}

}  // namespace

IpAddr script_local_ip(const script::Script& s) {
  if (s.options.local_ip) return *s.options.local_ip;
  // packetdrill's IPv6 prefix fd3d:fa7b:d17d::/48 (RFC 4193); host ::1 of it.
  if (s.options.ip_version == script::IpVersionOption::ipv6)
    return *IpAddr::parse("fd3d:fa7b:d17d::1");
  return IpAddr::v4(192, 168, 0, 1);
}
IpAddr script_remote_ip(const script::Script& s) {
  if (s.options.remote_ip) return *s.options.remote_ip;
  if (s.options.ip_version == script::IpVersionOption::ipv6)
    return *IpAddr::parse("2001:db8::1");  // packetdrill's (RFC 3849)
  return IpAddr::v4(192, 0, 2, 1);
}

RunReport run_script(const script::Script& s, Target& target) {
  return ScriptRun(s, target).run();
}

ScriptRun::ScriptRun(const script::Script& s, Target& t)
    : s_(s), t_(t), local_(script_local_ip(s)), remote_(script_remote_ip(s)) {
  tol_ = std::chrono::microseconds(s.options.tolerance_usecs.value_or(kDefaultToleranceUsecs));
  if (t_.live()) tol_ = std::max(tol_, kLiveToleranceFloor);
  strict_ = s.options.strict;
  conns_.emplace_back();
}

std::string ScriptRun::where(const Event* ev) const {
  std::string w = s_.file;
  if (ev) w += ":" + std::to_string(ev->loc.line);
  return w;
}

bool ScriptRun::fail(const Event* ev, const std::string& what,
                     const std::vector<std::string>& detail) {
  if (failed_) return false;
  failed_ = true;
  report_.lines.push_back(where(ev) + ": " + what);
  for (const auto& d : detail) report_.lines.push_back("  " + d);
  return false;
}

RunReport ScriptRun::run() {
  if (s_.options.ip_version == script::IpVersionOption::ipv4_mapped_ipv6) {
    fail(nullptr, "--ip_version=ipv4-mapped-ipv6 is not supported by the runner");
    return report_;
  }
  if (local_.version != remote_.version) {
    fail(nullptr, "--local_ip and --remote_ip must be of the same IP version");
    return report_;
  }
  for (const auto& o : s_.options.other) note("option --" + o.name + " ignored");
  // Untimed command blocks before the first timed event are packetdrill's
  // init command: they run before time 0.
  size_t i = 0;
  for (; i < s_.events.size() && s_.events[i].timing.kind == Timing::Kind::none; ++i)
    if (!shell(s_.events[i], *s_.events[i].shell())) return report_;
  t_.start_clock();
  for (; i < s_.events.size(); ++i)
    if (!run_event(s_.events[i])) return report_;
  if (!finish_pending()) return report_;
  // Anything sent before the last event that no line expected.
  if (!collect_until(t_.now())) return report_;
  if (!reject_unexpected(t_.now() - tol_, nullptr)) return report_;
  report_.passed = true;
  return report_;
}

Duration ScriptRun::anchor_for(const Event& ev) const {
  // Consecutive inbound packets are anchored on script time so processing
  // delays do not accumulate (packetdrill's is_event_start_time_anchored).
  if (is_inbound_packet(prev_) && is_inbound_packet(&ev)) return prev_script_time_;
  return t_.now();
}

Duration ScriptRun::tolerance(Duration interval) const {
  if (!t_.live() || interval < 250ms) return tol_;
  // passive-open.md §7: a real kernel's retransmission timers may be late by
  // max(0.3 s, 12.5% of the interval); relative times accumulate it.
  return std::max(tol_, std::max(Duration(300ms), interval / 8));
}

bool ScriptRun::run_event(const Event& ev) {
  const Timing& tm = ev.timing;
  bool ok = true;
  Duration script_time = t_.now();
  if (const Packet* p = ev.packet(); p && p->direction == Direction::outbound) {
    ok = outbound(ev, *p);
    script_time = t_.now();
  } else {
    const Duration anchor = anchor_for(ev);
    const bool relative = tm.kind == Timing::Kind::relative;
    if (tm.kind != Timing::Kind::none) script_time = relative ? anchor + tm.start : tm.start;
    if (tm.kind != Timing::Kind::none) {
      ok = collect_until(script_time) && reject_unexpected(script_time - tol_, &ev);
    }
    if (ok) {
      if (const Packet* p = ev.packet())
        ok = inbound(ev, *p, script_time);
      else if (const auto* sc = ev.syscall())
        ok = syscall(ev, *sc);
      else
        ok = shell(ev, *ev.shell());
    }
  }
  if (ok && !failed_) ok = retry_pending();
  prev_ = &ev;
  prev_script_time_ = script_time;
  return ok && !failed_;
}

// ------------------------------------------------------------------ waiting

bool ScriptRun::pump(Duration until, bool* got_packet) {
  Duration cap = until;
  if (pending_ && t_.live()) cap = std::min(until, t_.now() + kLiveRetrySlice);
  auto p = t_.wait_packet(cap);
  if (got_packet) *got_packet = p.has_value();
  if (p) buffered_.push_back(std::move(*p));
  return retry_pending();
}

bool ScriptRun::collect_until(Duration until) {
  for (;;) {
    bool got = false;
    if (!pump(until, &got)) return false;
    if (!got && t_.now() >= until) return true;
  }
}

bool ScriptRun::reject_unexpected(Duration older_than, const Event* ev) {
  for (const auto& p : buffered_) {
    if (p.at >= older_than) continue;
    std::string when = ev ? "before this event" : "before the script ended";
    return fail(ev ? ev : prev_, "unexpected outbound packet " + when,
                {"actual:   " + render_live(p) + "  (at " + secs(p.at) + ")",
                 "no `>` line expects it (a script shows a drop by sending nothing)"});
  }
  return true;
}

std::string ScriptRun::render_live(const OutPacket& p) {
  auto live = parse_live_tcp(p.bytes);
  if (!live) return "(not a TCP packet, " + std::to_string(p.bytes.size()) + " bytes)";
  for (size_t i = 0; i < conns_.size(); ++i) {
    if ((i == 0 && !default_conn_ready_) || !conns_[i].owns(*live)) continue;
    ScriptConn c = conns_[i];
    // A SYN no line expected starts its own numbering, as a script would write it.
    if (live->seg.h.flags & wire::tcp_flags::SYN) {
      c.script_local_isn = 0;
      c.live_local_isn = live->seg.h.seq;
    }
    return c.to_script(*live, c.explicit_ports).to_string();
  }
  return wire::format_tcp(live->ip, live->seg);
}

// ------------------------------------------------------------------ connections

ScriptConn& ScriptRun::conn_for(const Packet& p) {
  const bool in = p.direction == Direction::inbound;
  if (!p.sport) {
    ScriptConn& c = conns_[0];
    if (!default_conn_ready_) {
      default_conn_ready_ = true;
      if (in) {  // passive open: the script's peer connects to the bound port
        c.local_port = kBindPort;
        c.remote_port = kDefaultRemotePort;
        c.local_port_known = true;
      } else {  // active open: the target picks its port; learnt from its SYN
        c.remote_port = kConnectPort;
      }
    }
    return c;
  }
  const uint16_t local = in ? *p.dport : *p.sport;
  const uint16_t remote = in ? *p.sport : *p.dport;
  for (size_t i = 1; i < conns_.size(); ++i)
    if (conns_[i].local_port == local && conns_[i].remote_port == remote) return conns_[i];
  ScriptConn c;
  c.explicit_ports = true;
  c.local_port = local;
  c.remote_port = remote;
  c.local_port_known = true;
  conns_.push_back(std::move(c));
  return conns_.back();
}

// ------------------------------------------------------------------ packets

bool ScriptRun::outbound(const Event& ev, const Packet& exp) {
  const Timing& tm = ev.timing;
  const Duration anchor = t_.now();  // outbound times count from when the last event happened
  Duration lo{0}, hi{0};
  std::string expected_when;
  switch (tm.kind) {
    case Timing::Kind::absolute:
      lo = hi = tm.start;
      break;
    case Timing::Kind::relative:
      lo = hi = anchor + tm.start;
      break;
    case Timing::Kind::absolute_range:
      lo = tm.start, hi = tm.end;
      break;
    case Timing::Kind::relative_range:
      lo = anchor + tm.start, hi = anchor + tm.end;
      break;
    case Timing::Kind::any:
    case Timing::Kind::none:
      lo = Duration::min();
      hi = anchor + (t_.live() ? kAnyTimeWaitLive : kAnyTimeWaitVirtual);
      break;
  }
  const bool any_time = tm.kind == Timing::Kind::any;
  const Duration tol = any_time ? Duration(0) : tolerance(hi - anchor);
  if (!any_time) {
    expected_when = lo == hi ? "at " + secs(lo) : "in " + secs(lo) + " ~ " + secs(hi);
    lo -= tol;
    hi += tol;
  } else {
    expected_when = "at any time";
  }

  ScriptConn& conn = conn_for(exp);
  std::optional<OutPacket> found;
  std::optional<LiveTcp> live;
  for (;;) {
    for (auto it = buffered_.begin(); it != buffered_.end(); ++it) {
      auto parsed = parse_live_tcp(it->bytes);
      if (!parsed || !conn.owns(*parsed)) continue;
      found = std::move(*it);
      live = std::move(parsed);
      buffered_.erase(it);
      break;
    }
    if (found || failed_) break;
    if (t_.now() >= hi) {
      std::vector<std::string> d{"expected: " + exp.to_string() + "  (" + expected_when + ")"};
      if (!buffered_.empty())
        d.push_back("actual:   " + render_live(buffered_.front()) + "  (at " +
                    secs(buffered_.front().at) + ", another connection)");
      else
        d.push_back("actual:   nothing sent by " + secs(hi));
      return fail(&ev, "expected outbound packet was not sent", d);
    }
    if (!pump(hi, nullptr)) return false;
  }
  if (failed_) return false;
  if (!conn.local_port_known) {
    conn.local_port = live->seg.h.sport;
    conn.local_port_known = true;
  }
  // An outbound SYN tells the target's ISN (packetdrill relearns it on each).
  if ((exp.flags & wire::tcp_flags::SYN) && (live->seg.h.flags & wire::tcp_flags::SYN) &&
      !exp.absolute_seq) {
    conn.script_local_isn = exp.seq_start;
    conn.live_local_isn = live->seg.h.seq;
  }
  conn.learn_ts(exp, *live);
  Packet actual = conn.to_script(*live, exp.sport.has_value());
  if (!any_time && !coalesce_segments(exp, conn, *live, hi, actual)) return false;
  if (exp.absolute_seq) {  // synq extension `abs`: the target's real numbers
    actual.absolute_seq = true;
    actual.seq_start = live->seg.h.seq;
    actual.seq_end = actual.seq_start + actual.payload_len;
  }
  const std::vector<std::string> diff{
      "expected: " + exp.to_string() + "  (" + expected_when + ")",
      "actual:   " + actual.to_string() + "  (at " + secs(found->at) + ")"};
  if (!any_time && (found->at < lo || found->at > hi))
    return fail(&ev,
                std::string("outbound packet ") + (found->at < lo ? "too early" : "too late") +
                    " (tolerance " + secs(tol) + ")",
                diff);
  if (std::string field = first_mismatch(exp, actual, strict_); !field.empty()) {
    if (field == "win" && !exp.window)
      return fail(&ev, "--strict: an outbound packet must state its win", diff);
    return fail(&ev, "outbound packet differs: " + field, diff);
  }
  return true;
}

bool ScriptRun::coalesce_segments(const Packet& exp, const ScriptConn& conn, const LiveTcp& first,
                                  Duration until, Packet& actual) {
  // packetdrill's TUN device offers TSO/GSO, so a kernel hands it one super-
  // packet per write where a device without offload (ours, and synq) gets
  // MSS-sized segments. A line that expects more payload than one segment
  // carries takes the contiguous segments that follow, as GSO would have
  // sent them: one packet, the flags of all (PSH, FIN), the last window.
  namespace tf = wire::tcp_flags;
  if (first.seg.h.flags & (tf::SYN | tf::RST)) return true;
  uint32_t next_seq = first.seg.h.seq + static_cast<uint32_t>(first.seg.payload.size());
  while (actual.payload_len < exp.payload_len && !(actual.flags & tf::FIN)) {
    std::optional<LiveTcp> more;
    for (auto it = buffered_.begin(); it != buffered_.end(); ++it) {
      auto parsed = parse_live_tcp(it->bytes);
      if (!parsed || !conn.owns(*parsed) || parsed->seg.h.seq != next_seq ||
          parsed->seg.h.ack != first.seg.h.ack || (parsed->seg.h.flags & (tf::SYN | tf::RST)))
        continue;
      more = std::move(parsed);
      buffered_.erase(it);
      break;
    }
    if (!more) {
      if (t_.now() >= until || failed_) break;
      if (!pump(until, nullptr)) return false;
      continue;
    }
    const auto len = static_cast<uint32_t>(more->seg.payload.size());
    actual.payload_len = static_cast<uint16_t>(actual.payload_len + len);
    actual.seq_end = actual.seq_start + actual.payload_len;
    actual.flags |= more->seg.h.flags & (tf::PSH | tf::FIN);
    actual.window = more->seg.h.window;
    next_seq += len;
  }
  return !failed_;
}

bool ScriptRun::inbound(const Event& ev, const Packet& p, Duration /*at*/) {
  ScriptConn& conn = conn_for(p);
  wire::TcpHeader h;
  h.sport = conn.remote_port;
  h.dport = conn.local_port;
  h.seq = p.seq_start;  // the script's own sequence numbers are literal
  h.flags = p.flags;
  h.ack = p.ack.value_or(0) + ((p.flags & wire::tcp_flags::ACK) ? conn.local_offset() : 0);
  h.window = p.window.value_or(65535);
  h.urgent = p.urgent.value_or(0);
  // The options go out in the script's order (packetdrill sends them as
  // written): the header is built without options, then they are put in
  // front of the payload and the data offset and checksum fixed up.
  std::optional<uint32_t> ecr;
  for (const auto& o : p.options) {
    if (o.kind != script::PacketOption::Kind::timestamp || !(p.flags & wire::tcp_flags::ACK))
      continue;
    ecr = conn.live_ts_ecr(o.ts_ecr);
    if (!ecr)
      return fail(&ev, "cannot map TS ecr " + std::to_string(o.ts_ecr) +
                           ": no outbound TS val seen on this connection yet");
  }
  const std::vector<uint8_t> opts = ordered_option_bytes(p.options, conn.local_offset(), ecr);
  if (opts.size() > 40) return fail(&ev, "more than 40 bytes of TCP options");
  std::vector<uint8_t> payload(opts);
  payload.resize(opts.size() + p.payload_len, 0);
  const size_t ip_len = wire::ip_header_length(remote_.version);
  std::vector<uint8_t> buf(ip_len + 20 + payload.size());
  size_t n = wire::build_tcp(buf, remote_, local_, h, payload);
  if (n == 0) return fail(&ev, "cannot build the inbound packet");
  buf.resize(n);
  uint8_t* tcp = buf.data() + ip_len;
  tcp[12] = static_cast<uint8_t>(((20 + opts.size()) / 4) << 4 | (tcp[12] & 0x0f));
  tcp[16] = tcp[17] = 0;
  const auto tcp_len = static_cast<uint32_t>(n - ip_len);
  const uint16_t sum = wire::checksum_finish(wire::checksum_add(
      wire::pseudo_header_sum(remote_, local_, wire::ip_proto::TCP, tcp_len), {tcp, tcp_len}));
  tcp[16] = static_cast<uint8_t>(sum >> 8);
  tcp[17] = static_cast<uint8_t>(sum);
  if (std::string e = t_.inject(buf); !e.empty()) return fail(&ev, "inject: " + e);
  return true;
}

bool ScriptRun::shell(const Event& ev, const script::ShellBlock& b) {
  for (const auto& item : b.items) {
    if (const auto* set = std::get_if<script::SysctlSet>(&item)) {
      if (std::string e = t_.set_sysctl(set->name, set->value); !e.empty())
        return fail(&ev, "sysctl " + set->name + "=" + set->value + ": " + e);
    } else {
      const auto& cmd = std::get<script::ShellCommand>(item);
      if (std::string e = t_.run_shell(cmd.text); !e.empty()) {
        if (e.rfind("skipped", 0) == 0) {
          note(s_.file + ":" + std::to_string(cmd.line) + ": " + e + ": " + cmd.text);
          continue;
        }
        Event at = ev;  // name the command's own line, not the block's first
        at.loc.line = cmd.line;
        return fail(&at, "command `" + cmd.text + "` " + e);
      }
    }
  }
  return true;
}

// ------------------------------------------------------------------ blocking calls

bool ScriptRun::retry_pending() {
  if (!pending_ || failed_) return !failed_;
  auto r = pending_->attempt();
  if (!r) return true;
  Pending p = std::move(*pending_);
  pending_.reset();
  const Duration at = t_.now();
  if (at < p.end - p.tolerance || at > p.end + p.tolerance)
    return fail(p.event,
                "blocking call returned at " + secs(at) + ", the script says " + secs(p.end) +
                    " (tolerance " + secs(p.tolerance) + ")",
                {"call: " + p.event->syscall()->to_string()});
  return p.finish(*r);
}

bool ScriptRun::finish_pending() {
  while (pending_ && !failed_) {
    const Duration limit = pending_->end + pending_->tolerance;
    if (t_.now() >= limit) {
      const Event* ev = pending_->event;
      pending_.reset();
      return fail(ev, "blocking call did not return by " + secs(limit),
                  {"call: " + ev->syscall()->to_string()});
    }
    bool got = false;
    if (!pump(limit, &got)) return false;
  }
  return !failed_;
}

}  // namespace synq::runner
