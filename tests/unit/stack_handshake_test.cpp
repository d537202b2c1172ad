// Two stacks over a virtual link: handshake, data, close, refusal, IPv6.
#include <gtest/gtest.h>

#include "stack_test_util.hpp"

namespace synq::test {
namespace {

struct TwoHosts : ::testing::Test {
  Stack server{config("10.0.0.1", 1, "server")};
  Stack client{config("10.0.0.2", 2, "client")};
  Link link{client, server, 10ms};

  int listen_on(uint16_t port, int backlog = 128) {
    int fd = *server.socket(SockType::stream);
    EXPECT_EQ(server.bind(fd, ep("10.0.0.1", port)), Errno::ok);
    EXPECT_EQ(server.listen(fd, backlog), Errno::ok);
    return fd;
  }
  int connect_to(uint16_t port) {
    int fd = *client.socket(SockType::stream);
    EXPECT_EQ(client.connect(fd, ep("10.0.0.1", port)), Errno::einprogress);
    return fd;
  }
};

TEST_F(TwoHosts, HandshakeIsSynSynAckAckAndBothEstablished) {
  int lfd = listen_on(80);
  int cfd = connect_to(80);
  EXPECT_EQ(*client.state(cfd), TcpState::syn_sent);
  link.run_for(100ms);

  auto& tr = link.trace();
  ASSERT_GE(tr.size(), 3u);
  EXPECT_TRUE(tr[0].is(f::SYN));
  EXPECT_EQ(tr[0].at, 0ms);
  EXPECT_TRUE(tr[1].is(f::SYN | f::ACK));
  EXPECT_EQ(tr[1].at, 10ms);
  EXPECT_EQ(tr[1].tcp.ack, tr[0].tcp.seq + 1);
  EXPECT_TRUE(tr[2].is(f::ACK));
  EXPECT_EQ(tr[2].at, 20ms);
  EXPECT_EQ(tr[2].tcp.ack, tr[1].tcp.seq + 1);

  EXPECT_EQ(*client.state(cfd), TcpState::established);
  EXPECT_TRUE(*client.poll(cfd) & kWritable);
  EXPECT_EQ(*server.poll(lfd), uint32_t{kReadable});
  Endpoint peer;
  auto afd = server.accept(lfd, &peer);
  ASSERT_TRUE(afd.ok());
  EXPECT_EQ(peer, *client.getsockname(cfd));
  EXPECT_EQ(*server.getpeername(*afd), *client.getsockname(cfd));
  EXPECT_EQ(*server.getsockname(*afd), ep("10.0.0.1", 80));
  EXPECT_EQ(*server.state(*afd), TcpState::established);
  EXPECT_EQ(server.poll(lfd).value(), 0u);
  EXPECT_EQ(server.accept(lfd).error(), Errno::eagain);

  EXPECT_EQ(server.counters()[Counter::Tcp_PassiveOpens], 1u);
  EXPECT_EQ(client.counters()[Counter::Tcp_ActiveOpens], 1u);
  EXPECT_EQ(server.counters()[Counter::Tcp_InSegs], 2u);
  EXPECT_EQ(server.counters()[Counter::Tcp_OutSegs], 1u);
  EXPECT_EQ(client.counters()[Counter::Tcp_OutSegs], 2u);
  EXPECT_EQ(server.counters()[Counter::Ip_InReceives], 2u);
  EXPECT_EQ(server.counters()[Counter::Ip_InDelivers], 2u);
  EXPECT_EQ(client.counters()[Counter::Ip_OutRequests], 2u);
}

TEST_F(TwoHosts, ConnectCompletesAfterOneRoundTripAndSecondConnectReturnsOkThenEisconn) {
  listen_on(80);
  int cfd = connect_to(80);
  EXPECT_EQ(client.connect(cfd, ep("10.0.0.1", 80)), Errno::ealready);
  link.run_for(19ms);
  EXPECT_EQ(*client.state(cfd), TcpState::syn_sent);
  EXPECT_EQ(client.poll(cfd).value() & kWritable, 0u);
  link.run_for(2ms);
  EXPECT_EQ(*client.state(cfd), TcpState::established);
  // Linux __inet_stream_connect: a connect() after completion reports 0 once, then EISCONN.
  EXPECT_EQ(client.connect(cfd, ep("10.0.0.1", 80)), Errno::ok);
  EXPECT_EQ(client.connect(cfd, ep("10.0.0.1", 80)), Errno::eisconn);
}

TEST_F(TwoHosts, DataEchoBothWays) {
  int lfd = listen_on(7);
  int cfd = connect_to(7);
  link.run_for(50ms);
  int sfd = *server.accept(lfd);

  EXPECT_EQ(*client.send(cfd, bytes("hello, synq")), 11u);
  link.run_for(50ms);
  EXPECT_EQ(*server.readable_bytes(sfd), 11u);
  EXPECT_TRUE(*server.poll(sfd) & kReadable);
  std::vector<uint8_t> buf(100);
  auto n = server.recv(sfd, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + *n), "hello, synq");
  EXPECT_EQ(server.recv(sfd, buf).error(), Errno::eagain);

