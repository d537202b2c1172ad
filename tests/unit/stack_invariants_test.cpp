// Randomized runs over every backlog model (issue 3, item 7): fake peers and a
// random application hammer one listener with SYNs, third ACKs (right and
// wrong), data, RSTs, FINs, stray segments, accept/close/re-listen and sysctl
// changes while time jumps by milliseconds to minutes. After every step the
// stack's invariants (StackImpl::invariant_violations, src/stack/invariants.cpp)
// must hold, and the accept queue may only grow while the model allows it.
// A second run joins a client Stack and a server Stack and checks that every
// client socket ends in a state the server agrees with.
//
// Every failure names the model, seed and step; the runs are deterministic,
// so `run_listener_seed(model, seed)` replays one exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "listen/backlog_model.hpp"
#include "stack/stack_impl.hpp"
#include "stack_test_util.hpp"
#include "tcp/seq.hpp"

namespace synq::test {
namespace {

// ------------------------------------------------------------------ models

// The model names spec §1 lists; the factory says which synq implements, so a
// model lands in these runs the moment make_backlog_model() accepts it.
constexpr std::array<std::string_view, 4> kSpecModels{"linux", "bsd44", "freebsd", "xnu"};

std::vector<std::string> implemented_models() {
  std::vector<std::string> out;
  for (std::string_view m : kSpecModels)
    if (listen::make_backlog_model(m)) out.emplace_back(m);
  return out;
}

// How many connections a listener of each model may hold, from
// /work/shared/spec/passive-open.md. `with_half_open`: the limit covers
// half-open plus completed connections, else completed ones only.
struct QueueLimit {
  std::string_view model;
  bool with_half_open;
  uint32_t (*max)(uint32_t backlog);
  const char* spec;
};
constexpr std::array<QueueLimit, 4> kQueueLimits{{
    {"linux", false, [](uint32_t b) { return b + 1; }, "§2: accept queue full when acc > B"},
    {"bsd44", true, [](uint32_t b) { return 3 * b / 2 + 1; },
     "§3: qlen + acc > 3B/2 refuses a new embryonic socket"},
    {"freebsd", false, [](uint32_t b) { return 3 * b / 2 + 1; },
     "§4: a socket is made unless acc > 3B/2"},
    {"xnu", true, [](uint32_t b) { return b; }, "§5, §8.43: half-open + complete <= limit"},
}};

const QueueLimit* limit_of(std::string_view model) {
  for (const QueueLimit& q : kQueueLimits)
    if (q.model == model) return &q;
  return nullptr;
}

// A small deterministic generator (splitmix64), so a seed means the same run
// on every standard library.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
  bool chance(uint32_t percent) { return below(100) < percent; }
  template <class T, size_t N>
  T pick(const std::array<T, N>& a) {
    return a[below(N)];
  }
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += "  " + x + "\n";
  return s;
}

// What a listener holds, as `ss` would show it.
struct ListenerView {
  bool present = false;
  uint32_t backlog = 0;
  uint32_t accept_queue = 0;
  uint32_t half_open = 0;
};

ListenerView view_listener(const Stack& s, int lfd, uint16_t port) {
  ListenerView v;
  for (const SocketInfo& i : s.sockets()) {
    if (i.fd == lfd && lfd >= 0 && i.state == TcpState::listen) {
      v.present = true;
      v.backlog = i.send_q;
      v.accept_queue = i.recv_q;
    } else if (i.fd < 0 && i.state == TcpState::syn_received && i.local.port == port) {
      ++v.half_open;
    }
  }
  return v;
}

// ------------------------------------------------------------------ one listener, fake peers

constexpr uint16_t kPort = 80;

struct Flow {
  size_t peer = 0;
  uint16_t sport = 0;
  uint32_t isn = 0;
  uint32_t snd_nxt = 0;   // our next sequence number
  uint32_t rcv_nxt = 0;   // the server's next sequence number, once seen
  bool synacked = false;  // a SYN-ACK told us the server's ISN
  bool timestamps = false;
};

class ListenerRun {
 public:
  ListenerRun(std::string model, uint64_t seed)
      : model_(std::move(model)),
        seed_(seed),
        rng_{seed * 0x100000001b3ull + 7},
        server_(config("10.0.0.1", seed, "server")) {
    for (int i = 0; i < 3; ++i) {
      const std::string a = "10.0.1." + std::to_string(i + 1);
      peers_.push_back(FakePeer{server_, *IpAddr::parse(a), *IpAddr::parse("10.0.0.1")});
    }
    limit_ = limit_of(model_);
  }

  const Counters& counters() const { return server_.counters(); }
  uint64_t accepted() const { return accepted_; }

