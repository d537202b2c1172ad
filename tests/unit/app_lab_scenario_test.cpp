// Scenario files (TOML), the flag parsers, and what the runner makes of the
// knobs: workers and service times, connect timeouts, trace arrivals, the
// SYN-flood attacker, sweeps.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "lab/builtin.hpp"
#include "lab/lab_run.hpp"
#include "lab/sweep.hpp"

namespace synq::lab {
namespace {

std::string err;

TEST(ScenarioToml, ReadsEverySection) {
  const std::string text = R"(
name = "mine"
description = "a test"
duration = 12.5
seed = 9

[server]
model = "linux"
backlog = 16
accept = "rate:50"
accept_once_at = [1.0, 2.0]
[server.sysctl]
"net.ipv4.tcp_syncookies" = 0
"net.core.somaxconn" = 64

[clients]
count = 40
arrival = "poisson:100"
request_bytes = 10
response_bytes = 20
connect_timeout = 0.5
[clients.sysctl]
"net.ipv4.tcp_syn_retries" = 2

[link]
latency_ms = 5
jitter_ms = 1
loss = 0.01
bandwidth_bps = 10000000
outage = "3:4.5,6:7"

[attacker]
rate = 1000
sources = 16
start = 2
stop = 4
)";
  auto s = parse_scenario_toml(text, "mine.toml", &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->name, "mine");
  EXPECT_EQ(s->duration_s, 12.5);
  EXPECT_EQ(s->seed, 9u);
  EXPECT_EQ(s->backlog, 16);
  EXPECT_EQ(s->accept.kind, AcceptPolicy::Kind::rate);
  EXPECT_EQ(s->accept_once_at.size(), 2u);
  ASSERT_EQ(s->server_sysctls.size(), 2u);
  const auto has = [&](const char* k, const char* v) {
    for (const auto& kv : s->server_sysctls)
      if (kv.first == k && kv.second == v) return true;
    return false;
  };
  EXPECT_TRUE(has("net.ipv4.tcp_syncookies", "0"));
  EXPECT_TRUE(has("net.core.somaxconn", "64"));
  EXPECT_EQ(s->clients, 40);
  EXPECT_EQ(s->arrival.kind, Arrival::Kind::poisson);
  EXPECT_EQ(s->request_bytes, 10u);
  EXPECT_EQ(s->connect_timeout_s, 0.5);
  ASSERT_EQ(s->client_sysctls.size(), 1u);
  EXPECT_EQ(s->latency_ms, 5);
  EXPECT_EQ(s->loss, 0.01);
  EXPECT_EQ(s->bandwidth_bps, 10000000u);
  ASSERT_EQ(s->outages.size(), 2u);
  EXPECT_EQ(s->outages[0].from_s, 3);
  EXPECT_EQ(s->outages[0].until_s, 4.5);
  EXPECT_EQ(s->outages[1].from_s, 6);
  EXPECT_EQ(s->attacker.rate, 1000);
  EXPECT_EQ(s->attacker.sources, 16u);
  EXPECT_EQ(s->attacker.stop_s, 4);
  // Workers replace the accept policy, so they are read from a file without one.
  auto w = parse_scenario_toml("[server]\nworkers = 3\nservice = \"exp:0.02\"\n", "w.toml", &err);
  ASSERT_TRUE(w) << err;
  EXPECT_EQ(w->workers, 3);
  EXPECT_EQ(w->service.kind, ServiceTime::Kind::exponential);
  EXPECT_DOUBLE_EQ(w->service.a, 0.02);
}

struct BadFile {
  const char* text;
  const char* where;  // "file:line:column"
  const char* says;
};

TEST(ScenarioToml, BadFilesNameLineAndWhatWasExpected) {
  const BadFile cases[] = {
      {"[server]\nbacklog = \"many\"\n", "bad.toml:2:", "'backlog' must be an integer"},
      {"[server]\nmodle = \"linux\"\n", "bad.toml:2:", "unknown key 'modle' in [server]"},
      {"[clients]\narrival = \"sometimes\"\n",
       "bad.toml:2:", "expected burst, every:SECONDS, poisson:PER_SECOND"},
      {"duration = 10\n[link]\nloss = 2\n", "bad.toml:3:", "probability"},
      {"[server.sysctl]\n\"net.ipv4.tcp_nosuch\" = 1\n", "bad.toml:2:", "tcp_nosuch"},
      {"name = \"x\"\n[server\n", "bad.toml:2:", ""},
      {"server = 3\n", "bad.toml:1:", "'server' must be a table"},
      {"[server]\naccept = \"rate:-1\"\n", "bad.toml:2:", "rate:PER_SECOND"},
      {"[link]\noutage = \"80:10\"\n", "bad.toml:2:", "'80:10'"},
      {"[link]\noutage = 10\n", "bad.toml:2:", "'outage' must be a string"},
  };
  for (const auto& c : cases) {
    std::string e;
    EXPECT_FALSE(parse_scenario_toml(c.text, "bad.toml", &e)) << c.text;
    EXPECT_EQ(e.rfind(c.where, 0), 0u) << "error: " << e;
    EXPECT_NE(e.find(c.says), std::string::npos) << "error: " << e;
  }
}

TEST(ScenarioFlags, ParsersAcceptTheDocumentedFormsOnly) {
  EXPECT_EQ(Arrival::parse("every:0.5", &err)->param, 0.5);
  EXPECT_EQ(Arrival::parse("trace:/tmp/x", &err)->trace_path, "/tmp/x");
  EXPECT_FALSE(Arrival::parse("poisson:0", &err));
  EXPECT_FALSE(Arrival::parse("every", &err));
  EXPECT_EQ(AcceptPolicy::parse("at:3", &err)->param, 3);
  EXPECT_FALSE(AcceptPolicy::parse("sometimes", &err));
  auto u = ServiceTime::parse("uniform:0.01:0.03", &err);
  ASSERT_TRUE(u) << err;
  EXPECT_DOUBLE_EQ(u->mean(), 0.02);
  EXPECT_FALSE(ServiceTime::parse("uniform:0.03:0.01", &err));
  EXPECT_FALSE(ServiceTime::parse("exp:0", &err));
  auto o = LinkOutage::parse("10:80,90:95.5", &err);
  ASSERT_TRUE(o) << err;
  ASSERT_EQ(o->size(), 2u);
  EXPECT_EQ((*o)[1].until_s, 95.5);
  EXPECT_EQ(LinkOutage::to_string(*o), "10:80,90:95.5");
  EXPECT_TRUE(LinkOutage::parse("none", &err)->empty());
  for (const char* bad :
       {"10", "80:10", "10:10", "-1:5", "nan:5", "1:inf", "10:80,70:90", "1:2,", ":5", "5:"}) {
    err.clear();
    EXPECT_FALSE(LinkOutage::parse(bad, &err)) << bad;
    EXPECT_NE(err.find("FROM:UNTIL"), std::string::npos) << err;
  }
}

Scenario small() {
  Scenario s;
  s.backlog = 8;
  s.clients = 20;
  s.arrival = {Arrival::Kind::every, 0.01, {}};
  s.duration_s = 5;
  return s;
}

TEST(LabRun, WorkersServeEveryClientWithTheirServiceTime) {
  Scenario s = small();
  s.backlog = 32;  // room for everyone: no drops, only waiting
  s.workers = 2;
  s.service = {ServiceTime::Kind::fixed, 0.1, 0};
  const LabResult r = run(s);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.accepted, 20u);
  // Two workers, 0.1 s each, 20 clients: ten rounds, the last response at ~1 s.
  double last_end = 0;
  for (const auto& c : r.clients) {
    EXPECT_EQ(c.outcome, Outcome::established);
    last_end = std::max(last_end, c.end_s);
  }
  EXPECT_NEAR(last_end, 1.0, 0.05);
}

