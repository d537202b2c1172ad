// How fast the lab simulates: whole scenarios through lab::run, reported as
// client connections per second of wall time (items_per_second). The 1M case
// is the yardstick: a million connections must take well under 10 s
// on one core.
//  - BM_LabConnections/N: N clients, Poisson at 100k/s, an accept loop that
//    takes everything, no payload (connect, accept, close), timeline off.
//  - BM_LabSeeds: the seeds story with its full timeline (the interactive case).
#include <benchmark/benchmark.h>

#include "lab/builtin.hpp"
#include "lab/lab_run.hpp"

namespace {

using namespace synq::lab;

Scenario connections(int n) {
  Scenario s;
  s.name = "bench";
  s.backlog = 4096;
  s.clients = n;
  s.arrival = {Arrival::Kind::poisson, 100000, {}};
  s.accept = {AcceptPolicy::Kind::at, 0};
  s.request_bytes = 0;
  s.response_bytes = 0;
  s.latency_ms = 0.1;
  s.duration_s = n / 100000.0 + 2;
  return s;
}

void BM_LabConnections(benchmark::State& state) {
  const Scenario s = connections(static_cast<int>(state.range(0)));
  RunOptions o;
  o.record_timeline = false;
  o.decision_limit = 0;
  size_t established = 0;
  for (auto _ : state) {
    LabResult r = run(s, o);
    established = 0;
    for (const auto& c : r.clients) established += c.outcome == Outcome::established;
    benchmark::DoNotOptimize(r);
  }
  if (established != static_cast<size_t>(s.clients))
    state.SkipWithError("not every client was established");
  state.SetItemsProcessed(state.iterations() * s.clients);
  state.counters["established"] = static_cast<double>(established);
}
BENCHMARK(BM_LabConnections)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

void BM_LabSeeds(benchmark::State& state) {
  const Scenario s = find_builtin("seeds")->runs.front();
  for (auto _ : state) benchmark::DoNotOptimize(run(s));
  state.SetItemsProcessed(state.iterations() * s.clients);
}
BENCHMARK(BM_LabSeeds)->Unit(benchmark::kMillisecond);

}  // namespace