  /// Runs `steps` random steps; the first broken rule ends the run with a
  /// message naming model, seed and step (empty: all held).
  std::string run(int steps) {
    create_listener();
    if (std::string e = check("setup"); !e.empty()) return e;
    for (step_ = 0; step_ < steps; ++step_) {
      const std::string what = random_step();
      server_.advance(now_);
      absorb(drain(server_));
      if (std::string e = check(what); !e.empty()) return e;
    }
    return {};
  }

 private:
  // ---- checks
  std::string check(const std::string& what) {
    std::vector<std::string> v = server_.impl().invariant_violations(/*timers_current=*/true);
    const ListenerView now = view_listener(server_, lfd_, kPort);
    if (limit_ && now.present && before_.present && lfd_ == before_lfd_) {
      // The queue may sit above the limit after listen() shrank B (spec §8.33),
      // but it may only grow while it is under the limit.
      const uint32_t n = now.accept_queue + (limit_->with_half_open ? now.half_open : 0);
      const uint32_t was = before_.accept_queue + (limit_->with_half_open ? before_.half_open : 0);
      if (n > was && n > limit_->max(now.backlog))
        v.push_back("queue grew to " + std::to_string(n) + " above the " + model_ + " limit " +
                    std::to_string(limit_->max(now.backlog)) +
                    " for B=" + std::to_string(now.backlog) + " (spec " + limit_->spec + ")");
    }
    before_ = now;
    before_lfd_ = lfd_;
    if (v.empty()) return {};
    std::ostringstream os;
    os << "model " << model_ << " seed " << seed_ << " step " << step_ << " (" << what << ") at "
       << now_.count() << " ns broke:\n"
       << join(v) << "last steps:\n";
    for (const std::string& s : history_) os << "  " << s << "\n";
    return os.str();
  }

  // ---- the server's answers update what the peers know
  void absorb(const std::vector<Sent>& out) {
    for (const Sent& s : out) {
      if (s.protocol != wire::ip_proto::TCP) continue;
      for (Flow& fl : flows_) {
        if (peers_[fl.peer].addr != s.dst || fl.sport != s.dport) continue;
        const uint8_t fl_flags = s.tcp.flags;
        if ((fl_flags & f::SYN) && (fl_flags & f::ACK) && s.tcp.ack == fl.isn + 1) {
          fl.synacked = true;
          fl.rcv_nxt = s.tcp.seq + 1;
        } else if (fl.synacked && !(fl_flags & f::RST)) {
          const uint32_t end =
              s.tcp.seq + static_cast<uint32_t>(s.payload.size()) + ((fl_flags & f::FIN) ? 1 : 0);
          if (tcp::seq_gt(end, fl.rcv_nxt)) fl.rcv_nxt = end;
        }
      }
    }
  }

  // ---- steps
  std::string random_step() {
    std::string what;
    const uint32_t r = rng_.below(100);
    if (r < 14)
      what = new_syn();
    else if (r < 30)
      what = flow_segment();
    else if (r < 34)
      what = stray_segment();
    else if (r < 48)
      what = accept_one();
    else if (r < 54)
      what = close_child();
    else if (r < 60)
      what = child_io();
    else if (r < 63)
      what = listener_change();
    else if (r < 68)
      what = sysctl_change();
    else
      what = advance_time();
    history_.push_back("step " + std::to_string(step_) + ": " + what);
    if (history_.size() > 12) history_.erase(history_.begin());
    return what;
  }

  wire::TcpOptions options_for(const Flow& fl, bool syn) {
    wire::TcpOptions o;
    if (syn) {
      const uint32_t kind = rng_.below(3);  // none, MSS only, everything
      if (kind >= 1) {
        o.has_mss = true;
        o.mss = static_cast<uint16_t>(rng_.chance(50) ? 1460 : 536 + rng_.below(1000));
      }
      if (kind == 2) {
        o.has_wscale = true;
        o.wscale = static_cast<uint8_t>(rng_.below(15));
        o.sack_permitted = true;
        o.has_timestamps = true;
      }
    } else {
      o.has_timestamps = fl.timestamps;
    }
    if (o.has_timestamps) {
      o.ts_val = static_cast<uint32_t>(now_.count() / 1000000) + 1;
      o.ts_ecr = 0;
    }
    return o;
  }

  void send(const Flow& fl, uint8_t flags, uint32_t seq, uint32_t ack,
            std::span<const uint8_t> payload = {}, bool syn_options = false) {
    const wire::TcpOptions o = options_for(fl, syn_options);
    peers_[fl.peer].send(
        now_,
        Seg().from(fl.sport).to(kPort).seq(seq).ack(ack).flags(flags).options(o).payload(payload));
  }

  Flow* find_flow(size_t peer, uint16_t sport) {
    for (Flow& fl : flows_)
      if (fl.peer == peer && fl.sport == sport) return &fl;
    return nullptr;
  }

