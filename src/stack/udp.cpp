// UDP: bind table, input demux, sendto/recvfrom.
#include <algorithm>

#include "stack/stack_impl.hpp"

namespace synq {

namespace {
constexpr int kUdpBufDefault = 212992;  // net.core.rmem_default
constexpr size_t kMaxUdpPayload = 65507;
}  // namespace

Errno StackImpl::udp_bind_table_add(int fd, Socket& s) {
  // The first socket bound to an endpoint receives its datagrams (SO_REUSEADDR
  // sharers wait their turn, as with Linux's lookup order without SO_REUSEPORT).
  if (!udp_bound_.find(s.local)) udp_bound_.insert(s.local, fd);
  return Errno::ok;
}

void StackImpl::udp_bind_table_remove(int fd, Socket& s) {
  if (!s.bound) return;
  const int* owner = udp_bound_.find(s.local);
  if (!owner || *owner != fd) return;
  udp_bound_.erase(s.local);
  // Hand the endpoint to another socket bound to it, if any.
  auto it = ports_.find(port_key(SockType::dgram, s.local.port));
  if (it == ports_.end()) return;
  for (int other : it->second.fds) {
    const Socket* o = sock(other);
    if (other != fd && o && o->local == s.local) {
      udp_bound_.insert(s.local, other);
      return;
    }
  }
}

int StackImpl::udp_lookup(const Endpoint& local, const Endpoint& remote) const {
  auto accepts = [&](int fd) {
    const Socket* s = sock(fd);
    // A connected UDP socket only takes datagrams from its peer.
    return s && (!s->has_remote || s->remote == remote);
  };
  if (const int* fd = udp_bound_.find(local); fd && accepts(*fd)) return *fd;
  Endpoint any{IpAddr{}, local.port};
  any.addr.version = local.addr.version;
  if (const int* fd = udp_bound_.find(any); fd && accepts(*fd)) return *fd;
  return -1;
}

void StackImpl::udp_input(const wire::IpPacket& ip) {
  auto parsed = wire::parse_udp(ip);
  if (!parsed.ok()) {
    // RFC 1122 §4.1.3.4: bad datagrams are discarded; Linux counts InErrors (+InCsumErrors).
    counters_.inc(Counter::Udp_InErrors);
    if (parsed.error() == wire::ParseError::bad_checksum) counters_.inc(Counter::Udp_InCsumErrors);
    return;
  }
  const wire::UdpDatagram& d = parsed.value();
  const Endpoint local{ip.dst, d.dport};
  const Endpoint remote{ip.src, d.sport};
  int fd = udp_lookup(local, remote);
  if (fd < 0) {
    counters_.inc(Counter::Udp_NoPorts);  // RFC 1122 §4.1.3.1: no socket (synq sends no ICMP)
    return;
  }
  Socket& s = *sock(fd);
  const size_t limit = static_cast<size_t>(s.opts.rcvbuf ? s.opts.rcvbuf : kUdpBufDefault);
  if (s.shut_rd || !s.udp_rx.push(remote, d.payload, limit)) {
    // Receive buffer full: Linux counts RcvbufErrors and InErrors.
    counters_.inc(Counter::Udp_RcvbufErrors);
    counters_.inc(Counter::Udp_InErrors);
    return;
  }
  counters_.inc(Counter::Udp_InDatagrams);
  mark_ready(fd);
}

Result<size_t> StackImpl::udp_send(int fd, Socket& s, std::span<const uint8_t> data,
                                   const Endpoint& to) {
  if (s.shut_wr) return Errno::epipe;
  if (to.addr.version != s.family) return Errno::eafnosupport;
  if (data.size() > kMaxUdpPayload) return Errno::emsgsize;
  if (Errno e = autobind(fd, s); e != Errno::ok) return e;
  IpAddr src = s.local.addr;
  if (src.is_unspecified()) {
    auto a = source_for(s.family);
    if (!a) return Errno::enetunreach;
    src = *a;
  }
  const size_t max_len = wire::ip_header_length(s.family) + 8 + data.size();
  std::span<uint8_t> buf = output_.reserve(max_len);
  wire::IpParams ip;
  ip.ttl = static_cast<uint8_t>(config_.sysctls.ip_default_ttl);
  ip.ip_id = ip_id_++;
  size_t n = wire::build_udp(buf, src, to.addr, s.local.port, to.port, data, ip);
  if (n == 0) return Errno::emsgsize;
  output_.commit(n);
  counters_.inc(Counter::Ip_OutRequests);
  counters_.inc(Counter::Udp_OutDatagrams);
  return data.size();
}

Result<size_t> StackImpl::sendto(int fd, std::span<const uint8_t> data, const Endpoint& to) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (s->type == SockType::stream) {
    // Linux ignores the address on a connected TCP socket (EISCONN only for some cases).
    return send(fd, data);
  }
  if (to.port == 0 && to.addr.is_unspecified()) {
    if (!s->has_remote) return Errno::edestaddrreq;
    return udp_send(fd, *s, data, s->remote);
  }
  if (to.port == 0) return Errno::einval;
  return udp_send(fd, *s, data, to);
}

Result<size_t> StackImpl::recvfrom(int fd, std::span<uint8_t> buf, Endpoint* from) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (s->type == SockType::stream) {
    auto r = recv(fd, buf);
    if (r.ok() && from) {
      if (auto p = getpeername(fd); p.ok()) *from = *p;
    }
    return r;
  }
  if (s->udp_rx.empty()) return s->shut_rd ? Result<size_t>(size_t{0}) : Errno::eagain;
  return s->udp_rx.pop(buf, from);
}

}  // namespace synq
