// What the lab prints and writes for people and tools (lab_output.cpp):
// times in a readable unit in the text and exact to the nanosecond in the
// JSON, counters under one name in both, FreeBSD's counters under netstat's
// names, packet lines as tcpdump -n prints them.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "lab/lab_run.hpp"

namespace synq::lab {
namespace {

using nlohmann::json;

Scenario small(const std::string& model) {
  Scenario s;
  s.name = "small";
  s.model = model;
  s.backlog = 2;
  s.clients = 8;
  s.arrival = *Arrival::parse("every:0.0001", nullptr);  // 100 µs apart
  s.accept = *AcceptPolicy::parse("at:2", nullptr);
  s.duration_s = 5;
  s.latency_ms = 0.1;  // a 200 µs round trip
  return s;
}

// The summary's counter lines after `header`, up to the next line without indentation.
std::map<std::string, uint64_t> counter_lines(const std::string& summary,
                                              const std::string& header) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(summary);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind(header, 0) == 0) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (line.rfind("  ", 0) != 0) break;
    // "  <name, maybe with spaces>   <value>"
    const size_t last_space = line.find_last_of(' ');
    std::string name = line.substr(2, last_space - 2);
    name.erase(name.find_last_not_of(' ') + 1);
    out[name] = std::stoull(line.substr(last_space + 1));
  }
  return out;
}