  EXPECT_EQ(*server.send(sfd, std::span(buf.data(), *n)), 11u);
  link.run_for(50ms);
  auto m = client.recv(cfd, buf);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + *m), "hello, synq");
}

TEST_F(TwoHosts, DataPiggybackedOnTheThirdAckReachesTheChild) {
  // Drop the client's pure third ACK so the first data segment completes the handshake.
  int lfd = listen_on(7);
  int cfd = connect_to(7);
  bool dropped = false;
  link.filter = [&](const Stack& from, const Sent& s) {
    if (&from == &client && s.is(f::ACK) && s.payload.empty() && !dropped) {
      dropped = true;
      return false;
    }
    return true;
  };
  link.run_for(15ms);  // SYN-ACK arrives at 20 ms
  link.run_for(10ms);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(server.accept(lfd).error(), Errno::eagain);
  EXPECT_EQ(*client.send(cfd, bytes("GET /")), 5u);
  link.run_for(20ms);
  auto sfd = server.accept(lfd);
  ASSERT_TRUE(sfd.ok());
  EXPECT_EQ(*server.readable_bytes(*sfd), 5u);
}

TEST_F(TwoHosts, OrderlyCloseBothSides) {
  int lfd = listen_on(80);
  int cfd = connect_to(80);
  link.run_for(50ms);
  int sfd = *server.accept(lfd);

  EXPECT_EQ(client.close(cfd), Errno::ok);
  link.run_for(50ms);
  EXPECT_EQ(*server.state(sfd), TcpState::close_wait);
  uint32_t ev = *server.poll(sfd);
  EXPECT_TRUE(ev & kReadable);
  EXPECT_TRUE(ev & kRdHangup);
  std::vector<uint8_t> buf(10);
  EXPECT_EQ(*server.recv(sfd, buf), 0u);  // EOF
  EXPECT_EQ(server.close(sfd), Errno::ok);
  link.run_for(50ms);
  // The client's side is in TIME-WAIT, without a descriptor.
  auto socks = client.sockets();
  ASSERT_EQ(socks.size(), 1u);
  EXPECT_EQ(socks[0].fd, -1);
  EXPECT_EQ(socks[0].state, TcpState::time_wait);
  EXPECT_EQ(client.close(cfd), Errno::ebadf);
  // TIME-WAIT ends; nothing left.
  link.run_for(61s);
  EXPECT_TRUE(client.sockets().empty());
  EXPECT_EQ(server.sockets().size(), 1u);  // the listener
}

TEST_F(TwoHosts, RstFromClosedPortRefusesConnect) {
  int cfd = connect_to(81);
  link.run_for(50ms);
  auto& tr = link.trace();
  ASSERT_EQ(tr.size(), 2u);
  EXPECT_TRUE(tr[1].is(f::RST | f::ACK));
  EXPECT_EQ(tr[1].tcp.seq, 0u);
  EXPECT_EQ(tr[1].tcp.ack, tr[0].tcp.seq + 1);
  EXPECT_EQ(server.counters()[Counter::Tcp_OutRsts], 1u);

  uint32_t ev = *client.poll(cfd);
  EXPECT_TRUE(ev & kError);
  EXPECT_TRUE(ev & kHangup);
  EXPECT_EQ(*client.state(cfd), TcpState::closed);
  EXPECT_EQ(*client.getsockopt(cfd, SockOpt::so_error), int(Errno::econnrefused));
  EXPECT_EQ(*client.getsockopt(cfd, SockOpt::so_error), 0);  // read-and-clear
  EXPECT_EQ(client.counters()[Counter::Tcp_AttemptFails], 1u);
  // Linux: after the error was read, connect() reports ECONNABORTED once, then retries.
  EXPECT_EQ(client.connect(cfd, ep("10.0.0.1", 81)), Errno::econnaborted);
  EXPECT_EQ(client.connect(cfd, ep("10.0.0.1", 81)), Errno::einprogress);
}

