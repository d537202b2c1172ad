// Test harness for the TCP engine: a ConnectionHost that records what the
// connection sends, and smoltcp-style helpers so a test reads like a trace:
//
//   inject(Seg().syn().ack(kIss + 1).seq(kIrs).mss(1460));   // "recv!"
//   expect(ACK, kIss + 1, kIrs + 1);                          // "send!"
//   expect(Seg().ack(kIrs + 1).seq(kIss + 1).win(502).len(0));
//
// Injected segments come from the tuple's remote end to its local end unless
// a test says otherwise; an expectation compares the ports with the tuple's,
// the control bits exactly (PSH only when stated) and every other field the
// test states.
//
// Time is virtual: advance_to(t) runs the connection's timers in order.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "seg_builder.hpp"
#include "tcp/connection.hpp"
#include "tcp/seq.hpp"

namespace synq::tcp::testing {

using namespace std::chrono_literals;
using namespace wire::tcp_flags;

struct Sent {
  wire::TcpHeader h;
  std::vector<uint8_t> payload;
  Time at{};
};

inline std::string state_str(TcpState s) {
  static const char* names[] = {"CLOSED",      "LISTEN",     "SYN-SENT",   "SYN-RECEIVED",
                                "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
                                "CLOSING",     "LAST-ACK",   "TIME-WAIT"};
  return names[static_cast<int>(s)];
}

class RecordingHost : public ConnectionHost {
 public:
  void send_segment(const FourTuple&, const wire::TcpHeader& h,
                    std::span<const uint8_t> payload) override {
    sent.push_back(Sent{h, {payload.begin(), payload.end()}, now});
  }
  Counters& counters() override { return ctr; }
  const Sysctls& sysctls() const override { return sys; }
  void timer_changed(Connection&, Time d) override { reported_deadline = d; }
  void state_changed(Connection&, TcpState from, TcpState to) override {
    transitions.emplace_back(from, to);
  }

  Counters ctr;
  Sysctls sys;
  Time now{};
  std::deque<Sent> sent;
  Time reported_deadline = kNever;
  std::vector<std::pair<TcpState, TcpState>> transitions;
};

/// Segments the peer sends us and segments we expect to send: one builder for
/// the stack tests and these (seg_builder.hpp).
using synq::test::Seg;

inline constexpr uint32_t kIss = 1000;   // our ISS
inline constexpr uint32_t kIrs = 90000;  // peer's ISS

class TcpTest : public ::testing::Test {
 protected:
  FourTuple tuple{{IpAddr::v4(10, 0, 0, 1), 40000}, {IpAddr::v4(10, 0, 0, 2), 80}};
  RecordingHost host;
  std::unique_ptr<Connection> conn;
  Time now{};

  Connection& make(const ConnectionOptions& o = {}) {
    conn = std::make_unique<Connection>(host, tuple, o);
    return *conn;
  }
  uint64_t ctr(Counter c) const { return host.ctr.get(c); }

  // recv!: the peer's segment arrives now.
  void inject(const Seg& s) {
    host.now = now;
    wire::TcpHeader h = s.h;
    if (!s.has(Seg::kSport)) h.sport = tuple.remote.port;
    if (!s.has(Seg::kDport)) h.dport = tuple.local.port;
    if (!s.has(Seg::kWindow)) h.window = 65535;
    wire::TcpSegment seg{h, std::span<const uint8_t>(s.data)};
    conn->on_segment(now, seg);
    check_deadline();
  }
  // Runs every timer due up to t, in order, then sets the clock to t.
  void advance_to(Time t) {
    while (conn->deadline() != kNever && conn->deadline() <= t) {
      now = conn->deadline();
      host.now = now;
      conn->on_timer(now);
      check_deadline();
    }
    now = t;
    host.now = t;
  }
  void advance(Duration d) { advance_to(now + d); }
  void check_deadline() {
    EXPECT_EQ(host.reported_deadline, conn->deadline()) << "timer_changed not in sync";
  }

  // send!: the next segment the connection sent.
  Sent next() {
    EXPECT_FALSE(host.sent.empty()) << "expected a segment, none was sent";
    if (host.sent.empty()) return {};
    Sent s = host.sent.front();
    host.sent.pop_front();
    return s;
  }
  // send!: the next segment sent has every field `want` states, and our
  // tuple's ports unless it states others.
  Sent expect(Seg want) {
    if (!want.has(Seg::kSport)) want.from(tuple.local.port);
    if (!want.has(Seg::kDport)) want.to(tuple.remote.port);
    Sent s = next();
    EXPECT_TRUE(synq::test::same_segment(s.h, s.payload, want));
    return s;
  }
  // The short form: control bits, seq, ack (when ACK is among the flags) and,
  // if given, the payload length.
  Sent expect(uint8_t flags, uint32_t seq, uint32_t ack = 0, size_t len = SIZE_MAX) {
    Seg want = Seg().flags(flags).seq(seq);
    if (flags & ACK) want.ack(ack);
    if (len != SIZE_MAX) want.len(len);
    return expect(want);
  }
  void expect_nothing() {
    EXPECT_TRUE(host.sent.empty())
        << "unexpected segment "
        << synq::test::segment_text(host.sent.front().h, host.sent.front().payload.size());
    host.sent.clear();
  }

  // The usual active open: SYN, then SYN-ACK with MSS 1460, SACK, TS, WS 7.
  void establish(bool timestamps = true, uint16_t peer_window = 65535) {
    if (!conn) make();
    conn->connect(now, kIss, 0);
    expect(SYN, kIss);
    Seg synack;
    synack.syn().seq(kIrs).ack(kIss + 1).win(peer_window).mss(1460).sack_ok().ws(7);
    if (timestamps) synack.ts(5000, 0);
    inject(synack);
    expect(ACK, kIss + 1, kIrs + 1);
    ASSERT_EQ(conn->state(), TcpState::established);
  }
  size_t send_str(const std::string& s) {
    auto r = conn->send(
        now, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    return r.ok() ? *r : 0;
  }
  size_t send_bytes(size_t n, uint8_t fill = 'a') {
    std::vector<uint8_t> v(n, fill);
    auto r = conn->send(now, v);
    return r.ok() ? *r : 0;
  }
  std::string recv_all() {
    std::string out;
    uint8_t buf[4096];
    for (;;) {
      auto r = conn->recv(now, buf);
      if (!r.ok() || *r == 0) break;
      out.append(reinterpret_cast<char*>(buf), *r);
    }
    return out;
  }
};

}  // namespace synq::tcp::testing
