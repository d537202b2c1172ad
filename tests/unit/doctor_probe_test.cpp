// EvidenceProbe against the host kernel: each test makes its own network
// namespace with a TUN device, plays the client side with hand-built
// segments (so every SYN and third ACK is one the test chose), and checks the
// per-listener counts against what it sent and against the namespace's own
// counters (/proc/net/netstat, /proc/net/snmp). Needs root.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "doctor/bpf/listen_evidence.h"
#include "doctor/evidence_probe.hpp"
#include "synq/address.hpp"
#include "wire/wire.hpp"

namespace synq::doctor {
namespace {

using namespace std::chrono_literals;
namespace flags = wire::tcp_flags;

#define REQUIRE_ROOT()                                                                          \
  do {                                                                                          \
    if (geteuid() != 0) {                                                                       \
      if (std::getenv("CI")) FAIL() << "CI is set but not root: the BPF probe tests need root"; \
      GTEST_SKIP() << "NOT RUN: the BPF probe tests need root (BPF, network namespaces, TUN)";  \
    }                                                                                           \
  } while (0)

std::string errno_text() {
  return std::strerror(errno);
}

void write_file(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  ASSERT_TRUE(f) << "open " << path << ": " << errno_text();
  f << value;
  f.close();
  ASSERT_TRUE(f) << "write " << path << ": " << errno_text();
}

void set_sysctl(const std::string& name, int value) {
  std::string path = name;  // "net.ipv4.tcp_syncookies" → /proc/sys/net/ipv4/tcp_syncookies
  for (char& c : path)
    if (c == '.') c = '/';
  write_file("/proc/sys/" + path, std::to_string(value));
}

/// "TcpExt.ListenOverflows" → value, from /proc/net/netstat and /proc/net/snmp
/// as this process's network namespace sees them.
std::map<std::string, uint64_t> counters() {
  std::map<std::string, uint64_t> out;
  for (const char* path : {"/proc/net/netstat", "/proc/net/snmp"}) {
    std::ifstream f(path);
    std::string names, values;
    while (std::getline(f, names) && std::getline(f, values)) {
      std::istringstream n(names), v(values);
      std::string group, group2, name, value;
      n >> group;
      v >> group2;
      group.pop_back();  // "TcpExt:"
      while (n >> name && v >> value) {
        try {
          out[group + "." + name] = std::stoull(value);
        } catch (...) {  // Tcp's MaxConn is -1
        }
      }
    }
  }
  return out;
}

uint64_t delta(const std::map<std::string, uint64_t>& before,
               const std::map<std::string, uint64_t>& after, const std::string& name) {
  auto b = before.find(name);
  auto a = after.find(name);
  EXPECT_NE(a, after.end()) << "no counter " << name;
  if (a == after.end()) return 0;
  return a->second - (b == before.end() ? 0 : b->second);
}

uint64_t netns_inode() {
  struct stat st {};
  EXPECT_EQ(stat("/proc/self/ns/net", &st), 0) << "stat /proc/self/ns/net: " << errno_text();
  return st.st_ino;
}

void set_if_flags(int sock, const char* name, short add) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  ASSERT_EQ(ioctl(sock, SIOCGIFFLAGS, &ifr), 0) << "SIOCGIFFLAGS " << name << ": " << errno_text();
  ifr.ifr_flags |= add;
  ASSERT_EQ(ioctl(sock, SIOCSIFFLAGS, &ifr), 0) << "SIOCSIFFLAGS " << name << ": " << errno_text();
}

/// A fresh network namespace for this process with `lo` up.
void enter_new_netns() {
  ASSERT_EQ(unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET): " << errno_text();
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(s, 0) << "socket: " << errno_text();
  set_if_flags(s, "lo", IFF_UP);
  close(s);
}

const IpAddr kServer4 = IpAddr::v4(10, 77, 0, 1);
const IpAddr kClient4 = IpAddr::v4(10, 77, 0, 2);
IpAddr v6(const char* text) {
  return *IpAddr::parse(text);
}

/// A TUN device in the test's namespace: 10.77.0.1/24 and fd77::1/64 on our
/// side; the test writes the client's packets and reads the server's.
class Tun {
 public:
  static constexpr const char* kName = "synqprobe0";
  Tun() {
    fd_ = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
      ADD_FAILURE() << "open /dev/net/tun: " << errno_text();
      return;
    }
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, kName, IFNAMSIZ - 1);
    if (ioctl(fd_, TUNSETIFF, &ifr) != 0) ADD_FAILURE() << "TUNSETIFF: " << errno_text();
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    std::memcpy(&addr.sin_addr, kServer4.bytes.data(), 4);
    std::memcpy(&ifr.ifr_addr, &addr, sizeof addr);
    if (ioctl(s, SIOCSIFADDR, &ifr) != 0) ADD_FAILURE() << "SIOCSIFADDR: " << errno_text();
    addr.sin_addr.s_addr = htonl(0xffffff00);
    std::memcpy(&ifr.ifr_netmask, &addr, sizeof addr);
    if (ioctl(s, SIOCSIFNETMASK, &ifr) != 0) ADD_FAILURE() << "SIOCSIFNETMASK: " << errno_text();
    set_if_flags(s, kName, IFF_UP);
    close(s);
    // IPv6 without duplicate address detection (the address is usable at
    // once, like `ip addr add ... nodad`).
    write_file(std::string("/proc/sys/net/ipv6/conf/") + kName + "/accept_dad", "0");
    struct {  // struct in6_ifreq (linux/ipv6.h), which clashes with netinet/in.h
      in6_addr addr;
      uint32_t prefixlen;
      int ifindex;
    } req6{};
    std::memcpy(&req6.addr, v6("fd77::1").bytes.data(), 16);
    req6.prefixlen = 64;
    req6.ifindex = static_cast<int>(if_nametoindex(kName));
    int s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ioctl(s6, SIOCSIFADDR, &req6) != 0) ADD_FAILURE() << "SIOCSIFADDR v6: " << errno_text();
    close(s6);
  }
  ~Tun() {
    if (fd_ >= 0) close(fd_);
  }

  void send(const IpAddr& src, const IpAddr& dst, const wire::TcpHeader& h) {
    uint8_t buf[128];
    size_t n = wire::build_tcp(buf, src, dst, h, {});
    ASSERT_GT(n, 0u);
    ASSERT_EQ(write(fd_, buf, n), static_cast<ssize_t>(n)) << "write tun: " << errno_text();
  }

  /// The next TCP segment the kernel sends to `dport`, or nothing within `wait`.
  std::optional<wire::TcpHeader> receive(uint16_t dport, std::chrono::milliseconds wait) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    uint8_t buf[2048];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() < 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) continue;
      auto ip = wire::parse_ip({buf, static_cast<size_t>(n)});
      if (!ip.ok() || ip.value().protocol != wire::ip_proto::TCP) continue;  // MLD, RS
      auto seg = wire::parse_tcp(ip.value());
      if (!seg.ok() || seg.value().h.dport != dport) continue;
      return seg.value().h;
    }
  }

 private:
  int fd_ = -1;
};

