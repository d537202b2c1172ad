// The report's ladder diagrams, checked against the run they draw: every
// packet of a client is one arrow (lost ones marked), every listener decision
// one marker of the right kind, arrows run from send to delivery time, and
// no two labels on one side of the diagram overlap.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <string>

#include "lab/builtin.hpp"
#include "lab/lab_run.hpp"
#include "lab/report/ladder.hpp"
#include "listen/backlog_model.hpp"

namespace synq::lab {
namespace {

constexpr uint8_t kSyn = 0x02, kRst = 0x04, kAck = 0x10, kPsh = 0x08;

LabResult run_seeds(const std::string& model) {
  const BuiltinScenario* b = find_builtin("seeds");
  EXPECT_NE(b, nullptr);
  Scenario s = b->runs.front();
  s.model = model;
  return run(s);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

std::vector<const TimelineEntry*> packets_of(const LabResult& r, int client) {
  std::vector<const TimelineEntry*> out;
  for (const auto& e : r.timeline)
    if (e.kind == TimelineEntry::Kind::packet && e.client == client) out.push_back(&e);
  return out;
}

bool ack_drop(const Decision& d) {
  return d.decision == "drop" && (d.tcp_flags & kAck) && !(d.tcp_flags & kSyn);
}

// Linux's ignored third ACK: the request stays and waits for a later ACK.
bool third_ack(const Decision& d) {
  return ack_drop(d) && d.reason_key == "third_ack_accept_queue_full";
}

// The reason keys of a ladder's decision markers, in the order drawn.
std::vector<std::string> marker_reasons(const std::string& svg) {
  const std::regex marker(R"re(<g class="decision"[^>]* data-reason="([^"]*)")re");
  std::vector<std::string> out;
  for (std::sregex_iterator it(svg.begin(), svg.end(), marker), end; it != end; ++it)
    out.push_back((*it)[1]);
  return out;
}

class LadderSeedsLinux : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { r_ = new LabResult(run_seeds("linux")); }
  static void TearDownTestSuite() { delete r_; }
  static const LabResult& r() { return *r_; }
  static LabResult* r_;
};
LabResult* LadderSeedsLinux::r_ = nullptr;

TEST_F(LadderSeedsLinux, FitsAndALargeRunDoesNot) {
  EXPECT_TRUE(ladder_fits(r()));
  LabResult big = r();
  big.clients.resize(kLadderMaxClients + 1);
  EXPECT_FALSE(ladder_fits(big));
  LabResult no_timeline = r();
  no_timeline.timeline.clear();
  EXPECT_FALSE(ladder_fits(no_timeline));
}

TEST_F(LadderSeedsLinux, DeliveryTimesAreSendTimesPlusTheLinkLatency) {
  // 1 ms each way, no jitter: every packet arrives exactly 1 ms after it left.
  size_t delivered = 0;
  for (const auto& e : r().timeline) {
    if (e.kind != TimelineEntry::Kind::packet) continue;
    ASSERT_FALSE(e.lost);
    if (e.t + 0.001 > r().scenario.duration_s) continue;
    EXPECT_NEAR(e.t_delivered, e.t + 0.001, 1e-9) << e.text;
    ++delivered;
  }
  EXPECT_GT(delivered, 50u);
}

TEST_F(LadderSeedsLinux, EveryPacketIsOneArrowEveryDecisionOneMarker) {
  for (const auto& c : r().clients) {
    SCOPED_TRACE("client " + std::to_string(c.id));
    const std::string svg = ladder_svg(r(), c.id);
    const auto pkts = packets_of(r(), c.id);
    EXPECT_EQ(count(svg, "<g class=\"pkt\""), pkts.size());
    const size_t syns = std::count_if(pkts.begin(), pkts.end(),
                                      [](auto* e) { return (e->flags & (kSyn | kAck)) == kSyn; });
    EXPECT_EQ(count(svg, "data-flags=\"S\""), syns);
    EXPECT_EQ(count(svg, ">[S] seq 0</text>"), syns) << "a SYN is labelled with its relative seq";
    size_t decisions = 0, ignored = 0;
    std::vector<std::string> keys;
    for (const auto& d : r().decisions)
      if (d.client == c.id) {
        ++decisions;
        ignored += third_ack(d);
        EXPECT_EQ(ack_drop(d), third_ack(d))
            << "linux drops an ACK only to ignore it: " << d.reason;
        keys.push_back(d.reason_key);
      }
    EXPECT_EQ(count(svg, "<g class=\"decision\""), decisions);
    EXPECT_EQ(marker_reasons(svg), keys) << "each marker carries its decision's reason key";
    EXPECT_EQ(count(svg, "data-kind=\"third_ack_ignored\""), ignored);
    EXPECT_EQ(count(svg, ">third ACK ignored: accept queue full<"), ignored)
        << "the label says why, from the reason key";
  }
}

TEST_F(LadderSeedsLinux, TheStoryIsThereIgnoredAcksRetransmittedSynAcksAndTheFinalRst) {
  // The client the server resets: its ladder has ignored third ACKs, the
  // SYN-ACK timer's retransmissions, the expiry and the RST arrow.
  const ClientResult* reset = nullptr;
  for (const auto& c : r().clients)
    if (c.outcome == Outcome::reset) reset = &c;
  ASSERT_NE(reset, nullptr);
  const std::string svg = ladder_svg(r(), reset->id);
  EXPECT_GT(count(svg, "data-kind=\"third_ack_ignored\""), 1u);
  EXPECT_GT(count(svg, "data-kind=\"synack_retransmitted\""), 1u);
  EXPECT_EQ(count(svg, "data-kind=\"expire\""), 1u);
  EXPECT_GE(count(svg, "<g class=\"pkt\" data-flags=\"R\" data-dir=\"s2c\""), 1u);
  EXPECT_EQ(count(svg, "data-kind=\"third_ack_ignored\" data-counter=\"TcpExtListenOverflows\""),
            count(svg, "data-kind=\"third_ack_ignored\""))
      << "every ignored-ACK marker names the counter it incremented";
  EXPECT_NE(svg.find(">[TcpExtListenOverflows]<"), std::string::npos)
      << "and shows it, on the line under the label (the label is wrapped)";
}

// Each arrow's line goes from the sender's line at its send row down to the
// receiver's line: slanted, never upward.
TEST_F(LadderSeedsLinux, ArrowsGoDownFromSenderToReceiver) {
  const std::regex line(
      R"re(<g class="pkt" data-flags="[^"]*" data-dir="(c2s|s2c)" data-lost="0"[^\n]*\n)re"
      R"re(<line x1="([0-9.]+)" y1="([0-9.]+)" x2="([0-9.]+)" y2="([0-9.]+)")re");
  const std::string svg = ladder_svg(r(), 3);
  size_t n = 0;
  for (std::sregex_iterator it(svg.begin(), svg.end(), line), end; it != end; ++it, ++n) {
    const double x1 = std::stod((*it)[2]), y1 = std::stod((*it)[3]);
    const double x2 = std::stod((*it)[4]), y2 = std::stod((*it)[5]);
    EXPECT_GT(y2, y1);
    EXPECT_EQ((*it)[1] == "c2s", x2 > x1);
  }
  EXPECT_EQ(n, packets_of(r(), 3).size());
}

// No two pieces of text in one column of the diagram overlap (11 px type).
TEST_F(LadderSeedsLinux, LabelsDoNotOverlap) {
  const std::regex text(
      R"re(<text (class="(lbl|small|hd|mono)" )?x="([0-9.]+)" y="([0-9.]+)"[^>]*>)re");
  for (const auto& c : r().clients) {
    SCOPED_TRACE("client " + std::to_string(c.id));
    const std::string svg = ladder_svg(r(), c.id);
    std::map<std::string, std::vector<double>> columns;  // x -> baselines
    for (std::sregex_iterator it(svg.begin(), svg.end(), text), end; it != end; ++it) {
      const double y = std::stod((*it)[4]);
      if (y < 40) continue;  // the heads
      columns[(*it)[3]].push_back(y);
    }
    ASSERT_GE(columns.size(), 3u);
    for (auto& [x, ys] : columns) {
      std::sort(ys.begin(), ys.end());
      for (size_t i = 1; i < ys.size(); ++i)
        EXPECT_GE(ys[i] - ys[i - 1], 10.9) << "two texts at x=" << x << " overlap at y=" << ys[i];
    }
  }
}

TEST(LadderSeedsBsd44, TheSilentDropIsMarkedAndNoAckIsIgnored) {
  if (!listen::make_backlog_model("bsd44")) GTEST_SKIP() << "bsd44 is not built in";
  const LabResult r = run_seeds("bsd44");
  size_t drops = 0;
  for (const auto& c : r.clients) {
    const std::string svg = ladder_svg(r, c.id);
    EXPECT_EQ(count(svg, "data-kind=\"third_ack_ignored\""), 0u);
    EXPECT_EQ(count(svg, "data-dir=\"s2c\" data-lost=\"0\""),
              static_cast<size_t>(std::count_if(r.timeline.begin(), r.timeline.end(), [&](auto& e) {
                return e.client == c.id && e.direction == "server>client";
              })));
    size_t syn_drops = 0;
    for (const auto& d : r.decisions)
      syn_drops += d.client == c.id && d.decision == "drop" && (d.tcp_flags & kSyn);
    EXPECT_EQ(count(svg, "data-kind=\"syn_dropped\""), syn_drops);
    drops += syn_drops;
  }
  EXPECT_GT(drops, 0u) << "bsd44's full listener drops the 5th SYN silently";
}

// FreeBSD makes the socket at the ACK: an ACK that finds the accept queue
// over 3B/2 is refused (nothing is kept), not ignored as on Linux. The label
// comes from the reason key, so the ladder says so, for the silent drop
// (rst_on_sock_fail = 0) and for the RST (the default).
LabResult run_seeds_freebsd(const std::string& rst_on_sock_fail) {
  const BuiltinScenario* b = find_builtin("seeds");
  EXPECT_NE(b, nullptr);
  Scenario s = b->runs.front();
  s.model = "freebsd";
  s.server_sysctls.emplace_back("net.inet.tcp.syncache.rst_on_sock_fail", rst_on_sock_fail);
  return run(s);
}

bool refused_ack(const Decision& d) {
  return (d.tcp_flags & kAck) && !(d.tcp_flags & kSyn) && d.reason_key == "accept_queue_full";
}

TEST(LadderSeedsFreebsd, AckDroppedAtAFullAcceptQueueIsRefusedNotIgnored) {
  if (!listen::make_backlog_model("freebsd")) GTEST_SKIP() << "freebsd is not built in";
  const LabResult r = run_seeds_freebsd("0");
  size_t refused = 0;
  for (const auto& c : r.clients) {
    SCOPED_TRACE("client " + std::to_string(c.id));
    const std::string svg = ladder_svg(r, c.id);
    size_t here = 0;
    std::string counter;  // one reason, one counter: FreeBSD's tcps_listendrop
    std::vector<std::string> keys;
    for (const auto& d : r.decisions)
      if (d.client == c.id) {
        if (d.decision == "drop" && refused_ack(d)) {
          ++here;
          counter = d.counter;
        }
        keys.push_back(d.reason_key);
      }
    EXPECT_EQ(marker_reasons(svg), keys);
    EXPECT_EQ(count(svg, "data-kind=\"third_ack_ignored\""), 0u);
    EXPECT_EQ(count(svg, ">third ACK ignored"), 0u);
    EXPECT_EQ(count(svg, "data-kind=\"ack_refused\""), here);
    if (here > 0) {
      EXPECT_FALSE(counter.empty());
      EXPECT_EQ(count(svg, "data-kind=\"ack_refused\" data-counter=\"" + counter + "\""), here)
          << "each marker names the counter its decision incremented";
    }
    // The bold label (wrapped before its counter) starts with what happened and why.
    EXPECT_EQ(count(svg, ">ACK refused: accept queue full"), here);
    refused += here;
  }
  EXPECT_GT(refused, 0u) << "backlog 2: the 5th completed connection exceeds 3B/2";
}

TEST(LadderSeedsFreebsd, DefaultRstOnSockFail_TheRstSaysWhy) {
  if (!listen::make_backlog_model("freebsd")) GTEST_SKIP() << "freebsd is not built in";
  const LabResult r = run_seeds_freebsd("1");
  size_t rsts = 0;
  for (const auto& c : r.clients) {
    const std::string svg = ladder_svg(r, c.id);
    size_t here = 0;
    for (const auto& d : r.decisions)
      here += d.client == c.id && d.decision == "rst" && refused_ack(d);
    EXPECT_EQ(count(svg, ">answered with RST: accept queue full"), here);
    EXPECT_EQ(count(svg, "data-kind=\"ack_refused\""), 0u);
    rsts += here;
  }
  EXPECT_GT(rsts, 0u);
}

TEST(Ladder, LostPacketsEndMidwayInAnXAndHaveNoDeliveryTime) {
  Scenario s;
  s.name = "lossy";
  s.clients = 4;
  s.arrival = {Arrival::Kind::every, 0.5, {}};
  s.accept = {AcceptPolicy::Kind::rate, 100};
  s.loss = 0.3;
  s.seed = 7;
  s.duration_s = 30;
  const LabResult r = run(s);
  size_t lost = 0;
  for (const auto& c : r.clients) {
    size_t lost_here = 0;
    for (const auto* e : packets_of(r, c.id)) {
      if (!e->lost) continue;
      ++lost_here;
      EXPECT_EQ(e->t_delivered, -1);
    }
    const std::string svg = ladder_svg(r, c.id);
    EXPECT_EQ(count(svg, "data-lost=\"1\""), lost_here);
    EXPECT_EQ(count(svg, " (lost)</text>"), lost_here);
    lost += lost_here;
  }
  EXPECT_GT(lost, 0u) << "seed 7 with 30% loss should lose something";
}

TEST(PacketLabel, RelativeSequenceNumbersLikeTcpdump) {
  const Isns isn{.have_client = true, .have_server = true, .client = 1000, .server = 5000};
  TimelineEntry syn;
  syn.direction = "client>server";
  syn.flags = kSyn;
  syn.seq = 1000;
  EXPECT_EQ(packet_label(syn, isn), "[S] seq 0");
  TimelineEntry synack;
  synack.direction = "server>client";
  synack.flags = kSyn | kAck;
  synack.seq = 5000;
  synack.ack = 1001;
  EXPECT_EQ(packet_label(synack, isn), "[S.] seq 0, ack 1");
  TimelineEntry ack;
  ack.direction = "client>server";
  ack.flags = kAck;
  ack.seq = 1001;
  ack.ack = 5001;
  EXPECT_EQ(packet_label(ack, isn), "[.] ack 1");
  TimelineEntry data = ack;
  data.flags = kPsh | kAck;
  data.len = 100;
  EXPECT_EQ(packet_label(data, isn), "[P.] seq 1:101, ack 1, length 100");
  TimelineEntry rst;
  rst.direction = "server>client";
  rst.flags = kRst;
  rst.seq = 5001;
  EXPECT_EQ(packet_label(rst, isn), "[R] seq 1");
  // Without the ISNs (the SYN was not recorded) the numbers stay absolute.
  EXPECT_EQ(packet_label(data, Isns{}), "[P.] seq 1001:1101, ack 5001, length 100");
}

}  // namespace
}  // namespace synq::lab
