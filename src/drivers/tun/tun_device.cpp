// Device setup with plain ioctls (SIOCSIFADDR, SIOCADDRT...), so the host
// target needs neither iproute2 nor libmnl.
#include "drivers/tun/tun_device.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace synq::tun {

namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

sockaddr_in v4_sockaddr(const IpAddr& a) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  std::memcpy(&sin.sin_addr, a.bytes.data(), 4);
  return sin;
}

sockaddr_in v4_mask(int prefix_len) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  uint32_t mask = prefix_len <= 0 ? 0 : ~uint32_t{0} << (32 - prefix_len);
  sin.sin_addr.s_addr = htonl(mask);
  return sin;
}

// Each step of the device's configuration; the socket is only an ioctl handle.
std::string configure(const TunConfig& c) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno_text("socket for ioctl");
  auto fail = [&](const std::string& what) {
    std::string e = errno_text(what);
    ::close(s);
    return e;
  };
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, c.name.c_str(), IFNAMSIZ - 1);

  auto addr = v4_sockaddr(c.local);
  std::memcpy(&ifr.ifr_addr, &addr, sizeof addr);
  if (::ioctl(s, SIOCSIFADDR, &ifr) != 0) return fail("SIOCSIFADDR " + c.local.to_string());
  auto mask = v4_mask(c.prefix_len);
  std::memcpy(&ifr.ifr_netmask, &mask, sizeof mask);
  if (::ioctl(s, SIOCSIFNETMASK, &ifr) != 0) return fail("SIOCSIFNETMASK");
  ifr.ifr_mtu = static_cast<int>(c.mtu);
  if (::ioctl(s, SIOCSIFMTU, &ifr) != 0) return fail("SIOCSIFMTU");
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) return fail("SIOCGIFFLAGS");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) return fail("SIOCSIFFLAGS up");

  // The remote address is usually outside local's subnet (packetdrill's
  // 192.0.2.1 vs 192.168.0.1/16): a host route through the device.
  rtentry rt{};
  auto dst = v4_sockaddr(c.remote);
  auto host_mask = v4_mask(32);
  std::memcpy(&rt.rt_dst, &dst, sizeof dst);
  std::memcpy(&rt.rt_genmask, &host_mask, sizeof host_mask);
  rt.rt_flags = RTF_UP | RTF_HOST;
  std::string dev = c.name;
  rt.rt_dev = dev.data();
  if (::ioctl(s, SIOCADDRT, &rt) != 0 && errno != EEXIST)
    return fail("SIOCADDRT " + c.remote.to_string());
  ::close(s);
  return {};
}

}  // namespace

std::optional<TunDevice> TunDevice::open(const TunConfig& config, std::string* error) {
  auto set_error = [&](std::string e) {
    if (error) *error = std::move(e);
    return std::nullopt;
  };
  if (!config.local.is_v4() || !config.remote.is_v4())
    return set_error("the TUN target supports IPv4 scripts only");
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return set_error(errno_text("open /dev/net/tun"));
  TunDevice dev(fd);
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, config.name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, TUNSETIFF, &ifr) != 0) return set_error(errno_text("TUNSETIFF " + config.name));
  if (std::string e = configure(config); !e.empty()) return set_error(e);
  return dev;
}

TunDevice& TunDevice::operator=(TunDevice&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

TunDevice::~TunDevice() {
  if (fd_ >= 0) ::close(fd_);
}

bool TunDevice::write(std::span<const uint8_t> ip_packet) {
  ssize_t n = ::write(fd_, ip_packet.data(), ip_packet.size());
  return n == static_cast<ssize_t>(ip_packet.size());
}

std::optional<std::vector<uint8_t>> TunDevice::read(std::chrono::nanoseconds timeout) {
  std::vector<uint8_t> buf(65536);
  for (;;) {
    ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n > 0) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (n < 0 && errno == EINTR) continue;
    if (timeout <= std::chrono::nanoseconds::zero()) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    const auto ns = timeout.count();
    timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    int r = ::ppoll(&p, 1, &ts, nullptr);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      return std::nullopt;
    }
    timeout = std::chrono::nanoseconds::zero();  // readable: one more read, no more waiting
  }
}

}  // namespace synq::tun
