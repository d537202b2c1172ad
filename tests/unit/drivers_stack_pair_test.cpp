// StackPair: two stacks back to back, no simulator.
#include <gtest/gtest.h>

#include <vector>

#include "drivers/sim/stack_pair.hpp"

namespace synq::sim {
namespace {

const IpAddr kServer = IpAddr::v4(10, 0, 0, 1);
const IpAddr kClient = IpAddr::v4(10, 0, 0, 2);

StackConfig config(const IpAddr& a, const char* name) {
  StackConfig c;
  c.addresses = {a};
  c.name = name;
  return c;
}

TEST(StackPair, HandshakeDataAndCloseAtOneInstant) {
  StackPair pair(config(kClient, "client"), config(kServer, "server"));
  Stack& c = pair.a();
  Stack& s = pair.b();
  const int lfd = *s.socket(SockType::stream);
  ASSERT_EQ(s.bind(lfd, {kServer, 80}), Errno::ok);
  ASSERT_EQ(s.listen(lfd, 8), Errno::ok);
  const int fd = *c.socket(SockType::stream);
  ASSERT_EQ(c.connect(fd, {kServer, 80}), Errno::einprogress);
  EXPECT_EQ(pair.exchange(), 3u);  // SYN, SYN-ACK, ACK
  EXPECT_EQ(c.state(fd).value(), TcpState::established);
  const auto afd = s.accept(lfd);
  ASSERT_TRUE(afd);

  const std::vector<uint8_t> hello{'h', 'e', 'l', 'l', 'o'};
  ASSERT_EQ(c.send(fd, hello).value(), 5u);
  EXPECT_GE(pair.exchange(), 1u);
  std::vector<uint8_t> buf(16);
  ASSERT_EQ(s.recv(*afd, buf).value(), 5u);
  EXPECT_TRUE(std::equal(hello.begin(), hello.end(), buf.begin()));
  EXPECT_EQ(pair.now(), 0s) << "nothing needed a timer";
}

TEST(StackPair, RunUntilJumpsToTimers) {
  // A SYN to a port nobody listens on is answered at once; a SYN to an
  // address the peer does not own is dropped, so only the RTO timer moves time.
  StackPair pair(config(kClient, "client"), config(kServer, "server"));
  Stack& c = pair.a();
  const int fd = *c.socket(SockType::stream);
  c.sysctls().tcp_syn_retries = 2;
  c.sysctls().tcp_syn_linear_timeouts = 0;
  ASSERT_EQ(c.connect(fd, {IpAddr::v4(10, 0, 0, 99), 80}), Errno::einprogress);
  EXPECT_TRUE(pair.run_until([&] { return (*c.poll(fd) & kError) != 0; }, 60s));
  EXPECT_EQ(pair.now(), 7s);  // SYNs at 0, 1, 3 s; ETIMEDOUT at 7 s
  EXPECT_EQ(c.getsockopt(fd, SockOpt::so_error).value(), int(Errno::etimedout));
  EXPECT_FALSE(pair.run_next_timer()) << "nothing left to run";
}

}  // namespace
}  // namespace synq::sim
