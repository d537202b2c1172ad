#include "runner/linux_target.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "drivers/tun/proc_sysctl.hpp"
#include "synq/sysctl.hpp"

namespace synq::runner {

namespace {

CallOutcome sys(long r) {
  if (r < 0) return CallOutcome::error(errno);
  return CallOutcome::ok(r);
}

// A socket address for either IP version.
struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&ss); }
};

SockAddr to_sockaddr(const Endpoint& e) {
  SockAddr a;
  if (e.addr.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(e.port);
    std::memcpy(&sin->sin_addr, e.addr.bytes.data(), 4);
    a.len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(e.port);
    std::memcpy(&sin6->sin6_addr, e.addr.bytes.data(), 16);
    a.len = sizeof(sockaddr_in6);
  }
  return a;
}

// The device carries IPv4 (TunConfig) and, for an IPv6 script, the script's
// IPv6 addresses too: no duplicate address detection (the address must work
// at once) and a host route to the peer.
std::string add_ipv6(const std::string& dev, const IpAddr& local, const IpAddr& remote) {
  const std::string cmds[] = {
      "ip -6 addr add " + local.to_string() + "/64 dev " + dev + " nodad",
      "ip -6 route add " + remote.to_string() + "/128 dev " + dev,
  };
  for (const auto& c : cmds) {
    const std::string quiet = c + " >/dev/null 2>&1";
    if (std::system(quiet.c_str()) != 0) return "`" + c + "` failed";
  }
  return {};
}

std::pair<int, int> level_and_name(Opt o) {
  switch (o) {
    case Opt::so_reuseaddr:
      return {SOL_SOCKET, SO_REUSEADDR};
    case Opt::so_rcvbuf:
      return {SOL_SOCKET, SO_RCVBUF};
    case Opt::so_sndbuf:
      return {SOL_SOCKET, SO_SNDBUF};
    case Opt::so_error:
      return {SOL_SOCKET, SO_ERROR};
    case Opt::so_type:
      return {SOL_SOCKET, SO_TYPE};
    case Opt::so_acceptconn:
      return {SOL_SOCKET, SO_ACCEPTCONN};
    case Opt::so_linger:
      return {SOL_SOCKET, SO_LINGER};
    case Opt::tcp_nodelay:
      return {IPPROTO_TCP, TCP_NODELAY};
    case Opt::tcp_maxseg:
      return {IPPROTO_TCP, TCP_MAXSEG};
    case Opt::tcp_syncnt:
      return {IPPROTO_TCP, TCP_SYNCNT};
    case Opt::tcp_defer_accept:
      return {IPPROTO_TCP, TCP_DEFER_ACCEPT};
  }
  return {SOL_SOCKET, 0};
}

}  // namespace

std::vector<std::pair<std::string, std::string>> baseline_sysctls() {
  std::vector<std::pair<std::string, std::string>> out;
  const Sysctls defaults;
  for (const auto& k : sysctl_list()) {
    if (k.name.rfind("net.", 0) != 0) continue;
    if (auto v = defaults.get(k.name)) out.emplace_back(std::string(k.name), *v);
  }
  return out;
}

std::optional<LinuxTarget> LinuxTarget::create(const LinuxTargetConfig& config,
                                               std::string* error) {
  tun::TunConfig tc;
  const bool v6 = !config.local.is_v4();
  // The TUN driver configures IPv4; an IPv6 script's addresses are added
  // below, beside packetdrill's IPv4 defaults.
  tc.local = v6 ? IpAddr::v4(192, 168, 0, 1) : config.local;
  tc.remote = v6 ? IpAddr::v4(192, 0, 2, 1) : config.remote;
  tc.mtu = config.mtu;
  // packetdrill's device name: its scripts' commands name it (defaults.sh
  // runs `tc qdisc add dev tun0 root pfifo`). The namespace is private.
  tc.name = "tun0";
  auto dev = tun::TunDevice::open(tc, error);
  if (!dev) return std::nullopt;
  if (v6) {
    if (std::string e = add_ipv6(tc.name, config.local, config.remote); !e.empty()) {
      if (error) *error = e;
      return std::nullopt;
    }
  }
  for (const auto& [name, value] : baseline_sysctls()) {
    // A knob this kernel lacks (older kernels) keeps its own default.
    if (tun::read_proc_sysctl(name)) (void)tun::write_proc_sysctl(name, value);
  }
  return LinuxTarget(std::move(*dev), config);
}

LinuxTarget::~LinuxTarget() {
  for (int fd : open_fds_) ::close(fd);
}

Duration LinuxTarget::now() {
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start_);
}

