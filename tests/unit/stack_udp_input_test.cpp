// UDP sockets, and what the stack does with malformed or misaddressed input.
#include <gtest/gtest.h>

#include "stack_test_util.hpp"

namespace synq::test {
namespace {

std::vector<uint8_t> udp_packet(const char* src, uint16_t sport, const char* dst, uint16_t dport,
                                const std::string& payload) {
  std::vector<uint8_t> buf(100 + payload.size());
  size_t n =
      wire::build_udp(buf, *IpAddr::parse(src), *IpAddr::parse(dst), sport, dport, bytes(payload));
  buf.resize(n);
  return buf;
}

TEST(Udp, SendtoAndRecvfromBetweenTwoStacks) {
  Stack a{config("10.0.0.1", 1)};
  Stack b{config("10.0.0.2", 2)};
  Link link{a, b, 1ms};
  int server = *b.socket(SockType::dgram);
  ASSERT_EQ(b.bind(server, ep("0.0.0.0", 53)), Errno::ok);
  int client = *a.socket(SockType::dgram);
  EXPECT_EQ(*a.sendto(client, bytes("query"), ep("10.0.0.2", 53)), 5u);
  Endpoint client_ep = *a.getsockname(client);  // implicitly bound
  EXPECT_NE(client_ep.port, 0);
  link.run_for(5ms);
  EXPECT_EQ(*b.readable_bytes(server), 5u);
  EXPECT_TRUE(*b.poll(server) & kReadable);
  std::vector<uint8_t> buf(64);
  Endpoint from;
  auto n = b.recvfrom(server, buf, &from);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + *n), "query");
  EXPECT_EQ(from, (Endpoint{*IpAddr::parse("10.0.0.1"), client_ep.port}));
  EXPECT_EQ(b.recvfrom(server, buf, &from).error(), Errno::eagain);
  EXPECT_EQ(*b.sendto(server, bytes("answer"), from), 6u);
  link.run_for(5ms);
  EXPECT_EQ(*a.recv(client, buf), 6u);
  EXPECT_EQ(a.counters()[Counter::Udp_OutDatagrams], 1u);
  EXPECT_EQ(b.counters()[Counter::Udp_InDatagrams], 1u);
}

TEST(Udp, ConnectSetsDefaultDestinationAndFiltersSources) {
  Stack st{config("10.0.0.1")};
  int fd = *st.socket(SockType::dgram);
  uint8_t buf[16];
  EXPECT_EQ(st.send(fd, bytes("x")).error(), Errno::edestaddrreq);
  EXPECT_EQ(st.getpeername(fd).error(), Errno::enotconn);
  // Linux still marks the direction shut (inet_shutdown's TCP_CLOSE case).
  int other = *st.socket(SockType::dgram);
  EXPECT_EQ(st.shutdown(other, ShutdownHow::rd), Errno::enotconn);
  EXPECT_EQ(*st.recv(other, buf), 0u);
  ASSERT_EQ(st.bind(fd, ep("10.0.0.1", 5000)), Errno::ok);
  ASSERT_EQ(st.connect(fd, ep("10.0.0.7", 7)), Errno::ok);
  EXPECT_EQ(*st.getpeername(fd), ep("10.0.0.7", 7));
  EXPECT_EQ(*st.send(fd, bytes("ping")), 4u);
  auto out = drain(st);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].protocol, wire::ip_proto::UDP);
  EXPECT_EQ(out[0].dst, *IpAddr::parse("10.0.0.7"));
  EXPECT_EQ(out[0].dport, 7);
  EXPECT_EQ(out[0].sport, 5000);
  // A datagram from someone else is not for this connected socket.
  st.input(0s, udp_packet("10.0.0.8", 7, "10.0.0.1", 5000, "spoof"));
  EXPECT_EQ(st.recv(fd, buf).error(), Errno::eagain);
  EXPECT_EQ(st.counters()[Counter::Udp_NoPorts], 1u);
  st.input(0s, udp_packet("10.0.0.7", 7, "10.0.0.1", 5000, "pong"));
  EXPECT_EQ(*st.recv(fd, buf), 4u);
}