TEST(LabRun, ConnectTimeoutGivesUpWithoutRetrying) {
  Scenario s = small();
  s.backlog = 1;  // accept queue holds 2
  s.accept = {AcceptPolicy::Kind::never, 0};
  s.connect_timeout_s = 0.5;
  const LabResult r = run(s);
  size_t timed_out = 0, established = 0;
  for (const auto& c : r.clients) {
    timed_out += c.outcome == Outcome::timed_out;
    established += c.outcome == Outcome::established;
    EXPECT_LE(c.syn_drops, 1u) << "no SYN retry before 0.5 s";
  }
  EXPECT_GE(established, 2u);
  EXPECT_GT(timed_out, 10u);
}

TEST(LabRun, TraceFileArrivals) {
  const std::string path = ::testing::TempDir() + "/lab_trace.txt";
  {
    std::ofstream f(path);
    f << "# connect times\n0.1\n0.2\n\n0.7  # late\n";
  }
  Scenario s = small();
  s.arrival = {Arrival::Kind::trace, 0, path};
  s.accept = {AcceptPolicy::Kind::at, 0};
  const LabResult r = run(s);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.clients.size(), 3u);
  EXPECT_DOUBLE_EQ(r.clients[2].start_s, 0.7);
  std::ofstream(path) << "0.5\n0.1\n";
  EXPECT_FALSE(load_arrival_trace(path, &err));
  EXPECT_NE(err.find(":2:"), std::string::npos) << err;
}

