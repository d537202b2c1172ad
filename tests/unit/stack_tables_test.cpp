// Internals: the open-addressing demux table, and many connections through
// the tables at once (growth, deletion, no leaks).
#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

#include "stack/flat_hash_map.hpp"
#include "stack/stack_impl.hpp"
#include "stack_test_util.hpp"

namespace synq::test {
namespace {

// A deliberately bad hash makes long clusters, so backward-shift deletion is exercised.
struct ClusteringHash {
  size_t operator()(uint32_t k) const { return k % 7; }
};

TEST(FlatHashMap, MatchesUnorderedMapUnderRandomInsertsAndErases) {
  stack::FlatHashMap<uint32_t, uint32_t, ClusteringHash> m;
  std::unordered_map<uint32_t, uint32_t> ref;
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    uint32_t k = rng() % 300;
    if (rng() % 3 == 0) {
      EXPECT_EQ(m.erase(k), ref.erase(k) == 1);
    } else {
      EXPECT_EQ(m.insert(k, uint32_t(i)), !ref.count(k));
      ref[k] = uint32_t(i);
    }
    ASSERT_EQ(m.size(), ref.size());
  }
  for (uint32_t k = 0; k < 300; ++k) {
    const uint32_t* v = m.find(k);
    auto it = ref.find(k);
    ASSERT_EQ(v != nullptr, it != ref.end()) << k;
    if (v) {
      EXPECT_EQ(*v, it->second);
    }
  }
}

TEST(ManyConnections, FiveHundredHandshakesEchoAndCloseLeaveNothingBehind) {
  Stack server{config("10.0.0.1", 1, "server")};
  Stack client{config("10.0.0.2", 2, "client")};
  Link link{client, server, 1ms};
  int lfd = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(lfd, ep("0.0.0.0", 80)), Errno::ok);
  ASSERT_EQ(server.listen(lfd, -1), Errno::ok);
  const int n = 500;
  std::vector<int> cfds;
  for (int i = 0; i < n; ++i) {
    int fd = *client.socket(SockType::stream);
    ASSERT_EQ(client.connect(fd, ep("10.0.0.1", 80)), Errno::einprogress);
    cfds.push_back(fd);
  }
  link.run_for(50ms);
  EXPECT_EQ(server.counters()[Counter::Tcp_PassiveOpens], uint64_t(n));
  EXPECT_EQ(server.counters()[Counter::Tcp_CurrEstab], uint64_t(n));
  std::vector<int> sfds;
  while (auto a = server.accept(lfd)) sfds.push_back(*a);
  ASSERT_EQ(sfds.size(), size_t(n));
  for (int fd : cfds) ASSERT_EQ(*client.send(fd, bytes("x")), 1u);
  link.run_for(50ms);
  uint8_t buf[4];
  for (int fd : sfds) ASSERT_EQ(*server.recv(fd, buf), 1u);
  for (int fd : sfds) ASSERT_EQ(server.close(fd), Errno::ok);
  link.run_for(50ms);
  for (int fd : cfds) ASSERT_EQ(client.close(fd), Errno::ok);
  link.run_for(120s);
  EXPECT_EQ(server.impl().connection_count(), 0u);
  EXPECT_EQ(client.impl().connection_count(), 0u);
  EXPECT_EQ(server.sockets().size(), 1u);
  EXPECT_TRUE(client.sockets().empty());
  EXPECT_EQ(server.next_deadline(), kNever);
  EXPECT_EQ(client.next_deadline(), kNever);
  EXPECT_EQ(server.counters()[Counter::Tcp_CurrEstab], 0u);
}

TEST(Listener8, L08_FullAcceptQueueWithCookiesAlwaysCountsDoCookiesAndDrops) {
  Stack server{config("10.0.0.1")};
  FakePeer peer{server, *IpAddr::parse("10.0.0.9"), *IpAddr::parse("10.0.0.1")};
  int lfd = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
  ASSERT_EQ(server.listen(lfd, 0), Errno::ok);
  peer.send(0s, Seg().from(40001).to(80).syn().seq(1000).mss(1460));
  auto sa = drain(server);
  ASSERT_EQ(sa.size(), 1u);
  peer.send(0s, Seg().from(40001).to(80).seq(1001).ack(sa[0].tcp.seq + 1));
  server.sysctls().tcp_syncookies = 2;
  peer.send(0s, Seg().from(40002).to(80).syn().seq(1000).mss(1460));
  EXPECT_TRUE(drain(server).empty());
  EXPECT_EQ(server.counters()[Counter::TcpExt_TCPReqQFullDoCookies], 1u);
  EXPECT_EQ(server.counters()[Counter::TcpExt_ListenOverflows], 1u);
  EXPECT_EQ(server.counters()[Counter::TcpExt_ListenDrops], 1u);
  EXPECT_EQ(server.counters()[Counter::TcpExt_SyncookiesSent], 0u);
}

}  // namespace
}  // namespace synq::test
