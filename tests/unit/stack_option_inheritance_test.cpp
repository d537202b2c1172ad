// Issue 9 item 7: an accepted socket carries the options its listener had
// when the child's handshake completed (Linux clones the listener then), and
// nothing set on the listener later. The same facts run against the host
// kernel in tests/scripts/linux/accept-inherits-options.pkt and
// accept-options-at-handshake.pkt.
#include <gtest/gtest.h>

#include "stack_listener_fixture.hpp"

namespace synq::test {
namespace {

struct Inheritance : ListenerFixture {
  void set(int fd, SockOpt opt, int value) {
    ASSERT_EQ(server.setsockopt(fd, opt, value), Errno::ok);
  }
  int get(int fd, SockOpt opt) {
    auto v = server.getsockopt(fd, opt);
    EXPECT_TRUE(v.ok()) << static_cast<int>(opt);
    return v.ok() ? *v : -1;
  }
  /// SYN from `sport` (MSS 1460), the SYN-ACK, the ACK that completes the handshake.
  Sent handshake(uint16_t sport) {
    auto out = syn(sport);
    EXPECT_EQ(out.size(), 1u);
    if (out.empty()) return {};
    peer.send(now, Seg().from(sport).to(80).seq(1001).ack(out[0].tcp.seq + 1));
    EXPECT_TRUE(drain(server).empty());
    return out[0];
  }
};

TEST_F(Inheritance, ChildKeepsTheListenersOptionsFromItsHandshake) {
  listen(8);
  set(lfd, SockOpt::so_reuseaddr, 1);
  set(lfd, SockOpt::so_rcvbuf, 65536);
  set(lfd, SockOpt::so_sndbuf, 32768);
  set(lfd, SockOpt::tcp_nodelay, 1);
  set(lfd, SockOpt::tcp_maxseg, 1000);
  set(lfd, SockOpt::tcp_syncnt, 3);
  set(lfd, SockOpt::tcp_defer_accept, 0);
  ASSERT_EQ(server.set_linger(lfd, {true, 7}), Errno::ok);

  // The user MSS caps what the SYN-ACK offers; its only option is the MSS.
  Sent sa = handshake(40001);
  EXPECT_TRUE(same_segment(sa, Seg().from(80).to(40001).syn().ack(1001).mss(1000).len(0)));

  // The first child is queued; the listener changes before anyone accepts.
  set(lfd, SockOpt::so_reuseaddr, 0);
  set(lfd, SockOpt::so_rcvbuf, 32768);
  set(lfd, SockOpt::tcp_nodelay, 0);
  set(lfd, SockOpt::tcp_maxseg, 0);
  set(lfd, SockOpt::tcp_syncnt, 5);
  ASSERT_EQ(server.set_linger(lfd, {false, 0}), Errno::ok);
  sa = handshake(40002);
  EXPECT_TRUE(same_segment(sa, Seg().from(80).to(40002).syn().ack(1001).mss(1460).len(0)));

  const int first = *server.accept(lfd);
  EXPECT_EQ(get(first, SockOpt::so_reuseaddr), 1);
  EXPECT_EQ(get(first, SockOpt::so_rcvbuf), 131072);  // stored doubled
  EXPECT_EQ(get(first, SockOpt::so_sndbuf), 65536);
  EXPECT_EQ(get(first, SockOpt::tcp_nodelay), 1);
  EXPECT_EQ(get(first, SockOpt::tcp_maxseg), 1000);  // the MSS in use
  EXPECT_EQ(get(first, SockOpt::tcp_syncnt), 3);
  EXPECT_EQ(get(first, SockOpt::tcp_defer_accept), 0);
  EXPECT_TRUE(server.get_linger(first)->on);
  EXPECT_EQ(server.get_linger(first)->seconds, 7);
  EXPECT_TRUE(server.impl().connection_of(first)->options().nodelay);

  const int second = *server.accept(lfd);
  EXPECT_EQ(get(second, SockOpt::so_reuseaddr), 0);
  EXPECT_EQ(get(second, SockOpt::so_rcvbuf), 65536);
  EXPECT_EQ(get(second, SockOpt::so_sndbuf), 65536);
  EXPECT_EQ(get(second, SockOpt::tcp_nodelay), 0);
  EXPECT_EQ(get(second, SockOpt::tcp_maxseg), 1460);
  EXPECT_EQ(get(second, SockOpt::tcp_syncnt), 5);
  EXPECT_FALSE(server.get_linger(second)->on);
  EXPECT_EQ(server.get_linger(second)->seconds, 7);  // off keeps the time, like Linux
}

TEST_F(Inheritance, DeferAcceptStaysWithTheListener) {
  // inet_csk_clone_lock clears the clone's accept queue, where Linux keeps
  // TCP_DEFER_ACCEPT: the child reads 0 while its listener still defers.
  listen(8);
  set(lfd, SockOpt::tcp_defer_accept, 2);
  auto sa = syn(40001);
  ASSERT_EQ(sa.size(), 1u);
  peer.send(now, Seg().from(40001).to(80).psh().seq(1001).ack(sa[0].tcp.seq + 1).payload("hi"));
  drain(server);
  auto child = server.accept(lfd);
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(get(*child, SockOpt::tcp_defer_accept), 0);
  EXPECT_EQ(get(lfd, SockOpt::tcp_defer_accept), 3);
}

}  // namespace
}  // namespace synq::test
