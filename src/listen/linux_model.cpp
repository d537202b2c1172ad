#include "listen/linux_model.hpp"

namespace synq::listen {

int LinuxModel::clamp_backlog(int backlog, const Sysctls& s) const {
  // spec §1: the compare is unsigned, so a negative backlog becomes somaxconn.
  if (static_cast<unsigned>(backlog) > static_cast<unsigned>(s.somaxconn)) return s.somaxconn;
  return backlog;
}

bool LinuxModel::syn_queue_full(const QueueLengths& q, const Sysctls& s) {
  if (s.syn_queue_check == "legacy") return q.syn_queue >= q.backlog;
  return q.syn_queue > q.backlog;
}

SynAction LinuxModel::on_syn(const QueueLengths& q, const Sysctls& s, Counters& c) const {
  // Order of checks: spec §2 "On a SYN" (tcp_conn_request).
  bool want_cookie = false;
  if (s.tcp_syncookies == 2 || syn_queue_full(q, s)) {
    if (s.tcp_syncookies != 0) {
      c.inc(Counter::TcpExt_TCPReqQFullDoCookies);
      want_cookie = true;
    } else {
      // spec §2 SYN step 1: SYN queue full, cookies off → drop.
      c.inc(Counter::TcpExt_TCPReqQFullDrop);
      c.inc(Counter::TcpExt_ListenDrops);
      return SynAction::drop;
    }
  }
  if (accept_queue_full(q)) {
    // spec §2 SYN step 2: accept queue full → silent drop, cookies or not.
    c.inc(Counter::TcpExt_ListenOverflows);
    c.inc(Counter::TcpExt_ListenDrops);
    return SynAction::drop;
  }
  if (!want_cookie && s.tcp_syncookies == 0 &&
      s.tcp_max_syn_backlog - static_cast<int>(q.syn_queue) < (s.tcp_max_syn_backlog >> 2)) {
    // spec §2 SYN step 3: cookies off and under a quarter of tcp_max_syn_backlog
    // left → drop the unproven peer (synq keeps no peer metrics: none is proven).
    c.inc(Counter::TcpExt_ListenDrops);
    return SynAction::drop;
  }
  return want_cookie ? SynAction::cookie : SynAction::request;
}

AckAction LinuxModel::on_third_ack(const QueueLengths& q, const Sysctls& s, Counters& c) const {
  if (accept_queue_full(q)) {
    // spec §2 third ACK: accept queue full → ListenOverflows + ListenDrops,
    // then drop (request kept, acked) or RST with tcp_abort_on_overflow.
    c.inc(Counter::TcpExt_ListenOverflows);
    c.inc(Counter::TcpExt_ListenDrops);
    return s.tcp_abort_on_overflow ? AckAction::rst : AckAction::drop;
  }
  return AckAction::complete;
}

}  // namespace synq::listen
