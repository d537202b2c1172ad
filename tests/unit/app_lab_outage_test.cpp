// The `outage` built-in (docs/lab.md): the client–server link is down from 10 s
// to 80 s. Clients 2–6 sent their SYNs just before, so the server holds a
// half-open connection for each and every answer is lost. What the clients
// learn, and when, is the kernels' difference: bsd44 and xnu reset the
// embryonic connection when their 75 s connection-establishment timer fires
// (RST|ACK, seq ISS+1, ack IRS+1: ECONNREFUSED), linux and freebsd forget it
// silently and the clients wait out their own SYN limit (ETIMEDOUT).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "lab/builtin.hpp"
#include "lab/lab_run.hpp"
#include "listen/backlog_model.hpp"
#include "synq/errno.hpp"
#include "wire/tcp_header.hpp"

namespace synq::lab {
namespace {

constexpr double kOneWay = 0.040;  // the scenario's latency
constexpr double kDown = 10, kUp = 80;

LabResult run_outage(const std::string& model) {
  const BuiltinScenario* b = find_builtin("outage");
  EXPECT_NE(b, nullptr);
  for (const auto& s : b->runs)
    if (s.model == model) return run(s);
  ADD_FAILURE() << "outage has no run on " << model;
  return {};
}

// The clients whose SYN was on the wire when the link went down.
bool caught(const ClientResult& c) {
  return c.start_s < kDown && c.start_s + kOneWay > kDown;
}

class Outage : public ::testing::TestWithParam<const char*> {};

TEST_P(Outage, ClientsCaughtMidHandshakeAreRefusedAt75sOrTimeOutSilently) {
  const std::string model = GetParam();
  if (!listen::make_backlog_model(model)) GTEST_SKIP() << model << " is not built in";
  const LabResult r = run_outage(model);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const bool tells = model == "bsd44" || model == "xnu";
  int n_caught = 0;
  for (const ClientResult& c : r.clients) {
    SCOPED_TRACE("client " + std::to_string(c.id) + " at " + std::to_string(c.start_s));
    if (!caught(c)) {
      // Before the outage, or during it (its 87 s SYN retransmission gets in).
      EXPECT_EQ(c.outcome, Outcome::established);
      if (c.start_s > kDown) {
        EXPECT_GT(c.connect_time_s + c.start_s, kUp);
      }
      continue;
    }
    ++n_caught;
    // Its SYN reached the server at start + 40 ms; the answer never came back.
    const double syn_arrived = c.start_s + kOneWay;
    if (tells) {
      // tcp_timers TCPT_KEEP → tcp_drop: RST|ACK 75 s after the SYN arrived,
      // 40 ms on the wire: connect() fails with ECONNREFUSED.
      EXPECT_EQ(c.outcome, Outcome::refused);
      EXPECT_EQ(c.error, Errno::econnrefused);
      EXPECT_NEAR(c.end_s, syn_arrived + 75 + kOneWay, 1e-6);
    } else {
      // Nothing comes: the client's own limit, 131 s after connect().
      EXPECT_EQ(c.outcome, Outcome::timed_out);
      EXPECT_EQ(c.error, Errno::etimedout);
      EXPECT_NEAR(c.end_s, c.start_s + 131, 1e-6);
    }
  }
  EXPECT_EQ(n_caught, 5);

  // The server's side: one RST|ACK per caught client, sent 75 s after its
  // SYN arrived, seq ISS+1 — or none at all.
  int rst_acks = 0;
  for (const TimelineEntry& e : r.timeline) {
    if (e.kind != TimelineEntry::Kind::packet || e.direction != "server>client") continue;
    if (e.flags != (wire::tcp_flags::RST | wire::tcp_flags::ACK)) continue;
    ++rst_acks;
    ASSERT_GE(e.client, 0);
    const ClientResult& c = r.clients[static_cast<size_t>(e.client)];
    EXPECT_TRUE(caught(c));
    EXPECT_NEAR(e.t, c.start_s + kOneWay + 75, 1e-6);
    EXPECT_FALSE(e.lost) << "the link is up again at 80 s";
  }
  EXPECT_EQ(rst_acks, tells ? 5 : 0);
}

INSTANTIATE_TEST_SUITE_P(Models, Outage, ::testing::Values("linux", "bsd44", "xnu", "freebsd"));

TEST(OutageScenario, EveryBuiltModelHasARun) {
  const BuiltinScenario* b = find_builtin("outage");
  ASSERT_NE(b, nullptr);
  size_t built = 0;
  for (const char* m : {"linux", "bsd44", "xnu", "freebsd"})
    if (listen::make_backlog_model(m)) ++built;
  EXPECT_EQ(b->runs.size(), built);
  for (const auto& s : b->runs) {
    ASSERT_EQ(s.outages.size(), 1u);
    EXPECT_EQ(s.outages[0].from_s, kDown);
    EXPECT_EQ(s.outages[0].until_s, kUp);
  }
}

}  // namespace
}  // namespace synq::lab
