#include "doctor/host_reader.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "doctor/proc_net.hpp"
#include "doctor/proc_owners.hpp"
#include "doctor/sock_diag.hpp"

namespace synq::doctor {

namespace {

bool is_wildcard(const SocketAddress& a) {
  size_t len = a.family == AF_INET6 ? 16 : 4;
  return std::all_of(a.addr.begin(), a.addr.begin() + static_cast<long>(len),
                     [](uint8_t b) { return b == 0; });
}

/// Which listener a request socket (SYN-RECV) belongs to, from its local
/// address alone — sock_diag does not name a request's listener. A request
/// takes its listener's family (inet_reqsk_alloc sets ireq_family from the
/// listener), so an IPv4 SYN to a dual-stack [::] listener is reported as an
/// AF_INET6 request on ::ffff:a.b.c.d (measured on 6.18). The rule, in order:
///  1. a listener of the same family on the same address and port;
///  2. the wildcard listener (0.0.0.0 / [::]) of that family and port.
/// Within an SO_REUSEPORT group every request goes to the first listener in
/// snapshot order: which member the kernel chose is not reported.
/// Returns listeners.size() when none matches (the listener closed between
/// reading it and reading its requests).
size_t owning_listener(const SocketAddress& req, const std::vector<Listener>& listeners) {
  auto find = [&](auto&& match) {
    for (size_t i = 0; i < listeners.size(); ++i) {
      if (listeners[i].local.port == req.port && match(listeners[i])) return i;
    }
    return listeners.size();
  };
  size_t i = find([&](const Listener& l) { return l.local == req; });
  if (i == listeners.size()) {
    i = find(
        [&](const Listener& l) { return l.local.family == req.family && is_wildcard(l.local); });
  }
  return i;
}

// The calling thread's own view of /proc. setns() moves only the calling
// thread (kernel/nsproxy.c, setns), while /proc/self and the /proc/net link
// follow the thread-group leader (fs/proc/self.c, proc_self_get_link): read
// through thread-self so the namespace, its counters and its sock_diag
// dump (a netlink socket lives in its creator thread's namespace) agree
// even when the caller is not the main thread. /proc/sys/net already
// follows the calling thread (net/sysctl_net.c, net_ctl_header_lookup).
constexpr const char* kThreadProc = "/proc/thread-self";

uint64_t netns_inode_of_self() {
  struct stat st {};
  std::string path = fmt::format("{}/ns/net", kThreadProc);
  if (::stat(path.c_str(), &st) != 0) {
    throw HostReadError(fmt::format("cannot stat {}: {}", path, std::strerror(errno)));
  }
  return st.st_ino;
}

double monotonic_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

}  // namespace

NetnsSnapshot read_snapshot(const std::string& netns_name, const ReadOptions& options) {
  NetnsSnapshot snap;
  snap.netns = netns_name;
  snap.netns_inode = netns_inode_of_self();
  snap.taken_at_s = monotonic_seconds();
  snap.knobs = read_sysctl_knobs(doctor_knob_names());
  snap.counters = read_proc_net_counters(kThreadProc);

  // One dump per family for both states, so listeners and their requests
  // are read as close together as the kernel allows.
  std::vector<DiagSocket> requests;
  for (int family : {AF_INET, AF_INET6}) {
    for (const DiagSocket& s :
         dump_tcp_sockets(family, (1u << TCP_LISTEN) | (1u << TCP_SYN_RECV))) {
      if (s.state == TCP_LISTEN) {
        Listener l;
        l.local = s.local;
        l.cookie = s.cookie;
        l.inode = s.inode;
        l.uid = s.uid;
        l.recv_q = s.rqueue;
        l.send_q = s.wqueue;
        l.v6only = s.v6only;
        snap.listeners.push_back(std::move(l));
      } else if (s.state == TCP_SYN_RECV) {
        // Request sockets only. A SYN answered with a SYN cookie leaves no
        // request behind (net/ipv4/tcp_input.c, tcp_conn_request hashes the
        // request only when !want_cookie, and frees it after the SYN-ACK),
        // so cookie handshakes never show here, however many are in flight.
        // A TCP Fast Open child is a full socket in TCP_SYN_RECV until its
        // handshake ends (net/ipv4/tcp_fastopen.c, tcp_fastopen_create_child),
        // so it is counted here too although it already sits in the accept
        // queue (inferred from the code, not measured).
        requests.push_back(s);
      }
    }
  }
  std::sort(snap.listeners.begin(), snap.listeners.end(), [](const Listener& a, const Listener& b) {
    return std::tie(a.local.port, a.local.family, a.local.addr, a.cookie) <
           std::tie(b.local.port, b.local.family, b.local.addr, b.cookie);
  });
  for (const DiagSocket& r : requests) {
    size_t i = owning_listener(r.local, snap.listeners);
    if (i < snap.listeners.size()) ++snap.listeners[i].syn_recv;
  }

  if (options.owners) {
    std::set<uint64_t> inodes;
    for (const Listener& l : snap.listeners) {
      if (l.inode != 0) inodes.insert(l.inode);
    }
    auto owners = scan_socket_owners(inodes);
    for (Listener& l : snap.listeners) {
      auto it = owners.find(l.inode);
      if (it != owners.end()) l.owners = it->second;
    }
  }
  return snap;
}

}  // namespace synq::doctor
