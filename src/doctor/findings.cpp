// diagnose(): the rules that turn an Observation into findings. Every rule
// names the kernel function its fact comes from (Linux 6.18; facts measured
// on the host are in docs/kernel-facts.md and docs/passive-open.md).
#include "doctor/findings.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "doctor/client_view.hpp"
#include "doctor/framework_defaults.hpp"

namespace synq::doctor {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::problem:
      return "problem";
  }
  return "info";
}

namespace {

using nlohmann::json;

uint64_t delta(const Observation& o, const std::string& name) {
  const uint64_t a = o.after.counter(name), b = o.before.counter(name);
  return a >= b ? a - b : 0;  // a counter never goes back; a reset reads as nothing
}

std::string per_second(uint64_t n, double window_s) {
  if (window_s <= 0) return "";
  return fmt::format(" ({:.2f}/s over {:.1f} s)", n / window_s, window_s);
}

double rate(uint64_t n, double window_s) {
  return window_s > 0 ? n / window_s : 0.0;
}

bool same_address(const SocketAddress& a, const SocketAddress& b) {
  return a.family == b.family && a.port == b.port && a.addr == b.addr;
}

std::string owner_text(const Listener& l) {
  if (l.owners.empty()) return "";
  const Owner& o = l.owners.front();
  return fmt::format(" (pid {} {})", o.pid, o.comm);
}

struct Rules {
  const Observation& o;
  const NetnsSnapshot& ns;  // the listener's namespace, at the end of the window
  int64_t somaxconn;
  int64_t syncookies;
  int64_t timestamps;
  int64_t abort_on_overflow;
  std::vector<Finding> out;

  explicit Rules(const Observation& obs)
      : o(obs),
        ns(obs.after),
        somaxconn(ns.knob("net.core.somaxconn").value_or(-1)),
        syncookies(ns.knob("net.ipv4.tcp_syncookies").value_or(1)),
        timestamps(ns.knob("net.ipv4.tcp_timestamps").value_or(1)),
        abort_on_overflow(ns.knob("net.ipv4.tcp_abort_on_overflow").value_or(0)) {}

  void add(std::string id, Severity sev, const Listener* l, std::string title, std::string detail,
           std::string fix, json numbers) {
    Finding f;
    f.id = std::move(id);
    f.severity = sev;
    if (l) f.listener = l->local;
    f.title = std::move(title);
    f.detail = std::move(detail);
    f.fix = std::move(fix);
    f.numbers = std::move(numbers);
    out.push_back(std::move(f));
  }

  // ---------------------------------------------------------------- per listener

  void backlog_clamped(const Listener& l) {
    // __sys_listen: backlog = min((unsigned)backlog,
    // READ_ONCE(sock_net(sk)->core.sysctl_somaxconn)), so Send-Q (sk_max_ack_backlog) == somaxconn
    // means the program asked for at least that much (or -1, which the unsigned compare turns into
    // somaxconn).
    if (somaxconn < 0 || l.send_q != static_cast<uint64_t>(somaxconn)) return;
    json n = {{"send_q", l.send_q}, {"somaxconn", somaxconn}, {"netns_inode", ns.netns_inode}};
    std::string asked = fmt::format("at least {} (or -1)", somaxconn);
    for (const auto& owner : l.owners) {
      const auto m = match_default(owner, l.send_q, somaxconn);
      if (m && m->clamped) {
        asked = fmt::format("{} ({}'s default)", m->entry->backlog, m->entry->runtime);
        n["asked"] = m->entry->backlog;
        break;
      }
    }
    std::string where =
        ns.netns.empty() ? fmt::format("this network namespace (inode {})", ns.netns_inode)
                         : fmt::format("network namespace {} (inode {})", ns.netns, ns.netns_inode);
    std::string detail = fmt::format(
        "{}{} has Send-Q {}, which is net.core.somaxconn of {}: the program asked for {}, and "
        "the kernel kept min(asked, somaxconn) (__sys_listen). The accept queue holds {} "
        "connections (B+1).",
        l.local.to_string(), owner_text(l), l.send_q, where, asked,
        static_cast<uint64_t>(l.send_q) + 1);
    if (o.origin) {
      const auto origin_max = o.origin->knob("net.core.somaxconn");
      if (origin_max && *origin_max != somaxconn) {
        detail += fmt::format(
            " The namespace doctor started from has somaxconn {}: somaxconn is per network "
            "namespace, and the listener's own ({}) is the one in force.",
            *origin_max, somaxconn);
        n["origin_somaxconn"] = *origin_max;
      }
    }
    add("backlog_clamped", Severity::warning, &l,
        fmt::format("{}: backlog clamped to somaxconn {}", l.local.to_string(), somaxconn),
        std::move(detail),
        fmt::format("Raise net.core.somaxconn in the listener's namespace (sysctl -w "
                    "net.core.somaxconn=N; in a container, the pod's or container's namespaced "
                    "sysctl), then restart the listener: a running listener keeps Send-Q {}.",
                    l.send_q),
        std::move(n));
  }

