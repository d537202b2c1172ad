// A linux listener on 10.0.0.1:80 driven by hand-built segments from a fake
// peer at 10.0.0.9, in virtual time: the fixture of the stack_linux_* tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stack/stack_impl.hpp"
#include "stack_test_util.hpp"

namespace synq::test {

struct LinuxListener : ::testing::Test {
  Stack server{config("10.0.0.1", 1, "server")};
  FakePeer peer{server, *IpAddr::parse("10.0.0.9"), *IpAddr::parse("10.0.0.1")};
  Time now{0};
  int lfd = -1;
  std::vector<ListenEvent> events;
  std::vector<std::string> kernel_log;  // ListenEvent::log lines, copied

  void SetUp() override {
    server.set_listen_trace([this](const ListenEvent& e) {
      events.push_back(e);
      if (!e.log.empty()) kernel_log.emplace_back(e.log);
    });
  }
  void listen(int backlog, uint16_t port = 80) {
    lfd = *server.socket(SockType::stream);
    ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", port)), Errno::ok);
    ASSERT_EQ(server.listen(lfd, backlog), Errno::ok);
  }
  uint64_t count(Counter c) const { return server.counters()[c]; }
  SocketInfo listener_info() const {
    for (const SocketInfo& s : server.sockets())
      if (s.fd == lfd) return s;
    ADD_FAILURE() << "listener not in sockets()";
    return {};
  }
  size_t syn_recv_entries() const {
    size_t n = 0;
    for (const SocketInfo& s : server.sockets())
      if (s.state == TcpState::syn_received && s.fd == -1) ++n;
    return n;
  }
  static wire::TcpOptions opts(uint16_t mss, int wscale = -1, bool sack = false,
                               std::optional<uint32_t> ts_val = std::nullopt, uint32_t ts_ecr = 0) {
    wire::TcpOptions o;
    o.has_mss = true;
    o.mss = mss;
    if (wscale >= 0) {
      o.has_wscale = true;
      o.wscale = static_cast<uint8_t>(wscale);
    }
    o.sack_permitted = sack;
    if (ts_val) {
      o.has_timestamps = true;
      o.ts_val = *ts_val;
      o.ts_ecr = ts_ecr;
    }
    return o;
  }
  /// Sends a SYN from port `sport` and returns what the server answered.
  std::vector<Sent> syn(uint16_t sport, uint32_t isn = 1000,
                        const wire::TcpOptions& o = FakePeer::syn_opts(), uint8_t extra_flags = 0) {
    peer.send(now, sport, 80, f::SYN | extra_flags, isn, 0, {}, o);
    return drain(server);
  }
  /// The third ACK for `synack` (from a SYN with ISN `isn`), with options.
  std::vector<Sent> ack(uint16_t sport, uint32_t isn, const Sent& synack,
                        const wire::TcpOptions& o = {}, std::span<const uint8_t> data = {}) {
    peer.send(now, sport, 80, f::ACK, isn + 1, synack.tcp.seq + 1, data, o);
    return drain(server);
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
  /// The accepted child's connection state (TcpInfo), by accepting it.
  tcp::TcpInfo accept_info(Endpoint* peer_ep = nullptr) {
    auto fd = server.accept(lfd, peer_ep);
    EXPECT_TRUE(fd.ok());
    if (!fd.ok()) return {};
    tcp::Connection* c = server.impl().connection_of(*fd);
    EXPECT_NE(c, nullptr);
    return c ? c->info() : tcp::TcpInfo{};
  }
  size_t events_with(ListenDecision d) const {
    size_t n = 0;
    for (const ListenEvent& e : events) n += e.decision == d;
    return n;
  }
};

}  // namespace synq::test