/// One client connection played by hand through the TUN.
struct Client {
  Tun& tun;
  IpAddr client, server;
  uint16_t sport, dport;
  uint32_t iss = 0;  // the server's, from its SYN-ACK

  wire::TcpHeader header(uint8_t f, uint32_t seq, uint32_t ack) const {
    wire::TcpHeader h;
    h.sport = sport;
    h.dport = dport;
    h.seq = seq;
    h.ack = ack;
    h.flags = f;
    h.window = 65535;
    return h;
  }
  static constexpr uint32_t kIrs = 1000;
  void syn() {
    auto h = header(flags::SYN, kIrs, 0);
    h.options.has_mss = true;
    h.options.mss = 1400;
    tun.send(client, server, h);
  }
  /// The SYN-ACK for our SYN, if one comes.
  bool synack(std::chrono::milliseconds wait = 1000ms) {
    auto h = tun.receive(sport, wait);
    if (!h || h->flags != (flags::SYN | flags::ACK) || h->ack != kIrs + 1) return false;
    iss = h->seq;
    return true;
  }
  void ack() { tun.send(client, server, header(flags::ACK, kIrs + 1, iss + 1)); }
};

int listen_on(int family, uint16_t port, int backlog) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0) << "socket: " << errno_text();
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    len = sizeof *a;
  } else {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    len = sizeof *a;
  }
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&ss), len), 0) << "bind: " << errno_text();
  EXPECT_EQ(listen(fd, backlog), 0) << "listen: " << errno_text();
  return fd;
}

/// The socket's cookie as the kernel reports it (SO_COOKIE generates it like
/// inet_diag's idiag_cookie does), which the evidence is keyed by.
uint64_t socket_cookie(int fd) {
  uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len), 0)
      << "getsockopt SO_COOKIE: " << errno_text();
  return cookie;
}

