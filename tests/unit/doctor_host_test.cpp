// read_snapshot and enter_netns against the real kernel: each test that
// needs root moves into a network namespace of its own (unshare), so its
// listeners, sysctls and TUN device never touch the host's, and reads that
// namespace back through sock_diag and /proc.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <thread>

#include "doctor/host_reader.hpp"
#include "drivers/tun/netns.hpp"
#include "drivers/tun/proc_sysctl.hpp"
#include "drivers/tun/tun_device.hpp"
#include "wire/wire.hpp"

namespace synq::doctor {
namespace {

/// Root is needed for unshare(CLONE_NEWNET) and the namespace's sysctls.
/// Outside CI a non-root run skips, loudly; in CI it must not silently pass.
#define SYNQ_ENTER_PRIVATE_NETNS()                                                           \
  do {                                                                                       \
    if (::geteuid() != 0) {                                                                  \
      if (std::getenv("CI") != nullptr) {                                                    \
        FAIL() << "this test needs root (unshare(CLONE_NEWNET), sysctls) and CI is set";     \
      }                                                                                      \
      GTEST_SKIP() << "SKIPPED: needs root for a private network namespace; run as root or " \
                      "under CI to test the host reader against the kernel";                 \
    }                                                                                        \
    std::string why_not = tun::enter_new_netns();                                            \
    ASSERT_EQ(why_not, "") << "cannot make a private network namespace";                     \
  } while (0)

/// An owned file descriptor.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

SocketAddress address(const char* text, uint16_t port) {
  SocketAddress a;
  a.port = port;
  if (inet_pton(AF_INET, text, a.addr.data()) == 1) {
    a.family = AF_INET;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, a.addr.data()), 1) << text;
    a.family = AF_INET6;
  }
  return a;
}

