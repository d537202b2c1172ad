// Test harness for the TCP engine: a ConnectionHost that records what the
// connection sends, and smoltcp-style helpers so a test reads like a trace:
//
//   inject(Seg().syn().ack(kIss + 1).seq(kIrs).mss(1460));   // "recv!"
//   expect(ACK, kIss + 1, kIrs + 1);                          // "send!"
//
// Time is virtual: advance_to(t) runs the connection's timers in order.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

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

inline std::string flag_names(uint8_t f) {
  std::string s;
  if (f & SYN) s += "S";
  if (f & FIN) s += "F";
  if (f & RST) s += "R";
  if (f & PSH) s += "P";
  if (f & ACK) s += ".";
  return s.empty() ? "none" : s;
}

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

/// A segment the peer sends us.
struct Seg {
  wire::TcpHeader h;
  std::vector<uint8_t> data;
  Seg() { h.window = 65535; }
  Seg& seq(uint32_t s) {
    h.seq = s;
    return *this;
  }
  Seg& ack(uint32_t a) {
    h.ack = a;
    h.flags |= ACK;
    return *this;
  }
  Seg& syn() {
    h.flags |= SYN;
    return *this;
  }
  Seg& fin() {
    h.flags |= FIN;
    return *this;
  }
  Seg& rst() {
    h.flags |= RST;
    return *this;
  }
  Seg& psh() {
    h.flags |= PSH;
    return *this;
  }
  Seg& win(uint16_t w) {
    h.window = w;
    return *this;
  }
  Seg& mss(uint16_t m) {
    h.options.has_mss = true;
    h.options.mss = m;
    return *this;
  }
  Seg& ws(uint8_t s) {
    h.options.has_wscale = true;
    h.options.wscale = s;
    return *this;
  }
  Seg& sack_ok() {
    h.options.sack_permitted = true;
    return *this;
  }
  Seg& ts(uint32_t val, uint32_t ecr) {
    h.options.has_timestamps = true;
    h.options.ts_val = val;
    h.options.ts_ecr = ecr;
    return *this;
  }
  Seg& payload(const std::string& s) {
    data.assign(s.begin(), s.end());
    return *this;
  }
  Seg& payload(size_t n, uint8_t fill = 'x') {
    data.assign(n, fill);
    return *this;
  }
};

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
    wire::TcpSegment seg{s.h, std::span<const uint8_t>(s.data)};
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
  Sent expect(uint8_t flags, uint32_t seq, uint32_t ack = 0, size_t len = SIZE_MAX) {
    Sent s = next();
    EXPECT_EQ(flag_names(s.h.flags & (SYN | FIN | RST | ACK)), flag_names(flags))
        << "seq " << s.h.seq << " ack " << s.h.ack;
    EXPECT_EQ(s.h.seq, seq) << flag_names(s.h.flags);
    if (flags & ACK) {
      EXPECT_EQ(s.h.ack, ack) << flag_names(s.h.flags);
    }
    if (len != SIZE_MAX) {
      EXPECT_EQ(s.payload.size(), len);
    }
    return s;
  }
  void expect_nothing() {
    EXPECT_TRUE(host.sent.empty()) << "unexpected segment " << flag_names(host.sent.front().h.flags)
                                   << " seq " << host.sent.front().h.seq;
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