std::unique_ptr<EvidenceProbe> start_probe() {
  std::string why;
  auto probe = EvidenceProbe::start(&why);
  EXPECT_NE(probe, nullptr) << why;
  EXPECT_TRUE(probe || !why.empty());
  return probe;
}

/// The probe's evidence for the listener on `port` in this namespace (all
/// zero if the probe saw no event of it).
ListenerEvidence evidence(const EvidenceProbe& probe, uint64_t netns, uint16_t port) {
  ListenerEvidence found;
  int matches = 0;
  for (const auto& e : probe.read()) {
    if (e.netns_inode != netns || e.local.port != port) continue;
    found = e;
    ++matches;
  }
  EXPECT_LE(matches, 1) << "several entries for port " << port;
  return found;
}

/// Lets the kernel finish what the last written packet started (TUN input
/// runs in softirq) before counts are read.
void settle() {
  std::this_thread::sleep_for(50ms);
}

// 1. SYN time: the accept queue is full (B+1) when SYNs arrive.
TEST(DoctorProbe, SynTimeDropsAreCountedOnTheFullListenerOnly) {
  REQUIRE_ROOT();
  enter_new_netns();
  Tun tun;
  const uint64_t ns = netns_inode();
  auto probe = start_probe();
  ASSERT_NE(probe, nullptr);
  int full = listen_on(AF_INET, 8080, 1);
  int other = listen_on(AF_INET, 8081, 16);

  // Two real clients fill the accept queue: Linux admits backlog + 1.
  std::vector<int> clients;
  for (int i = 0; i < 2; ++i) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(8080);
    std::memcpy(&a.sin_addr, kServer4.bytes.data(), 4);
    ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0)
        << "connect: " << errno_text();
    clients.push_back(c);
  }
  settle();
  auto before = counters();
  constexpr int kSyns = 3;
  for (int i = 0; i < kSyns; ++i) {
    Client c{tun, kClient4, kServer4, uint16_t(40001 + i), 8080};
    c.syn();
    EXPECT_FALSE(c.synack(100ms)) << "SYN " << i << " was answered with a full accept queue";
  }
  settle();
  auto after = counters();
  auto e = evidence(*probe, ns, 8080);
  EXPECT_EQ(e.syns, 2u + kSyns);
  EXPECT_EQ(e.completions, 2u);
  EXPECT_EQ(e.syn_drops_accept_queue, uint64_t(kSyns));
  EXPECT_EQ(e.syn_drops_syn_queue, 0u);
  EXPECT_EQ(e.syn_drops_other, 0u);
  EXPECT_EQ(e.ack_overflows, 0u);
  EXPECT_EQ(e.accept_queue_max, 2u);
  EXPECT_EQ(e.backlog, 1u);
  EXPECT_EQ(e.local.family, AF_INET);
  EXPECT_EQ(e.cookie, socket_cookie(full));
  EXPECT_EQ(delta(before, after, "TcpExt.ListenOverflows"), uint64_t(kSyns));
  EXPECT_EQ(delta(before, after, "TcpExt.ListenDrops"), uint64_t(kSyns));

  auto quiet = evidence(*probe, ns, 8081);
  EXPECT_EQ(quiet.syns + quiet.syn_drops_accept_queue + quiet.ack_overflows + quiet.completions,
            0u);
  for (int c : clients) close(c);
  close(full);
  close(other);
}

struct AckTimeCase {
  int family;
  bool abort_on_overflow;
};

class AckTime : public ::testing::TestWithParam<AckTimeCase> {};

