// The `synflood` built-in's bsd44 and xnu runs (docs/lab.md): the same 5 s
// flood (1 s to 6 s, 2000 SYNs/s from spoofed sources) that Linux absorbs,
// against the BSD-derived listeners, run long enough for their 75 s
// connection-establishment timer (TCPTV_KEEP_INIT) to fire on the flood's
// embryonic connections: each is reset with RST|ACK 75 s after its SYN.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "lab/builtin.hpp"
#include "lab/lab_run.hpp"
#include "listen/backlog_model.hpp"
#include "synq/errno.hpp"

namespace synq::lab {
namespace {

constexpr double kFloodStart = 1, kFloodStop = 6;

const Scenario* flood_run(const std::string& model) {
  const BuiltinScenario* b = find_builtin("synflood");
  if (!b) return nullptr;
  for (const auto& s : b->runs)
    if (s.model == model) return &s;
  return nullptr;
}

// Each flood request's creation time, by peer; and its expiry decisions.
struct FloodLife {
  std::map<std::string, double> created;
  std::vector<Decision> expired;
};

FloodLife flood_life(const LabResult& r) {
  FloodLife f;
  for (const Decision& d : r.decisions) {
    if (d.client >= 0) continue;  // a real client
    if (d.decision == "request") f.created[d.peer] = d.t;
    if (d.reason_key == "request_expired") f.expired.push_back(d);
  }
  return f;
}

TEST(SynFloodBsd44, TheFloodHoldsEveryEmbryonicSlotFor75sThenEachIsReset) {
  if (!listen::make_backlog_model("bsd44")) GTEST_SKIP() << "bsd44 is not built in";
  const Scenario* s = flood_run("bsd44");
  ASSERT_NE(s, nullptr);
  const LabResult r = run(*s);
  ASSERT_TRUE(r.error.empty()) << r.error;
  // listen(fd, 128) → B = SOMAXCONN 5 → ⌊3B/2⌋+1 = 8 connections in all.
  EXPECT_EQ(r.backlog_clamped, 5u);
  const FloodLife f = flood_life(r);
  ASSERT_EQ(f.expired.size(), 8u);
  double released = 1e9;
  for (const Decision& d : f.expired) {
    ASSERT_TRUE(f.created.count(d.peer)) << d.peer;
    EXPECT_NEAR(d.t, f.created.at(d.peer) + 75, 1e-9) << d.peer;
    EXPECT_GE(f.created.at(d.peer), kFloodStart);
    released = std::min(released, d.t);
  }
  EXPECT_EQ(r.server.get(Counter::Tcp_OutRsts), 8u) << "one RST|ACK per reset connection";
  EXPECT_EQ(r.server.get(Counter::Tcp_AttemptFails), 8u);
  // While the flood's connections hold the listener, no real client gets in;
  // those still retrying when it is released do, the rest time out.
  int before = 0, after = 0, timed_out = 0;
  for (const ClientResult& c : r.clients) {
    if (c.outcome == Outcome::established) {
      const double at = c.start_s + c.connect_time_s;
      // Client 20 connects at 1 s, in the same instant as the flood's first
      // SYN, and its SYN is first in line: it takes one of the 8 slots.
      const bool early = c.start_s <= kFloodStart;
      EXPECT_TRUE(early ? at < kFloodStart + 0.01 : at > released)
          << "client " << c.id << " at " << at;
      (early ? before : after)++;
    } else {
      EXPECT_EQ(c.outcome, Outcome::timed_out) << "client " << c.id;
      EXPECT_NEAR(c.end_s, c.start_s + 131, 1e-6);
      ++timed_out;
    }
  }
  EXPECT_EQ(before, 21);  // one every 50 ms up to the flood's start
  EXPECT_GT(after, 0);
  EXPECT_GT(timed_out, 0);
}

TEST(SynFloodXnu, EvictionKeepsClientsInAndTheFloodsLastConnectionsAreResetAt75s) {
  if (!listen::make_backlog_model("xnu")) GTEST_SKIP() << "xnu is not built in";
  const Scenario* s = flood_run("xnu");
  ASSERT_NE(s, nullptr);
  // Two decisions per flood SYN (the eviction, the new request): keep them
  // all, past the default limit, to see each expiry beside its creation.
  RunOptions o;
  o.decision_limit = 100000;
  o.record_timeline = false;
  const LabResult r = run(*s, o);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const FloodLife f = flood_life(r);
  // Only connections created near the end of the flood live 75 s: the others
  // were evicted by later SYNs. Each is reset 75 s after its SYN.
  ASSERT_GT(f.expired.size(), 0u);
  EXPECT_LE(f.expired.size(), 128u);
  for (const Decision& d : f.expired) {
    ASSERT_TRUE(f.created.count(d.peer)) << d.peer;
    EXPECT_NEAR(d.t, f.created.at(d.peer) + 75, 1e-9) << d.peer;
    EXPECT_GT(f.created.at(d.peer), kFloodStop - 1) << "an early flood connection survived";
  }
  // Under the flood tcp_dropdropablreq picks its victim at random (a burst):
  // now and then a real client's embryonic connection is the one evicted,
  // and its ACK then finds no socket and gets a RST (ECONNRESET).
  int established = 0, reset = 0;
  for (const ClientResult& c : r.clients) {
    established += c.outcome == Outcome::established;
    reset += c.outcome == Outcome::reset;
  }
  // Every RST the server sent is one of the flood's 75 s RST|ACKs or the
  // listener's answer to an evicted client's segment (its ACK, its request).
  size_t rsts_to_clients = 0;
  for (const Decision& d : r.decisions) {
    if (d.client < 0 || d.decision != "rst") continue;
    EXPECT_EQ(d.reason_key, "ack_to_listener");
    EXPECT_EQ(r.clients[size_t(d.client)].outcome, Outcome::reset);
    ++rsts_to_clients;
  }
  EXPECT_GE(rsts_to_clients, size_t(reset));
  EXPECT_EQ(r.server.get(Counter::Tcp_OutRsts), f.expired.size() + rsts_to_clients);
  EXPECT_GT(established, 190) << "eviction leaves room for real clients";
  EXPECT_EQ(established + reset, 200);
}

}  // namespace
}  // namespace synq::lab
