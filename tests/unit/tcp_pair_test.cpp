// Two Connections back to back through a virtual-time link with latency,
// jitter (reordering) and seeded loss: bulk transfers in both directions must
// arrive intact and in order, and the recovery machinery must have worked.
// The server side opens the way a listener does: it answers the SYN with a
// SYN-ACK and makes its child, ESTABLISHED, from the ACK that completes the
// handshake.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <queue>
#include <random>
#include <utility>
#include <vector>

#include "tcp/connection.hpp"
#include "tcp/segment_builder.hpp"
#include "tcp/tcp_limits.hpp"
#include "wire/tcp_option_kinds.hpp"

namespace synq::tcp::testing {
namespace {

using namespace std::chrono_literals;
using namespace wire::tcp_flags;

class Pair;

class PairHost : public ConnectionHost {
 public:
  PairHost(Pair& p, int side) : pair_(p), side_(side) {}
  void send_segment(const FourTuple&, const wire::TcpHeader& h,
                    std::span<const uint8_t> payload) override;
  Counters& counters() override { return ctr; }
  const Sysctls& sysctls() const override { return sys; }
  void timer_changed(Connection&, Time) override {}
  void state_changed(Connection&, TcpState from, TcpState to) override {
    transitions.emplace_back(from, to);
  }
  Counters ctr;
  std::vector<std::pair<TcpState, TcpState>> transitions;
  Sysctls sys;

 private:
  Pair& pair_;
  int side_;
};

struct LinkConfig {
  Duration latency = 10ms;
  Duration jitter = 0ms;  // uniform extra delay: reorders segments
  double loss = 0.0;      // per segment, both directions
  uint64_t seed = 1;
};

class Pair {
 public:
  Pair(LinkConfig link, size_t bytes0, size_t bytes1, ConnectionOptions opts = {},
       const Sysctls& sys = {})
      : link_(link), rng_(link.seed), opts_(opts) {
    for (int i = 0; i < 2; ++i) {
      host_[i] = std::make_unique<PairHost>(*this, i);
      host_[i]->sys = sys;
    }
    std::mt19937_64 data_rng(link.seed * 7919 + 3);
    out_[0].resize(bytes0);
    out_[1].resize(bytes1);
    for (auto& v : out_)
      for (auto& b : v) b = static_cast<uint8_t>(data_rng());
    tuple_[0] = {{IpAddr::v4(10, 0, 0, 1), 40000}, {IpAddr::v4(10, 0, 0, 2), 80}};
    tuple_[1] = {tuple_[0].remote, tuple_[0].local};
    conn_[0] = std::make_unique<Connection>(*host_[0], tuple_[0], opts_);
  }

  void enqueue(int from, const wire::TcpHeader& h, std::span<const uint8_t> payload) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    if (u(rng_) < link_.loss) {
      ++dropped_;
      return;
    }
    Duration d = link_.latency;
    if (link_.jitter > 0ns)
      d += Duration(std::uniform_int_distribution<int64_t>(0, link_.jitter.count())(rng_));
    q_.push(InFlight{now_ + d, seq_++, 1 - from, h, {payload.begin(), payload.end()}});
  }

  // Runs until both sides have everything and both are closed or in
  // TIME-WAIT, or until `limit`. Returns whether it completed.
  bool run(Time limit) {
    conn_[0]->connect(now_, 1000, 77);
    while (now_ < limit) {
      pump();
      if (complete()) return true;
      Time next = q_.empty() ? kNever : q_.top().at;
      for (auto& c : conn_)
        if (c) next = std::min(next, c->deadline());
      if (next == kNever) return complete();
      now_ = std::max(now_, next);
      while (!q_.empty() && q_.top().at <= now_) {
        InFlight f = q_.top();
        q_.pop();
        deliver(f);
      }
      for (auto& c : conn_)
        if (c && c->deadline() <= now_) c->on_timer(now_);
    }
    return false;
  }

  bool complete() const {
    for (int i = 0; i < 2; ++i) {
      if (!conn_[i]) return false;
      if (in_[i].size() != out_[1 - i].size() || !eof_[i]) return false;
      const TcpState s = conn_[i]->state();
      if (s != TcpState::closed && s != TcpState::time_wait) return false;
    }
    return true;
  }

  const std::vector<uint8_t>& sent_by(int i) const { return out_[i]; }
  const std::vector<uint8_t>& received_by(int i) const { return in_[i]; }
  const Counters& counters(int i) const { return host_[i]->ctr; }
  const std::vector<std::pair<TcpState, TcpState>>& transitions(int i) const {
    return host_[i]->transitions;
  }
  Connection* conn(int i) { return conn_[i].get(); }
  uint64_t dropped() const { return dropped_; }
  Time now() const { return now_; }