/// A bound, listening TCP socket (fails the test on any error).
Fd listen_on(const char* addr, uint16_t port, int backlog, bool v6only = false) {
  SocketAddress a = address(addr, port);
  Fd s(::socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_GE(s.fd, 0) << std::strerror(errno);
  // SO_REUSEPORT lets a specific and a wildcard listener share a port
  // (net/ipv4/inet_connection_sock.c, inet_bind_conflict spares two
  // reuseport sockets of one user).
  int one = 1;
  ::setsockopt(s.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  int rc;
  if (a.family == AF_INET) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, a.addr.data(), 4);
    rc = ::bind(s.fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  } else {
    int v6 = v6only ? 1 : 0;
    EXPECT_EQ(::setsockopt(s.fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof v6), 0);
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    std::memcpy(&sin6.sin6_addr, a.addr.data(), 16);
    rc = ::bind(s.fd, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6);
  }
  EXPECT_EQ(rc, 0) << "bind " << a.to_string() << ": " << std::strerror(errno);
  EXPECT_EQ(::listen(s.fd, backlog), 0) << std::strerror(errno);
  return s;
}

/// A client connected to 127.0.0.1:port; non-blocking connects return at once.
Fd connect_v4(uint16_t port, bool nonblocking = false) {
  Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = ::connect(c.fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  if (nonblocking) {
    EXPECT_TRUE(rc == 0 || errno == EINPROGRESS) << std::strerror(errno);
  } else {
    EXPECT_EQ(rc, 0) << std::strerror(errno);
  }
  return c;
}

uint64_t inode_of(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return st.st_ino;
}

uint64_t own_netns_inode() {
  struct stat st {};
  EXPECT_EQ(::stat("/proc/self/ns/net", &st), 0);
  return st.st_ino;
}

std::string own_comm() {
  std::ifstream in("/proc/self/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

const Listener* find_listener(const NetnsSnapshot& s, const SocketAddress& a) {
  for (const Listener& l : s.listeners) {
    if (l.local == a) return &l;
  }
  return nullptr;
}

/// Reads snapshots until `done` holds or two seconds pass; returns the last.
/// The kernel finishes loopback handshakes in softirq context, which may run
/// a moment after connect() returns.
NetnsSnapshot read_until(const std::function<bool(const NetnsSnapshot&)>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  NetnsSnapshot s = read_snapshot("");
  while (!done(s) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    s = read_snapshot("");
  }
  return s;
}

TEST(DoctorHost, ListenersQueuesBacklogsAndOwners) {
  SYNQ_ENTER_PRIVATE_NETNS();
  // listen(4096) is clamped to this namespace's somaxconn
  // (net/socket.c, __sys_listen_socket: min(backlog, somaxconn)).
  ASSERT_EQ(tun::write_proc_sysctl("net.core.somaxconn", "64"), "");

  Fd a = listen_on("127.0.0.1", 5001, 3);
  Fd b = listen_on("0.0.0.0", 5002, 4096);
  Fd c = listen_on("::", 5003, 0, /*v6only=*/true);
  Fd d = listen_on("::", 5004, 8);
  // Linux admits B+1 children: the queue is full only when it *exceeds* the
  // backlog (include/net/sock.h, sk_acceptq_is_full), so 4 connects to a
  // listen(3) socket all complete without an accept().
  std::vector<Fd> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(connect_v4(5001));

  NetnsSnapshot s = read_until(
      [](const NetnsSnapshot& s) { return !s.listeners.empty() && s.listeners[0].recv_q == 4; });

  EXPECT_EQ(s.netns, "");
  EXPECT_EQ(s.netns_inode, own_netns_inode());
  EXPECT_GT(s.taken_at_s, 0.0);
  ASSERT_EQ(s.listeners.size(), 4u)
      << "only LISTEN sockets; clients and children are not listeners";
  // Sorted by port, then address.
  EXPECT_EQ(s.listeners[0].local, address("127.0.0.1", 5001));
  EXPECT_EQ(s.listeners[1].local, address("0.0.0.0", 5002));
  EXPECT_EQ(s.listeners[2].local, address("::", 5003));
  EXPECT_EQ(s.listeners[3].local, address("::", 5004));
  EXPECT_EQ(s.listeners[0].local.to_string(), "127.0.0.1:5001");
  EXPECT_EQ(s.listeners[2].local.to_string(), "[::]:5003");

  const uint32_t want_send_q[] = {3, 64, 0, 8};
  const uint32_t want_recv_q[] = {4, 0, 0, 0};
  const bool want_v6only[] = {false, false, true, false};
  const int fds[] = {a.fd, b.fd, c.fd, d.fd};
  for (size_t i = 0; i < 4; ++i) {
    const Listener& l = s.listeners[i];
    SCOPED_TRACE(l.local.to_string());
    EXPECT_EQ(l.send_q, want_send_q[i]);
    EXPECT_EQ(l.recv_q, want_recv_q[i]);
    EXPECT_EQ(l.v6only, want_v6only[i]);
    EXPECT_EQ(l.syn_recv, 0u);
    EXPECT_EQ(l.inode, inode_of(fds[i]));
    EXPECT_NE(l.cookie, 0u);
    EXPECT_EQ(l.uid, ::geteuid());
    ASSERT_EQ(l.owners.size(), 1u);
    EXPECT_EQ(l.owners[0].pid, ::getpid());
    EXPECT_EQ(l.owners[0].comm, own_comm());
    ASSERT_FALSE(l.owners[0].argv.empty());
    EXPECT_NE(l.owners[0].argv[0].find("synq_doctor_tests"), std::string::npos)
        << l.owners[0].argv[0];
  }
  std::set<uint64_t> cookies;
  for (const Listener& l : s.listeners) cookies.insert(l.cookie);
  EXPECT_EQ(cookies.size(), 4u) << "each socket has its own cookie";

  NetnsSnapshot no_owners = read_snapshot("x", ReadOptions{.owners = false});
  EXPECT_EQ(no_owners.netns, "x");
  ASSERT_EQ(no_owners.listeners.size(), 4u);
  for (const Listener& l : no_owners.listeners) EXPECT_TRUE(l.owners.empty());
}

TEST(DoctorHost, ReadsTheCurrentNamespaceWithoutPrivileges) {
  // No namespace of its own and no root needed: sock_diag dumps and /proc
  // are readable by any user. A listener on a loopback port the kernel
  // picks shows up with this process as its owner.
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s.fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(s.fd, 7), 0);
  socklen_t len = sizeof sin;
  ASSERT_EQ(::getsockname(s.fd, reinterpret_cast<sockaddr*>(&sin), &len), 0);

  NetnsSnapshot snap = read_snapshot("");
  EXPECT_EQ(snap.netns_inode, own_netns_inode());
  EXPECT_TRUE(snap.knob("net.core.somaxconn").has_value());
  EXPECT_EQ(snap.counters.count("TcpExt.ListenOverflows"), 1u);
  const Listener* l = find_listener(snap, address("127.0.0.1", ntohs(sin.sin_port)));
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->inode, inode_of(s.fd));
  EXPECT_EQ(l->send_q, std::min<uint32_t>(7, uint32_t(*snap.knob("net.core.somaxconn"))));
  EXPECT_EQ(l->recv_q, 0u);
  ASSERT_EQ(l->owners.size(), 1u);
  EXPECT_EQ(l->owners[0].pid, ::getpid());
  for (size_t i = 1; i < snap.listeners.size(); ++i) {
    const SocketAddress& p = snap.listeners[i - 1].local;
    const SocketAddress& q = snap.listeners[i].local;
    EXPECT_LE(p.port, q.port) << "sorted by port";
  }
}

/// An IPv4 SYN from 10.9.0.2:sport to 10.9.0.1:dport, as the wire would bring it.
std::vector<uint8_t> syn_packet(uint16_t sport, uint16_t dport) {
  wire::TcpHeader h;
  h.sport = sport;
  h.dport = dport;
  h.seq = 1000u * sport;
  h.flags = wire::tcp_flags::SYN;
  h.window = 65535;
  h.options.has_mss = true;
  h.options.mss = 1460;
  std::vector<uint8_t> out(128);
  size_t n = wire::build_tcp(out, IpAddr::v4(10, 9, 0, 2), IpAddr::v4(10, 9, 0, 1), h, {});
  EXPECT_GT(n, 0u);
  out.resize(n);
  return out;
}

TEST(DoctorHost, SynRecvRequestsCountedPerListener) {
  SYNQ_ENTER_PRIVATE_NETNS();
  // SYNs written into a TUN device reach the kernel as from 10.9.0.2; its
  // SYN-ACKs go back out the device and are never answered, so each
  // request stays in SYN-RECV for the SYN-ACK retransmission schedule
  // (tens of seconds), far longer than the test.
  std::string error;
  tun::TunConfig config;
  config.name = "synqdoc0";
  config.local = IpAddr::v4(10, 9, 0, 1);
  config.prefix_len = 24;
  config.remote = IpAddr::v4(10, 9, 0, 2);
  auto dev = tun::TunDevice::open(config, &error);
  ASSERT_TRUE(dev) << error;

  Fd exact = listen_on("10.9.0.1", 7001, 16);
  Fd wildcard = listen_on("0.0.0.0", 7002, 16);
  Fd other_address = listen_on("127.0.0.1", 7002, 16);  // same port, must get none
  Fd dual_stack = listen_on("::", 7003, 16);
  Fd v6_only = listen_on("::", 7004, 16, /*v6only=*/true);  // IPv4 SYNs are not its own
  Fd v4_mapped = listen_on("::ffff:10.9.0.1", 7005, 16);    // exact, in IPv6 clothes

  struct Burst {
    uint16_t port;
    int count;
  };
  uint16_t sport = 41000;
  for (Burst b : {Burst{7001, 3}, Burst{7002, 2}, Burst{7003, 1}, Burst{7004, 1}, Burst{7005, 2}}) {
    for (int i = 0; i < b.count; ++i) ASSERT_TRUE(dev->write(syn_packet(sport++, b.port)));
  }

  NetnsSnapshot s = read_until([](const NetnsSnapshot& s) {
    uint32_t total = 0;
    for (const Listener& l : s.listeners) total += l.syn_recv;
    return total == 8;
  });
  ASSERT_EQ(s.listeners.size(), 6u);
  auto syn_recv_of = [&](const char* addr, uint16_t port) {
    const Listener* l = find_listener(s, address(addr, port));
    EXPECT_NE(l, nullptr) << addr << " " << port;
    return l ? l->syn_recv : 0xffffffffu;
  };
  EXPECT_EQ(syn_recv_of("10.9.0.1", 7001), 3u) << "exact address";
  EXPECT_EQ(syn_recv_of("0.0.0.0", 7002), 2u) << "wildcard of the port";
  EXPECT_EQ(syn_recv_of("127.0.0.1", 7002), 0u) << "another address of the same port";
  EXPECT_EQ(syn_recv_of("::", 7003), 1u)
      << "IPv4 request of a dual-stack listener (reported as [::ffff:10.9.0.1]:7003)";
  EXPECT_EQ(syn_recv_of("::", 7004), 0u) << "a v6only listener takes no IPv4 SYN (RST)";
  EXPECT_EQ(syn_recv_of("::ffff:10.9.0.1", 7005), 2u) << "exact v4-mapped address";
  for (const Listener& l : s.listeners) EXPECT_EQ(l.recv_q, 0u) << l.local.to_string();
}

TEST(DoctorHost, KnobsReadBackWhatTheNamespaceHas) {
  SYNQ_ENTER_PRIVATE_NETNS();
  const std::map<std::string, int64_t> wrote = {
      {"net.core.somaxconn", 77},         {"net.ipv4.tcp_max_syn_backlog", 333},
      {"net.ipv4.tcp_syncookies", 2},     {"net.ipv4.tcp_abort_on_overflow", 1},
      {"net.ipv4.tcp_synack_retries", 3}, {"net.ipv4.tcp_syn_retries", 4},
      {"net.ipv4.tcp_timestamps", 0},     {"net.ipv4.tcp_fastopen", 3},
  };
  for (const auto& [name, value] : wrote) {
    ASSERT_EQ(tun::write_proc_sysctl(name, std::to_string(value)), "") << name;
  }
  // Linux 6.7 added tcp_syn_linear_timeouts; on older kernels it must be absent.
  bool has_linear = tun::write_proc_sysctl("net.ipv4.tcp_syn_linear_timeouts", "2").empty();

  NetnsSnapshot s = read_snapshot("");
  for (const auto& [name, value] : wrote) {
    ASSERT_TRUE(s.knob(name).has_value()) << name;
    EXPECT_EQ(*s.knob(name), value) << name;
  }
  if (has_linear) {
    EXPECT_EQ(s.knob("net.ipv4.tcp_syn_linear_timeouts"), 2);
  } else {
    EXPECT_FALSE(s.knob("net.ipv4.tcp_syn_linear_timeouts").has_value());
  }
}

TEST(DoctorHost, ListenOverflowsCountsASynDroppedOnAFullAcceptQueue) {
  SYNQ_ENTER_PRIVATE_NETNS();
  Fd server = listen_on("127.0.0.1", 7100, 0);
  Fd first = connect_v4(7100);  // listen(0) admits one child: the queue is now full
  NetnsSnapshot before = read_until(
      [](const NetnsSnapshot& s) { return s.listeners.size() == 1 && s.listeners[0].recv_q == 1; });
  ASSERT_EQ(before.listeners.size(), 1u);
  ASSERT_EQ(before.listeners[0].recv_q, 1u);
  EXPECT_EQ(before.listeners[0].send_q, 0u);
  // The counters are this namespace's own, and it is fresh.
  EXPECT_EQ(before.counter("TcpExt.ListenOverflows"), 0u);
  EXPECT_GE(before.counter("Tcp.PassiveOpens"), 1u);
  EXPECT_EQ(before.counters.count("Tcp.PassiveOpens"), 1u);

  // The second SYN finds the accept queue full and is dropped at SYN time
  // (net/ipv4/tcp_input.c, tcp_conn_request: sk_acceptq_is_full →
  // LINUX_MIB_LISTENOVERFLOWS, then tcp_listendrop).
  Fd second = connect_v4(7100, /*nonblocking=*/true);
  NetnsSnapshot after = read_until([&](const NetnsSnapshot& s) {
    return s.counter("TcpExt.ListenOverflows") > before.counter("TcpExt.ListenOverflows");
  });
  EXPECT_EQ(after.counter("TcpExt.ListenOverflows") - before.counter("TcpExt.ListenOverflows"), 1u);
  EXPECT_GE(after.counter("TcpExt.ListenDrops") - before.counter("TcpExt.ListenDrops"), 1u);
  ASSERT_EQ(after.listeners.size(), 1u);
  EXPECT_EQ(after.listeners[0].recv_q, 1u);
  EXPECT_EQ(after.listeners[0].syn_recv, 0u) << "a dropped SYN makes no request socket";
}

TEST(DoctorHost, ReadsTheCallingThreadsNamespace) {
  SYNQ_ENTER_PRIVATE_NETNS();
  // One passive open in the process's namespace...
  Fd server = listen_on("127.0.0.1", 7300, 4);
  Fd client = connect_v4(7300);
  NetnsSnapshot main_ns =
      read_until([](const NetnsSnapshot& s) { return s.counter("Tcp.PassiveOpens") == 1; });
  ASSERT_EQ(main_ns.counter("Tcp.PassiveOpens"), 1u);

  // ...and none in the namespace a second thread moves into alone: /proc/self
  // would still show the main thread's namespace there.
  NetnsSnapshot thread_ns;
  uint64_t thread_inode = 0;
  std::string error;
  std::thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      error = std::strerror(errno);
      return;
    }
    struct stat st {};
    ::stat("/proc/thread-self/ns/net", &st);
    thread_inode = st.st_ino;
    try {
      thread_ns = read_snapshot("");
    } catch (const HostReadError& e) {
      error = e.what();
    }
  }).join();
  ASSERT_EQ(error, "");
  EXPECT_NE(thread_inode, main_ns.netns_inode);
  EXPECT_EQ(thread_ns.netns_inode, thread_inode);
  EXPECT_EQ(thread_ns.counter("Tcp.PassiveOpens"), 0u);
  EXPECT_TRUE(thread_ns.listeners.empty()) << "the main namespace's listener must not show";
}

