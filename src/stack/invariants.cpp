// StackImpl::invariant_violations: the stack's bookkeeping checked as a whole
// (issue 3, item 7). Each rule is one thing that, if false, means a queue
// count, a table or a timer has gone out of step with the objects it stands
// for:
//
//  listeners
//   L1 every listening socket is in the listener table under its own address,
//      and every table entry names an open listening socket;
//   L2 SYN-queue length == the live requests whose listener it is: the walk of
//      each listener's list finds requests that are live, indexed by their own
//      four-tuple, owned by that listener and on no other list, and the lists
//      together hold every request in the request table;
//   L3 accept-queue length == the children queued on it: each queued slot is a
//      live connection in a state reachable from ESTABLISHED, pointing back at
//      this listener, with no descriptor, on no other queue; and no other
//      connection claims to wait in a listener's queue;
//  connections
//   C1 the demux table holds exactly the slots marked in_table, each under its
//      own tuple; a connection is in it iff it is not CLOSED;
//   C2 a descriptor's socket and its connection name each other; a connection
//      with neither a descriptor nor a listener (an orphan) is not CLOSED —
//      a CLOSED orphan would never be freed;
//  timers ("no entry outlives its timer")
//   T1 every live request has a SYN-ACK timer, and every timed connection's
//      slot deadline is the engine's deadline;
//   T2 each of those deadlines has a matching live entry in the timer heap
//      (same owner, generation and deadline), so it will fire;
//   T3 after advance(now) no deadline is at or before now (it would have run);
//   T4 an orphan and a TIME-WAIT connection have a timer — nothing else would
//      ever end them.
//
// The walk is O(sockets + connection slots + requests + timer entries); it is
// meant for tests and debug builds, never for the release hot path.
#include <algorithm>
#include <string>
#include <vector>

#include "stack/dcheck.hpp"
#include "stack/stack_impl.hpp"