  std::string new_syn() {
    const size_t peer = rng_.below(static_cast<uint32_t>(peers_.size()));
    const uint16_t sport = static_cast<uint16_t>(kPeerPort + rng_.below(8));
    Flow* fl = find_flow(peer, sport);
    if (!fl) {
      flows_.push_back(Flow{peer, sport});
      fl = &flows_.back();
    }
    fl->isn = static_cast<uint32_t>(rng_.next());
    fl->snd_nxt = fl->isn + 1;
    fl->synacked = false;
    // Options are chosen in send(); remember whether this SYN offered timestamps.
    const wire::TcpOptions o = options_for(*fl, true);
    fl->timestamps = o.has_timestamps;
    peers_[peer].send(now_, Seg().from(sport).to(kPort).syn().seq(fl->isn).options(o));
    return "SYN " + std::to_string(sport) + " from peer " + std::to_string(peer);
  }

  std::string flow_segment() {
    if (flows_.empty()) return new_syn();
    Flow& fl = flows_[rng_.below(static_cast<uint32_t>(flows_.size()))];
    const std::string on = " on " + std::to_string(fl.peer) + ":" + std::to_string(fl.sport);
    static const std::string payload_text = "GET / HTTP/1.0\r\n\r\n";
    const uint32_t k = rng_.below(12);
    switch (k) {
      case 0:  // the same SYN again
        send(fl, f::SYN, fl.isn, 0, {}, true);
        return "duplicate SYN" + on;
      case 1: {  // a SYN with a new ISN
        fl.isn = static_cast<uint32_t>(rng_.next());
        fl.snd_nxt = fl.isn + 1;
        fl.synacked = false;
        send(fl, f::SYN, fl.isn, 0, {}, true);
        return "SYN with a new ISN" + on;
      }
      case 2:
      case 3:
      case 10:
      case 11:  // the right (third) ACK, sometimes with data
        if (rng_.chance(30)) {
          auto p = bytes(payload_text);
          send(fl, f::ACK | f::PSH, fl.snd_nxt, fl.rcv_nxt, p);
          fl.snd_nxt += static_cast<uint32_t>(p.size());
          return "ACK with data" + on;
        }
        send(fl, f::ACK, fl.snd_nxt, fl.rcv_nxt);
        return "ACK" + on;
      case 4:  // a wrong acknowledgment number
        send(fl, f::ACK, fl.snd_nxt, fl.rcv_nxt + 1 + rng_.below(100000));
        return "ACK with a wrong ack" + on;
      case 5: {  // data
        auto p = bytes(payload_text);
        send(fl, f::ACK | f::PSH, fl.snd_nxt, fl.rcv_nxt, p);
        fl.snd_nxt += static_cast<uint32_t>(p.size());
        return "data" + on;
      }
      case 6:  // RST at rcv_nxt
        send(fl, f::RST | (rng_.chance(50) ? f::ACK : 0), fl.snd_nxt, fl.rcv_nxt);
        return "RST in window" + on;
      case 7:  // RST far outside the window
        send(fl, f::RST, fl.snd_nxt + 0x40000000u + rng_.below(1000), 0);
        return "RST out of window" + on;
      case 8:  // FIN
        send(fl, f::FIN | f::ACK, fl.snd_nxt, fl.rcv_nxt);
        fl.snd_nxt += 1;
        return "FIN" + on;
      default:  // data far outside the window
        send(fl, f::ACK, fl.snd_nxt + 0x20000000u, fl.rcv_nxt);
        return "out-of-window ACK" + on;
    }
  }

  std::string stray_segment() {
    static constexpr std::array<uint8_t, 6> kFlags{
        f::ACK, f::SYN | f::ACK, f::SYN | f::FIN, f::SYN | f::RST, f::RST, 0};
    const uint8_t flags = rng_.pick(kFlags);
    const size_t peer = rng_.below(static_cast<uint32_t>(peers_.size()));
    const uint16_t sport = static_cast<uint16_t>(kPeerPort + 1000 + rng_.below(4));
    peers_[peer].send(now_, Seg()
                                .from(sport)
                                .to(rng_.chance(80) ? kPort : 81)
                                .seq(static_cast<uint32_t>(rng_.next()))
                                .ack(static_cast<uint32_t>(rng_.next()))
                                .flags(flags));
    return "stray segment flags " + std::to_string(flags);
  }

  std::string accept_one() {
    if (lfd_ < 0) return create_listener();
    auto a = server_.accept(lfd_);
    if (a.ok()) {
      children_.push_back(*a);
      ++accepted_;
    }
    return a.ok() ? "accept -> fd " + std::to_string(*a) : "accept: nothing queued";
  }

  std::string close_child() {
    if (children_.empty()) return accept_one();
    const size_t i = rng_.below(static_cast<uint32_t>(children_.size()));
    const int fd = children_[i];
    children_.erase(children_.begin() + static_cast<long>(i));
    if (rng_.chance(20)) server_.set_linger(fd, Linger{true, 0});  // close with RST
    EXPECT_EQ(server_.close(fd), Errno::ok);
    return "close child fd " + std::to_string(fd);
  }

