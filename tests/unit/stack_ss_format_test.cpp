// format_ss: the ss-like view shows a listener's Recv-Q (accept queue, may be
// B+1) and Send-Q (B), its model, and requests as SYN-RECV (spec §2 Observability).
#include <gtest/gtest.h>

#include "stack_test_util.hpp"

namespace synq::test {
namespace {

TEST(SsFormat, ListenerQueuesAndSynRecvEntries) {
  Stack server{config("10.0.0.1", 1, "server")};
  FakePeer peer{server, *IpAddr::parse("10.0.0.9"), *IpAddr::parse("10.0.0.1")};
  int lfd = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
  ASSERT_EQ(server.listen(lfd, 0), Errno::ok);
  // One completed child (B+1 = 1 fits) and one pending request.
  peer.send(0s, Seg().from(40001).to(80).syn().seq(5000).mss(1460));
  auto out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  peer.send(0s, Seg().from(40001).to(80).seq(5001).ack(out[0].tcp.seq + 1));
  drain(server);
  server.sysctls().tcp_syncookies = 0;
  ASSERT_EQ(server.listen(lfd, 1), Errno::ok);  // re-listen: room for one request
  peer.send(0s, Seg().from(40002).to(80).syn().seq(7000).mss(1460));
  drain(server);

  EXPECT_EQ(format_ss(server.sockets(), /*listening_only=*/true),
            "State       Recv-Q Send-Q  Local Address:Port      Peer Address:Port       Model\n"
            "LISTEN           1      1  10.0.0.1:80             *:*                     linux\n");
  EXPECT_EQ(format_ss(server.sockets()),
            "State       Recv-Q Send-Q  Local Address:Port      Peer Address:Port       Model\n"
            "LISTEN           1      1  10.0.0.1:80             *:*                     linux\n"
            "ESTAB            0      0  10.0.0.1:80             10.0.0.9:40001\n"
            "SYN-RECV         0      0  10.0.0.1:80             10.0.0.9:40002\n");
}

}  // namespace
}  // namespace synq::test
