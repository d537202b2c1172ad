// A listener fixture for the bsd44, freebsd and xnu models (spec §3–§5):
// one server stack, a hand-driven peer, and virtual time moved by hand.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stack/stack_impl.hpp"
#include "stack_test_util.hpp"

namespace synq::test {

struct ModelListener : ::testing::Test {
  Stack server{config("10.0.0.1", 1, "server")};
  FakePeer peer{server, *IpAddr::parse("10.0.0.9"), *IpAddr::parse("10.0.0.1")};
  Time now{0};
  int lfd = -1;
  std::vector<ListenEvent> events;
  std::vector<std::string> logs;

  void trace_events() {
    server.set_listen_trace([this](const ListenEvent& e) {
      events.push_back(e);
      if (!e.log.empty()) logs.emplace_back(e.log);
    });
  }
  void listen(const char* model, int backlog, uint16_t port = 80) {
    lfd = *server.socket(SockType::stream);
    ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", port)), Errno::ok);
    ASSERT_EQ(server.set_listen_model(lfd, model), Errno::ok);
    ASSERT_EQ(server.listen(lfd, backlog), Errno::ok);
  }
  uint64_t count(Counter c) const { return server.counters()[c]; }
  SocketInfo listener_info() const {
    for (const SocketInfo& s : server.sockets())
      if (s.fd == lfd) return s;
    ADD_FAILURE() << "listener not in sockets()";
    return {};
  }
  uint32_t backlog() const { return listener_info().send_q; }
  uint32_t accept_queue() const { return listener_info().recv_q; }
  size_t half_open() const { return server.impl().request_count(); }
  std::vector<Sent> syn(uint16_t sport, uint32_t isn = 1000,
                        const wire::TcpOptions& opts = FakePeer::syn_opts()) {
    peer.send(now, sport, 80, f::SYN, isn, 0, {}, opts);
    return drain(server);
  }
  std::vector<Sent> ack(uint16_t sport, uint32_t seq, uint32_t ack_no) {
    peer.send(now, sport, 80, f::ACK, seq, ack_no);
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
  /// Runs the server's timers until `until`, collecting what it sends.
  std::vector<Sent> run_until(Time until) {
    std::vector<Sent> out;
    while (server.next_deadline() <= until) {
      now = server.next_deadline();
      server.advance(now);
      for (Sent& s : drain(server)) out.push_back(s);
    }
    now = until;
    server.advance(now);
    return out;
  }
};

}  // namespace synq::test
