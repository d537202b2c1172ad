// A linux listener on 10.0.0.1:80 driven by hand-built segments from a fake
// peer at 10.0.0.9, in virtual time: the fixture of the stack_linux_* tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stack_listener_fixture.hpp"

namespace synq::test {

struct LinuxListener : ListenerFixture {
  std::vector<std::string>& kernel_log = logs;

  void SetUp() override { trace_events(); }
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
  /// The third ACK for `synack` (from a SYN with ISN `isn`), with options.
  std::vector<Sent> ack(uint16_t sport, uint32_t isn, const Sent& synack,
                        const wire::TcpOptions& o = {}, std::span<const uint8_t> data = {}) {
    peer.send(
        now,
        Seg().from(sport).to(80).seq(isn + 1).ack(synack.tcp.seq + 1).options(o).payload(data));
    return drain(server);
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