  void framework_default(const Listener& l) {
    for (const auto& owner : l.owners) {
      const auto m = match_default(owner, l.send_q, somaxconn);
      if (!m) continue;
      const RuntimeDefault& d = *m->entry;
      std::string detail = fmt::format(
          "{} is owned by pid {} ({}), recognised as {} ({}). Its Send-Q {} is that runtime's "
          "default backlog {}",
          l.local.to_string(), owner.pid, owner.comm, d.runtime, m->how, l.send_q, d.backlog);
      if (m->clamped)
        detail += fmt::format(", clamped to this namespace's somaxconn {}", somaxconn);
      detail += ": nobody chose it.";
      if (m->picked_by_send_q)
        detail += fmt::format(
            " This runtime has several defaults; the Send-Q value {} is what "
            "picks this one.",
            l.send_q);
      for (const auto* other : m->same_value)
        detail += fmt::format(" {} also defaults to {}; the command line cannot tell them apart.",
                              other->runtime, other->backlog);
      detail += fmt::format(" Source: {}.", d.source);
      add("framework_default", Severity::warning, &l,
          fmt::format("{}: {}'s default backlog {}", l.local.to_string(), d.runtime, d.backlog),
          std::move(detail),
          fmt::format("Set it explicitly: {}{}.", d.setting,
                      m->clamped ? ", and raise net.core.somaxconn to at least that" : ""),
          {{"send_q", l.send_q},
           {"default", d.backlog},
           {"runtime", d.runtime},
           {"clamped", m->clamped},
           {"somaxconn", somaxconn},
           {"pid", owner.pid}});
      return;
    }
    if (const auto note = truncation_note(l.send_q, somaxconn)) {
      add("framework_default", Severity::warning, &l,
          fmt::format("{}: backlog {} looks truncated to 16 bits", l.local.to_string(), l.send_q),
          fmt::format("{}{}: {}. Its accept queue holds {} connection{} (B+1).",
                      l.local.to_string(), owner_text(l), *note, uint64_t{l.send_q} + 1,
                      l.send_q == 0 ? "" : "s"),
          "Pass an explicit backlog below 65536, or set net.core.somaxconn to 65535 if the "
          "program reads it.",
          {{"send_q", l.send_q}, {"somaxconn", somaxconn}});
    }
  }