 private:
  struct InFlight {
    Time at;
    uint64_t order;
    int to;
    wire::TcpHeader h;
    std::vector<uint8_t> payload;
    bool operator>(const InFlight& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  void deliver(const InFlight& f) {
    if (f.to == 1 && !conn_[1]) {
      listen(f);
      return;
    }
    Connection* c = conn_[f.to].get();
    if (!c) return;
    c->on_segment(now_, wire::TcpSegment{f.h, f.payload});
  }

  // The listener's part, for segments before the child exists: a SYN (first
  // or retransmitted) gets a SYN-ACK with the ISS it was first given; the
  // ACK of that SYN-ACK makes the child, which then takes the ACK as its
  // first segment (it may carry data or a FIN), as PassiveOpener does.
  void listen(const InFlight& f) {
    if (f.h.has(RST)) return;
    const Sysctls& s = host_[1]->sys;
    if (f.h.has(SYN) && !f.h.has(ACK)) {
      if (!have_request_ || f.h.seq != request_.irs) {
        have_request_ = true;
        request_ = PassiveOpen{};
        request_.iss = kServerIss;
        request_.irs = f.h.seq;
        request_.peer_mss = f.h.options.has_mss ? f.h.options.mss : kDefaultPeerMss;
        request_.wscale_ok = f.h.options.has_wscale && s.tcp_window_scaling;
        request_.snd_wscale = request_.wscale_ok ? std::min(f.h.options.wscale, kMaxWscale) : 0;
        request_.rcv_wscale = request_.wscale_ok ? our_wscale(s) : 0;
        request_.sack_ok = f.h.options.sack_permitted && s.tcp_sack;
        request_.ts_ok = f.h.options.has_timestamps && s.tcp_timestamps;
        request_.ts_recent = f.h.options.ts_val;
        request_.ts_offset = kServerTsOffset;
      }
      // The window the child will assume its SYN-ACK carried (init_passive
      // with window_mss 0): our MSS less the timestamp option.
      const uint16_t mss = mss_from_mtu(IpVersion::v4, opts_.mtu);
      const uint16_t seg_mss =
          static_cast<uint16_t>(mss - (request_.ts_ok ? wire::tcp_opt::LEN_TIMESTAMP_ALIGNED : 0));
      const auto window = static_cast<uint16_t>(
          std::min(initial_rcv_window(s, seg_mss, opts_.rcvbuf), kMaxWindowField));
      const wire::TcpOptions o = make_syn_options(s, mss, request_.rcv_wscale,
                                                  ts_clock(now_, kServerTsOffset), &f.h.options);
      enqueue(1, syn_ack(tuple_[1], request_.iss, request_.irs + 1, window, o), {});
      return;
    }
    if (!have_request_ || f.h.has(SYN) || !f.h.has(ACK)) return;
    if (f.h.ack != request_.iss + 1) return;  // not for our SYN-ACK
    request_.snd_wnd = static_cast<uint32_t>(f.h.window) << request_.snd_wscale;
    conn_[1] = std::make_unique<Connection>(*host_[1], tuple_[1], opts_);
    conn_[1]->init_passive(now_, request_);
    conn_[1]->on_segment(now_, wire::TcpSegment{f.h, f.payload});
  }

  // The applications: write everything, then shutdown(SHUT_WR); read everything.
  void pump() {
    for (int i = 0; i < 2; ++i) {
      Connection* c = conn_[i].get();
      if (!c) continue;
      const TcpState s = c->state();
      if (s == TcpState::established || s == TcpState::close_wait) {
        while (off_[i] < out_[i].size()) {
          auto r = c->send(now_, std::span<const uint8_t>(out_[i]).subspan(off_[i]));
          if (!r.ok() || *r == 0) break;
          off_[i] += *r;
        }
        if (off_[i] == out_[i].size() && !shut_[i]) {
          shut_[i] = true;
          c->shutdown_write(now_);
        }
      }
      uint8_t buf[16384];
      for (;;) {
        auto r = c->recv(now_, buf);
        if (!r.ok()) break;
        if (*r == 0) {
          eof_[i] = c->at_eof();
          break;
        }
        in_[i].insert(in_[i].end(), buf, buf + *r);
      }
    }
  }

  LinkConfig link_;
  std::mt19937_64 rng_;
  ConnectionOptions opts_;
  std::unique_ptr<PairHost> host_[2];
  std::unique_ptr<Connection> conn_[2];
  FourTuple tuple_[2];
  std::vector<uint8_t> out_[2], in_[2];
  size_t off_[2] = {0, 0};
  bool shut_[2] = {false, false};
  bool eof_[2] = {false, false};
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> q_;
  uint64_t seq_ = 0;
  uint64_t dropped_ = 0;
  static constexpr uint32_t kServerIss = 500000;
  static constexpr uint32_t kServerTsOffset = 12345;
  bool have_request_ = false;  // the listener has answered a SYN
  PassiveOpen request_;        // what it learned, until the child is made
  Time now_{};
};

void PairHost::send_segment(const FourTuple&, const wire::TcpHeader& h,
                            std::span<const uint8_t> payload) {
  pair_.enqueue(side_, h, payload);
}

void expect_intact(Pair& p) {
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(p.received_by(1 - i).size(), p.sent_by(i).size()) << "direction " << i;
    EXPECT_TRUE(p.received_by(1 - i) == p.sent_by(i)) << "bytes differ, direction " << i;
  }
}

uint64_t retrans(const Pair& p) {
  return p.counters(0).get(Counter::Tcp_RetransSegs) + p.counters(1).get(Counter::Tcp_RetransSegs);
}

TEST(TcpPair, CleanLink_OneMegabyteEachWay_NoRetransmissions) {
  Pair p({.latency = 5ms}, 1 << 20, 1 << 20);
  ASSERT_TRUE(p.run(600s)) << "did not complete";
  expect_intact(p);
  EXPECT_EQ(retrans(p), 0u);
  EXPECT_EQ(p.counters(0).get(Counter::Tcp_CurrEstab), 0u);
  EXPECT_EQ(p.counters(0).get(Counter::Tcp_ActiveOpens), 1u);
  // The server's child was born ESTABLISHED on the ACK, never SYN-RECEIVED.
  ASSERT_FALSE(p.transitions(1).empty());
  EXPECT_EQ(p.transitions(1).front(), std::make_pair(TcpState::closed, TcpState::established));
  EXPECT_EQ(p.counters(1).get(Counter::Tcp_ActiveOpens), 0u);
}

TEST(TcpPair, OnePercentLoss_TwoMegabytesEachWay_RecoversByFastRetransmitAndRto) {
  ConnectionOptions o;
  o.sndbuf = 262144;
  Pair p({.latency = 10ms, .loss = 0.01, .seed = 42}, 2 << 20, 2 << 20, o);
  ASSERT_TRUE(p.run(3600s)) << "did not complete";
  expect_intact(p);
  std::printf("2 MB each way, 1%% loss, 20 ms RTT: %.2f s virtual\n", to_seconds(p.now()));
  EXPECT_GT(p.dropped(), 0u);
  EXPECT_GT(retrans(p), 0u);
  EXPECT_GT(p.counters(0).get(Counter::TcpExt_TCPFastRetrans) +
                p.counters(1).get(Counter::TcpExt_TCPFastRetrans),
            0u);
}

TEST(TcpPair, FivePercentLossWithReordering_OneMegabyteEachWay) {
  Pair p({.latency = 20ms, .jitter = 5ms, .loss = 0.05, .seed = 7}, 1 << 20, 1 << 20);
  ASSERT_TRUE(p.run(3600s)) << "did not complete";
  expect_intact(p);
  EXPECT_GT(p.counters(0).get(Counter::TcpExt_TCPTimeouts) +
                p.counters(1).get(Counter::TcpExt_TCPTimeouts),
            0u);
  EXPECT_GT(p.counters(0).get(Counter::TcpExt_TCPOFOQueue) +
                p.counters(1).get(Counter::TcpExt_TCPOFOQueue),
            0u);
}

TEST(TcpPair, TenMegabytesOneWay_TwoPercentLoss_ManySeeds) {
  for (uint64_t seed : {1, 2, 3}) {
    ConnectionOptions o;
    o.sndbuf = 524288;
    o.rcvbuf = 1 << 20;
    Pair p({.latency = 15ms, .loss = 0.02, .seed = seed}, seed == 1 ? 10 << 20 : 1 << 20, 1000, o);
    ASSERT_TRUE(p.run(7200s)) << "seed " << seed;
    expect_intact(p);
    EXPECT_GT(retrans(p), 0u);
  }
}

TEST(TcpPair, NoTimestampsNoSackNoScaling_StillReliable) {
  Sysctls s;
  s.tcp_timestamps = 0;
  s.tcp_sack = 0;
  s.tcp_window_scaling = 0;
  Pair p({.latency = 10ms, .loss = 0.03, .seed = 99}, 512 << 10, 512 << 10, {}, s);
  ASSERT_TRUE(p.run(3600s));
  expect_intact(p);
  const TcpInfo i = p.conn(0)->info();
  EXPECT_FALSE(i.ts_ok || i.sack_ok || i.ws_ok);
  EXPECT_EQ(i.mss, 1460);
  EXPECT_GT(retrans(p), 0u);
}

}  // namespace
}  // namespace synq::tcp::testing
