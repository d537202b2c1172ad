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

/// ::ffff:a.b.c.d carrying the IPv4 address `v4`.
bool is_v4_mapped_of(const SocketAddress& v6, const SocketAddress& v4) {
  static constexpr uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::equal(prefix, prefix + 12, v6.addr.begin()) &&
         std::equal(v4.addr.begin(), v4.addr.begin() + 4, v6.addr.begin() + 12);
}

/// Which listener a request socket (SYN-RECV) belongs to, from its local
/// address alone — sock_diag does not name a request's listener. The rule,
/// in order:
///  1. a listener of the same family on the same address and port;
///  2. the wildcard listener (0.0.0.0 / [::]) of that family and port;
///  3. for an IPv4 request, a dual-stack (not v6only) AF_INET6 listener of
///     that port on [::] or on the v4-mapped address: IPv4 SYNs to such a
///     listener make AF_INET request sockets (net/ipv6/tcp_ipv6.c,
///     tcp_v6_conn_request hands them to tcp_v4_conn_request).
/// Within an SO_REUSEPORT group every request goes to the first listener in
/// snapshot order: which member the kernel chose is not reported.
/// Returns listeners.size() when none matches (the listener closed between
/// the two dumps).
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
  if (i == listeners.size() && req.family == AF_INET) {
    i = find([&](const Listener& l) {
      return l.local.family == AF_INET6 && !l.v6only &&
             (is_wildcard(l.local) || is_v4_mapped_of(l.local, req));
    });
  }
  return i;
}

uint64_t netns_inode_of_self() {
  struct stat st {};
  if (::stat("/proc/self/ns/net", &st) != 0) {
    throw HostReadError(fmt::format("cannot stat /proc/self/ns/net: {}", std::strerror(errno)));
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
  snap.counters = read_proc_net_counters();

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
        // Request sockets only: a handshake finished with a SYN cookie never
        // had one (net/ipv4/syncookies.c, cookie_v4_check builds the child
        // straight from the ACK), so cookie traffic is invisible here.
        // A TCP Fast Open child also reports TCP_SYN_RECV until its
        // handshake ends; it is counted here too.
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