  void accept_queue_full(const Listener& l, const ListenerEvidence* ev) {
    // sk_acceptq_is_full (include/net/sock.h): sk_ack_backlog > sk_max_ack_backlog,
    // so B+1 connections fit and Recv-Q == Send-Q is not yet full.
    const uint64_t limit = static_cast<uint64_t>(l.send_q) + 1;
    const bool now_full = l.recv_q > l.send_q;
    const bool burst = ev && ev->accept_queue_max >= limit;
    if (!now_full && !burst) return;
    json n = {{"recv_q", l.recv_q}, {"send_q", l.send_q}, {"holds", limit}};
    std::string detail;
    if (now_full) {
      detail = fmt::format(
          "{}{} has {} of {} in its accept queue: full. Linux admits B+1 = {} (sk_acceptq_is_full "
          "tests ack_backlog > max_ack_backlog); every further handshake is dropped until the "
          "program calls accept().",
          l.local.to_string(), owner_text(l), l.recv_q, l.send_q, limit);
    } else {
      detail = fmt::format(
          "{}{} showed {} of {} when sampled, but during the {:.1f} s window the kernel saw its "
          "accept queue at {} (full at B+1 = {}): a burst that a point sample such as ss -lnt "
          "cannot see.",
          l.local.to_string(), owner_text(l), l.recv_q, l.send_q, o.window_s, ev->accept_queue_max,
          limit);
    }
    if (ev) n["accept_queue_max"] = ev->accept_queue_max;
    add("accept_queue_full", Severity::warning, &l,
        fmt::format("{}: accept queue {} ({} of {})", l.local.to_string(),
                    now_full ? "full now" : "reached its limit in a burst",
                    now_full ? l.recv_q : (ev ? ev->accept_queue_max : 0), l.send_q),
        std::move(detail),
        fmt::format("Accept faster (more workers or threads calling accept(), less work before "
                    "it); a larger backlog (listen(fd, N), somaxconn ≥ N; now {}) only absorbs "
                    "bursts.",
                    l.send_q),
        std::move(n));
  }

  void syn_time_overflow(const Listener& l, const ListenerEvidence& ev) {
    // tcp_conn_request: sk_acceptq_is_full → NET_INC_STATS(LINUX_MIB_LISTENOVERFLOWS),
    // then tcp_listendrop (ListenDrops); the SYN is dropped with no answer.
    if (ev.syn_drops_accept_queue == 0) return;
    json n = client_view_numbers(ns);
    n["syn_drops"] = ev.syn_drops_accept_queue;
    n["per_s"] = rate(ev.syn_drops_accept_queue, o.window_s);
    n["window_s"] = o.window_s;
    n["send_q"] = l.send_q;
    add("syn_time_overflow", Severity::problem, &l,
        fmt::format("{}: {} SYNs dropped, accept queue full", l.local.to_string(),
                    ev.syn_drops_accept_queue),
        fmt::format("{} SYNs to {}{} were dropped{} because the accept queue was already full "
                    "when they arrived (tcp_conn_request: no SYN-ACK, no RST; counted as "
                    "ListenOverflows and ListenDrops). {}",
                    ev.syn_drops_accept_queue, l.local.to_string(), owner_text(l),
                    per_second(ev.syn_drops_accept_queue, o.window_s), syn_drop_experience(ns)),
        fmt::format("Accept faster (more workers), or raise the backlog (now {}) with "
                    "listen(fd, N) and net.core.somaxconn ≥ N.",
                    l.send_q),
        std::move(n));
  }

  void ack_time_overflow(const Listener& l, const ListenerEvidence& ev) {
    // tcp_check_req → inet_csk_complete_hashdance fails when syn_recv_sock
    // finds sk_acceptq_is_full (ListenOverflows); with abort_on_overflow=0 the
    // request is kept and marked acked (inet_rsk(req)->acked).
    if (ev.ack_overflows <= ev.rst_on_overflow) return;
    const uint64_t silent = ev.ack_overflows - ev.rst_on_overflow;
    json n = client_view_numbers(ns);
    n["ack_drops"] = silent;
    n["per_s"] = rate(silent, o.window_s);
    n["window_s"] = o.window_s;
    n["send_q"] = l.send_q;
    n["synack_retransmits"] = ev.synack_retransmits;
    add("ack_time_overflow", Severity::problem, &l,
        fmt::format("{}: {} third ACKs dropped, accept queue full", l.local.to_string(), silent),
        fmt::format("{} handshakes to {}{} completed on the client's side but their third ACK "
                    "was dropped{} because the accept queue was full (tcp_check_req; counted as "
                    "ListenOverflows, which netstat -s words as \"SYNs to LISTEN sockets "
                    "dropped\"). The kernel retransmitted {} SYN-ACKs for this listener in the "
                    "window. {}",
                    silent, l.local.to_string(), owner_text(l), per_second(silent, o.window_s),
                    ev.synack_retransmits, ack_drop_experience(ns)),
        fmt::format("Accept faster (more workers), or raise the backlog (now {}) with "
                    "listen(fd, N) and net.core.somaxconn ≥ N. tcp_abort_on_overflow=1 would turn "
                    "the delay into a reset, which helps only clients that retry.",
                    l.send_q),
        std::move(n));
  }

