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
};

}  // namespace synq::test
