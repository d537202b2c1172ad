// doctor's text and JSON output. The text fits 100 columns; the JSON schema
// is documented in docs/doctor.md ("JSON schema") and its keys are stable.
#include "doctor/report.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <fmt/format.h>

namespace synq::doctor {

namespace {

using nlohmann::json;

constexpr size_t kWidth = 100;

// The knobs shown, in this order (NetnsSnapshot::knobs names).
constexpr const char* kKnobs[] = {
    "net.core.somaxconn",
    "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_abort_on_overflow",
    "net.ipv4.tcp_synack_retries",
    "net.ipv4.tcp_syn_retries",
    "net.ipv4.tcp_syn_linear_timeouts",
    "net.ipv4.tcp_timestamps",
};

// The namespace counters that bear on listen queues.
constexpr const char* kCounters[] = {
    "TcpExt.ListenOverflows",      "TcpExt.ListenDrops",    "TcpExt.TCPReqQFullDrop",
    "TcpExt.TCPReqQFullDoCookies", "TcpExt.SyncookiesSent", "TcpExt.SyncookiesRecv",
    "TcpExt.SyncookiesFailed",     "TcpExt.TCPBacklogDrop", "Tcp.PassiveOpens",
};

uint64_t delta(const Observation& o, const std::string& name) {
  const uint64_t a = o.after.counter(name), b = o.before.counter(name);
  return a >= b ? a - b : 0;
}

// Display width in code points (the text has ≥, …, — and ×).
size_t columns(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Word-wraps `text` to kWidth columns. The first line starts with `first`
// and a space (or with `indent` when `first` is empty), the others with `indent`.
std::string wrap(std::string_view text, std::string_view indent, std::string_view first = {}) {
  std::string out;
  std::string line = first.empty() ? std::string(indent) : std::string(first) + " ";
  size_t cols = columns(line);
  bool has_word = false;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(pos, end - pos);
    const size_t w = columns(word);
    if (has_word && cols + 1 + w > kWidth) {
      out += line + "\n";
      line = indent;
      cols = columns(indent);
      has_word = false;
    }
    if (has_word) {
      line += ' ';
      ++cols;
    }
    line += word;
    cols += w;
    has_word = true;
    pos = end;
  }
  out += line + "\n";
  return out;
}

std::string ip_text(const SocketAddress& a) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.family == AF_INET6 ? AF_INET6 : AF_INET, a.addr.data(), text, sizeof text);
  return text;
}

std::string join_argv(const std::vector<std::string>& argv) {
  std::string s;
  for (size_t i = 0; i < argv.size(); ++i) s += (i ? " " : "") + argv[i];
  return s;
}

std::string namespace_name(const NetnsSnapshot& s) {
  return s.netns.empty() ? "(current)" : s.netns;
}

std::string evidence_state(const Observation& o) {
  if (o.evidence) return "available";
  return "missing: " +
         (o.evidence_missing.empty() ? std::string("BPF not loaded") : o.evidence_missing);
}

std::string cell(const ListenerEvidence* ev, uint64_t ListenerEvidence::*field) {
  return ev ? fmt::format("{}", ev->*field) : "-";
}

std::string cell32(const ListenerEvidence* ev, uint32_t ListenerEvidence::*field) {
  return ev ? fmt::format("{}", ev->*field) : "-";
}

std::string owners_line(const Listener& l) {
  if (l.owners.empty()) return "owner not visible";
  std::string s;
  for (size_t i = 0; i < l.owners.size(); ++i) {
    const Owner& o = l.owners[i];
    const std::string cmd = o.argv.empty() ? o.comm : join_argv(o.argv);
    s += fmt::format("{}pid {} {}", i ? "; " : "", o.pid, cmd);
  }
  return s;
}

std::string truncate_to(std::string s, size_t cols) {
  if (columns(s) <= cols) return s;
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = s[i];
    if ((c & 0xC0) != 0x80 && ++n > cols - 1) break;
    out += s[i];
  }
  return out + "…";
}

json evidence_json(const ListenerEvidence& e) {
  return {{"cookie", e.cookie},
          {"syns", e.syns},
          {"syn_drops_accept_queue", e.syn_drops_accept_queue},
          {"syn_drops_syn_queue", e.syn_drops_syn_queue},
          {"syn_drops_other", e.syn_drops_other},
          {"ack_overflows", e.ack_overflows},
          {"rst_on_overflow", e.rst_on_overflow},
          {"synack_retransmits", e.synack_retransmits},
          {"cookies_sent", e.cookies_sent},
          {"cookies_validated", e.cookies_validated},
          {"completions", e.completions},
          {"accepts", e.accepts},
          {"accept_queue_max", e.accept_queue_max},
          {"syn_queue_max", e.syn_queue_max},
          {"backlog", e.backlog}};
}

}  // namespace

