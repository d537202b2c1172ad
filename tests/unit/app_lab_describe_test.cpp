// The header line of a run says what runs: describe() builds it from the
// settings, and the built-ins' own prose agrees with their settings and with
// what their runs do.
#include <gtest/gtest.h>

#include <regex>

#include "lab/builtin.hpp"
#include "lab/describe.hpp"
#include "lab/lab_run.hpp"

namespace synq::lab {
namespace {

TEST(Describe, ACustomRunSaysBacklogClientsArrivalsAcceptAndDuration) {
  Scenario s;
  s.backlog = 8;
  s.clients = 20;
  s.arrival = {Arrival::Kind::every, 0.25, {}};
  EXPECT_EQ(describe(s),
            "listen(fd, 8); 20 clients, one every 250 ms; accept() never called; 70 s");
  s.arrival = {Arrival::Kind::burst, 0, {}};
  s.accept = {AcceptPolicy::Kind::rate, 150};
  s.duration_s = 3;
  s.seed = 7;
  EXPECT_EQ(describe(s),
            "listen(fd, 8); 20 clients at once; accept() 150 times a second; 3 s, seed 7");
}

TEST(Describe, WorkersReplaceTheAcceptPolicyAndEveryNonDefaultKnobIsNamed) {
  Scenario s;
  s.clients = 1;
  s.arrival = {Arrival::Kind::poisson, 300, {}};
  s.workers = 4;
  s.service = {ServiceTime::Kind::exponential, 0.01, 0};
  s.accept = {AcceptPolicy::Kind::rate, 5};  // ignored with workers: not mentioned
  s.connect_timeout_s = 0.5;
  s.server_sysctls = {{"net.ipv4.tcp_syncookies", "0"}};
  s.client_sysctls = {{"net.ipv4.tcp_syn_retries", "2"}};
  s.latency_ms = 0.05;
  const std::string d = describe(s);
  EXPECT_EQ(d,
            "listen(fd, 128); 1 client, Poisson arrivals at 300/s giving up after 500 ms; "
            "4 workers with exp(10 ms) service; 0.05 ms one-way; net.ipv4.tcp_syncookies=0; "
            "clients' net.ipv4.tcp_syn_retries=2; 70 s");
}

TEST(Describe, ScriptedStartsAndAcceptsAreNamed) {
  Scenario s;
  s.clients = 3;
  s.client_start_s = {0, 1, 2};
  s.accept_once_at = {5};
  EXPECT_EQ(describe(s),
            "listen(fd, 128); 3 clients at scripted times; no accept loop, one accept() at 5 s; "
            "70 s");
}

// A built-in's prose that names listen(fd, B) names the backlog it passes.
TEST(BuiltinProse, TheBacklogInTheDescriptionIsTheOneUsed) {
  const std::regex listen_call(R"(listen\(fd, (\d+)\))");
  for (const auto& b : builtin_scenarios())
    for (const auto& s : b.runs) {
      std::smatch m;
      if (std::regex_search(s.description, m, listen_call)) {
        EXPECT_EQ(std::stoi(m[1]), s.backlog) << b.name << ": " << s.description;
      }
    }
}

// The seeds prose names what each run shows; each claim is checked against
// the run's own story (the ignored third ACK exists on linux only).
TEST(BuiltinProse, SeedsClaimsWhatItsRunsShow) {
  const BuiltinScenario* b = find_builtin("seeds");
  ASSERT_NE(b, nullptr);
  for (const auto& s : b->runs) {
    const LabResult r = run(s);
    ASSERT_TRUE(r.error.empty()) << r.error;
    const auto happened = [&](const char* kind) {
      for (const auto& e : r.story)
        if (e.kind == kind) return true;
      return false;
    };
    const bool claims_ignored = s.description.find("ignored third ACK") != std::string::npos;
    EXPECT_EQ(claims_ignored, happened("third_ack_ignored")) << s.model << ": " << s.description;
    const bool claims_expiry = s.description.find("expired request") != std::string::npos;
    EXPECT_EQ(claims_expiry, happened("request_expired")) << s.model << ": " << s.description;
  }
}

}  // namespace
}  // namespace synq::lab
