// Test helpers for the stack: a captured segment type, a fake peer that
// hand-builds segments into one Stack, and a two-stack virtual-time link.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "seg_builder.hpp"
#include "synq/stack.hpp"
#include "wire/wire.hpp"

namespace synq::test {

using namespace std::chrono_literals;
namespace f = wire::tcp_flags;

/// One packet a stack sent, parsed, with the time it left.
struct Sent {
  Time at{};
  IpAddr src, dst;
  uint8_t protocol = 0;
  wire::TcpHeader tcp{};  // valid when protocol == TCP
  uint16_t sport = 0, dport = 0;
  std::vector<uint8_t> payload;
  bool is(uint8_t flags) const { return protocol == wire::ip_proto::TCP && tcp.flags == flags; }
};

inline Sent parse_sent(Time at, std::span<const uint8_t> pkt) {
  Sent s;
  s.at = at;
  auto ip = wire::parse_ip(pkt);
  EXPECT_TRUE(ip.ok()) << "stack sent a malformed IP packet";
  if (!ip.ok()) return s;
  s.src = ip.value().src;
  s.dst = ip.value().dst;
  s.protocol = ip.value().protocol;
  if (s.protocol == wire::ip_proto::TCP) {
    auto t = wire::parse_tcp(ip.value());
    EXPECT_TRUE(t.ok()) << "stack sent a malformed TCP segment";
    if (t.ok()) {
      s.tcp = t.value().h;
      s.sport = s.tcp.sport;
      s.dport = s.tcp.dport;
      s.payload.assign(t.value().payload.begin(), t.value().payload.end());
    }
  } else if (s.protocol == wire::ip_proto::UDP) {
    auto u = wire::parse_udp(ip.value());
    EXPECT_TRUE(u.ok()) << "stack sent a malformed UDP datagram";
    if (u.ok()) {
      s.sport = u.value().sport;
      s.dport = u.value().dport;
      s.payload.assign(u.value().payload.begin(), u.value().payload.end());
    }
  }
  return s;
}

/// Every field `want` states, compared with a TCP segment a stack sent.
inline ::testing::AssertionResult same_segment(const Sent& got, const Seg& want) {
  if (got.protocol != wire::ip_proto::TCP)
    return ::testing::AssertionFailure() << "sent IP protocol " << int(got.protocol) << ", not TCP";
  return same_segment(got.tcp, got.payload, want);
}

inline std::vector<Sent> drain(Stack& st) {
  std::vector<Sent> out;
  st.drain_output([&](std::span<const uint8_t> p) { out.push_back(parse_sent(st.now(), p)); });
  return out;
}

inline StackConfig config(const char* addr, uint64_t seed = 1, const char* name = "host") {
  StackConfig c;
  c.addresses = {*IpAddr::parse(addr)};
  c.seed = seed;
  c.name = name;
  return c;
}

inline Endpoint ep(const char* addr, uint16_t port) {
  return Endpoint{*IpAddr::parse(addr), port};
}

/// A hand-driven remote host: builds segments from `addr` into one Stack.
/// Each segment is a named Seg (seg_builder.hpp) that states its ports;
/// its window is 64240 unless stated.
struct FakePeer {
  Stack& stack;
  IpAddr addr;
  IpAddr server;

  std::vector<uint8_t> tcp_packet(const Seg& s) const {
    EXPECT_TRUE(s.has(Seg::kSport) && s.has(Seg::kDport))
        << "a fake peer's segment names its ports";
    wire::TcpHeader h = s.h;
    if (!s.has(Seg::kWindow)) h.window = 64240;
    std::vector<uint8_t> buf(2000 + s.data.size());
    size_t n = wire::build_tcp(buf, addr, server, h, s.data);
    buf.resize(n);
    return buf;
  }
  void send(Time now, const Seg& s) { stack.input(now, tcp_packet(s)); }
};

/// Two stacks joined by a link with a fixed one-way latency, in virtual time.
/// Time jumps to min(next deadline of either stack, next packet arrival).
class Link {
 public:
  Link(Stack& a, Stack& b, Duration latency = 10ms) : a_(a), b_(b), latency_(latency) {}

  Time now() const { return now_; }
  /// Every packet sent so far, in sending order.
  const std::vector<Sent>& trace() const { return trace_; }
  /// Packets sent by `from` matching pred.
  std::vector<Sent> sent_by(const Stack& from, std::function<bool(const Sent&)> pred = {}) const {
    std::vector<Sent> out;
    for (size_t i = 0; i < trace_.size(); ++i)
      if (trace_from_[i] == &from && (!pred || pred(trace_[i]))) out.push_back(trace_[i]);
    return out;
  }
  /// Return false to drop a packet from `from` (loss injection).
  std::function<bool(const Stack& from, const Sent&)> filter;

  void run_until(Time t) {
    for (;;) {
      collect();
      Time next = std::min(a_.next_deadline(), b_.next_deadline());
      if (!flight_.empty()) next = std::min(next, flight_.front().at);
      if (next > t) break;
      now_ = std::max(now_, next);
      while (!flight_.empty() && flight_.front().at <= now_) {
        Flight p = std::move(flight_.front());
        flight_.erase(flight_.begin());
        p.to->input(now_, p.bytes);
      }
      a_.advance(now_);
      b_.advance(now_);
    }
    now_ = std::max(now_, t);
    a_.advance(now_);
    b_.advance(now_);
    collect();
  }
  void run_for(Duration d) { run_until(now_ + d); }

 private:
  struct Flight {
    Time at;
    Stack* to;
    std::vector<uint8_t> bytes;
  };
  void collect() {
    take(a_, b_);
    take(b_, a_);
  }
  void take(Stack& from, Stack& to) {
    from.drain_output([&](std::span<const uint8_t> p) {
      Sent s = parse_sent(now_, p);
      trace_.push_back(s);
      trace_from_.push_back(&from);
      if (filter && !filter(from, s)) return;
      Flight fl{now_ + latency_, &to, std::vector<uint8_t>(p.begin(), p.end())};
      auto it = std::upper_bound(flight_.begin(), flight_.end(), fl.at,
                                 [](Time t, const Flight& x) { return t < x.at; });
      flight_.insert(it, std::move(fl));
    });
  }

  Stack& a_;
  Stack& b_;
  Duration latency_;
  Time now_{0};
  std::vector<Flight> flight_;
  std::vector<Sent> trace_;
  std::vector<const Stack*> trace_from_;
};

inline std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

/// Two stacks on a 1 ms link with one established, accepted connection:
/// client descriptor `c`, server child `s`, listener `lfd` on 10.0.0.1:80.
struct TwoStacks : ::testing::Test {
  Stack server{config("10.0.0.1", 1, "server")};
  Stack client{config("10.0.0.2", 2, "client")};
  Link link{client, server, 1ms};
  int lfd = -1, c = -1, s = -1;

  void SetUp() override {
    lfd = *server.socket(SockType::stream);
    ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
    ASSERT_EQ(server.listen(lfd, 5), Errno::ok);
    c = *client.socket(SockType::stream);
    ASSERT_EQ(client.connect(c, ep("10.0.0.1", 80)), Errno::einprogress);
    link.run_for(10ms);
    auto accepted = server.accept(lfd);
    ASSERT_TRUE(accepted.ok());
    s = *accepted;
  }
};

}  // namespace synq::test
