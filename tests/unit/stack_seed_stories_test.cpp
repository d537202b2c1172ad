// The seed texts' stories (issue 3 acceptance), with real client stacks on a
// 10 ms link and the linux model: what the client sees when the accept queue
// fills. (a) is L06 and (d) is in stack_bsd44_test.cpp.
#include <gtest/gtest.h>

#include "stack_test_util.hpp"

namespace synq::test {
namespace {

constexpr uint16_t kPort = 80;

struct SeedStory : ::testing::Test {
  Stack server{config("10.0.0.1", 1, "server")};
  Stack client{config("10.0.0.2", 2, "client")};
  Link link{client, server, 10ms};
  int lfd = -1;

  void SetUp() override {
    lfd = *server.socket(SockType::stream);
    ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", kPort)), Errno::ok);
    ASSERT_EQ(server.listen(lfd, 2), Errno::ok);  // B = 2: three children fit
  }
  int connect() {
    int fd = *client.socket(SockType::stream);
    EXPECT_EQ(client.connect(fd, ep("10.0.0.1", kPort)), Errno::einprogress);
    return fd;
  }
  uint16_t port_of(int fd) { return client.getsockname(fd)->port; }
  uint64_t server_count(Counter c) const { return server.counters()[c]; }
  size_t syn_recv_entries() const {
    size_t n = 0;
    for (const SocketInfo& s : server.sockets())
      if (s.state == TcpState::syn_received && s.fd == -1) ++n;
    return n;
  }
  // Segments of one client port, server→client or client→server, with `flags`.
  std::vector<Sent> from_server_to(uint16_t port, uint8_t flags) const {
    return link.sent_by(server, [&](const Sent& s) { return s.dport == port && s.is(flags); });
  }
  std::vector<Sent> from_client(uint16_t port, uint8_t flags) const {
    return link.sent_by(client, [&](const Sent& s) { return s.sport == port && s.is(flags); });
  }