std::string render_text(const Observation& o, const std::vector<Finding>& findings) {
  const NetnsSnapshot& ns = o.after;
  std::string out = fmt::format("synq doctor: network namespace {} (inode {}), window {:.1f} s\n",
                                namespace_name(ns), ns.netns_inode, o.window_s);
  // Knobs, as many to a line as fit.
  std::string knobs;
  for (const char* k : kKnobs) {
    const auto v = ns.knob(k);
    std::string name = k;
    if (name.rfind("net.ipv4.", 0) == 0) name = name.substr(9);
    if (name.rfind("net.core.", 0) == 0) name = name.substr(9);
    knobs += fmt::format("{}={} ", name, v ? fmt::format("{}", *v) : std::string("n/a"));
  }
  out += wrap(knobs, "       ", "knobs:");
  out += wrap(evidence_state(o), "          ", "evidence:");
  out += "\n";

  out += fmt::format("{:<24} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>5} {:>6} {:>7}\n",
                     "LISTENER", "RECV-Q", "SEND-Q", "SYNRCV", "AQ-HWM", "SQ-HWM", "SYNDRP",
                     "ACKDRP", "RST", "SA-RTX", "COOKIES");
  if (ns.listeners.empty()) out += "  (no listening TCP sockets)\n";
  for (const auto& l : ns.listeners) {
    const ListenerEvidence* ev = evidence_for(o, l);
    const std::string drops =
        ev ? fmt::format("{}",
                         ev->syn_drops_accept_queue + ev->syn_drops_syn_queue + ev->syn_drops_other)
           : "-";
    out += fmt::format(
        "{:<24} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>5} {:>6} {:>7}\n", l.local.to_string(),
        l.recv_q, l.send_q, l.syn_recv, cell32(ev, &ListenerEvidence::accept_queue_max),
        cell32(ev, &ListenerEvidence::syn_queue_max), drops,
        cell(ev, &ListenerEvidence::ack_overflows), cell(ev, &ListenerEvidence::rst_on_overflow),
        cell(ev, &ListenerEvidence::synack_retransmits), cell(ev, &ListenerEvidence::cookies_sent));
    out += "  " + truncate_to(owners_line(l), kWidth - 2) + "\n";
  }
  out +=
      "AQ/SQ-HWM: accept/SYN queue high-water marks in the window; SYNDRP: SYNs dropped;\n"
      "ACKDRP: third ACKs dropped (accept queue full); RST: resets on overflow;\n"
      "SA-RTX: SYN-ACK retransmissions; '-': no per-port evidence.\n\n";

  out += fmt::format("namespace counters, change over {:.1f} s:\n", o.window_s);
  std::string line;
  for (size_t i = 0; i < std::size(kCounters); ++i) {
    std::string name = kCounters[i];
    name = name.substr(name.find('.') + 1);
    line += fmt::format("  {:<22}{:>8}", name, fmt::format("+{}", delta(o, kCounters[i])));
    if (i % 3 == 2 || i + 1 == std::size(kCounters)) {
      out += line + "\n";
      line.clear();
    }
  }
  out += "\n";

  if (findings.empty()) {
    out += "findings: none\n";
    return out;
  }
  out += fmt::format("findings ({}):\n", findings.size());
  for (const auto& f : findings) {
    out += wrap(fmt::format("{} ({})", f.title, f.id), "    ",
                fmt::format("[{}]", severity_name(f.severity)));
    out += wrap(f.detail, "    ");
    if (!f.fix.empty()) out += wrap(f.fix, "         ", "    fix:");
    out += "\n";
  }
  return out;
}

json to_json(const Observation& o, const std::vector<Finding>& findings) {
  const NetnsSnapshot& ns = o.after;
  json j;
  j["netns"] = ns.netns;
  j["netns_inode"] = ns.netns_inode;
  j["window_s"] = o.window_s;
  json knobs = json::object();
  for (const auto& [k, v] : ns.knobs) knobs[k] = v;
  j["knobs"] = knobs;
  json counters = json::object();
  for (const char* c : kCounters) counters[c] = delta(o, c);
  j["counters_delta"] = counters;
  j["evidence"] = evidence_state(o);
  json listeners = json::array();
  for (const auto& l : ns.listeners) {
    json owners = json::array();
    for (const auto& ow : l.owners)
      owners.push_back(
          {{"pid", ow.pid}, {"comm", ow.comm}, {"cmdline", join_argv(ow.argv)}, {"argv", ow.argv}});
    const ListenerEvidence* ev = evidence_for(o, l);
    listeners.push_back({{"address", ip_text(l.local)},
                         {"port", l.local.port},
                         {"family", l.local.family == AF_INET6 ? "inet6" : "inet"},
                         {"recv_q", l.recv_q},
                         {"send_q", l.send_q},
                         {"syn_recv", l.syn_recv},
                         {"cookie", l.cookie},
                         {"owners", owners},
                         {"evidence", ev ? evidence_json(*ev) : json(nullptr)}});
  }
  j["listeners"] = listeners;
  json fs = json::array();
  for (const auto& f : findings)
    fs.push_back({{"id", f.id},
                  {"severity", severity_name(f.severity)},
                  {"listener", f.listener ? json(f.listener->to_string()) : json(nullptr)},
                  {"title", f.title},
                  {"detail", f.detail},
                  {"fix", f.fix},
                  {"numbers", f.numbers.is_null() ? json::object() : f.numbers}});
  j["findings"] = fs;
  return j;
}

}  // namespace synq::doctor