  void abort_on_overflow_resets(const Listener& l, const ListenerEvidence& ev) {
    // tcp_check_req, listen_overflow: with tcp_abort_on_overflow the request
    // is answered with a RST (req->rsk_ops->send_reset) and dropped.
    if (ev.rst_on_overflow == 0) return;
    add("abort_on_overflow", Severity::problem, &l,
        fmt::format("{}: {} resets sent on overflow", l.local.to_string(), ev.rst_on_overflow),
        fmt::format("tcp_abort_on_overflow={} made the kernel answer {} third ACKs to {}{} with a "
                    "RST{} because the accept queue was full. {}",
                    abort_on_overflow, ev.rst_on_overflow, l.local.to_string(), owner_text(l),
                    per_second(ev.rst_on_overflow, o.window_s), reset_experience()),
        fmt::format("Accept faster or raise the backlog (now {}); set "
                    "net.ipv4.tcp_abort_on_overflow=0 unless every client retries on "
                    "ECONNRESET (with 0 the kernel waits and the client sees a delay instead).",
                    l.send_q),
        {{"resets", ev.rst_on_overflow},
         {"per_s", rate(ev.rst_on_overflow, o.window_s)},
         {"window_s", o.window_s},
         {"tcp_abort_on_overflow", abort_on_overflow}});
  }

  void syn_queue_overflow(const Listener& l, const ListenerEvidence& ev) {
    // tcp_conn_request: inet_csk_reqsk_queue_is_full (qlen > sk_max_ack_backlog
    // on 6.18) with cookies off → tcp_syn_flood_action counts TCPReqQFullDrop
    // and the SYN is dropped. With cookies off, the last quarter of
    // tcp_max_syn_backlog is kept for proven peers (the "Kill the following
    // clause" test): those drops count only ListenDrops.
    const uint64_t other = syncookies == 0 ? ev.syn_drops_other : 0;
    if (ev.syn_drops_syn_queue == 0 && other == 0) return;
    const auto max_syn = ns.knob("net.ipv4.tcp_max_syn_backlog").value_or(-1);
    std::string detail = fmt::format(
        "{}{}: {} SYNs were dropped{} because its SYN queue held more than its backlog {} "
        "(inet_csk_reqsk_queue_is_full) with tcp_syncookies={} (TCPReqQFullDrop).",
        l.local.to_string(), owner_text(l), ev.syn_drops_syn_queue,
        per_second(ev.syn_drops_syn_queue, o.window_s), l.send_q, syncookies);
    if (other)
      detail += fmt::format(
          " {} more were dropped because fewer than a quarter of tcp_max_syn_backlog ({}) was "
          "free and the peer was not proven (tcp_conn_request), or for want of memory.",
          other, max_syn);
    detail += " " + syn_drop_experience(ns);
    json n = client_view_numbers(ns);
    n["syn_queue_drops"] = ev.syn_drops_syn_queue;
    n["other_syn_drops"] = other;
    n["syn_queue_max"] = ev.syn_queue_max;
    n["send_q"] = l.send_q;
    n["tcp_syncookies"] = syncookies;
    n["tcp_max_syn_backlog"] = max_syn;
    n["window_s"] = o.window_s;
    add("syn_queue_overflow", Severity::problem, &l,
        fmt::format("{}: {} SYNs dropped, SYN queue full (cookies off)", l.local.to_string(),
                    ev.syn_drops_syn_queue + other),
        std::move(detail),
        fmt::format("Turn SYN cookies on (net.ipv4.tcp_syncookies=1), or raise the listener's "
                    "backlog (now {}): it bounds the SYN queue too.",
                    l.send_q),
        std::move(n));
  }