  std::string child_io() {
    if (children_.empty()) return accept_one();
    const int fd = children_[rng_.below(static_cast<uint32_t>(children_.size()))];
    if (rng_.chance(60)) {
      uint8_t buf[64];
      (void)server_.recv(fd, buf);
      return "read child fd " + std::to_string(fd);
    }
    if (rng_.chance(50)) {
      (void)server_.send(fd, bytes("HTTP/1.0 200 OK\r\n\r\n"));
      return "write child fd " + std::to_string(fd);
    }
    (void)server_.shutdown(fd, ShutdownHow::wr);
    return "shutdown(WR) child fd " + std::to_string(fd);
  }

  std::string create_listener() {
    const int fd = *server_.socket(SockType::stream);
    EXPECT_EQ(server_.setsockopt(fd, SockOpt::so_reuseaddr, 1), Errno::ok);
    EXPECT_EQ(server_.set_listen_model(fd, model_), Errno::ok);
    const Endpoint local = rng_.chance(50) ? ep("10.0.0.1", kPort) : ep("0.0.0.0", kPort);
    if (server_.bind(fd, local) != Errno::ok) {
      // A child still holding the port can refuse the bind; try again later.
      server_.close(fd);
      return "new listener: bind refused";
    }
    const int b = static_cast<int>(rng_.below(9));
    EXPECT_EQ(server_.listen(fd, b), Errno::ok);
    lfd_ = fd;
    return "new listener fd " + std::to_string(fd) + " backlog " + std::to_string(b);
  }

  std::string listener_change() {
    if (lfd_ < 0) return create_listener();
    const uint32_t k = rng_.below(4);
    if (k == 0) {
      EXPECT_EQ(server_.close(lfd_), Errno::ok);
      lfd_ = -1;
      return "close listener";
    }
    if (k == 1) {
      const int v = static_cast<int>(rng_.pick(std::array<int, 3>{0, 1, 3}));
      EXPECT_EQ(server_.setsockopt(lfd_, SockOpt::tcp_defer_accept, v), Errno::ok);
      return "TCP_DEFER_ACCEPT " + std::to_string(v);
    }
    if (k == 2) {
      const int v = 1 + static_cast<int>(rng_.below(5));
      EXPECT_EQ(server_.setsockopt(lfd_, SockOpt::tcp_syncnt, v), Errno::ok);
      return "TCP_SYNCNT " + std::to_string(v);
    }
    const int b = rng_.chance(10) ? -1 : static_cast<int>(rng_.below(9));
    EXPECT_EQ(server_.listen(lfd_, b), Errno::ok);
    return "re-listen backlog " + std::to_string(b);
  }

  std::string sysctl_change() {
    Sysctls& s = server_.sysctls();
    switch (rng_.below(6)) {
      case 0:
        s.tcp_syncookies = static_cast<int>(rng_.below(3));
        return "tcp_syncookies=" + std::to_string(s.tcp_syncookies);
      case 1:
        s.tcp_abort_on_overflow = static_cast<int>(rng_.below(2));
        return "tcp_abort_on_overflow=" + std::to_string(s.tcp_abort_on_overflow);
      case 2:
        s.tcp_synack_retries = 1 + static_cast<int>(rng_.below(5));
        return "tcp_synack_retries=" + std::to_string(s.tcp_synack_retries);
      case 3:
        s.syn_queue_check = rng_.chance(50) ? "strict" : "legacy";
        return "syn_queue_check=" + s.syn_queue_check;
      case 4:
        s.tcp_max_syn_backlog = rng_.chance(50) ? 8 : 2048;
        return "tcp_max_syn_backlog=" + std::to_string(s.tcp_max_syn_backlog);
      default:
        s.freebsd_syncache_rst_on_sock_fail = static_cast<int>(rng_.below(2));
        return "rst_on_sock_fail=" + std::to_string(s.freebsd_syncache_rst_on_sock_fail);
    }
  }

  std::string advance_time() {
    Duration d;
    const uint32_t k = rng_.below(10);
    if (k < 5)
      d = std::chrono::milliseconds(1 + rng_.below(999));
    else if (k < 9)
      d = std::chrono::seconds(1 + rng_.below(20));
    else
      d = std::chrono::seconds(30 + rng_.below(300));
    now_ += d;
    return "advance " + std::to_string(d.count() / 1000000) + " ms";
  }