TEST(Udp, NoPortsWhenNothingIsBound) {
  Stack st{config("10.0.0.1")};
  st.input(0s, udp_packet("10.0.0.9", 1000, "10.0.0.1", 9, "hello"));
  EXPECT_EQ(st.counters()[Counter::Udp_NoPorts], 1u);
  EXPECT_EQ(st.counters()[Counter::Ip_InDelivers], 1u);
  EXPECT_TRUE(drain(st).empty());  // synq sends no ICMP
}

TEST(Udp, ReceiveQueueBoundedByRcvbuf) {
  Stack st{config("10.0.0.1")};
  int fd = *st.socket(SockType::dgram);
  ASSERT_EQ(st.bind(fd, ep("10.0.0.1", 9)), Errno::ok);
  ASSERT_EQ(st.setsockopt(fd, SockOpt::so_rcvbuf, 1), Errno::ok);  // → 2304 bytes
  const std::string kilo(1000, 'x');
  for (int i = 0; i < 4; ++i) st.input(0s, udp_packet("10.0.0.9", 1000, "10.0.0.1", 9, kilo));
  EXPECT_EQ(st.counters()[Counter::Udp_InDatagrams], 2u);
  EXPECT_EQ(st.counters()[Counter::Udp_RcvbufErrors], 2u);
  EXPECT_EQ(st.counters()[Counter::Udp_InErrors], 2u);
  std::vector<uint8_t> buf(10);
  EXPECT_EQ(*st.readable_bytes(fd), 1000u);
  EXPECT_EQ(*st.recv(fd, buf), 10u);  // truncated: the rest of the datagram is discarded
  EXPECT_EQ(*st.readable_bytes(fd), 1000u);
  EXPECT_EQ(*st.recv(fd, buf), 10u);
  EXPECT_EQ(st.recv(fd, buf).error(), Errno::eagain);
  // Room again.
  st.input(0s, udp_packet("10.0.0.9", 1000, "10.0.0.1", 9, kilo));
  EXPECT_EQ(st.counters()[Counter::Udp_InDatagrams], 3u);
}

TEST(Udp, BadChecksumCounted) {
  Stack st{config("10.0.0.1")};
  int fd = *st.socket(SockType::dgram);
  ASSERT_EQ(st.bind(fd, ep("10.0.0.1", 9)), Errno::ok);
  auto p = udp_packet("10.0.0.9", 1000, "10.0.0.1", 9, "payload");
  p.back() ^= 0xff;
  st.input(0s, p);
  EXPECT_EQ(st.counters()[Counter::Udp_InErrors], 1u);
  EXPECT_EQ(st.counters()[Counter::Udp_InCsumErrors], 1u);
  EXPECT_EQ(st.counters()[Counter::Udp_InDatagrams], 0u);
}

// ------------------------------------------------------------------ malformed input

struct Input : ::testing::Test {
  Stack st{config("10.0.0.1")};
  FakePeer peer{st, *IpAddr::parse("10.0.0.9"), *IpAddr::parse("10.0.0.1")};
};

TEST_F(Input, TruncatedIpPacketIsAHeaderError) {
  auto p = peer.tcp_packet(Seg().from(40000).to(80).syn().seq(1));
  p.resize(10);
  st.input(0s, p);
  EXPECT_EQ(st.counters()[Counter::Ip_InReceives], 1u);
  EXPECT_EQ(st.counters()[Counter::Ip_InHdrErrors], 1u);
  EXPECT_EQ(st.counters()[Counter::Tcp_InSegs], 0u);
  EXPECT_TRUE(drain(st).empty());
  st.input(0s, std::span<const uint8_t>{});
  EXPECT_EQ(st.counters()[Counter::Ip_InHdrErrors], 2u);
}

TEST_F(Input, BadTcpChecksumIsCountedAndNotAnswered) {
  auto p = peer.tcp_packet(Seg().from(40000).to(80).syn().seq(1));
  p[p.size() - 1] ^= 0x55;  // last byte of the TCP header
  st.input(0s, p);
  EXPECT_EQ(st.counters()[Counter::Tcp_InErrs], 1u);
  EXPECT_EQ(st.counters()[Counter::Tcp_InCsumErrors], 1u);
  EXPECT_EQ(st.counters()[Counter::Tcp_InSegs], 0u);
  EXPECT_TRUE(drain(st).empty());  // a closed port would otherwise answer RST
}

