// A listener fixture for the bsd44, freebsd and xnu models (spec §3–§5):
// one server stack, a hand-driven peer, and virtual time moved by hand.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stack_listener_fixture.hpp"

namespace synq::test {

struct ModelListener : ListenerFixture {
  void listen(const char* model, int backlog, uint16_t port = 80) {
    ListenerFixture::listen(backlog, port, model);
  }
  uint32_t backlog() const { return listener_info().send_q; }
  uint32_t accept_queue() const { return listener_info().recv_q; }
  size_t half_open() const { return server.impl().request_count(); }
  std::vector<Sent> ack(uint16_t sport, uint32_t seq, uint32_t ack_no) {
    peer.send(now, Seg().from(sport).to(80).seq(seq).ack(ack_no));
    return drain(server);
  }
  /// SYN, SYN-ACK, ACK; returns the SYN-ACK (expects nothing after the ACK).
  Sent handshake(uint16_t sport, uint32_t isn = 1000) {
    auto out = syn(sport, isn);
    EXPECT_EQ(out.size(), 1u) << "no SYN-ACK for port " << sport;
    if (out.empty()) return {};
    EXPECT_TRUE(out[0].is(f::SYN | f::ACK));
    EXPECT_TRUE(ack(sport, isn + 1, out[0].tcp.seq + 1).empty());
    return out[0];
  }
  /// The BSD models' close(listener) (soclose → soabort → tcp_drop): the
  /// embryonic connections first, oldest first, each RST|ACK seq ISS+1 ack
  /// IRS+1, then the completed ones; nothing is left behind.
  void expect_close_resets_embryonic_oldest_first(const char* model) {
    listen(model, 8);
    const Sent done = handshake(40001);
    const auto older = syn(40002, 2000);
    const auto newer = syn(40003, 3000);
    ASSERT_EQ(older.size(), 1u);
    ASSERT_EQ(newer.size(), 1u);
    ASSERT_EQ(half_open(), 2u);
    const uint64_t fails = count(Counter::Tcp_AttemptFails);
    const uint64_t rsts = count(Counter::Tcp_OutRsts);
    ASSERT_EQ(server.close(lfd), Errno::ok);
    const auto out = drain(server);
    ASSERT_EQ(out.size(), 3u);
    const struct {
      uint16_t port;
      uint32_t seq, ack;
    } want[] = {{40002, older[0].tcp.seq + 1, 2001},
                {40003, newer[0].tcp.seq + 1, 3001},
                {40001, done.tcp.seq + 1, 1001}};
    for (size_t i = 0; i < 3; ++i) {
      SCOPED_TRACE(i);
      EXPECT_TRUE(out[i].is(f::RST | f::ACK));
      EXPECT_EQ(out[i].dport, want[i].port);
      EXPECT_EQ(out[i].tcp.seq, want[i].seq);
      EXPECT_EQ(out[i].tcp.ack, want[i].ack);
    }
    EXPECT_EQ(half_open(), 0u);
    EXPECT_EQ(count(Counter::Tcp_AttemptFails) - fails, 2u) << "tcp_drop of SYN-RECEIVED";
    EXPECT_EQ(count(Counter::Tcp_OutRsts) - rsts, 3u);
    // Nothing is left: the old request's ACK finds no socket (RST, seq = its ack).
    const auto late = ack(40002, 2001, older[0].tcp.seq + 1);
    ASSERT_EQ(late.size(), 1u);
    EXPECT_TRUE(late[0].is(f::RST));
    EXPECT_EQ(late[0].tcp.seq, older[0].tcp.seq + 1);
  }
};

/// What a model's accepted connection makes of a peer whose SYN carries no
/// options at all (issue 10 N13): the server at `server_addr` (v4 or v6) has a
/// `model` listener on port 80, completes the handshake, accepts, and writes
/// 2000 bytes. The payload sizes of the segments it sends, in order, and the
/// child's TCP_MAXSEG.
struct NoMssPeer {
  std::vector<size_t> sizes;
  int maxseg = 0;
};
inline NoMssPeer write_to_peer_without_mss(const char* model, const char* server_addr,
                                           const char* peer_addr) {
  NoMssPeer r;
  Stack server{config(server_addr, 1, "server")};
  FakePeer peer{server, *IpAddr::parse(peer_addr), *IpAddr::parse(server_addr)};
  const int lfd = *server.socket(SockType::stream, IpAddr::parse(server_addr)->version);
  EXPECT_EQ(server.bind(lfd, ep(server_addr, 80)), Errno::ok);
  EXPECT_EQ(server.set_listen_model(lfd, model), Errno::ok);
  EXPECT_EQ(server.listen(lfd, 4), Errno::ok);
  peer.send(Time{0}, Seg().from(40001).to(80).syn().seq(1000).win(65535).options({}));
  const auto synack = drain(server);
  EXPECT_EQ(synack.size(), 1u);
  if (synack.size() != 1u) return r;
  EXPECT_TRUE(synack[0].is(f::SYN | f::ACK));
  peer.send(Time{0}, Seg().from(40001).to(80).seq(1001).ack(synack[0].tcp.seq + 1).win(65535));
  EXPECT_TRUE(drain(server).empty());
  auto child = server.accept(lfd);
  EXPECT_TRUE(child.ok());
  if (!child.ok()) return r;
  const auto maxseg = server.getsockopt(*child, SockOpt::tcp_maxseg);
  r.maxseg = maxseg.ok() ? *maxseg : 0;
  const std::vector<uint8_t> data(2000, 'x');
  const auto sent = server.send(*child, data);
  EXPECT_TRUE(sent.ok() && *sent == 2000u);
  for (const Sent& s : drain(server)) r.sizes.push_back(s.payload.size());
  return r;
}

}  // namespace synq::test