  std::string model_;
  uint64_t seed_;
  Rng rng_;
  Stack server_;
  std::vector<FakePeer> peers_;
  std::vector<Flow> flows_;
  std::vector<int> children_;
  int lfd_ = -1;
  Time now_{0};
  int step_ = 0;
  const QueueLimit* limit_ = nullptr;
  ListenerView before_;
  int before_lfd_ = -1;
  std::vector<std::string> history_;
  uint64_t accepted_ = 0;
};

// What the runs of one model went through, summed over seeds: proof that the
// random steps reach the paths whose bookkeeping the invariants watch.
struct Coverage {
  uint64_t accepted = 0;
  std::map<Counter, uint64_t> counters;
};
constexpr std::array<Counter, 9> kCoverageCounters{
    Counter::Tcp_PassiveOpens,           Counter::TcpExt_ListenOverflows,
    Counter::TcpExt_ListenDrops,         Counter::TcpExt_EmbryonicRsts,
    Counter::TcpExt_TCPTimeouts,         Counter::TcpExt_SyncookiesSent,
    Counter::TcpExt_TCPReqQFullDrop,     Counter::TcpExt_TW,
    Counter::TcpExt_TCPACKSkippedSynRecv};

std::string run_listener_seed(const std::string& model, uint64_t seed, int steps,
                              Coverage* coverage = nullptr) {
  ListenerRun run(model, seed);
  std::string failure = run.run(steps);
  if (coverage) {
    coverage->accepted += run.accepted();
    for (Counter c : kCoverageCounters) coverage->counters[c] += run.counters()[c];
  }
  return failure;
}

TEST(Invariants, RandomListenerRunsOnEveryModelKeepEveryInvariant) {
  const std::vector<std::string> models = implemented_models();
  std::cout << "[ models   ] covered:";
  for (const std::string& m : models) std::cout << " " << m;
  std::cout << "\n";
  ASSERT_NE(std::find(models.begin(), models.end(), "linux"), models.end());
  for (const std::string& m : models)
    EXPECT_NE(limit_of(m), nullptr) << "no queue limit in kQueueLimits for model " << m;
  constexpr uint64_t kSeedsPerModel = 500;
  constexpr int kSteps = 120;
  for (const std::string& m : models) {
    Coverage cov;
    for (uint64_t seed = 1; seed <= kSeedsPerModel; ++seed) {
      const std::string failure = run_listener_seed(m, seed, kSteps, &cov);
      ASSERT_TRUE(failure.empty()) << failure;
    }
    std::cout << "[ " << m << " ] " << kSeedsPerModel << " seeds x " << kSteps
              << " steps: accepted " << cov.accepted;
    for (const auto& [c, n] : cov.counters) std::cout << ", " << counter_info(c).name << " " << n;
    std::cout << "\n";
    // Every model must complete and hand out connections, or the run tested nothing.
    EXPECT_GT(cov.counters[Counter::Tcp_PassiveOpens], 0u) << m;
    EXPECT_GT(cov.accepted, 0u) << m;
    if (m == "linux") {
      // The linux paths with queue bookkeeping of their own (spec §2).
      EXPECT_GT(cov.counters[Counter::TcpExt_ListenOverflows], 0u);
      EXPECT_GT(cov.counters[Counter::TcpExt_EmbryonicRsts], 0u);
      EXPECT_GT(cov.counters[Counter::TcpExt_TCPTimeouts], 0u);
      EXPECT_GT(cov.counters[Counter::TcpExt_TW], 0u);
    }
  }
}

// ------------------------------------------------------------------ the checker itself

// A driver that feeds a packet at a later time without calling advance() first
// leaves timers that should have run: the checker must say so when told the
// timers are current, and be satisfied once advance() has run them.
TEST(Invariants, CheckerFlagsARequestWhoseTimerWasSkipped) {
  Stack server{config("10.0.0.1", 1, "server")};
  FakePeer peer{server, *IpAddr::parse("10.0.1.1"), *IpAddr::parse("10.0.0.1")};
  int lfd = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
  ASSERT_EQ(server.listen(lfd, 4), Errno::ok);
  peer.send(0s,
            Seg().from(40000).to(80).syn().seq(5000).mss(1460));  // request; SYN-ACK timer at 1 s
  ASSERT_EQ(drain(server).size(), 1u);
  EXPECT_TRUE(server.impl().invariant_violations(true).empty());
  peer.send(5s, Seg().from(40001).to(81).seq(1).ack(1));  // time moves to 5 s without advance()
  drain(server);
  EXPECT_TRUE(server.impl().invariant_violations(/*timers_current=*/false).empty());
  const std::vector<std::string> v = server.impl().invariant_violations(/*timers_current=*/true);
  ASSERT_EQ(v.size(), 1u) << join(v);
  EXPECT_NE(v[0].find("request"), std::string::npos) << v[0];
  EXPECT_NE(v[0].find("10.0.1.1:40000"), std::string::npos) << v[0];
  EXPECT_NE(v[0].find("outlived its timer: deadline 1000000000ns, now 5000000000ns"),
            std::string::npos)
      << v[0];
  // The overdue timer runs now (time never goes back): one late SYN-ACK at
  // 5 s, the next 2 s later.
  server.advance(5s);
  EXPECT_EQ(drain(server).size(), 1u);
  EXPECT_EQ(server.next_deadline(), 7s);
  EXPECT_TRUE(server.impl().invariant_violations(true).empty());
}

using InvariantsTwoStacks = TwoStacks;

TEST_F(InvariantsTwoStacks, CheckerFlagsATimeWaitPastItsDeadline) {
  ASSERT_EQ(client.close(c), Errno::ok);  // the client closes first: its side gets TIME-WAIT
  link.run_for(10ms);
  ASSERT_EQ(server.close(s), Errno::ok);
  link.run_for(10ms);
  ASSERT_TRUE(client.impl().invariant_violations(true).empty());
  bool time_wait = false;
  for (const SocketInfo& i : client.sockets()) time_wait |= i.state == TcpState::time_wait;
  ASSERT_TRUE(time_wait);
  // A packet at +61 s without advance(): TIME-WAIT (60 s) should have ended.
  FakePeer stray{client, *IpAddr::parse("10.0.0.1"), *IpAddr::parse("10.0.0.2")};
  stray.send(link.now() + 61s, Seg().from(40009).to(40009).seq(1).ack(1));
  drain(client);
  const std::vector<std::string> v = client.impl().invariant_violations(true);
  ASSERT_EQ(v.size(), 1u) << join(v);
  EXPECT_NE(v[0].find("TIME-WAIT outlived its timer"), std::string::npos) << v[0];
  client.advance(client.now());
  EXPECT_TRUE(client.impl().invariant_violations(true).empty());
  EXPECT_EQ(client.impl().connection_count(), 0u);
}

// Found by the random run (linux, seed 577): a child the application still
// holds reaches TIME-WAIT (it shut down its side, then the peer's FIN came),
// and a new SYN above rcv_nxt arrives. Ending that TIME-WAIT for a new request
// (Linux TCP_TW_SYN) used to unhash the connection but leave it in TIME-WAIT
// behind its descriptor: live, undemuxed, listed beside the new request. Since
// 456f9f8 only an orphan's TIME-WAIT gives way. Whatever the stack does with
// such a SYN, the tuple must keep one live entry and every invariant.
TEST(Invariants, TimeWaitBehindADescriptorAndANewSynKeepOneEntryPerTuple) {
  Stack server{config("10.0.0.1", 1, "server")};
  FakePeer peer{server, *IpAddr::parse("10.0.1.1"), *IpAddr::parse("10.0.0.1")};
  int lfd = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
  ASSERT_EQ(server.listen(lfd, 4), Errno::ok);
  peer.send(0s, Seg().from(40000).to(80).syn().seq(1000).mss(1460));
  auto synack = drain(server);
  ASSERT_EQ(synack.size(), 1u);
  const uint32_t s0 = synack[0].tcp.seq;
  peer.send(0s, Seg().from(40000).to(80).seq(1001).ack(s0 + 1));
  const int fd = *server.accept(lfd);
  ASSERT_EQ(server.shutdown(fd, ShutdownHow::wr), Errno::ok);            // FIN, seq s0+1
  peer.send(1ms, Seg().from(40000).to(80).seq(1001).ack(s0 + 2));        // FIN-WAIT-2
  peer.send(2ms, Seg().from(40000).to(80).fin().seq(1001).ack(s0 + 2));  // TIME-WAIT, fd still open
  drain(server);
  ASSERT_EQ(*server.state(fd), TcpState::time_wait);
  peer.send(3ms, Seg().from(40000).to(80).syn().seq(500000).mss(1460));  // above rcv_nxt
  drain(server);
  server.advance(3ms);
  const std::vector<std::string> v = server.impl().invariant_violations(true);
  EXPECT_TRUE(v.empty()) << join(v);
  size_t entries = 0;
  for (const SocketInfo& i : server.sockets())
    if (i.remote.port == 40000 && i.state != TcpState::closed) ++entries;
  EXPECT_EQ(entries, 1u);  // the TIME-WAIT behind fd, or a new request: never both
}

// ------------------------------------------------------------------ two stacks

// How the server application treats its accept queue in a two-stack run.
enum class AcceptPolicy : uint8_t { eager, sometimes, late, never };

// Final client outcomes over many two-stack runs.
struct Outcomes {
  std::map<std::string, uint64_t> n;  // "ESTAB", "CLOSE-WAIT", "refused", "timed out", "reset"
};

class PairRun {
 public:
  PairRun(std::string model, uint64_t seed)
      : model_(std::move(model)),
        seed_(seed),
        rng_{seed * 0x2545f4914f6cdd1dull + 3},
        client_(config("10.0.0.2", seed + 1000, "client")),
        server_(config("10.0.0.1", seed, "server")),
        link_(client_, server_, std::chrono::milliseconds(1 + rng_.below(20))) {}