namespace synq {

namespace {

// ESTABLISHED and every state a connection can reach from it. A child waiting
// in an accept queue may already have been closed or reset by its peer.
bool reachable_from_established(TcpState s) {
  switch (s) {
    case TcpState::established:
    case TcpState::fin_wait_1:
    case TcpState::fin_wait_2:
    case TcpState::close_wait:
    case TcpState::closing:
    case TcpState::last_ack:
    case TcpState::time_wait:
    case TcpState::closed:
      return true;
    case TcpState::listen:
    case TcpState::syn_sent:
    case TcpState::syn_received:
      return false;
  }
  return false;
}

std::string describe(const FourTuple& t) {
  return t.local.to_string() + "<-" + t.remote.to_string();
}

std::string time_ns(Time t) {
  return t == kNever ? std::string("never") : std::to_string(t.count()) + "ns";
}

}  // namespace

std::vector<std::string> StackImpl::invariant_violations(bool timers_current) const {
  std::vector<std::string> out;
  auto fail = [&out](std::string s) { out.push_back(std::move(s)); };
  const listen::RequestTable& requests = opener_.requests();

  // T2: which owners have a live entry in the timer heap. An entry is live
  // when its owner still has that generation and that deadline (exactly
  // StackImpl::timer_stale's rule). compact() on a copy visits every entry in
  // O(n) through the heap's public interface; the predicate drops them all.
  std::vector<char> conn_timed(conns_.size(), 0);
  std::vector<char> request_timed;  // by request index, grown on demand
  {
    stack::TimerHeap copy = timers_;
    copy.compact([&](const stack::TimerEntry& e) {
      if (e.kind == stack::TimerKind::connection) {
        const ConnSlot& c = conns_[e.index];
        if (c.conn && c.generation == e.generation && c.deadline == e.deadline)
          conn_timed[e.index] = 1;
      } else {
        const listen::Request& r = requests.at(e.index);
        if (r.in_use && r.generation == e.generation && r.deadline == e.deadline) {
          // Grow geometrically: one resize per doubling, not per index.
          if (e.index >= request_timed.size())
            request_timed.resize(std::max<size_t>(e.index + 1, 2 * request_timed.size()), 0);
          request_timed[e.index] = 1;
        }
      }
      return true;
    });
  }

  // ---- listeners (L1–L3) and requests (T1–T3 for requests)
  std::vector<char> request_seen(request_timed.size(), 0);  // by request index
  std::vector<int> queued_on(conns_.size(), -1);
  size_t listener_sockets = 0;
  size_t requests_on_lists = 0;
  for (size_t i = 0; i < socks_.size(); ++i) {
    const Socket& s = socks_[i];
    if (!s.open || !s.listener) continue;
    const int fd = static_cast<int>(i) + kFirstFd;
    const listen::Listener& l = *s.listener;
    // Messages are built only when something fails: the walk must stay cheap.
    auto who = [&] {
      return "listener fd " + std::to_string(fd) + " (" + l.local().to_string() + ", " +
             std::string(l.model().name()) + ")";
    };
    ++listener_sockets;
    if (l.fd() != fd) fail(who() + ": Listener::fd() is " + std::to_string(l.fd()));
    const int* owner = listeners_.find(l.local());
    if (!owner || *owner != fd) fail(who() + ": not in the listener table under its address");

    // L2: the SYN queue.
    uint32_t walked = 0;
    uint32_t prev = listen::kNoRequest;
    for (uint32_t r = l.first_request(); r != listen::kNoRequest;) {
      if (walked > requests.live()) {
        fail(who() + ": SYN-queue list longer than the request table (a cycle?)");
        break;
      }
      if (r >= request_seen.size())
        request_seen.resize(std::max<size_t>(r + 1, 2 * request_seen.size()), 0);
      const listen::Request& q = requests.at(r);
      auto rq = [&] { return who() + ": request " + std::to_string(r) + " " + describe(q.tuple); };
      if (request_seen[r]) {
        fail(rq() + " is on a SYN-queue list twice");
        break;
      }
      request_seen[r] = 1;
      ++walked;
      if (!q.in_use) fail(rq() + " is on the SYN queue but not live");
      if (q.listener_fd != fd) fail(rq() + " belongs to fd " + std::to_string(q.listener_fd));
      if (q.prev != prev) fail(rq() + " has a broken prev link");
      const auto found = requests.find(q.tuple);
      if (!found || *found != r) fail(rq() + " is not indexed under its tuple");
      // T1–T3: the SYN-ACK timer.
      if (q.deadline == kNever) {
        fail(rq() + " has no SYN-ACK timer");
      } else {
        if (r >= request_timed.size() || !request_timed[r])
          fail(rq() + " deadline " + time_ns(q.deadline) + " has no live timer entry");
        if (timers_current && q.deadline <= now_)
          fail(rq() + " outlived its timer: deadline " + time_ns(q.deadline) + ", now " +
               time_ns(now_));
      }
      prev = r;
      r = q.next;
    }
    requests_on_lists += walked;
    if (walked != l.syn_queue_len())
      fail(who() + ": SYN-queue length " + std::to_string(l.syn_queue_len()) + " but " +
           std::to_string(walked) + " requests on its list");

    // L3: the accept queue.
    for (uint32_t slot : l.accept_queue()) {
      auto cs = [&] { return who() + ": queued child slot " + std::to_string(slot); };
      if (slot >= conns_.size() || !conns_[slot].conn) {
        fail(cs() + " is not a live connection");
        continue;
      }
      if (queued_on[slot] >= 0) {
        fail(cs() + " is also queued on fd " + std::to_string(queued_on[slot]));
        continue;
      }
      queued_on[slot] = fd;
      const ConnSlot& c = conns_[slot];
      const TcpState st = c.conn->state();
      if (!reachable_from_established(st)) fail(cs() + " is in " + std::string(tcp_state_name(st)));
      if (c.listener_fd != fd) fail(cs() + " names listener fd " + std::to_string(c.listener_fd));
      if (c.fd >= 0) fail(cs() + " already has descriptor " + std::to_string(c.fd));
    }
  }
  if (requests_on_lists != requests.live())
    fail(std::to_string(requests.live()) + " live requests but " +
         std::to_string(requests_on_lists) + " on listeners' SYN queues");
  // L1, the other direction.
  if (listeners_.size() != listener_sockets)
    fail("listener table has " + std::to_string(listeners_.size()) + " entries for " +
         std::to_string(listener_sockets) + " listening sockets");
  listeners_.for_each([&](const Endpoint& local, int fd) {
    const Socket* s = sock(fd);
    if (!s || !s->listener || !(s->listener->local() == local))
      fail("listener table entry " + local.to_string() + " -> fd " + std::to_string(fd) +
           " is not that socket's listener");
  });

  // ---- connections (L3 reverse, C1, C2, T1–T4)
  size_t in_table = 0, time_waits = 0;
  for (size_t i = 0; i < conns_.size(); ++i) {
    const ConnSlot& c = conns_[i];
    if (!c.conn) continue;
    const uint32_t slot = static_cast<uint32_t>(i);
    const TcpState st = c.conn->state();
    time_waits += st == TcpState::time_wait;
    auto cs = [&] {
      return "connection slot " + std::to_string(slot) + " " + describe(c.conn->tuple()) + " " +
             std::string(tcp_state_name(st));
    };
    if (c.listener_fd >= 0 && queued_on[slot] != c.listener_fd)
      fail(cs() + " names listener fd " + std::to_string(c.listener_fd) +
           " but is not in its accept queue");
    if (c.in_table) ++in_table;
    if (c.in_table != (st != TcpState::closed))
      fail(cs() + (c.in_table ? " is CLOSED but still demuxed" : " is live but not demuxed"));
    if (c.free_pending) fail(cs() + " is still waiting to be freed after the call returned");
    if (c.fd >= 0) {
      const Socket* s = sock(c.fd);
      if (!s || s->conn != slot)
        fail(cs() + " names fd " + std::to_string(c.fd) + " which is not its socket");
      if (c.listener_fd >= 0) fail(cs() + " has a descriptor and a listener");
    }
    const bool orphan = c.fd < 0 && c.listener_fd < 0;
    if (orphan && st == TcpState::closed) fail(cs() + " is a CLOSED orphan that was never freed");
    // Timers.
    if (c.deadline != c.conn->deadline())
      fail(cs() + " slot deadline " + time_ns(c.deadline) + " but engine deadline " +
           time_ns(c.conn->deadline()));
    if (c.deadline != kNever) {
      if (!conn_timed[slot])
        fail(cs() + " deadline " + time_ns(c.deadline) + " has no live timer entry");
      if (timers_current && c.deadline <= now_)
        fail(cs() + " outlived its timer: deadline " + time_ns(c.deadline) + ", now " +
             time_ns(now_));
    } else if (st != TcpState::closed && (orphan || st == TcpState::time_wait)) {
      fail(cs() + (orphan ? " is an orphan" : " is in TIME-WAIT") + " without a timer");
    }
  }
  // tcp_max_tw_buckets counts from this one number.
  if (time_waits != time_waits_)
    fail("TIME-WAIT count " + std::to_string(time_waits_) + " but " + std::to_string(time_waits) +
         " connections are in TIME-WAIT");
  if (in_table != conn_table_.size())
    fail("demux table has " + std::to_string(conn_table_.size()) + " entries but " +
         std::to_string(in_table) + " slots are marked in_table");
  conn_table_.for_each([&](const FourTuple& t, uint32_t slot) {
    if (slot >= conns_.size() || !conns_[slot].conn || !conns_[slot].in_table ||
        !(conns_[slot].conn->tuple() == t))
      fail("demux table entry " + describe(t) + " -> slot " + std::to_string(slot) +
           " is not that connection");
  });
  for (size_t i = 0; i < socks_.size(); ++i) {
    const Socket& s = socks_[i];
    if (!s.open || s.conn == kNoConn) continue;
    const int fd = static_cast<int>(i) + kFirstFd;
    if (s.conn >= conns_.size() || !conns_[s.conn].conn || conns_[s.conn].fd != fd)
      fail("fd " + std::to_string(fd) + " names connection slot " + std::to_string(s.conn) +
           " which does not name it back");
  }
  return out;
}

void StackImpl::debug_check_invariants([[maybe_unused]] bool timers_current) {
#ifndef NDEBUG
  // The full walk is O(n) in slots, requests and timer entries. Up to
  // kEveryCall of them it runs on every input()/advance(); above that, once
  // per n / kEveryCall calls, so a test with thousands of connections pays
  // about as much per call as a small one, and a broken invariant is still
  // caught within n / kEveryCall calls (measured: it adds about a third to
  // the 500-connection test in stack_tables_test in Debug).
  constexpr size_t kEveryCall = 64;
  if (invariant_checks_ > 0) {
    --invariant_checks_;
    return;
  }
  const size_t n = conns_.size() + opener_.requests().live() + timers_.size();
  invariant_checks_ = n / kEveryCall;
  const std::vector<std::string> v = invariant_violations(timers_current);
  for (const std::string& s : v) std::fprintf(stderr, "synq invariant: %s\n", s.c_str());
  SYNQ_DCHECK(v.empty());
#endif
}

}  // namespace synq