TEST(LabRun, SynFloodFillsTheSynQueueAndCookiesKeepClientsIn) {
  const BuiltinScenario* b = find_builtin("synflood");
  ASSERT_NE(b, nullptr);
  ASSERT_GE(b->runs.size(), 2u);
  ASSERT_EQ(b->runs[0].model, "linux");
  ASSERT_EQ(b->runs[1].model, "linux");
  RunOptions o;
  o.record_timeline = false;
  const LabResult cookies = run(b->runs[0], o);
  const LabResult none = run(b->runs[1], o);
  ASSERT_TRUE(cookies.error.empty()) << cookies.error;
  EXPECT_GT(cookies.attacker_syns, 9000u);
  EXPECT_GT(cookies.server.get(Counter::TcpExt_SyncookiesSent), 0u);
  EXPECT_GE(none.max_syn_queue, 128u);
  size_t ok_cookies = 0, ok_none = 0;
  for (const auto& c : cookies.clients)
    ok_cookies += c.outcome == Outcome::established && c.syn_drops == 0;
  for (const auto& c : none.clients)
    ok_none += c.outcome == Outcome::established && c.syn_drops == 0;
  EXPECT_GT(ok_cookies, ok_none) << "cookies let first SYNs through during the flood";
}

TEST(LabSweep, BacklogAxisAndTheCapacityAnswer) {
  auto x = SweepAxis::parse("backlog=1..16", &err);
  ASSERT_TRUE(x) << err;
  EXPECT_EQ(x->values, (std::vector<std::string>{"1", "2", "4", "8", "16"}));
  EXPECT_FALSE(SweepAxis::parse("nosuch=1,2", &err));
  EXPECT_FALSE(SweepAxis::parse("backlog=", &err));
  auto y = SweepAxis::parse("net.ipv4.tcp_syncookies=0,1", &err);
  ASSERT_TRUE(y) << err;

  Scenario s = small();
  s.clients = 300;
  s.arrival = {Arrival::Kind::poisson, 300, {}};
  s.workers = 2;
  s.service = {ServiceTime::Kind::exponential, 0.005, 0};
  s.connect_timeout_s = 0.3;
  s.duration_s = 3;
  const SweepResult one = run_sweep(s, *x, std::nullopt, 0.01, 1);
  const SweepResult two = run_sweep(s, *x, std::nullopt, 0.01, 2);
  ASSERT_EQ(one.rows.size(), 5u);
  for (size_t i = 0; i < one.rows.size(); ++i) {
    EXPECT_EQ(one.rows[i].drop_rate, two.rows[i].drop_rate) << "threads change nothing";
    EXPECT_TRUE(one.rows[i].error.empty()) << one.rows[i].error;
  }
  EXPECT_GT(one.rows.front().drop_rate, one.rows.back().drop_rate);
  // The answer names the first backlog under the target.
  std::string expected;
  for (const auto& row : one.rows)
    if (row.drop_rate < 0.01) {
      expected = row.x;
      break;
    }
  ASSERT_FALSE(expected.empty());
  EXPECT_NE(one.answer.find("is " + expected), std::string::npos) << one.answer;
  const SweepResult grid = run_sweep(s, *x, y, 0.01, 0);
  EXPECT_EQ(grid.rows.size(), 10u);
}

}  // namespace
}  // namespace synq::lab