  std::string run(Outcomes* outcomes = nullptr) {
    outcomes_ = outcomes;
    Sysctls& ss = server_.sysctls();
    ss.tcp_syncookies = static_cast<int>(rng_.below(3));
    ss.tcp_abort_on_overflow = static_cast<int>(rng_.below(2));
    ss.tcp_synack_retries = 1 + static_cast<int>(rng_.below(5));
    ss.freebsd_syncache_rst_on_sock_fail = static_cast<int>(rng_.below(2));
    Sysctls& cs = client_.sysctls();
    cs.tcp_syn_retries = 2 + static_cast<int>(rng_.below(5));
    cs.tcp_retries2 = 3 + static_cast<int>(rng_.below(3));  // data gives up within minutes
    policy_ = static_cast<AcceptPolicy>(rng_.below(4));
    backlog_ = static_cast<int>(rng_.below(5));
    open_listener();
    std::string e;
    const int steps = 20 + static_cast<int>(rng_.below(40));
    for (step_ = 0; step_ < steps && e.empty(); ++step_) e = active_step();
    // Settle: no new connections; the applications keep serving for an hour.
    for (int i = 0; i < 120 && e.empty(); ++i, ++step_) {
      if (policy_ != AcceptPolicy::never) accept_all();
      serve();
      link_.run_for(30s);
      e = check("settle");
    }
    if (e.empty()) e = final_states();
    return e;
  }