  std::string cookie_loss() const {
    // cookie_init_timestamp (net/ipv4/syncookies.c) keeps wscale, SACK and
    // ECN in the low 6 bits of TSval; cookie_v4_check reads them back from
    // the ACK's TSecr. Without timestamps they are lost; the MSS is always
    // one of msstab's 4 values (536, 1300, 1440, 1460).
    if (timestamps == 0)
      return "tcp_timestamps=0 here, so every cookie connection loses window scaling (64 KiB "
             "window at most), SACK and ECN: the cookie keeps them in the timestamp "
             "(cookie_init_timestamp) and there is none. Its MSS is rounded down to 536, 1300, "
             "1440 or 1460.";
    return "Cookie connections from clients that send timestamps keep window scaling, SACK and "
           "ECN (cookie_init_timestamp stores them in the timestamp); clients without timestamps "
           "lose all three. The MSS is rounded down to 536, 1300, 1440 or 1460.";
  }

  void syn_cookies(const Listener& l, const ListenerEvidence& ev) {
    if (ev.cookies_sent == 0 && ev.cookies_validated == 0) return;
    add("syn_cookies", Severity::warning, &l,
        fmt::format("{}: {} SYN cookies sent", l.local.to_string(), ev.cookies_sent),
        fmt::format("{}{} answered {} SYNs with a SYN cookie{} instead of a SYN queue entry "
                    "({}), and {} cookie ACKs checked out. {}",
                    l.local.to_string(), owner_text(l), ev.cookies_sent,
                    per_second(ev.cookies_sent, o.window_s),
                    syncookies == 2 ? "tcp_syncookies=2: always"
                                    : fmt::format("its SYN queue held more than its backlog {}, "
                                                  "inet_csk_reqsk_queue_is_full",
                                                  l.send_q),
                    ev.cookies_validated, cookie_loss()),
        syncookies == 2 ? "Set net.ipv4.tcp_syncookies=1 so cookies are used only under pressure."
                        : fmt::format("If this is legitimate load, raise the backlog (now {}): "
                                      "it bounds the SYN queue; if it is a flood, cookies are "
                                      "doing their job.",
                                      l.send_q),
        {{"cookies_sent", ev.cookies_sent},
         {"cookies_validated", ev.cookies_validated},
         {"per_s", rate(ev.cookies_sent, o.window_s)},
         {"send_q", l.send_q},
         {"tcp_syncookies", syncookies},
         {"tcp_timestamps", timestamps}});
  }

  std::string flood_log_text() const {
    return syncookies == 2
               ? "With tcp_syncookies=2 the kernel never prints \"Possible SYN flooding on port "
                 "...\" (tcp_syn_flood_action)."
               : "The kernel prints \"Possible SYN flooding on port P. Sending cookies.\" (or "
                 "\"Dropping request.\") at most once per listening socket: "
                 "tcp_syn_flood_action sets synflood_warned in its request queue, and the line is "
                 "rate-limited as well. Its absence from dmesg proves nothing.";
  }

  void flood_log_once(const Listener& l, const ListenerEvidence& ev) {
    const uint64_t events = ev.syn_drops_syn_queue + ev.cookies_sent;
    if (events == 0) return;
    add("flood_log_once", Severity::info, &l,
        fmt::format("{}: the SYN flood log line appears once at most", l.local.to_string()),
        fmt::format("{} SYN-queue overflows (cookies or drops) on {} in the window. {}", events,
                    l.local.to_string(), flood_log_text()),
        "Watch TcpExt.TCPReqQFullDoCookies and TCPReqQFullDrop (or this report), not dmesg.",
        {{"syn_queue_overflows", events}, {"tcp_syncookies", syncookies}});
  }

  // ---------------------------------------------------------------- namespace