TEST(LabOutput, SummaryCountersAndJsonCountersHaveTheSameNamesAndValues) {
  const LabResult r = run(small("linux"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  const std::string text = summary_text(r);
  const json j = json::parse(to_json(r));
  const auto lines = counter_lines(text, "server counters (non-zero; nstat's names):");
  ASSERT_FALSE(lines.empty()) << text;
  EXPECT_TRUE(lines.count("TcpExtListenOverflows")) << text;
  for (const auto& [name, value] : lines) {
    ASSERT_TRUE(j["counters"].contains(name)) << name;
    EXPECT_EQ(j["counters"][name].get<uint64_t>(), value) << name;
  }
  // And every non-zero JSON counter is in the text.
  for (const auto& [name, value] : j["counters"].items())
    if (value.get<uint64_t>() != 0) {
      EXPECT_TRUE(lines.count(name)) << name;
    }
  // A decision's counter is the same name.
  bool overflow_decision = false;
  for (const auto& d : j["decisions"]) overflow_decision |= d["counter"] == "TcpExtListenOverflows";
  EXPECT_TRUE(overflow_decision);
  // A linux run has no FreeBSD section.
  EXPECT_FALSE(j.contains("netstat"));
  EXPECT_EQ(text.find("netstat"), std::string::npos);
}

TEST(LabOutput, FreebsdCountersAppearUnderNetstatNames) {
  const LabResult r = run(small("freebsd"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  const std::string text = summary_text(r);
  const json j = json::parse(to_json(r));
  ASSERT_TRUE(j.contains("netstat")) << text;
  const auto& ns = j["netstat"];
  // Every FreeBSD counter is there, under netstat's wording.
  EXPECT_EQ(ns.size(), 16u);
  for (const char* name :
       {"listen queue overflows", "syncache entries added", "syncache retransmitted",
        "syncache bucket overflow", "cookies sent", "cookies received", "syncache zone failures"})
    EXPECT_TRUE(ns.contains(name)) << name;
  // Each SYN the syncache took is one decision naming the same counter.
  size_t added = 0;
  for (const auto& d : j["decisions"]) added += d["counter"] == "syncache entries added";
  EXPECT_GT(added, 0u);
  EXPECT_EQ(ns["syncache entries added"].get<size_t>(), added);
  // The text shows the non-zero ones with the same names and values.
  const auto lines =
      counter_lines(text, "server counters (non-zero; FreeBSD's netstat -s -p tcp names):");
  ASSERT_FALSE(lines.empty()) << text;
  for (const auto& [name, value] : ns.items()) {
    if (value.get<uint64_t>() == 0) {
      EXPECT_FALSE(lines.count(name)) << name;
    } else {
      ASSERT_TRUE(lines.count(name)) << name << "\n" << text;
      EXPECT_EQ(lines.at(name), value.get<uint64_t>()) << name;
    }
  }
  // The X-macro's internal names stay out of both.
  EXPECT_EQ(text.find("sc_"), std::string::npos) << text;
  EXPECT_EQ(to_json(r).find("sc_"), std::string::npos);
}

TEST(LabOutput, SummaryTimesUseAReadableUnit) {
  const LabResult r = run(small("linux"));
  const std::string text = summary_text(r);
  // The first clients connect in one round trip: 2 × 100 µs.
  // The later ones when accept() starts at 2 s.
  EXPECT_NE(text.find("connect time: p50 200 µs, p90 2 s, p99 2 s, max 2 s\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find(", 5 s\n"), std::string::npos) << text;  // the duration in the header
}

// Every number in the JSON text that is a time: at most nine decimals.
TEST(LabOutput, JsonTimesAreExactToTheNanosecond) {
  Scenario s = small("linux");
  s.arrival = *Arrival::parse("every:0.1", nullptr);  // a queue change in every 0.1 s bin
  s.jitter_ms = 0.0333;                               // times that are no round number of anything
  RunOptions o;
  o.queue_resolution_s = 0.1;  // bins at k × 0.1 s: 0.30000000000000004 in doubles
  const LabResult r = run(s, o);
  const std::string text = to_json(r);
  const std::regex time_field(
      R"re("(t|start_s|end_s|connect_time_s|bin_s|p50|p90|p99|max)": ?(-?[0-9.eE+-]+))re");
  size_t checked = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), time_field);
       it != std::sregex_iterator(); ++it) {
    const std::string v = (*it)[2];
    ASSERT_EQ(v.find_first_of("eE"), std::string::npos) << (*it)[0];
    const size_t dot = v.find('.');
    if (dot != std::string::npos) {
      EXPECT_LE(v.size() - dot - 1, 9u) << (*it)[0];
    }
    ++checked;
  }
  EXPECT_GT(checked, 100u);
  // The queue bins print as the decimals they stand for.
  EXPECT_NE(text.find("\"t\": 0.3,"), std::string::npos);
  EXPECT_EQ(text.find("0.30000000000000004"), std::string::npos);
  // Times read back are whole nanoseconds.
  const json j = json::parse(text);
  for (const auto& e : j["timeline"]) {
    const double ns = e["t"].get<double>() * 1e9;
    EXPECT_NEAR(ns, std::round(ns), 1e-3) << e["t"];
  }
}

// Values computed in doubles (differences, bins) print as the decimals they
// stand for; huge ones pass through; "never" is null.
TEST(LabOutput, ComputedTimesLoseTheirFloatNoise) {
  LabResult r;
  r.queues.push_back({0.1 + 0.2, 1, 0});
  ClientResult c;
  c.start_s = 1.001;
  c.connect_time_s = 1.003 - 1.001;  // 0.0019999999999997797 in doubles
  c.end_s = 2e7;                     // past 2^53 ns: nothing to round
  r.clients.push_back(c);
  ClientResult never;
  r.clients.push_back(never);  // connect_time_s and end_s are -1: never
  const json j = json::parse(to_json(r));
  EXPECT_EQ(j["queues"][0]["t"].dump(), "0.3");
  EXPECT_EQ(j["clients"][0]["start_s"].dump(), "1.001");
  EXPECT_EQ(j["clients"][0]["connect_time_s"].dump(), "0.002");
  EXPECT_EQ(j["clients"][0]["end_s"].get<double>(), 2e7);
  EXPECT_TRUE(j["clients"][1]["connect_time_s"].is_null());
  EXPECT_TRUE(j["clients"][1]["end_s"].is_null());
  EXPECT_EQ(j["connect_time_s"]["p50"].dump(), "0.002");
}

TEST(LabOutput, PacketLinesReadLikeTcpdump) {
  const LabResult r = run(small("linux"));
  const std::regex line(
      R"(IP 10\.0\.[0-9.]+ > 10\.0\.[0-9.]+: Flags \[[FSRP.UEW]+\], .*length [0-9]+)");
  size_t packets = 0;
  for (const auto& e : r.timeline) {
    if (e.kind != TimelineEntry::Kind::packet) continue;
    EXPECT_TRUE(std::regex_match(e.text, line)) << e.text;
    ++packets;
  }
  EXPECT_GT(packets, 10u);
  // The JSON's letters match the line's.
  const json j = json::parse(to_json(r));
  for (const auto& e : j["timeline"]) {
    if (e["kind"] != "packet") continue;
    const std::string want = "Flags [" + e["flags"].get<std::string>() + "]";
    EXPECT_NE(e["text"].get<std::string>().find(want), std::string::npos) << e["text"];
  }
}

}  // namespace
}  // namespace synq::lab
