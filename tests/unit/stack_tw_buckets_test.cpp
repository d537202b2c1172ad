// net.ipv4.tcp_max_tw_buckets: once that many connections are in TIME-WAIT,
// a connection that would enter it is closed at once instead (Linux
// tcp_time_wait: inet_twsk_alloc fails, TCPTimeWaitOverflow, tcp_done) —
// nothing is sent for it, and its four-tuple is free again. (Linux also
// counts orphan FIN-WAIT-2 timewait sockets against the cap; synq caps
// TIME-WAIT only — docs/kernel-facts.md.)
#include <gtest/gtest.h>

#include "stack/stack_impl.hpp"
#include "stack_test_util.hpp"

namespace synq::test {
namespace {

struct TwBuckets : ::testing::Test {
  Stack server{config("10.0.0.1", 1, "server")};
  Stack client{config("10.0.0.2", 2, "client")};
  Link link{client, server, 1ms};
  int lfd = -1;

  void SetUp() override {
    std::string err;
    ASSERT_TRUE(server.sysctls().set("net.ipv4.tcp_max_tw_buckets", "2", &err)) << err;
    lfd = *server.socket(SockType::stream);
    ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
    ASSERT_EQ(server.listen(lfd, 16), Errno::ok);
  }

  // A connection the server closes first (so the server is the one to TIME-WAIT).
  void server_closes_first() {
    const int c = *client.socket(SockType::stream);
    ASSERT_EQ(client.connect(c, ep("10.0.0.1", 80)), Errno::einprogress);
    link.run_for(5ms);
    const int s = *server.accept(lfd);
    ASSERT_EQ(server.close(s), Errno::ok);  // FIN: FIN-WAIT-1
    link.run_for(5ms);                      // ACK: FIN-WAIT-2
    ASSERT_EQ(client.close(c), Errno::ok);  // the client's FIN: TIME-WAIT, or not
    link.run_for(5ms);
  }

  size_t server_time_waits() {
    size_t n = 0;
    for (const auto& i : server.sockets()) n += i.state == TcpState::time_wait;
    return n;
  }
};

TEST_F(TwBuckets, BeyondTheLimitAClosingConnectionSkipsTimeWait) {
  for (int i = 0; i < 4; ++i) server_closes_first();
  EXPECT_EQ(server_time_waits(), 2u);
  EXPECT_EQ(server.impl().time_wait_count(), 2u);
  EXPECT_EQ(server.counters().get(Counter::TcpExt_TCPTimeWaitOverflow), 2u);
  // TW was counted as each orphan reached FIN-WAIT-2 (a timewait socket in
  // Linux too), before the overflow: the cap here applies at TIME-WAIT.
  EXPECT_EQ(server.counters().get(Counter::TcpExt_TW), 4u);
  EXPECT_EQ(server.counters().get(Counter::Tcp_OutRsts), 0u) << "the overflow sends nothing";
  // Every client saw its FIN acknowledged and finished its passive close.
  EXPECT_EQ(client.counters().get(Counter::Tcp_OutRsts), 0u);
  EXPECT_TRUE(server.impl().invariant_violations().empty());
}

TEST_F(TwBuckets, ATimeWaitThatEndsMakesRoomAgain) {
  for (int i = 0; i < 2; ++i) server_closes_first();
  EXPECT_EQ(server.impl().time_wait_count(), 2u);
  link.run_for(61s);  // TIME-WAIT lasts 60 s
  EXPECT_EQ(server.impl().time_wait_count(), 0u);
  server_closes_first();
  EXPECT_EQ(server_time_waits(), 1u);
  EXPECT_EQ(server.counters().get(Counter::TcpExt_TCPTimeWaitOverflow), 0u);
  EXPECT_TRUE(server.impl().invariant_violations().empty());
}

}  // namespace
}  // namespace synq::test