TEST_F(Input, TruncatedTcpHeaderIsAnInErr) {
  auto p = peer.tcp_packet(Seg().from(40000).to(80).syn().seq(1));
  // Keep the IP header consistent but cut the TCP header to 10 bytes.
  p.resize(30);
  p[2] = 0;
  p[3] = 30;
  p[10] = p[11] = 0;
  uint32_t sum = wire::checksum_add(0, std::span(p.data(), 20));
  uint16_t c = wire::checksum_finish(sum);
  p[10] = uint8_t(c >> 8);
  p[11] = uint8_t(c);
  st.input(0s, p);
  EXPECT_EQ(st.counters()[Counter::Ip_InHdrErrors], 0u);
  EXPECT_EQ(st.counters()[Counter::Tcp_InErrs], 1u);
  EXPECT_EQ(st.counters()[Counter::Tcp_InCsumErrors], 0u);
}

TEST_F(Input, PacketForAnotherAddressIsAnAddrError) {
  FakePeer stray{st, *IpAddr::parse("10.0.0.9"), *IpAddr::parse("10.0.0.77")};
  stray.send(0s, Seg().from(40000).to(80).syn().seq(1).mss(1460));
  EXPECT_EQ(st.counters()[Counter::Ip_InAddrErrors], 1u);
  EXPECT_EQ(st.counters()[Counter::Ip_InDelivers], 0u);
  EXPECT_TRUE(drain(st).empty());
}

TEST_F(Input, UnknownProtocolCounted) {
  auto p = udp_packet("10.0.0.9", 1, "10.0.0.1", 2, "x");
  p[9] = 132;  // SCTP
  p[10] = p[11] = 0;
  uint16_t c = wire::checksum_finish(wire::checksum_add(0, std::span(p.data(), 20)));
  p[10] = uint8_t(c >> 8);
  p[11] = uint8_t(c);
  st.input(0s, p);
  EXPECT_EQ(st.counters()[Counter::Ip_InUnknownProtos], 1u);
}

TEST_F(Input, ClosedPortRstRules) {
  // RFC 9293 §3.10.7.1. No ACK: RST|ACK seq 0, ack = SEG.SEQ + SEG.LEN.
  std::string data = "abc";
  peer.send(0s, Seg().from(40000).to(81).syn().fin().seq(100).payload(bytes(data)));
  auto out = drain(st);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(
      same_segment(out[0], Seg().from(81).to(40000).rst().seq(0).ack(100 + 3 + 1 + 1).len(0)));
  // ACK set: RST seq = SEG.ACK.
  peer.send(0s, Seg().from(40000).to(81).psh().seq(100).ack(5555).payload(bytes(data)));
  out = drain(st);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(same_segment(out[0], Seg().from(81).to(40000).rst().seq(5555).len(0)));
  // Never answer a RST.
  peer.send(0s, Seg().from(40000).to(81).rst().seq(100));
  peer.send(0s, Seg().from(40000).to(81).rst().seq(100).ack(5));
  EXPECT_TRUE(drain(st).empty());
  EXPECT_EQ(st.counters()[Counter::Tcp_OutRsts], 2u);
  EXPECT_EQ(st.counters()[Counter::Tcp_InSegs], 4u);
}

TEST_F(Input, IpIdChangesPerPacketAndOutputBuffersAreReused) {
  for (int i = 0; i < 3; ++i) peer.send(0s, Seg().from(40000).to(81).seq(1).ack(1));
  std::vector<uint16_t> ids;
  st.drain_output([&](std::span<const uint8_t> p) { ids.push_back(uint16_t(p[4] << 8 | p[5])); });
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(uint16_t(ids[1] - ids[0]), 1);
  EXPECT_EQ(uint16_t(ids[2] - ids[1]), 1);
  const uint8_t* first = nullptr;
  peer.send(0s, Seg().from(40000).to(81).seq(1).ack(1));
  st.drain_output([&](std::span<const uint8_t> p) { first = p.data(); });
  peer.send(0s, Seg().from(40000).to(81).seq(1).ack(1));
  const uint8_t* second = nullptr;
  st.drain_output([&](std::span<const uint8_t> p) { second = p.data(); });
  EXPECT_EQ(first, second);
}

}  // namespace
}  // namespace synq::test
