// The common listener fixture: a server stack with a listener on
// 10.0.0.1:80, driven by hand-built segments from a fake peer at 10.0.0.9, in
// virtual time moved by hand. Model-specific fixtures derive from it.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stack/stack_impl.hpp"
#include "stack_test_util.hpp"

namespace synq::test {

struct ListenerFixture : ::testing::Test {
  Stack server{config("10.0.0.1", 1, "server")};
  FakePeer peer{server, *IpAddr::parse("10.0.0.9"), *IpAddr::parse("10.0.0.1")};
  Time now{0};
  int lfd = -1;
  std::vector<ListenEvent> events;  // the decision trace, once trace_events() ran
  std::vector<std::string> logs;    // kernel log lines carried by the trace (ListenEvent::log)

  void trace_events() {
    server.set_listen_trace([this](const ListenEvent& e) {
      events.push_back(e);
      if (!e.log.empty()) logs.emplace_back(e.log);
    });
  }
  /// socket, bind 10.0.0.1:port, optionally pick a model, listen(backlog).
  void listen(int backlog, uint16_t port = 80, const char* model = nullptr) {
    lfd = *server.socket(SockType::stream);
    ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", port)), Errno::ok);
    if (model) {
      ASSERT_EQ(server.set_listen_model(lfd, model), Errno::ok);
    }
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
  /// Sends a SYN from port `sport` (MSS 1460 unless `o` says otherwise) and
  /// returns what the server answered.
  std::vector<Sent> syn(uint16_t sport, uint32_t isn = 1000,
                        const wire::TcpOptions& o = Seg().mss(1460).h.options,
                        uint8_t extra_flags = 0) {
    peer.send(now, Seg().from(sport).to(80).flags(f::SYN | extra_flags).seq(isn).options(o));
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
};

}  // namespace synq::test