// 2, 3 and 6. ACK time: request sockets admitted while the accept queue has
// room, their third ACKs arriving after it filled. listen(3): the SYN queue
// holds qlen ≤ 3 + 1 request sockets (inet_csk_reqsk_queue_is_full: qlen >
// backlog) and the accept queue backlog + 1 children, so 4 SYNs, 2 ACKs,
// 2 more SYNs, 4 ACKs: the last 2 ACKs overflow. A fifth SYN while 4 requests
// wait is a SYN-queue drop (cookies off).
TEST_P(AckTime, OverflowingThirdAcksAreCounted) {
  REQUIRE_ROOT();
  const auto [family, abort_on_overflow] = GetParam();
  enter_new_netns();
  set_sysctl("net.ipv4.tcp_syncookies", 0);
  set_sysctl("net.ipv4.tcp_abort_on_overflow", abort_on_overflow ? 1 : 0);
  Tun tun;
  const uint64_t ns = netns_inode();
  const IpAddr server = family == AF_INET ? kServer4 : v6("fd77::1");
  const IpAddr client = family == AF_INET ? kClient4 : v6("fd77::2");
  int lfd = listen_on(family, 8080, 3);
  int other = listen_on(family, 8081, 16);
  auto probe = start_probe();
  ASSERT_NE(probe, nullptr);
  auto before = counters();

  std::vector<Client> c;
  for (int i = 0; i < 7; ++i) c.push_back(Client{tun, client, server, uint16_t(40001 + i), 8080});
  for (int i = 0; i < 4; ++i) {
    c[i].syn();
    ASSERT_TRUE(c[i].synack()) << "no SYN-ACK for SYN " << i;
  }
  c[4].syn();
  EXPECT_FALSE(c[4].synack(100ms)) << "a fifth request socket with listen(3), cookies off";
  c[0].ack();
  c[1].ack();
  for (int i = 5; i < 7; ++i) {
    c[i].syn();
    ASSERT_TRUE(c[i].synack()) << "no SYN-ACK for SYN " << i;
  }
  for (int i : {2, 3, 5, 6}) c[i].ack();
  int resets = 0;
  for (int i : {5, 6}) {
    auto h = tun.receive(c[i].sport, abort_on_overflow ? 1000ms : 100ms);
    if (h && (h->flags & flags::RST)) ++resets;
  }
  settle();
  auto after = counters();

  auto e = evidence(*probe, ns, 8080);
  EXPECT_EQ(e.local.family, family);
  EXPECT_EQ(e.cookie, socket_cookie(lfd));
  EXPECT_EQ(e.syns, 7u);
  EXPECT_EQ(e.syn_drops_syn_queue, 1u);
  EXPECT_EQ(e.syn_drops_accept_queue, 0u);
  EXPECT_EQ(e.syn_drops_other, 0u);
  EXPECT_EQ(e.completions, 4u);
  EXPECT_EQ(e.ack_overflows, 2u);
  EXPECT_EQ(e.accept_queue_max, 4u);
  EXPECT_EQ(e.syn_queue_max, 4u);
  EXPECT_EQ(e.backlog, 3u);
  EXPECT_EQ(e.cookies_sent, 0u);
  EXPECT_EQ(e.cookies_validated, 0u) << "request sockets, not cookies, completed";
  EXPECT_EQ(delta(before, after, "TcpExt.ListenOverflows"), e.ack_overflows);
  // ListenDrops: the SYN-queue drop and both overflows.
  EXPECT_EQ(delta(before, after, "TcpExt.ListenDrops"), 3u);
  EXPECT_EQ(delta(before, after, "Tcp.PassiveOpens"), e.completions);
  if (abort_on_overflow) {
    EXPECT_EQ(resets, 2);
    EXPECT_EQ(e.rst_on_overflow, 2u);
    EXPECT_EQ(delta(before, after, "TcpExt.EmbryonicRsts"), 2u);
  } else {
    EXPECT_EQ(resets, 0);
    EXPECT_EQ(e.rst_on_overflow, 0u);
  }

  int child = accept(lfd, nullptr, nullptr);
  ASSERT_GE(child, 0) << "accept: " << errno_text();
  EXPECT_EQ(evidence(*probe, ns, 8080).accepts, 1u);
  auto quiet = evidence(*probe, ns, 8081);
  EXPECT_EQ(quiet.syns + quiet.ack_overflows + quiet.completions, 0u);
  close(child);
  close(lfd);
  close(other);
}

INSTANTIATE_TEST_SUITE_P(Families, AckTime,
                         ::testing::Values(AckTimeCase{AF_INET, false}, AckTimeCase{AF_INET, true},
                                           AckTimeCase{AF_INET6, false},
                                           AckTimeCase{AF_INET6, true}),
                         [](const auto& info) {
                           return std::string(info.param.family == AF_INET ? "v4" : "v6") +
                                  (info.param.abort_on_overflow ? "_abort_on_overflow" : "");
                         });