 private:
  struct Client {
    int fd;
    Endpoint local;
    bool sent = false;
  };

  std::string fail(const std::string& what, const std::vector<std::string>& v) {
    std::ostringstream os;
    os << "model " << model_ << " seed " << seed_ << " step " << step_ << " (" << what
       << ") policy " << static_cast<int>(policy_) << " backlog " << backlog_ << " at "
       << link_.now().count() << " ns:\n"
       << join(v);
    return os.str();
  }

  std::string check(const std::string& what) {
    std::vector<std::string> v;
    for (const std::string& x : client_.impl().invariant_violations(true))
      v.push_back("client: " + x);
    for (const std::string& x : server_.impl().invariant_violations(true))
      v.push_back("server: " + x);
    return v.empty() ? std::string() : fail(what, v);
  }

  void open_listener() {
    lfd_ = *server_.socket(SockType::stream);
    EXPECT_EQ(server_.setsockopt(lfd_, SockOpt::so_reuseaddr, 1), Errno::ok);
    EXPECT_EQ(server_.set_listen_model(lfd_, model_), Errno::ok);
    if (server_.bind(lfd_, ep("10.0.0.1", kPort)) != Errno::ok) {
      server_.close(lfd_);
      lfd_ = -1;
      return;
    }
    EXPECT_EQ(server_.listen(lfd_, backlog_), Errno::ok);
  }

  void accept_all() {
    if (lfd_ < 0) return;
    while (auto a = server_.accept(lfd_)) accepted_.push_back(*a);
  }

  // The client writes a request as soon as it is connected (so a client that
  // believes it is connected while the server has no child finds out); the
  // server reads whatever arrived.
  void serve() {
    for (Client& c : clients_) {
      if (c.sent || *client_.state(c.fd) != TcpState::established) continue;
      c.sent = client_.send(c.fd, bytes("hello")).ok();
    }
    uint8_t buf[64];
    for (int fd : accepted_) (void)server_.recv(fd, buf);
  }

  std::string active_step() {
    const uint32_t r = rng_.below(100);
    std::string what;
    if (r < 35 && clients_.size() < 16) {
      const int fd = *client_.socket(SockType::stream);
      EXPECT_EQ(client_.connect(fd, ep("10.0.0.1", kPort)), Errno::einprogress);
      clients_.push_back({fd, *client_.getsockname(fd)});
      what = "connect";
    } else if (r >= 35 && r < 42 && !clients_.empty()) {
      const size_t i = rng_.below(static_cast<uint32_t>(clients_.size()));
      EXPECT_EQ(client_.close(clients_[i].fd), Errno::ok);
      clients_.erase(clients_.begin() + static_cast<long>(i));
      what = "client close";
    } else if (r >= 42 && r < 50 && !accepted_.empty()) {
      const size_t i = rng_.below(static_cast<uint32_t>(accepted_.size()));
      uint8_t buf[64];
      (void)server_.recv(accepted_[i], buf);  // close after reading: FIN, not RST
      EXPECT_EQ(server_.close(accepted_[i]), Errno::ok);
      accepted_.erase(accepted_.begin() + static_cast<long>(i));
      what = "server closes a child";
    } else if (r >= 50 && r < 52 && lfd_ >= 0) {
      EXPECT_EQ(server_.close(lfd_), Errno::ok);
      lfd_ = -1;
      what = "close listener";
    } else if (r >= 50 && r < 70 && lfd_ < 0) {
      open_listener();
      what = "reopen listener";
    } else if (r >= 50 && r < 70) {
      if (policy_ == AcceptPolicy::eager || (policy_ == AcceptPolicy::sometimes && rng_.chance(50)))
        accept_all();
      what = "accept";
    } else {
      what = "run";
    }
    serve();
    const uint32_t k = rng_.below(10);
    link_.run_for(k < 6 ? std::chrono::milliseconds(1 + rng_.below(200))
                        : std::chrono::milliseconds(200 + rng_.below(5000)));
    return check(what);
  }