  void namespace_cookies_and_flood_log() {
    // Without per-port evidence, the namespace counters still show SYN-queue
    // overflow (tcp_syn_flood_action counts one of these per overflowing SYN).
    if (o.evidence) return;
    const uint64_t do_cookies = delta(o, "TcpExt.TCPReqQFullDoCookies");
    const uint64_t sent = delta(o, "TcpExt.SyncookiesSent");
    const uint64_t qfull_drop = delta(o, "TcpExt.TCPReqQFullDrop");
    if (sent || do_cookies) {
      add("syn_cookies", Severity::warning, nullptr,
          fmt::format("SYN cookies sent in this namespace: {}", sent),
          fmt::format("SyncookiesSent +{}, TCPReqQFullDoCookies +{}{} in this namespace (which "
                      "listener cannot be told without BPF). {}",
                      sent, do_cookies, per_second(sent, o.window_s), cookie_loss()),
          "Find the listener whose SYN-RECV count is at its Send-Q and raise its backlog.",
          {{"SyncookiesSent", sent},
           {"TCPReqQFullDoCookies", do_cookies},
           {"tcp_timestamps", timestamps}});
    }
    if (do_cookies || qfull_drop) {
      add("flood_log_once", Severity::info, nullptr,
          "the SYN flood log line appears once per listener at most",
          fmt::format("TCPReqQFullDoCookies +{}, TCPReqQFullDrop +{} in the window. {}", do_cookies,
                      qfull_drop, flood_log_text()),
          "Watch TcpExt.TCPReqQFullDoCookies and TCPReqQFullDrop (or this report), not dmesg.",
          {{"TCPReqQFullDoCookies", do_cookies}, {"TCPReqQFullDrop", qfull_drop}});
    }
  }

  void myth_max_syn_backlog() {
    const auto max_syn = ns.knob("net.ipv4.tcp_max_syn_backlog");
    if (!max_syn || (syncookies != 1 && syncookies != 2)) return;
    // tcp_sk_init: the boot default is max(128, established-hash size / 128),
    // a power of two; anything else was set by someone.
    const int64_t v = *max_syn;
    const bool changed = v < 128 || (v & (v - 1)) != 0;
    bool pressure = delta(o, "TcpExt.TCPReqQFullDoCookies") > 0;
    for (const auto& l : ns.listeners)
      pressure = pressure || l.syn_recv > l.send_q;  // SYN queue full (qlen > B)
    if (o.evidence)
      for (const auto& e : *o.evidence) pressure = pressure || e.cookies_sent > 0;
    if (!changed && !pressure) return;
    add("myth_max_syn_backlog", Severity::info, nullptr,
        fmt::format("tcp_max_syn_backlog ({}) does not size the SYN queue while cookies are on", v),
        fmt::format(
            "tcp_syncookies={}: cookies start when a listener's own SYN queue holds more than its "
            "own backlog, the Send-Q (inet_csk_reqsk_queue_is_full: qlen > sk_max_ack_backlog). "
            "tcp_max_syn_backlog={} matters only with tcp_syncookies=0, where tcp_conn_request "
            "drops a SYN from an unproven peer once fewer than a quarter of it is free.{}",
            syncookies, v,
            changed ? " It was changed from its boot default (a power of two, at least 128, set "
                      "by tcp_sk_init), which changes nothing here."
                    : ""),
        "To give a listener a bigger SYN queue, raise its backlog: listen(fd, N) with "
        "net.core.somaxconn ≥ N.",
        {{"tcp_max_syn_backlog", v}, {"tcp_syncookies", syncookies}, {"changed", changed}});
  }

  void myth_backlog_drop() {
    const uint64_t d = delta(o, "TcpExt.TCPBacklogDrop");
    if (d == 0) return;
    add("myth_backlog_drop", Severity::info, nullptr,
        fmt::format("TCPBacklogDrop +{} is not about listen queues", d),
        fmt::format("TcpExt.TCPBacklogDrop moved by {}{}. It counts segments dropped because a "
                    "socket's own backlog (the packets queued while a thread holds the socket "
                    "lock) was over its buffer limit (tcp_add_backlog); it has nothing to do with "
                    "listen() or the accept queue, whatever blog posts say.",
                    d, per_second(d, o.window_s)),
        "Look at receive buffers and at threads holding sockets long; leave the listen backlog "
        "alone for this counter.",
        {{"TCPBacklogDrop", d}});
  }