// 4. Cookies: tcp_syncookies=2 answers every SYN with a cookie.
TEST(DoctorProbe, CookiesSentAndValidatedMatchTheKernelCounters) {
  REQUIRE_ROOT();
  enter_new_netns();
  set_sysctl("net.ipv4.tcp_syncookies", 2);
  Tun tun;
  const uint64_t ns = netns_inode();
  int lfd = listen_on(AF_INET, 8080, 8);
  auto probe = start_probe();
  ASSERT_NE(probe, nullptr);
  auto before = counters();
  constexpr int kConns = 3;
  for (int i = 0; i < kConns; ++i) {
    Client c{tun, kClient4, kServer4, uint16_t(40001 + i), 8080};
    c.syn();
    ASSERT_TRUE(c.synack()) << "no SYN-ACK for SYN " << i;
    c.ack();
  }
  settle();
  auto after = counters();
  auto e = evidence(*probe, ns, 8080);
  EXPECT_EQ(e.syns, uint64_t(kConns));
  EXPECT_EQ(e.cookies_sent, uint64_t(kConns));
  EXPECT_EQ(e.cookies_validated, uint64_t(kConns));
  EXPECT_EQ(e.completions, uint64_t(kConns));
  EXPECT_EQ(e.syn_queue_max, 0u) << "a cookie handshake keeps no request socket";
  EXPECT_EQ(e.accept_queue_max, uint64_t(kConns));
  EXPECT_EQ(delta(before, after, "TcpExt.SyncookiesSent"), e.cookies_sent);
  EXPECT_EQ(delta(before, after, "TcpExt.SyncookiesRecv"), e.cookies_validated);
  EXPECT_EQ(delta(before, after, "TcpExt.SyncookiesFailed"), 0u);
  close(lfd);
}

// 4b. A cookie ACK that finds the accept queue full: tcp_get_cookie_sock's
// syn_recv_sock refuses the child (ListenOverflows) like for a request socket.
TEST(DoctorProbe, CookieAckOverflowIsCountedAtAckTime) {
  REQUIRE_ROOT();
  enter_new_netns();
  set_sysctl("net.ipv4.tcp_syncookies", 2);
  Tun tun;
  const uint64_t ns = netns_inode();
  int lfd = listen_on(AF_INET, 8080, 1);
  auto probe = start_probe();
  ASSERT_NE(probe, nullptr);
  auto before = counters();
  std::vector<Client> c;
  for (int i = 0; i < 3; ++i) {
    c.push_back(Client{tun, kClient4, kServer4, uint16_t(40001 + i), 8080});
    c[i].syn();
    ASSERT_TRUE(c[i].synack()) << "no SYN-ACK for SYN " << i;
  }
  for (auto& client : c) client.ack();
  settle();
  auto after = counters();
  auto e = evidence(*probe, ns, 8080);
  EXPECT_EQ(e.cookies_sent, 3u);
  EXPECT_EQ(e.completions, 2u);
  EXPECT_EQ(e.accept_queue_max, 2u);
  EXPECT_EQ(delta(before, after, "TcpExt.SyncookiesRecv"), 3u);
  EXPECT_EQ(e.cookies_validated, 3u) << "the overflowing ACK's cookie checked out too";
  EXPECT_EQ(delta(before, after, "TcpExt.ListenOverflows"), 1u);
  EXPECT_EQ(e.ack_overflows, 1u);
  EXPECT_EQ(e.syn_drops_other, 0u);
  close(lfd);
}

// 4c. Cookies and request sockets on one listener (tcp_syncookies=1):
// listen(1) keeps 2 request sockets (qlen > backlog starts cookies), the third
// SYN gets a cookie. Its ACK completes while 2 requests wait; then one
// request completes and the other's ACK overflows.
TEST(DoctorProbe, CookieAndRequestHandshakesAreToldApart) {
  REQUIRE_ROOT();
  enter_new_netns();
  set_sysctl("net.ipv4.tcp_syncookies", 1);
  Tun tun;
  const uint64_t ns = netns_inode();
  int lfd = listen_on(AF_INET, 8080, 1);
  auto probe = start_probe();
  ASSERT_NE(probe, nullptr);
  auto before = counters();
  std::vector<Client> c;
  for (int i = 0; i < 3; ++i) {
    c.push_back(Client{tun, kClient4, kServer4, uint16_t(40001 + i), 8080});
    c[i].syn();
    ASSERT_TRUE(c[i].synack()) << "no SYN-ACK for SYN " << i;
  }
  c[2].ack();  // the cookie
  c[0].ack();  // a request socket: the accept queue is full now (2 = backlog + 1)
  c[1].ack();  // overflows
  settle();
  auto after = counters();
  auto e = evidence(*probe, ns, 8080);
  EXPECT_EQ(e.syns, 3u);
  EXPECT_EQ(e.cookies_sent, 1u);
  EXPECT_EQ(e.cookies_validated, 1u);
  EXPECT_EQ(e.completions, 2u);
  EXPECT_EQ(e.ack_overflows, 1u);
  EXPECT_EQ(e.syn_queue_max, 2u);
  EXPECT_EQ(delta(before, after, "TcpExt.SyncookiesSent"), e.cookies_sent);
  EXPECT_EQ(delta(before, after, "TcpExt.SyncookiesRecv"), e.cookies_validated);
  EXPECT_EQ(delta(before, after, "TcpExt.ListenOverflows"), e.ack_overflows);
  close(lfd);
}

