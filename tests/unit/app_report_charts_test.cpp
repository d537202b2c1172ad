// The report's charts: the reference line sits where each model's listener
// really stops (checked against the seeds run on that model), runs side by
// side share their y-scales, counts get whole-number ticks, an empty drop
// chart becomes a sentence, big runs get min–max bands, a backlog sweep gets
// a log2 axis and its target line, and the M/M/c/K box computes what
// theory.hpp says.
#include <gtest/gtest.h>

#include <cmath>

#include "lab/builtin.hpp"
#include "lab/lab_run.hpp"
#include "lab/report.hpp"
#include "lab/report/charts.hpp"
#include "lab/theory.hpp"
#include "listen/backlog_model.hpp"

namespace synq::lab {
namespace {

using nlohmann::ordered_json;

LabResult run_seeds(const std::string& model) {
  Scenario s = find_builtin("seeds")->runs.front();
  s.model = model;
  return run(s);
}

// The layer of a layered spec whose mark has this type, or null.
const ordered_json* layer(const ordered_json& spec, const std::string& mark) {
  for (const auto& l : spec["layer"])
    if (l["mark"]["type"] == mark) return &l;
  return nullptr;
}

TEST(QueueLimit, FormulasFromTheModelDocs) {
  EXPECT_EQ(queue_limit("linux", 2)->value, 3u);
  EXPECT_FALSE(queue_limit("linux", 2)->counts_half_open);
  EXPECT_EQ(queue_limit("bsd44", 2)->value, 4u);
  EXPECT_EQ(queue_limit("bsd44", 5)->value, 8u);
  EXPECT_TRUE(queue_limit("bsd44", 5)->counts_half_open);
  EXPECT_EQ(queue_limit("freebsd", 3)->value, 5u);
  EXPECT_FALSE(queue_limit("freebsd", 3)->counts_half_open);
  EXPECT_EQ(queue_limit("xnu", 4)->value, 4u);
  EXPECT_TRUE(queue_limit("xnu", 4)->counts_half_open);
  EXPECT_FALSE(queue_limit("solaris", 4).has_value());
}

// The line is only worth drawing if the queue really stops there: on seeds
// (B = 2, more clients than fit, nobody accepting until 70 s) every model
// fills exactly to its limit and never past it.
TEST(QueueLimit, EachModelFillsExactlyToItsLine) {
  for (const char* model : {"linux", "bsd44", "freebsd", "xnu"}) {
    if (!listen::make_backlog_model(model)) continue;
    SCOPED_TRACE(model);
    const LabResult r = run_seeds(model);
    ASSERT_TRUE(r.error.empty()) << r.error;
    const auto lim = queue_limit(model, r.backlog_clamped);
    ASSERT_TRUE(lim);
    uint32_t peak = 0;
    for (const auto& q : r.queues)
      peak = std::max(peak, lim->counts_half_open ? q.syn_queue + q.accept_queue : q.accept_queue);
    EXPECT_EQ(peak, lim->value);
    // And the chart draws it: a rule at the limit.
    const auto spec = queue_chart(r, shared_scales({r}));
    const auto* rule = layer(spec, "rule");
    ASSERT_NE(rule, nullptr);
    EXPECT_EQ(rule->at("data")["values"][0]["limit"], lim->value);
  }
}

TEST(Charts, RunsSideBySideShareTheirYScalesAndCountsHaveWholeTicks) {
  if (!listen::make_backlog_model("bsd44")) GTEST_SKIP();
  const std::vector<LabResult> runs = {run_seeds("linux"), run_seeds("bsd44")};
  const ChartScales sc = shared_scales(runs);
  const auto a = queue_chart(runs[0], sc), b = queue_chart(runs[1], sc);
  const auto& ya = layer(a, "line")->at("encoding")["y"];
  const auto& yb = layer(b, "line")->at("encoding")["y"];
  EXPECT_EQ(ya["scale"]["domain"], yb["scale"]["domain"]);
  // The domain holds both runs' peaks (linux's accept queue 3, bsd44's sum 4).
  EXPECT_GT(ya["scale"]["domain"][1].get<uint32_t>(), 4u);
  EXPECT_EQ(ya["axis"]["tickMinStep"], 1);
  EXPECT_EQ(ya["axis"]["format"], "d");
  const auto da = drops_chart(runs[0], sc), db = drops_chart(runs[1], sc);
  ASSERT_TRUE(da && db);
  EXPECT_EQ((*da)["encoding"]["y"]["scale"]["domain"], (*db)["encoding"]["y"]["scale"]["domain"]);
  EXPECT_EQ((*da)["encoding"]["y"]["axis"]["tickMinStep"], 1);
  // bsd44's limit counts half-open requests too: its chart draws the sum.
  bool sum = false;
  for (const auto& v : layer(b, "line")->at("data")["values"]) sum |= v["queue"] == "SYN + accept";
  EXPECT_TRUE(sum);
}

TEST(Charts, NoDropsMeansNoChart) {
  Scenario s;
  s.clients = 3;
  s.backlog = 16;
  s.accept = {AcceptPolicy::Kind::rate, 100};
  s.duration_s = 5;
  const LabResult r = run(s);
  ASSERT_TRUE(r.drops.by_reason.empty());
  EXPECT_FALSE(drops_chart(r, shared_scales({r})).has_value());
  EXPECT_TRUE(connect_chart(r, shared_scales({r})).has_value());
}

TEST(Charts, BinnedRunsGetAMinMaxBand) {
  Scenario s = find_builtin("steady")->runs.front();
  s.clients = 600;
  s.duration_s = 4;
  RunOptions o;
  o.queue_resolution_s = 0.05;
  o.record_timeline = false;
  const LabResult r = run(s, o);
  EXPECT_DOUBLE_EQ(r.queue_bin_s, 0.05);
  bool moved = false;
  for (const auto& q : r.queues) {
    EXPECT_LE(q.syn_queue_min, q.syn_queue);
    EXPECT_LE(q.accept_queue_min, q.accept_queue);
    moved |= q.accept_queue_min < q.accept_queue;
  }
  EXPECT_TRUE(moved) << "the accept queue moves within some bin at 200/s vs 150/s";
  const auto spec = queue_chart(r, shared_scales({r}));
  const auto* area = layer(spec, "area");
  ASSERT_NE(area, nullptr);
  EXPECT_EQ(area->at("encoding")["y2"]["field"], "low");
  // Every change recorded: no band, and min equals max.
  o.queue_resolution_s = 0;
  const LabResult fine = run(s, o);
  EXPECT_EQ(fine.queue_bin_s, 0);
  for (const auto& q : fine.queues) EXPECT_EQ(q.accept_queue_min, q.accept_queue);
  EXPECT_EQ(layer(queue_chart(fine, shared_scales({fine})), "area"), nullptr);
}

TEST(Charts, DecadeTicksForALogTimeAxis) {
  EXPECT_EQ(decade_ticks(0.001, 100), (std::vector<double>{0.001, 0.01, 0.1, 1, 10, 100}));
  EXPECT_EQ(decade_ticks(0.002, 0.5), (std::vector<double>{0.01, 0.1}));
  EXPECT_TRUE(decade_ticks(0, 1).empty());
}

TEST(Charts, BacklogSweepIsLog2WithTheTargetLine) {
  std::vector<SweepChartPoint> pts = {{1, "", 0.5, 1}, {2, "", 0.2, 1}, {4, "", 0.001, 0.1}};
  const auto spec = sweep_chart(pts, "backlog", "", "drop_rate", "y", "t", 0.01);
  const auto& x = layer(spec, "line")->at("encoding")["x"];
  EXPECT_EQ(x["scale"]["type"], "log");
  EXPECT_EQ(x["scale"]["base"], 2);
  EXPECT_EQ(x["axis"]["values"], (ordered_json{1, 2, 4}));
  const auto* rule = layer(spec, "rule");
  ASSERT_NE(rule, nullptr);
  EXPECT_DOUBLE_EQ(rule->at("data")["values"][0]["target"].get<double>(), 0.01);
  // Another parameter stays linear; no target, no line.
  const auto w = sweep_chart(pts, "workers", "", "p99_connect_s", "y", "t", -1);
  EXPECT_FALSE(layer(w, "line")->at("encoding")["x"].contains("scale"));
  EXPECT_EQ(layer(w, "rule"), nullptr);
}

TEST(Theory, TheWorkersScenarioGetsItsMmckPrediction) {
  Scenario s = find_builtin("workers")->runs.front();
  s.clients = 1500;
  s.duration_s = 6;
  RunOptions o;
  o.record_timeline = false;
  const LabResult r = run(s, o);
  const auto t = theory_check(r);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->c, 4);
  EXPECT_EQ(t->K, 9);  // the description's M/M/4/9 on linux
  EXPECT_DOUBLE_EQ(t->predicted, mmck_blocking(300, 100, 4, 9));
  EXPECT_FALSE(t->clients_retry);
  size_t dropped = 0, started = 0;
  for (const auto& c : r.clients)
    if (c.start_s <= s.duration_s) {
      ++started;
      dropped += c.saw_drop();
    }
  EXPECT_EQ(t->started, started);
  EXPECT_EQ(t->dropped, dropped);
  EXPECT_GT(t->dropped, 0u);
  // Not a loss system: no prediction.
  EXPECT_FALSE(theory_check(run_seeds("linux")));
}

}  // namespace
}  // namespace synq::lab