TEST_F(TwoHosts, ConnectReportsTheRefusalItselfWhenSoErrorWasNotRead) {
  int cfd = connect_to(81);
  link.run_for(50ms);
  EXPECT_EQ(client.connect(cfd, ep("10.0.0.1", 81)), Errno::econnrefused);
}

TEST_F(TwoHosts, L35_AcceptOrderIsHandshakeCompletionOrder) {
  int lfd = listen_on(80);
  // Three clients start 1 ms apart; the second one's SYN is lost once, so it completes last.
  int c1 = connect_to(80);
  link.run_for(1ms);
  int c2 = connect_to(80);
  uint16_t p2 = client.getsockname(c2)->port;
  bool lost = false;
  link.filter = [&](const Stack& from, const Sent& s) {
    if (&from == &client && s.is(f::SYN) && s.sport == p2 && !lost) {
      lost = true;
      return false;
    }
    return true;
  };
  link.run_for(1ms);
  int c3 = connect_to(80);
  EXPECT_EQ(server.poll(lfd).value(), 0u);
  link.run_for(5s);
  EXPECT_TRUE(lost);
  std::vector<uint16_t> order;
  Endpoint peer;
  while (true) {
    auto a = server.accept(lfd, &peer);
    if (!a.ok()) break;
    order.push_back(peer.port);
  }
  EXPECT_EQ(order, (std::vector<uint16_t>{client.getsockname(c1)->port,
                                          client.getsockname(c3)->port, p2}));
  EXPECT_EQ(server.poll(lfd).value(), 0u);
}

TEST(Ipv6, HandshakeAndData) {
  Stack server{config("fd00::1", 1, "server")};
  Stack client{config("fd00::2", 2, "client")};
  Link link{client, server, 5ms};
  int lfd = *server.socket(SockType::stream, IpVersion::v6);
  ASSERT_EQ(server.bind(lfd, ep("::", 443)), Errno::ok);
  ASSERT_EQ(server.listen(lfd, 10), Errno::ok);
  int cfd = *client.socket(SockType::stream, IpVersion::v6);
  ASSERT_EQ(client.connect(cfd, ep("fd00::1", 443)), Errno::einprogress);
  link.run_for(20ms);
  EXPECT_EQ(*client.state(cfd), TcpState::established);
  EXPECT_EQ(client.getsockname(cfd)->addr, *IpAddr::parse("fd00::2"));
  auto sfd = server.accept(lfd);
  ASSERT_TRUE(sfd.ok());
  EXPECT_EQ(*server.getsockname(*sfd), ep("fd00::1", 443));
  EXPECT_EQ(link.trace()[1].tcp.options.mss, 1440);  // 1500 - 40 - 20
  EXPECT_EQ(*client.send(cfd, bytes("v6")), 2u);
  link.run_for(20ms);
  EXPECT_EQ(*server.readable_bytes(*sfd), 2u);
}

TEST(Isn, DependsOnTupleSeedAndClock) {
  // RFC 6528: different tuples and different secrets give unrelated ISNs; the
  // clock term advances by one every 64 ns.
  Stack a{config("10.0.0.2", 7)};
  Stack b{config("10.0.0.2", 7)};
  Stack c{config("10.0.0.2", 8)};
  auto first_syn = [](Stack& s, uint16_t lport, Time at) {
    s.advance(at);
    int fd = *s.socket(SockType::stream);
    EXPECT_EQ(s.bind(fd, ep("10.0.0.2", lport)), Errno::ok);
    EXPECT_EQ(s.connect(fd, ep("10.0.0.1", 80)), Errno::einprogress);
    auto out = drain(s);
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? 0u : out[0].tcp.seq;
  };
  uint32_t a1 = first_syn(a, 40000, 0ns);
  uint32_t b1 = first_syn(b, 40000, 6400ns);
  uint32_t c1 = first_syn(c, 40000, 0ns);
  uint32_t a2 = first_syn(a, 40001, 0ns);
  EXPECT_EQ(b1 - a1, 100u);  // same seed and tuple: only the clock moved (6400 ns / 64)
  EXPECT_NE(a1, c1);
  EXPECT_NE(a1, a2);
}

}  // namespace
}  // namespace synq::test