  void unattributed_drops() {
    if (o.evidence) return;
    const uint64_t ovf = delta(o, "TcpExt.ListenOverflows");
    const uint64_t drops = delta(o, "TcpExt.ListenDrops");
    if (ovf == 0 && drops == 0) return;
    const uint64_t qfull = delta(o, "TcpExt.TCPReqQFullDrop");
    std::vector<std::string> full;
    for (const auto& l : ns.listeners)
      if (l.recv_q > l.send_q)
        full.push_back(fmt::format("{} ({} of {})", l.local.to_string(), l.recv_q, l.send_q));
    std::string detail = fmt::format(
        "ListenOverflows +{}, ListenDrops +{}{} in this namespace. Without per-port evidence "
        "(BPF) these cannot be split by port, nor into SYN-time and ACK-time drops: "
        "ListenOverflows counts a full accept queue at either, and ListenDrops counts every "
        "listener drop (it includes TCPReqQFullDrop +{}). Both count dropped segments, not "
        "clients: a client whose SYN is dropped again at each retransmission counts each time. "
        "Clients saw either connect() steps "
        "({}) or unanswered first data.",
        ovf, drops, per_second(drops, o.window_s), qfull,
        format_times(syn_retransmissions(
                         static_cast<int>(ns.knob("net.ipv4.tcp_syn_retries").value_or(6)),
                         static_cast<int>(ns.knob("net.ipv4.tcp_syn_linear_timeouts").value_or(0)))
                         .retransmit_at_s,
                     6));
    if (!full.empty()) {
      detail += " Full now:";
      for (size_t i = 0; i < full.size(); ++i) detail += (i ? ", " : " ") + full[i];
      detail += ".";
    }
    add("unattributed_drops", Severity::problem, nullptr,
        fmt::format("{} listen drops in this namespace, port unknown", std::max(ovf, drops)),
        std::move(detail),
        "Run doctor as root (BPF) to attribute the drops per port and per kind; meanwhile look at "
        "listeners whose Recv-Q exceeds Send-Q.",
        {{"ListenOverflows", ovf},
         {"ListenDrops", drops},
         {"TCPReqQFullDrop", qfull},
         {"per_s", rate(drops, o.window_s)},
         {"window_s", o.window_s}});
  }

  void evidence_missing() {
    if (o.evidence) return;
    add("evidence_missing", Severity::info, nullptr, "per-port kernel evidence not shown",
        o.evidence_missing.empty()
            ? "per-port kernel evidence unavailable (BPF not loaded): per-port drops, resets, "
              "SYN-ACK retransmissions, cookies and queue high-water marks are not shown; "
              "queues, knobs and counters are."
            : o.evidence_missing,
        "", json::object());
  }

  void run() {
    for (const auto& l : ns.listeners) {
      const ListenerEvidence* ev = evidence_for(o, l);
      backlog_clamped(l);
      framework_default(l);
      accept_queue_full(l, ev);
      if (ev) {
        syn_time_overflow(l, *ev);
        ack_time_overflow(l, *ev);
        abort_on_overflow_resets(l, *ev);
        syn_queue_overflow(l, *ev);
        syn_cookies(l, *ev);
        flood_log_once(l, *ev);
      }
    }
    namespace_cookies_and_flood_log();
    unattributed_drops();
    myth_max_syn_backlog();
    myth_backlog_drop();
    evidence_missing();
    // Problems first, then by port; findings about the namespace as a whole
    // come after the per-port ones of the same severity.
    std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
      if (a.severity != b.severity) return a.severity > b.severity;
      const uint32_t pa = a.listener ? a.listener->port : 65536u;
      const uint32_t pb = b.listener ? b.listener->port : 65536u;
      return pa < pb;
    });
  }
};

}  // namespace

// The kernel's socket cookie identifies a listener for its whole life; the
// address is the fallback for evidence recorded before the cookie was known.
const ListenerEvidence* evidence_for(const Observation& o, const Listener& l) {
  if (!o.evidence) return nullptr;
  if (l.cookie != 0)
    for (const auto& e : *o.evidence)
      if (e.cookie == l.cookie) return &e;
  // Two known cookies that differ are two sockets (an old listener on the
  // same address), so the address decides only when one cookie is unknown.
  for (const auto& e : *o.evidence)
    if ((e.cookie == 0 || l.cookie == 0) && e.netns_inode == o.after.netns_inode &&
        same_address(e.local, l.local))
      return &e;
  return nullptr;
}

std::vector<Finding> diagnose(const Observation& o) {
  Rules r(o);
  r.run();
  return std::move(r.out);
}

}  // namespace synq::doctor
