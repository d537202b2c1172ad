// Socket API error cases, with Linux's errors (checked on a Linux 6.18 host).
#include <gtest/gtest.h>

#include "stack_test_util.hpp"

namespace synq::test {
namespace {

struct Api : ::testing::Test {
  Stack st{config("10.0.0.1")};
  int tcp() { return *st.socket(SockType::stream); }
  int udp() { return *st.socket(SockType::dgram); }
};

TEST_F(Api, DescriptorsAreLowestFreeFirst) {
  int a = tcp(), b = tcp(), c = udp();
  EXPECT_EQ(a, 3);
  EXPECT_EQ(b, 4);
  EXPECT_EQ(c, 5);
  EXPECT_EQ(st.close(b), Errno::ok);
  EXPECT_EQ(tcp(), 4);
}

TEST_F(Api, EbadfOnEveryCallWithAClosedOrUnknownDescriptor) {
  int fd = tcp();
  ASSERT_EQ(st.close(fd), Errno::ok);
  uint8_t buf[4];
  for (int bad : {fd, -1, 0, 2, 999}) {
    EXPECT_EQ(st.bind(bad, ep("10.0.0.1", 80)), Errno::ebadf);
    EXPECT_EQ(st.listen(bad, 1), Errno::ebadf);
    EXPECT_EQ(st.accept(bad).error(), Errno::ebadf);
    EXPECT_EQ(st.connect(bad, ep("10.0.0.2", 80)), Errno::ebadf);
    EXPECT_EQ(st.send(bad, buf).error(), Errno::ebadf);
    EXPECT_EQ(st.recv(bad, buf).error(), Errno::ebadf);
    EXPECT_EQ(st.sendto(bad, buf, ep("10.0.0.2", 80)).error(), Errno::ebadf);
    EXPECT_EQ(st.recvfrom(bad, buf, nullptr).error(), Errno::ebadf);
    EXPECT_EQ(st.shutdown(bad, ShutdownHow::rdwr), Errno::ebadf);
    EXPECT_EQ(st.close(bad), Errno::ebadf);
    EXPECT_EQ(st.setsockopt(bad, SockOpt::so_reuseaddr, 1), Errno::ebadf);
    EXPECT_EQ(st.getsockopt(bad, SockOpt::so_type).error(), Errno::ebadf);
    EXPECT_EQ(st.set_linger(bad, {true, 0}), Errno::ebadf);
    EXPECT_EQ(st.get_linger(bad).error(), Errno::ebadf);
    EXPECT_EQ(st.getsockname(bad).error(), Errno::ebadf);
    EXPECT_EQ(st.getpeername(bad).error(), Errno::ebadf);
    EXPECT_EQ(st.poll(bad).error(), Errno::ebadf);
    EXPECT_EQ(st.state(bad).error(), Errno::ebadf);
    EXPECT_EQ(st.readable_bytes(bad).error(), Errno::ebadf);
    EXPECT_EQ(st.set_listen_model(bad, "linux"), Errno::ebadf);
  }
}

TEST_F(Api, SocketRejectsUnknownFamily) {
  EXPECT_EQ(st.socket(SockType::stream, static_cast<IpVersion>(5)).error(), Errno::eafnosupport);
}

TEST_F(Api, BindErrors) {
  int fd = tcp();
  EXPECT_EQ(st.bind(fd, ep("10.9.9.9", 80)), Errno::eaddrnotavail);
  EXPECT_EQ(st.bind(fd, ep("fd00::1", 80)), Errno::eafnosupport);
  ASSERT_EQ(st.bind(fd, ep("10.0.0.1", 80)), Errno::ok);
  EXPECT_EQ(st.bind(fd, ep("10.0.0.1", 81)), Errno::einval);  // already bound
  int v6 = *st.socket(SockType::stream, IpVersion::v6);
  EXPECT_EQ(st.bind(v6, ep("10.0.0.1", 80)), Errno::einval);
  EXPECT_EQ(st.getsockname(fd).value(), ep("10.0.0.1", 80));
}

TEST_F(Api, BindPortZeroPicksAnEphemeralPort) {
  int a = tcp(), b = tcp();
  ASSERT_EQ(st.bind(a, ep("0.0.0.0", 0)), Errno::ok);
  ASSERT_EQ(st.bind(b, ep("10.0.0.1", 0)), Errno::ok);
  uint16_t pa = st.getsockname(a)->port, pb = st.getsockname(b)->port;
  EXPECT_GE(pa, 32768);
  EXPECT_LE(pa, 60999);
  EXPECT_NE(pa, pb);
}

TEST_F(Api, EphemeralPortRangeIsRespectedAndExhaustionReported) {
  st.sysctls().ip_local_port_range = {40000, 40002};
  std::vector<uint16_t> ports;
  for (int i = 0; i < 3; ++i) {
    int fd = tcp();
    ASSERT_EQ(st.bind(fd, ep("0.0.0.0", 0)), Errno::ok);
    ports.push_back(st.getsockname(fd)->port);
  }
  std::sort(ports.begin(), ports.end());
  EXPECT_EQ(ports, (std::vector<uint16_t>{40000, 40001, 40002}));
  EXPECT_EQ(st.bind(tcp(), ep("0.0.0.0", 0)), Errno::eaddrinuse);
}

TEST_F(Api, EphemeralChoiceIsDeterministicPerSeed) {
  auto first_port = [](uint64_t seed) {
    Stack s{config("10.0.0.1", seed)};
    int fd = *s.socket(SockType::stream);
    EXPECT_EQ(s.bind(fd, ep("0.0.0.0", 0)), Errno::ok);
    return s.getsockname(fd)->port;
  };
  EXPECT_EQ(first_port(5), first_port(5));
  EXPECT_NE(first_port(5), first_port(6));
}

TEST_F(Api, AddressInUseAndReuseAddrRules) {
  int a = tcp();
  ASSERT_EQ(st.bind(a, ep("10.0.0.1", 80)), Errno::ok);
  // No SO_REUSEADDR: same address, or the wildcard overlapping it, is in use.
  EXPECT_EQ(st.bind(tcp(), ep("10.0.0.1", 80)), Errno::eaddrinuse);
  EXPECT_EQ(st.bind(tcp(), ep("0.0.0.0", 80)), Errno::eaddrinuse);
  // TCP and UDP ports are separate.
  EXPECT_EQ(st.bind(udp(), ep("10.0.0.1", 80)), Errno::ok);

  // Both with SO_REUSEADDR and neither listening: allowed.
  int x = tcp(), y = tcp(), z = tcp();
  for (int fd : {x, y, z}) ASSERT_EQ(st.setsockopt(fd, SockOpt::so_reuseaddr, 1), Errno::ok);
  ASSERT_EQ(st.bind(x, ep("10.0.0.1", 90)), Errno::ok);
  EXPECT_EQ(st.bind(y, ep("10.0.0.1", 90)), Errno::ok);
  // Only one of them may listen; a third cannot bind next to a listener.
  EXPECT_EQ(st.listen(x, 5), Errno::ok);
  EXPECT_EQ(st.listen(y, 5), Errno::eaddrinuse);
  EXPECT_EQ(st.bind(z, ep("10.0.0.1", 90)), Errno::eaddrinuse);
  // One side without SO_REUSEADDR: in use.
  int w = tcp();
  EXPECT_EQ(st.bind(w, ep("10.0.0.1", 90)), Errno::eaddrinuse);
  // Closing frees the port.
  ASSERT_EQ(st.close(a), Errno::ok);
  EXPECT_EQ(st.bind(w, ep("10.0.0.1", 80)), Errno::ok);
}

using ApiTwoStacks = TwoStacks;

TEST_F(ApiTwoStacks, TimeWaitBlocksBindWithoutReuseAddrOnly) {
  // The server closes first, so its side ends in TIME-WAIT.
  ASSERT_EQ(server.close(s), Errno::ok);
  link.run_for(10ms);
  ASSERT_EQ(client.close(c), Errno::ok);
  link.run_for(10ms);
  ASSERT_EQ(server.close(lfd), Errno::ok);
  bool tw = false;
  for (const SocketInfo& i : server.sockets()) tw |= i.state == TcpState::time_wait;
  ASSERT_TRUE(tw);
  int again = *server.socket(SockType::stream);
  EXPECT_EQ(server.bind(again, ep("10.0.0.1", 80)), Errno::eaddrinuse);
  ASSERT_EQ(server.setsockopt(again, SockOpt::so_reuseaddr, 1), Errno::ok);
  EXPECT_EQ(server.bind(again, ep("10.0.0.1", 80)), Errno::ok);
}

TEST_F(Api, UdpHasNoListenOrAccept) {
  int u = udp();
  EXPECT_EQ(st.listen(u, 5), Errno::eopnotsupp);
  EXPECT_EQ(st.accept(u).error(), Errno::eopnotsupp);
  EXPECT_EQ(st.setsockopt(u, SockOpt::tcp_nodelay, 1), Errno::enoprotoopt);
  EXPECT_EQ(st.getsockopt(u, SockOpt::tcp_maxseg).error(), Errno::enoprotoopt);
  EXPECT_EQ(st.state(u).error(), Errno::eopnotsupp);
}

TEST_F(Api, AcceptOnANonListeningSocketIsEinvalAndEmptyQueueEagain) {
  int fd = tcp();
  EXPECT_EQ(st.accept(fd).error(), Errno::einval);
  ASSERT_EQ(st.listen(fd, 5), Errno::ok);
  EXPECT_EQ(st.accept(fd).error(), Errno::eagain);
}

TEST_F(Api, UnconnectedStreamSocket) {
  int fd = tcp();
  uint8_t buf[8] = {};
  EXPECT_EQ(st.send(fd, buf).error(), Errno::epipe);  // Linux: sk_stream_wait_connect → EPIPE
  EXPECT_EQ(st.recv(fd, buf).error(), Errno::enotconn);
  EXPECT_EQ(st.shutdown(fd, ShutdownHow::wr), Errno::enotconn);
  EXPECT_EQ(st.getpeername(fd).error(), Errno::enotconn);
  EXPECT_EQ(*st.state(fd), TcpState::closed);
  EXPECT_EQ(*st.readable_bytes(fd), 0u);
  EXPECT_EQ(*st.poll(fd), uint32_t(kWritable | kHangup));  // tcp_poll in TCP_CLOSE
  EXPECT_EQ(st.getsockname(fd).value(), ep("0.0.0.0", 0));
}

TEST_F(Api, ListeningSocket) {
  int fd = tcp();
  ASSERT_EQ(st.bind(fd, ep("10.0.0.1", 80)), Errno::ok);
  ASSERT_EQ(st.listen(fd, 5), Errno::ok);
  uint8_t buf[8] = {};
  EXPECT_EQ(st.send(fd, buf).error(), Errno::epipe);
  EXPECT_EQ(st.recv(fd, buf).error(), Errno::enotconn);
  EXPECT_EQ(st.connect(fd, ep("10.0.0.2", 80)), Errno::eisconn);
  EXPECT_EQ(st.bind(fd, ep("10.0.0.1", 81)), Errno::einval);
  EXPECT_EQ(st.readable_bytes(fd).error(), Errno::einval);
  EXPECT_EQ(*st.state(fd), TcpState::listen);
  EXPECT_EQ(*st.poll(fd), 0u);
  EXPECT_EQ(st.set_listen_model(fd, "linux"), Errno::einval);  // only before listen()
  // shutdown(SHUT_WR) leaves it listening; SHUT_RD stops it.
  EXPECT_EQ(st.shutdown(fd, ShutdownHow::wr), Errno::ok);
  EXPECT_EQ(*st.state(fd), TcpState::listen);
  EXPECT_EQ(st.shutdown(fd, ShutdownHow::rd), Errno::ok);
  EXPECT_EQ(*st.state(fd), TcpState::closed);
}

TEST_F(Api, ConnectErrors) {
  int fd = tcp();
  EXPECT_EQ(st.connect(fd, ep("fd00::2", 80)), Errno::eafnosupport);
  EXPECT_EQ(st.connect(fd, ep("0.0.0.0", 80)), Errno::enetunreach);
  ASSERT_EQ(st.connect(fd, ep("10.0.0.2", 80)), Errno::einprogress);
  EXPECT_EQ(st.connect(fd, ep("10.0.0.2", 80)), Errno::ealready);
  uint8_t buf[4] = {};
  EXPECT_EQ(st.send(fd, buf).error(), Errno::eagain);
  EXPECT_EQ(st.recv(fd, buf).error(), Errno::eagain);
  EXPECT_EQ(st.getpeername(fd).error(), Errno::enotconn);  // SYN-SENT
  EXPECT_EQ(*st.poll(fd), 0u);
  // The connect bound an ephemeral port on our address.
  Endpoint local = *st.getsockname(fd);
  EXPECT_EQ(local.addr, *IpAddr::parse("10.0.0.1"));
  EXPECT_GE(local.port, 32768);
  // The same four-tuple from a second socket bound to the same port is unavailable.
  int other = tcp();
  ASSERT_EQ(st.setsockopt(other, SockOpt::so_reuseaddr, 1), Errno::ok);
  // (the first socket has no SO_REUSEADDR, so even bind fails)
  EXPECT_EQ(st.bind(other, local), Errno::eaddrinuse);
  // shutdown() in SYN-SENT disconnects the socket.
  EXPECT_EQ(st.shutdown(fd, ShutdownHow::rdwr), Errno::ok);
  EXPECT_EQ(*st.state(fd), TcpState::closed);
}

TEST_F(Api, SynRetransmissionsThenEtimedout) {
  st.sysctls().tcp_syn_linear_timeouts = 0;  // Linux 6.18 adds these to TCP_SYNCNT
  int fd = tcp();
  ASSERT_EQ(st.setsockopt(fd, SockOpt::tcp_syncnt, 2), Errno::ok);
  ASSERT_EQ(st.connect(fd, ep("10.0.0.2", 80)), Errno::einprogress);
  std::vector<Time> syns{0s};
  drain(st);
  while (st.next_deadline() != kNever && st.next_deadline() < 100s) {
    st.advance(st.next_deadline());
    for (const Sent& s : drain(st))
      if (s.is(f::SYN)) syns.push_back(s.at);
  }
  EXPECT_EQ(syns, (std::vector<Time>{0s, 1s, 3s}));
  EXPECT_EQ(*st.state(fd), TcpState::closed);
  EXPECT_TRUE(*st.poll(fd) & kError);
  EXPECT_EQ(*st.getsockopt(fd, SockOpt::so_error), int(Errno::etimedout));
}

TEST_F(Api, SocketOptionsLikeLinux) {
  int fd = tcp();
  // SO_RCVBUF / SO_SNDBUF: doubled, with Linux minimums, capped by rmem_max/wmem_max.
  EXPECT_EQ(*st.getsockopt(fd, SockOpt::so_rcvbuf), 131072);
  EXPECT_EQ(*st.getsockopt(fd, SockOpt::so_sndbuf), 16384);
  const std::vector<std::tuple<int, int, int>> cases = {{1, 2304, 4608},
                                                        {100, 2304, 4608},
                                                        {5000, 10000, 10000},
                                                        {1 << 20, 2097152, 2097152},
                                                        {-1, 8388608, 8388608}};
  for (auto [v, rcv, snd] : cases) {
    ASSERT_EQ(st.setsockopt(fd, SockOpt::so_rcvbuf, v), Errno::ok);
    ASSERT_EQ(st.setsockopt(fd, SockOpt::so_sndbuf, v), Errno::ok);
    EXPECT_EQ(*st.getsockopt(fd, SockOpt::so_rcvbuf), rcv) << v;
    EXPECT_EQ(*st.getsockopt(fd, SockOpt::so_sndbuf), snd) << v;
  }
  // Read-only options.
  EXPECT_EQ(st.setsockopt(fd, SockOpt::so_error, 1), Errno::enoprotoopt);
  EXPECT_EQ(st.setsockopt(fd, SockOpt::so_type, 1), Errno::enoprotoopt);
  EXPECT_EQ(st.setsockopt(fd, SockOpt::so_acceptconn, 1), Errno::enoprotoopt);
  EXPECT_EQ(*st.getsockopt(fd, SockOpt::so_type), 1);
  EXPECT_EQ(*st.getsockopt(udp(), SockOpt::so_type), 2);
  EXPECT_EQ(*st.getsockopt(fd, SockOpt::so_acceptconn), 0);
  EXPECT_EQ(*st.getsockopt(fd, SockOpt::so_error), 0);
  // SO_REUSEADDR, TCP_NODELAY: booleans.
  EXPECT_EQ(*st.getsockopt(fd, SockOpt::so_reuseaddr), 0);
  ASSERT_EQ(st.setsockopt(fd, SockOpt::so_reuseaddr, 7), Errno::ok);
  EXPECT_EQ(*st.getsockopt(fd, SockOpt::so_reuseaddr), 1);
  ASSERT_EQ(st.setsockopt(fd, SockOpt::tcp_nodelay, 1), Errno::ok);
  EXPECT_EQ(*st.getsockopt(fd, SockOpt::tcp_nodelay), 1);
  // TCP_MAXSEG: 536 before connecting; 0 or 88..32767.
  EXPECT_EQ(*st.getsockopt(fd, SockOpt::tcp_maxseg), 536);
  EXPECT_EQ(st.setsockopt(fd, SockOpt::tcp_maxseg, 50), Errno::einval);
  EXPECT_EQ(st.setsockopt(fd, SockOpt::tcp_maxseg, 32768), Errno::einval);
  ASSERT_EQ(st.setsockopt(fd, SockOpt::tcp_maxseg, 88), Errno::ok);
  EXPECT_EQ(*st.getsockopt(fd, SockOpt::tcp_maxseg), 88);
  // TCP_SYNCNT: tcp_syn_retries until set; 1..127.
  EXPECT_EQ(*st.getsockopt(fd, SockOpt::tcp_syncnt), 6);
  for (int bad : {0, -1, 128})
    EXPECT_EQ(st.setsockopt(fd, SockOpt::tcp_syncnt, bad), Errno::einval);
  for (int good : {1, 127}) {
    ASSERT_EQ(st.setsockopt(fd, SockOpt::tcp_syncnt, good), Errno::ok);
    EXPECT_EQ(*st.getsockopt(fd, SockOpt::tcp_syncnt), good);
  }
}

TEST_F(Api, L30_DeferAcceptIsRoundedUpToTheRetransmissionSchedule) {
  int fd = tcp();
  const std::vector<std::pair<int, int>> set_get = {{0, 0}, {1, 1},  {2, 3},     {3, 3}, {4, 7},
                                                    {5, 7}, {8, 15}, {100, 127}, {-1, 0}};
  for (auto [set, get] : set_get) {
    ASSERT_EQ(st.setsockopt(fd, SockOpt::tcp_defer_accept, set), Errno::ok);
    EXPECT_EQ(*st.getsockopt(fd, SockOpt::tcp_defer_accept), get) << set;
  }
}

TEST_F(Api, Linger) {
  int fd = tcp();
  EXPECT_FALSE(st.get_linger(fd)->on);
  ASSERT_EQ(st.set_linger(fd, {true, 5}), Errno::ok);
  EXPECT_TRUE(st.get_linger(fd)->on);
  EXPECT_EQ(st.get_linger(fd)->seconds, 5);
  // Off keeps the time, as Linux reports it ({onoff=0, linger=5}).
  ASSERT_EQ(st.set_linger(fd, {false, 0}), Errno::ok);
  EXPECT_FALSE(st.get_linger(fd)->on);
  EXPECT_EQ(st.get_linger(fd)->seconds, 5);
}

TEST_F(ApiTwoStacks, LingerZeroCloseSendsRst) {
  ASSERT_EQ(client.set_linger(c, {true, 0}), Errno::ok);
  ASSERT_EQ(client.close(c), Errno::ok);
  link.run_for(10ms);
  auto rsts = link.sent_by(client, [](const Sent& x) { return (x.tcp.flags & f::RST) != 0; });
  ASSERT_EQ(rsts.size(), 1u);
  EXPECT_TRUE(client.sockets().empty());
  EXPECT_EQ(*server.state(s), TcpState::closed);
  uint8_t buf[4];
  EXPECT_EQ(server.recv(s, buf).error(), Errno::econnreset);
  EXPECT_EQ(server.counters()[Counter::Tcp_EstabResets], 1u);
}

TEST_F(ApiTwoStacks, SendAfterShutdownWriteIsEpipeAndPeerSeesEof) {
  ASSERT_EQ(client.shutdown(c, ShutdownHow::wr), Errno::ok);
  uint8_t buf[4] = {};
  EXPECT_EQ(client.send(c, buf).error(), Errno::epipe);
  EXPECT_EQ(*client.poll(c), uint32_t{kWritable});  // Linux: POLLOUT only
  link.run_for(10ms);
  EXPECT_EQ(*server.recv(s, buf), 0u);
  EXPECT_EQ(*client.state(c), TcpState::fin_wait_2);
  // The other direction still works.
  EXPECT_EQ(*server.send(s, bytes("ok")), 2u);
  link.run_for(10ms);
  EXPECT_EQ(*client.recv(c, buf), 2u);
}

}  // namespace
}  // namespace synq::test
