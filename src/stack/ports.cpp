// Local ports: who holds which (address, port), Linux's SO_REUSEADDR bind
// rules, and the seeded ephemeral port choice.
#include <algorithm>

#include "stack/stack_impl.hpp"

namespace synq {

namespace {
bool addrs_overlap(const IpAddr& a, const IpAddr& b) {
  if (a.version != b.version) return false;
  return a.is_unspecified() || b.is_unspecified() || a == b;
}
}  // namespace

bool StackImpl::PortUsers::empty() const {
  if (!fds.empty()) return false;
  for (const AddrUse& u : conns)
    if (u.reuse || u.noreuse || u.timewait) return false;
  return true;
}

bool StackImpl::bind_conflict(int fd, const Socket& s, const Endpoint& ep) const {
  auto it = ports_.find(port_key(s.type, ep.port));
  if (it == ports_.end()) return false;
  const PortUsers& users = it->second;
  // inet_bind_conflict: two sockets may share an overlapping address and port
  // only if both set SO_REUSEADDR and the other one is not listening.
  for (int other_fd : users.fds) {
    if (other_fd == fd) continue;
    const Socket* o = sock(other_fd);
    if (!o || !addrs_overlap(o->local.addr, ep.addr)) continue;
    const bool listening = o->listener != nullptr;
    if (!(s.reuseaddr && o->reuseaddr && !listening)) return true;
  }
  for (const AddrUse& u : users.conns) {
    if (!addrs_overlap(u.addr, ep.addr)) continue;
    if (u.noreuse) return true;
    // Connections never listen; TIME-WAIT ones yield to any SO_REUSEADDR socket.
    if (!s.reuseaddr && (u.reuse || u.timewait)) return true;
  }
  return false;
}

std::optional<uint16_t> StackImpl::ephemeral_port(SockType type, const IpAddr& local,
                                                  const Endpoint* /*remote*/) {
  const int lo = config_.sysctls.ip_local_port_range[0];
  const int hi = config_.sysctls.ip_local_port_range[1];
  if (lo <= 0 || hi < lo || hi > 65535) return std::nullopt;
  const uint32_t n = static_cast<uint32_t>(hi - lo + 1);
  // Seeded start, then walk the range: a port nobody holds on an address that
  // overlaps `local` is unique for any four-tuple and free for bind alike
  // (inet_csk_find_open_port: bind buckets conflict per address). Per address,
  // so a host with many addresses — the lab's clients — finds a port in a
  // probe or two instead of walking ports its other addresses hold.
  rng_state_ = rng_state_ * 6364136223846793005ull + 1442695040888963407ull;
  const uint32_t start = static_cast<uint32_t>(rng_state_ >> 33) % n;
  for (uint32_t i = 0; i < n; ++i) {
    uint16_t port = static_cast<uint16_t>(lo + (start + i) % n);
    auto it = ports_.find(port_key(type, port));
    if (it == ports_.end() || !port_held_on(it->second, local)) return port;
  }
  return std::nullopt;
}

bool StackImpl::port_held_on(const PortUsers& users, const IpAddr& local) const {
  for (int fd : users.fds)
    if (const Socket* o = sock(fd); o && addrs_overlap(o->local.addr, local)) return true;
  for (const AddrUse& u : users.conns)
    if ((u.reuse || u.noreuse || u.timewait) && addrs_overlap(u.addr, local)) return true;
  return false;
}

void StackImpl::register_fd_port(int fd) {
  Socket& s = *sock(fd);
  if (s.port_registered) return;
  ports_[port_key(s.type, s.local.port)].fds.push_back(fd);
  s.port_registered = true;
}

void StackImpl::unregister_fd_port(int fd) {
  Socket& s = *sock(fd);
  if (!s.port_registered) return;
  auto it = ports_.find(port_key(s.type, s.local.port));
  if (it != ports_.end()) {
    auto& v = it->second.fds;
    v.erase(std::remove(v.begin(), v.end(), fd), v.end());
    if (it->second.empty()) ports_.erase(it);
  }
  s.port_registered = false;
}

void StackImpl::conn_port_use(uint32_t slot, PortUse use) {
  ConnSlot& c = conns_[slot];
  if (c.port_use == use) return;
  const Endpoint& local = c.conn->tuple().local;
  const uint32_t key = port_key(SockType::stream, local.port);
  auto counter = [](AddrUse& u, PortUse p) -> uint32_t& {
    return p == PortUse::reuse ? u.reuse : p == PortUse::noreuse ? u.noreuse : u.timewait;
  };
  PortUsers& users = ports_[key];
  AddrUse* u = nullptr;
  for (AddrUse& x : users.conns)
    if (x.addr == local.addr) u = &x;
  if (!u) {
    users.conns.push_back(AddrUse{local.addr});
    u = &users.conns.back();
  }
  if (c.port_use != PortUse::none) --counter(*u, c.port_use);
  if (use != PortUse::none) ++counter(*u, use);
  c.port_use = use;
  if (users.empty()) ports_.erase(key);
}

}  // namespace synq
