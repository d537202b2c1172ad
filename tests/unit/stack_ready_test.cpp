// Stack::drain_ready: the readiness notification a driver uses instead of
// polling every descriptor. Each test drives packets or timers, then checks
// exactly which descriptors were reported, with which poll() bits.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "stack_test_util.hpp"

namespace synq::test {
namespace {

using Ready = std::vector<std::pair<int, uint32_t>>;

Ready drain_ready(Stack& st) {
  Ready out;
  st.drain_ready([&](int fd, uint32_t ev) { out.emplace_back(fd, ev); });
  return out;
}

TEST(StackReady, HandshakeReportsTheListenerAndTheConnectedClientOnce) {
  Stack server{config("10.0.0.1", 1, "server")};
  Stack client{config("10.0.0.2", 2, "client")};
  Link link{client, server, 1ms};
  const int lfd = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
  ASSERT_EQ(server.listen(lfd, 5), Errno::ok);
  const int c = *client.socket(SockType::stream);
  ASSERT_EQ(client.connect(c, ep("10.0.0.1", 80)), Errno::einprogress);
  // connect() itself is the application's own doing: nothing to report yet.
  EXPECT_FALSE(client.has_ready());

  // The SYN reaches the server at 1 ms, the SYN-ACK the client at 2 ms: ESTABLISHED.
  link.run_for(2500us);
  EXPECT_EQ(drain_ready(client), (Ready{{c, kWritable}}));
  EXPECT_FALSE(server.has_ready()) << "the child is not made before the third ACK arrives";

  link.run_for(1ms);  // the third ACK reaches the server at 3 ms
  EXPECT_EQ(drain_ready(server), (Ready{{lfd, kReadable}}));
  // Each touch is reported once: a second drain with nothing new is empty.
  EXPECT_TRUE(drain_ready(server).empty());
  EXPECT_TRUE(drain_ready(client).empty());
}

TEST_F(TwoStacks, DataAndFinAreReportedOnTheTouchedDescriptorOnly) {
  drain_ready(server);
  drain_ready(client);
  const int other = *client.socket(SockType::stream);  // never touched by a packet
  ASSERT_TRUE(client.send(c, bytes("hello")).ok());
  EXPECT_FALSE(client.has_ready()) << "send() is the application's own doing";
  link.run_for(1500us);
  EXPECT_EQ(drain_ready(server), (Ready{{s, kReadable | kWritable}}));

  ASSERT_EQ(server.close(s), Errno::ok);  // FIN to the client
  link.run_for(5ms);
  const Ready got = drain_ready(client);
  ASSERT_EQ(got.size(), 1u);  // the ACK of "hello" and the FIN: one entry for c
  EXPECT_EQ(got[0].first, c);
  EXPECT_TRUE(got[0].second & kRdHangup);
  EXPECT_TRUE(got[0].second & kReadable);
  (void)other;
}

TEST(StackReady, ATimerThatFailsAConnectReportsAnError) {
  Stack client{config("10.0.0.2", 2, "client")};
  std::string err;
  ASSERT_TRUE(client.sysctls().set("net.ipv4.tcp_syn_retries", "1", &err)) << err;
  ASSERT_TRUE(client.sysctls().set("net.ipv4.tcp_syn_linear_timeouts", "0", &err)) << err;
  const int c = *client.socket(SockType::stream);
  ASSERT_EQ(client.connect(c, ep("10.0.0.9", 80)), Errno::einprogress);
  // SYN retries 1, no linear timeouts: give up after 1 + 2 s (tcp_model_timeout).
  Time t{0};
  while (client.next_deadline() != kNever && client.next_deadline() < 2900ms) {
    t = client.next_deadline();
    client.advance(t);
    drain(client);
  }
  EXPECT_TRUE(drain_ready(client).empty()) << "a SYN retransmission changes no readiness bit";
  client.advance(3s);
  const Ready got = drain_ready(client);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, c);
  EXPECT_TRUE(got[0].second & kError);
  EXPECT_EQ(*client.getsockopt(c, SockOpt::so_error), static_cast<int>(Errno::etimedout));
}

TEST_F(TwoStacks, ADescriptorClosedBeforeTheDrainIsNotReported) {
  drain_ready(server);
  ASSERT_TRUE(client.send(c, bytes("x")).ok());
  link.run_for(1500us);
  ASSERT_TRUE(server.has_ready());
  ASSERT_EQ(server.close(s), Errno::ok);
  EXPECT_TRUE(drain_ready(server).empty());
}

TEST_F(TwoStacks, DescriptorsComeInTheOrderTheyWereFirstTouched) {
  // A second connection, accepted as s2; then data on s2 before s.
  const int c2 = *client.socket(SockType::stream);
  ASSERT_EQ(client.connect(c2, ep("10.0.0.1", 80)), Errno::einprogress);
  link.run_for(5ms);
  const int s2 = *server.accept(lfd);
  drain_ready(server);
  drain_ready(client);
  ASSERT_TRUE(client.send(c2, bytes("first")).ok());
  link.run_for(200us);
  ASSERT_TRUE(client.send(c, bytes("second")).ok());
  link.run_for(200us);
  ASSERT_TRUE(client.send(c2, bytes("third")).ok());
  link.run_for(5ms);
  const Ready got = drain_ready(server);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, s2);
  EXPECT_EQ(got[1].first, s);
}

TEST(StackReady, UdpDatagramReportsItsSocket) {
  Stack a{config("10.0.0.1", 1, "a")};
  Stack b{config("10.0.0.2", 2, "b")};
  Link link{a, b, 1ms};
  const int ua = *a.socket(SockType::dgram);
  ASSERT_EQ(a.bind(ua, ep("10.0.0.1", 53)), Errno::ok);
  const int ub = *b.socket(SockType::dgram);
  ASSERT_TRUE(b.sendto(ub, bytes("q"), ep("10.0.0.1", 53)).ok());
  link.run_for(2ms);
  EXPECT_EQ(drain_ready(a), (Ready{{ua, kReadable | kWritable}}));
}

}  // namespace
}  // namespace synq::test