// 5. A SYN never ACKed: the kernel retransmits the SYN-ACK after its initial
// timeout (TCP_TIMEOUT_INIT, 1 s). An event count, not a timing claim. Before
// that, the client repeats its SYN: tcp_check_req answers the duplicate with
// a retransmitted SYN-ACK and it never reaches tcp_conn_request, so it is no
// new SYN.
TEST(DoctorProbe, SynAckRetransmissionsAreCounted) {
  REQUIRE_ROOT();
  enter_new_netns();
  Tun tun;
  const uint64_t ns = netns_inode();
  int lfd = listen_on(AF_INET, 8080, 8);
  auto probe = start_probe();
  ASSERT_NE(probe, nullptr);
  auto before = counters();
  Client c{tun, kClient4, kServer4, 40001, 8080};
  c.syn();
  ASSERT_TRUE(c.synack());
  const uint32_t iss = c.iss;
  c.syn();
  ASSERT_TRUE(c.synack(500ms)) << "no SYN-ACK for the duplicate SYN";
  EXPECT_EQ(c.iss, iss) << "the duplicate is answered from the same request socket";
  settle();
  auto e = evidence(*probe, ns, 8080);
  EXPECT_EQ(e.syns, 1u) << "a duplicate SYN is not a new one";
  EXPECT_EQ(e.synack_retransmits, 1u);
  EXPECT_EQ(e.syn_drops_accept_queue + e.syn_drops_syn_queue + e.syn_drops_other, 0u);

  ASSERT_TRUE(c.synack(3000ms)) << "no retransmitted SYN-ACK within 3 s";
  EXPECT_EQ(c.iss, iss) << "a retransmission carries the same ISS";
  for (int i = 0; i < 20 && e.synack_retransmits < 2; ++i) {
    settle();
    e = evidence(*probe, ns, 8080);
  }
  auto after = counters();
  EXPECT_EQ(e.synack_retransmits, 2u);
  EXPECT_EQ(delta(before, after, "TcpExt.TCPSynRetrans"), e.synack_retransmits);
  EXPECT_EQ(e.syn_queue_max, 1u);
  EXPECT_EQ(e.syns, 1u);
  close(lfd);
}

// 7. The degraded paths: not root (a child process that dropped to
// nobody), and BPF disabled by the environment.
TEST(DoctorProbe, NotRootSaysWhatIsMissing) {
  REQUIRE_ROOT();  // to become someone else
  int out[2];
  ASSERT_EQ(pipe(out), 0) << "pipe: " << errno_text();
  pid_t child = fork();
  ASSERT_GE(child, 0) << "fork: " << errno_text();
  if (child == 0) {
    close(out[0]);
    std::string why = "setresgid/setresuid failed";
    if (setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0) {
      auto probe = EvidenceProbe::start(&why);
      if (probe) why = "started as nobody";
    }
    (void)!write(out[1], why.data(), why.size());
    _exit(0);
  }
  close(out[1]);
  std::string why;
  char buf[512];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) why.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_NE(why.find("per-port kernel evidence unavailable: loading BPF needs root"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("still shown"), std::string::npos) << why;
  EXPECT_EQ(why.find('\n'), std::string::npos) << "one line: " << why;
}

TEST(DoctorProbe, DisabledByEnvironmentSaysSo) {
  ASSERT_EQ(setenv("SYNQ_DOCTOR_NO_BPF", "1", 1), 0);
  std::string why;
  auto probe = EvidenceProbe::start(&why);
  unsetenv("SYNQ_DOCTOR_NO_BPF");
  EXPECT_EQ(probe, nullptr);
  EXPECT_NE(why.find("per-port kernel evidence disabled by SYNQ_DOCTOR_NO_BPF"), std::string::npos)
      << why;
  EXPECT_EQ(why.find('\n'), std::string::npos) << "one line: " << why;
}

}  // namespace
}  // namespace synq::doctor