std::optional<OutPacket> LinuxTarget::wait_packet(Duration until) {
  for (;;) {
    const Duration left = until - now();
    auto bytes = dev_.read(std::max(left, Duration(0)));
    if (!bytes) return std::nullopt;
    const Duration at = now();
    // Only TCP is the script's business (not the kernel's IPv6 neighbour
    // discovery and MLD chatter on the device).
    const auto& b = *bytes;
    const bool tcp4 = b.size() >= 20 && (b[0] >> 4) == 4 && b[9] == IPPROTO_TCP;
    const bool tcp6 = b.size() >= 40 && (b[0] >> 4) == 6 && b[6] == IPPROTO_TCP;
    if (tcp4 || tcp6) return OutPacket{at, std::move(*bytes)};
    if (at >= until) return std::nullopt;
  }
}

std::string LinuxTarget::inject(std::span<const uint8_t> ip_packet) {
  if (!dev_.write(ip_packet)) return std::string("write to TUN: ") + std::strerror(errno);
  return {};
}

CallOutcome LinuxTarget::call(const Call& c) {
  switch (c.kind) {
    case Call::Kind::socket: {
      // Always non-blocking: the runner emulates blocking calls.
      int type = (c.value == 1 ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
      const int family = config_.local.is_v4() ? AF_INET : AF_INET6;
      int fd = ::socket(family, type, c.value == 1 ? IPPROTO_TCP : IPPROTO_UDP);
      if (fd >= 0) open_fds_.push_back(fd);
      return sys(fd);
    }
    case Call::Kind::bind: {
      auto sa = to_sockaddr(c.endpoint);
      return sys(::bind(c.fd, sa.get(), sa.len));
    }
    case Call::Kind::listen:
      return sys(::listen(c.fd, static_cast<int>(c.value)));
    case Call::Kind::accept: {
      int fd = ::accept4(c.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) open_fds_.push_back(fd);
      return sys(fd);
    }
    case Call::Kind::connect: {
      auto sa = to_sockaddr(c.endpoint);
      return sys(::connect(c.fd, sa.get(), sa.len));
    }
    case Call::Kind::read: {
      std::vector<uint8_t> buf(static_cast<size_t>(c.value));
      return sys(::recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT));
    }
    case Call::Kind::write: {
      std::vector<uint8_t> buf(static_cast<size_t>(c.value), 0);
      return sys(::send(c.fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_NOSIGNAL));
    }
    case Call::Kind::close: {
      if (c.fd < 0) return CallOutcome::error(EBADF);
      int r = ::close(c.fd);
      if (r == 0) std::erase(open_fds_, c.fd);
      return sys(r);
    }
    case Call::Kind::shutdown:
      return sys(::shutdown(c.fd, static_cast<int>(c.value)));
    case Call::Kind::setsockopt: {
      auto [level, name] = level_and_name(c.opt);
      if (c.opt == Opt::so_linger) {
        linger l{c.linger_on ? 1 : 0, static_cast<int>(c.value)};
        return sys(::setsockopt(c.fd, level, name, &l, sizeof l));
      }
      int v = static_cast<int>(c.value);
      return sys(::setsockopt(c.fd, level, name, &v, sizeof v));
    }
    case Call::Kind::getsockopt: {
      auto [level, name] = level_and_name(c.opt);
      if (c.opt == Opt::so_linger) {
        linger l{};
        socklen_t len = sizeof l;
        CallOutcome o = sys(::getsockopt(c.fd, level, name, &l, &len));
        o.out = l.l_linger;
        o.out2 = l.l_onoff;
        return o;
      }
      int v = 0;
      socklen_t len = sizeof v;
      CallOutcome o = sys(::getsockopt(c.fd, level, name, &v, &len));
      o.out = v;
      return o;
    }
    case Call::Kind::readiness: {
      if (c.fd < 0) return CallOutcome::error(EBADF);
      pollfd p{c.fd, static_cast<short>(POLLIN | POLLOUT | POLLRDHUP), 0};
      int r = ::poll(&p, 1, 0);
      if (r < 0) return CallOutcome::error(errno);
      if (p.revents & POLLNVAL) return CallOutcome::error(EBADF);
      return CallOutcome::ok(p.revents);
    }
    case Call::Kind::fionread: {
      int v = 0;
      CallOutcome o = sys(::ioctl(c.fd, FIONREAD, &v));
      o.out = v;
      return o;
    }
  }
  return CallOutcome::error(ENOSYS);
}

std::string LinuxTarget::set_sysctl(std::string_view name, std::string_view value) {
  return tun::write_proc_sysctl(name, value);
}

std::string LinuxTarget::run_shell(const std::string& command) {
  // Runs in this namespace, from the script's directory (packetdrill runs
  // commands from where the script is, e.g. `../common/defaults.sh`).
  // packetdrill's environment: its helper scripts (set_sysctls.py) name
  // their restore file after PACKETDRILL_PID.
  ::setenv("PACKETDRILL_PID", std::to_string(::getpid()).c_str(), 1);
  std::string cmd = "cd '" + config_.script_dir + "' && " + command;
  int status = std::system(cmd.c_str());
  if (status == -1) return "cannot start /bin/sh";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return {};
}

}  // namespace synq::runner