  // After the settle hour every client socket must be in a final state the
  // server agrees with.
  std::string final_states() {
    std::map<std::pair<Endpoint, Endpoint>, TcpState> server_side;  // (server local, remote)
    for (const SocketInfo& i : server_.sockets())
      if (i.state != TcpState::listen && i.local.port == kPort)
        server_side[{i.local, i.remote}] = i.state;
    std::vector<std::string> v;
    std::vector<std::pair<Endpoint, Endpoint>> client_established;
    for (const Client& c : clients_) {
      const TcpState st = *client_.state(c.fd);
      const auto key = std::make_pair(ep("10.0.0.1", kPort), c.local);
      const auto it = server_side.find(key);
      const std::string who = "client fd " + std::to_string(c.fd) + " " + c.local.to_string() +
                              " " + std::string(tcp_state_name(st));
      const TcpState srv = it == server_side.end() ? TcpState::closed : it->second;
      std::string outcome(tcp_state_name(st));
      if (st == TcpState::established) {
        // Connected: the server has it accepted or queued.
        client_established.push_back(key);
        if (srv != TcpState::established)
          v.push_back(who + ": server side is " + std::string(tcp_state_name(srv)));
      } else if (st == TcpState::close_wait) {
        // The server application closed it: its side is gone or closing.
        if (srv == TcpState::established || srv == TcpState::syn_received)
          v.push_back(who + ": server side is " + std::string(tcp_state_name(srv)));
      } else if (st == TcpState::closed) {
        // Refused, timed out or reset, and the server holds nothing live for it.
        const Errno err = static_cast<Errno>(*client_.getsockopt(c.fd, SockOpt::so_error));
        outcome = err == Errno::econnrefused ? "refused"
                  : err == Errno::etimedout  ? "timed out"
                  : err == Errno::econnreset ? "reset"
                                             : "other";
        if (err != Errno::econnrefused && err != Errno::etimedout && err != Errno::econnreset)
          v.push_back(who + ": closed with SO_ERROR " + std::to_string(static_cast<int>(err)));
        if (srv == TcpState::established || srv == TcpState::syn_received)
          v.push_back(who + ": server side is " + std::string(tcp_state_name(srv)));
      } else {
        v.push_back(who + ": not final after an hour");
      }
      if (outcomes_) ++outcomes_->n[outcome];
    }
    // And the other way: every established server child has a connected client.
    for (const auto& [key, st] : server_side) {
      if (st != TcpState::established) continue;
      if (std::find(client_established.begin(), client_established.end(), key) ==
          client_established.end())
        v.push_back("server " + key.first.to_string() + "<-" + key.second.to_string() +
                    " ESTABLISHED without a connected client");
    }
    return v.empty() ? std::string() : fail("final states", v);
  }

  std::string model_;
  uint64_t seed_;
  Rng rng_;
  Stack client_;
  Stack server_;
  Link link_;
  AcceptPolicy policy_ = AcceptPolicy::eager;
  int backlog_ = 0;
  int lfd_ = -1;
  int step_ = 0;
  std::vector<Client> clients_;
  std::vector<int> accepted_;
  Outcomes* outcomes_ = nullptr;
};

TEST(Invariants, RandomClientServerRunsEndInAgreedStates) {
  const std::vector<std::string> models = implemented_models();
  ASSERT_NE(std::find(models.begin(), models.end(), "linux"), models.end());
  constexpr uint64_t kSeedsPerModel = 100;
  for (const std::string& m : models) {
    Outcomes out;
    for (uint64_t seed = 1; seed <= kSeedsPerModel; ++seed) {
      const std::string failure = PairRun(m, seed).run(&out);
      ASSERT_TRUE(failure.empty()) << failure;
    }
    std::cout << "[ " << m << " ] " << kSeedsPerModel << " client/server runs, client outcomes:";
    for (const auto& [k, n] : out.n) std::cout << " " << k << " " << n << ";";
    std::cout << "\n";
    // The runs must reach the outcomes the final check distinguishes.
    EXPECT_GT(out.n["ESTABLISHED"], 0u) << m;
    EXPECT_GT(out.n["timed out"] + out.n["reset"] + out.n["refused"], 0u) << m;
  }
}

}  // namespace
}  // namespace synq::test