  // Clients 0 and 1 complete (acc = 2); then clients 2 and 3 connect at once:
  // client 2's third ACK fills the accept queue (acc = 3 = B+1) and client 3's
  // meets a full queue. Returns client 3's descriptor; its request was made at 1.01 s.
  int fill_then_one_more() {
    connect();
    link.run_for(100ms);
    connect();
    link.run_until(1s);
    const int c2 = connect();
    const int c3 = connect();
    link.run_until(1s + 50ms);
    EXPECT_EQ(*client.state(c2), TcpState::established);
    EXPECT_EQ(server.counters()[Counter::Tcp_PassiveOpens], 3u);
    return c3;
  }
};

TEST_F(SeedStory, B_IgnoredThirdAck_SynAckRetransmitted_DupAcks_CompletesAfterAccept) {
  const int c3 = fill_then_one_more();
  const uint16_t p3 = port_of(c3);
  EXPECT_EQ(*client.state(c3), TcpState::established);  // the client believes it is connected
  // The third ACK was dropped, not answered: the request stays in SYN-RECV.
  EXPECT_EQ(server_count(Counter::TcpExt_ListenOverflows), 1u);
  EXPECT_EQ(server_count(Counter::TcpExt_ListenDrops), 1u);
  EXPECT_EQ(syn_recv_entries(), 1u);
  EXPECT_TRUE(from_server_to(p3, wire::tcp_flags::RST).empty());

  // Its SYN-ACK timer goes on: 1, 3, 7 s after the request (made at 1.01 s);
  // the client answers each with a duplicate ACK, dropped again.
  link.run_until(9s);
  const auto synacks = from_server_to(p3, wire::tcp_flags::SYN | wire::tcp_flags::ACK);
  ASSERT_EQ(synacks.size(), 4u);
  EXPECT_EQ(synacks[1].at, 2010ms);
  EXPECT_EQ(synacks[2].at, 4010ms);
  EXPECT_EQ(synacks[3].at, 8010ms);
  const auto acks = from_client(p3, wire::tcp_flags::ACK);
  ASSERT_EQ(acks.size(), 4u);  // the third ACK + one duplicate per retransmitted SYN-ACK
  for (size_t i = 1; i < acks.size(); ++i) {
    EXPECT_EQ(acks[i].at, synacks[i].at + 10ms);
    EXPECT_EQ(acks[i].tcp.ack, acks[0].tcp.ack);  // a duplicate of the first
    EXPECT_EQ(acks[i].tcp.seq, acks[0].tcp.seq);
  }
  EXPECT_EQ(server_count(Counter::TcpExt_ListenOverflows), 4u);
  EXPECT_EQ(server_count(Counter::Tcp_PassiveOpens), 3u);

  // accept() frees a slot; nothing happens until the client's next ACK, which
  // answers the SYN-ACK at 15 s after the request (16.01 s) and completes it.
  ASSERT_TRUE(server.accept(lfd).ok());
  link.run_until(16s);
  EXPECT_EQ(server_count(Counter::Tcp_PassiveOpens), 3u);
  link.run_until(16030ms);
  EXPECT_EQ(server_count(Counter::Tcp_PassiveOpens), 4u);
  EXPECT_EQ(syn_recv_entries(), 0u);
  EXPECT_EQ(server_count(Counter::TcpExt_ListenOverflows), 4u);
  // The accept queue holds clients 1, 2 and now 3, in completion order.
  std::vector<uint16_t> order;
  Endpoint peer;
  while (server.accept(lfd, &peer).ok()) order.push_back(peer.port);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order.back(), p3);
}

TEST_F(SeedStory, B_AbortOnOverflow_ClientGetsRstInstead) {
  server.sysctls().tcp_abort_on_overflow = 1;
  const int c3 = fill_then_one_more();
  const uint16_t p3 = port_of(c3);
  const auto rsts = from_server_to(p3, wire::tcp_flags::RST);
  ASSERT_EQ(rsts.size(), 1u);  // R only, seq = the ACK's ack number
  const auto acks = from_client(p3, wire::tcp_flags::ACK);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(rsts[0].tcp.seq, acks[0].tcp.ack);
  EXPECT_EQ(server_count(Counter::TcpExt_EmbryonicRsts), 1u);
  EXPECT_EQ(server_count(Counter::TcpExt_ListenOverflows), 1u);
  EXPECT_EQ(syn_recv_entries(), 0u);
  EXPECT_EQ(*client.state(c3), TcpState::closed);
  EXPECT_EQ(*client.getsockopt(c3, SockOpt::so_error), static_cast<int>(Errno::econnreset));
}

TEST_F(SeedStory, C_RequestExpiresAt63s_ClientsNextDataGetsRst) {
  const int c3 = fill_then_one_more();
  const uint16_t p3 = port_of(c3);
  EXPECT_EQ(*client.state(c3), TcpState::established);
  // No accept(): the request's SYN-ACKs go at 1, 3, 7, 15, 31 s; it is removed
  // silently 63 s after it was made (1.01 s + 63 s).
  link.run_until(64s);
  EXPECT_EQ(syn_recv_entries(), 1u);
  link.run_until(64020ms);
  EXPECT_EQ(syn_recv_entries(), 0u);
  EXPECT_EQ(from_server_to(p3, wire::tcp_flags::SYN | wire::tcp_flags::ACK).size(), 6u);
  EXPECT_TRUE(from_server_to(p3, wire::tcp_flags::RST).empty());  // expiry sends nothing
  EXPECT_EQ(*client.state(c3), TcpState::established);            // the client still believes

  // The client finally sends its request: the server has no connection and
  // no request for it, so the listener answers the ACK with a RST.
  const uint8_t req[] = {'G', 'E', 'T'};
  ASSERT_EQ(*client.send(c3, req), 3u);
  link.run_for(100ms);
  const auto rsts = from_server_to(p3, wire::tcp_flags::RST);
  ASSERT_EQ(rsts.size(), 1u);
  EXPECT_EQ(*client.state(c3), TcpState::closed);
  EXPECT_EQ(*client.getsockopt(c3, SockOpt::so_error), static_cast<int>(Errno::econnreset));
}

}  // namespace
}  // namespace synq::test