std::string enter_error(const std::string& name) {
  try {
    enter_netns(name);
  } catch (const HostReadError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DoctorHost, EnterNetnsRejectsBadAndMissingNames) {
  std::string missing = "synq-doctor-test-no-such-netns-" + std::to_string(::getpid());
  EXPECT_EQ(enter_error(missing), "no network namespace '" + missing + "' (/run/netns/" + missing +
                                      ": No such file or directory)");
  for (const char* bad : {"", ".", "..", "a/b", "../../proc/1/ns/net"}) {
    EXPECT_EQ(enter_error(bad), std::string("invalid network namespace name '") + bad +
                                    "' (a name under /run/netns: not empty, no '/', not '.' or "
                                    "'..')");
  }
}

TEST(DoctorHost, EnterNetnsMovesIntoTheNamedNamespace) {
  SYNQ_ENTER_PRIVATE_NETNS();
  // A mount namespace of our own with a tmpfs on /run: the name we bind
  // below is visible to this process only and vanishes with it.
  ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0)
      << std::strerror(errno);
  ASSERT_EQ(::mount("tmpfs", "/run", "tmpfs", 0, "size=64k"), 0) << std::strerror(errno);
  ASSERT_EQ(::mkdir("/run/netns", 0755), 0) << std::strerror(errno);
  // As `ip netns add` does: bind the namespace onto a file under /run/netns.
  const uint64_t named = own_netns_inode();
  Fd(::open("/run/netns/doc", O_CREAT | O_WRONLY | O_CLOEXEC, 0444));
  ASSERT_EQ(::mount("/proc/self/ns/net", "/run/netns/doc", nullptr, MS_BIND, nullptr), 0)
      << std::strerror(errno);
  Fd(::open("/run/netns/plain-file", O_CREAT | O_WRONLY | O_CLOEXEC, 0444));

  ASSERT_EQ(tun::enter_new_netns(), "");
  ASSERT_NE(own_netns_inode(), named);
  Fd marker = listen_on("127.0.0.1", 7200, 5);  // in the second namespace only

  enter_netns("doc");
  EXPECT_EQ(own_netns_inode(), named);
  NetnsSnapshot s = read_snapshot("doc");
  EXPECT_EQ(s.netns, "doc");
  EXPECT_EQ(s.netns_inode, named);
  EXPECT_TRUE(s.listeners.empty()) << "the listener of the other namespace must not show";

  EXPECT_EQ(enter_error("plain-file"),
            "cannot enter network namespace 'plain-file' (setns(/run/netns/plain-file): Invalid "
            "argument)");
}

}  // namespace
}  // namespace synq::doctor
