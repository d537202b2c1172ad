// The lab against queueing theory. Poisson arrivals, c workers with
// exponential service and clients that give up instead of retrying make the
// linux listener an M/M/c/K loss system with K = c + B + 1 (the accept queue
// holds B + 1; a worker that has accept()ed is "in service"). The simulated
// fraction of clients whose SYN was dropped must match the Erlang blocking
// probability within a batch-means confidence interval — and the neighbouring
// capacities K - 1 and K + 1 must fall outside it, so the test can tell.
#include <gtest/gtest.h>

#include <cmath>

#include "lab/lab_run.hpp"
#include "lab/theory.hpp"

namespace synq::lab {
namespace {

TEST(MmckTheory, ErlangFormulaKnownValues) {
  // M/M/1/1 is Erlang B with one server: a / (1 + a).
  EXPECT_NEAR(mmck_blocking(1, 1, 1, 1), 0.5, 1e-12);
  // Erlang B, c = K = 2, a = 1: (1/2) / (1 + 1 + 1/2) = 0.2.
  EXPECT_NEAR(mmck_blocking(1, 1, 2, 2), 0.2, 1e-12);
  // M/M/1/K with ρ = 1: every state equally likely, 1 / (K + 1).
  EXPECT_NEAR(mmck_blocking(3, 3, 1, 4), 0.2, 1e-12);
  EXPECT_EQ(mmck_capacity("linux", 2, 2), 5);     // B + 1 children wait
  EXPECT_EQ(mmck_capacity("bsd44", 2, 2), 6);     // ⌊3B/2⌋ + 1 = 4
  EXPECT_EQ(mmck_capacity("freebsd", 4, 8), 17);  // ⌊3B/2⌋ + 1 = 13
  EXPECT_EQ(mmck_capacity("xnu", 1, 5), 6);       // B
  EXPECT_EQ(mmck_capacity("solaris", 1, 5), -1);
}

struct Case {
  int workers, backlog;
  double lambda, mean_service;
  int clients;
};

void check_against_theory(const Case& k) {
  Scenario s;
  s.name = "mmck";
  s.model = "linux";
  s.backlog = k.backlog;
  s.clients = k.clients;
  s.arrival = {Arrival::Kind::poisson, k.lambda, {}};
  s.workers = k.workers;
  s.service = {ServiceTime::Kind::exponential, k.mean_service, 0};
  s.latency_ms = 0.01;        // RTT 20 µs ≪ 10 ms of service: a pure loss system
  s.connect_timeout_s = 0.3;  // give up before the first SYN retry (1 s): no retries
  s.request_bytes = 0;        // the worker's close() is the response: no payload buffers to fill
  s.response_bytes = 0;
  s.duration_s = k.clients / k.lambda + 2;
  s.seed = 7;
  RunOptions o;
  o.record_timeline = false;
  o.decision_limit = 0;
  const LabResult r = run(s, o);
  ASSERT_TRUE(r.error.empty()) << r.error;

  // Batch means over consecutive clients: blocking is autocorrelated in time.
  const int batches = 20;
  const size_t per = r.clients.size() / batches;
  std::vector<double> means;
  size_t blocked_total = 0;
  for (int b = 0; b < batches; ++b) {
    size_t blocked = 0;
    for (size_t i = b * per; i < (b + 1) * per; ++i) blocked += r.clients[i].first_syn_dropped;
    blocked_total += blocked;
    means.push_back(double(blocked) / double(per));
  }
  double mean = 0, var = 0;
  for (double m : means) mean += m / batches;
  for (double m : means) var += (m - mean) * (m - mean) / (batches - 1);
  const double half = 2.861 * std::sqrt(var / batches);  // t(0.995, 19): a 99% interval

  const double mu = 1 / k.mean_service;
  const int K = mmck_capacity("linux", k.workers, k.backlog);
  const double p = mmck_blocking(k.lambda, mu, k.workers, K);
  const double p_less = mmck_blocking(k.lambda, mu, k.workers, K - 1);
  const double p_more = mmck_blocking(k.lambda, mu, k.workers, K + 1);
  std::printf(
      "c=%d B=%d λ=%g μ=%g: simulated %.4f ± %.4f (%zu of %zu), M/M/c/K K=%d %.4f "
      "(K-1: %.4f, K+1: %.4f)\n",
      k.workers, k.backlog, k.lambda, mu, mean, half, blocked_total, per * batches, K, p, p_less,
      p_more);
  EXPECT_GT(blocked_total, 50u) << "too few drops to say anything";
  EXPECT_NEAR(mean, p, half) << "K = c + B + 1 = " << K;
  EXPECT_GT(std::abs(mean - p_less), half) << "K - 1 would fit as well: the test cannot tell";
  EXPECT_GT(std::abs(mean - p_more), half) << "K + 1 would fit as well: the test cannot tell";
  // Nobody retried: no client had a second SYN dropped.
  for (const auto& c : r.clients) EXPECT_LE(c.syn_drops, 1u);
}

TEST(MmckTheory, TwoWorkersBacklogTwo) {
  check_against_theory(
      {.workers = 2, .backlog = 2, .lambda = 150, .mean_service = 0.010, .clients = 20000});
}

TEST(MmckTheory, FourWorkersBacklogTwo) {
  check_against_theory(
      {.workers = 4, .backlog = 2, .lambda = 300, .mean_service = 0.010, .clients = 20000});
}

}  // namespace
}  // namespace synq::lab
