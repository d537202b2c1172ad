// The `seeds` story, checked from its JSON (what `synq lab seeds --json`
// writes), never from the printed text: each moment the story promises is a
// `story` event, and each event is backed by the decision or the packet that
// shows it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lab/builtin.hpp"
#include "lab/lab_run.hpp"
#include "listen/backlog_model.hpp"

namespace synq::lab {
namespace {

using nlohmann::json;

json run_seeds(const std::string& model) {
  const BuiltinScenario* b = find_builtin("seeds");
  EXPECT_NE(b, nullptr);
  for (const auto& s : b->runs)
    if (s.model == model) return json::parse(to_json(run(s)));
  ADD_FAILURE() << "seeds has no run on " << model;
  return json::object();
}

// The story events of one kind, in time order.
std::vector<json> events(const json& j, const std::string& kind) {
  std::vector<json> out;
  for (const auto& e : j["story"])
    if (e["kind"] == kind) out.push_back(e);
  return out;
}

// Packet lines of one client, one direction, with exactly these tcpdump flags.
std::vector<json> packets(const json& j, int client, const std::string& dir,
                          const std::string& flags) {
  std::vector<json> out;
  for (const auto& e : j["timeline"])
    if (e["kind"] == "packet" && e.value("client", -1) == client && e["direction"] == dir &&
        e["flags"] == flags)
      out.push_back(e);
  return out;
}

std::vector<json> decisions(const json& j, int client, const std::string& decision) {
  std::vector<json> out;
  for (const auto& d : j["decisions"])
    if (d["client"] == client && d["decision"] == decision) out.push_back(d);
  return out;
}

class SeedsLinux : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { j_ = new json(run_seeds("linux")); }
  static void TearDownTestSuite() { delete j_; }
  static const json& j() { return *j_; }
  static json* j_;
};
json* SeedsLinux::j_ = nullptr;

TEST_F(SeedsLinux, JsonHasTheRequiredShape) {
  EXPECT_TRUE(j()["counters"].is_object());
  EXPECT_GT(j()["counters"]["TcpExtListenOverflows"].get<int>(), 0);
  ASSERT_EQ(j()["clients"].size(), 6u);
  for (const auto& c : j()["clients"]) {
    EXPECT_TRUE(c.contains("outcome"));
    EXPECT_TRUE(c.contains("connect_time_s"));
  }
  ASSERT_FALSE(j()["queues"].empty());
  for (const auto& q : j()["queues"]) {
    EXPECT_TRUE(q["t"].is_number());
    EXPECT_TRUE(q["syn_queue"].is_number());
    EXPECT_TRUE(q["accept_queue"].is_number());
  }
  // B = 2: the accept queue holds B + 1 = 3 on linux, never more.
  EXPECT_EQ(j()["high_water"]["accept_queue"], 3);
}

TEST_F(SeedsLinux, HandshakesCompleteIntoTheAcceptQueue) {
  auto done = events(j(), "handshake_complete");
  ASSERT_GE(done.size(), 3u);
  // Clients 0, 1, 2 fill the accept queue to 1, 2, 3.
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(done[size_t(c)]["client"], c);
    auto d = decisions(j(), c, "complete");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0]["accept_queue"], c + 1);
    EXPECT_EQ(d[0]["counter"], "TcpPassiveOpens");
  }
}

TEST_F(SeedsLinux, ThirdAckIgnoredThenSynAckRetransmittedThenDuplicateAck) {
  auto ignored = events(j(), "third_ack_ignored");
  ASSERT_EQ(ignored.size(), 2u);  // clients 3 and 4 complete after client 2 filled the queue
  for (const auto& ig : ignored) {
    const int c = ig["client"];
    // The decision behind it: an ACK (no SYN), dropped, counted as a listen overflow.
    auto drops = decisions(j(), c, "drop");
    ASSERT_FALSE(drops.empty());
    EXPECT_EQ(drops[0]["tcp_flags"], ".");
    EXPECT_EQ(drops[0]["counter"], "TcpExtListenOverflows");
    EXPECT_EQ(drops[0]["accept_queue"], 3);  // full: B + 1
    // Then the listener resends the SYN-ACK, and the client answers with the
    // same ACK again: a duplicate ACK on the wire.
    const double t_ignored = ig["t"];
    auto synacks = packets(j(), c, "server>client", "S.");
    ASSERT_GE(synacks.size(), 2u) << "first SYN-ACK and at least one retransmission";
    EXPECT_EQ(synacks[1]["seq"], synacks[0]["seq"]) << "a retransmission, not a new SYN-ACK";
    EXPECT_GT(synacks[1]["t"].get<double>(), t_ignored);
    bool dup = false;
    for (const auto& e : events(j(), "duplicate_ack"))
      if (e["client"] == c && e["t"].get<double>() > synacks[1]["t"].get<double>()) dup = true;
    EXPECT_TRUE(dup) << "client " << c;
    auto acks = packets(j(), c, "client>server", ".");
    ASSERT_GE(acks.size(), 2u);
    EXPECT_EQ(acks[0]["ack"], acks[1]["ack"]);
  }
}

TEST_F(SeedsLinux, ConnectionCompletesOnceAcceptFreesASlot) {
  auto accepts = events(j(), "accept_called");
  ASSERT_FALSE(accepts.empty());
  const double t_accept = accepts[0]["t"];
  // The accept() at 5 s takes client 0 (first in, first out); it gets its
  // response and the server's FIN right away.
  EXPECT_EQ(j()["clients"][0]["accepted"], true);
  EXPECT_NEAR(j()["clients"][0]["end_s"].get<double>(), t_accept, 0.01);
  auto late = events(j(), "completed_after_accept");
  ASSERT_EQ(late.size(), 1u) << "one slot freed, one connection gets in";
  EXPECT_GT(late[0]["t"].get<double>(), t_accept);
  const int c = late[0]["client"];
  auto d = decisions(j(), c, "complete");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]["accept_queue"], 3) << "it takes the slot accept() freed";
}

TEST_F(SeedsLinux, SynDroppedBecauseTheAcceptQueueIsFull) {
  auto dropped = events(j(), "syn_dropped_accept_queue_full");
  ASSERT_FALSE(dropped.empty());
  const int c = dropped[0]["client"];
  EXPECT_EQ(c, 5);
  auto d = decisions(j(), c, "drop");
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d[0]["tcp_flags"], "S");
  EXPECT_EQ(d[0]["accept_queue"], 3);
  // The client keeps retrying on its own and gets in once the application accepts.
  EXPECT_FALSE(events(j(), "client_syn_retransmitted").empty());
  EXPECT_EQ(j()["clients"][5]["outcome"], "established");
  EXPECT_GT(j()["clients"][5]["connect_time_s"].get<double>(), 60.0);
}

TEST_F(SeedsLinux, ExpiredRequestLaterGetsAReset) {
  auto expired = events(j(), "request_expired");
  ASSERT_EQ(expired.size(), 1u);
  const int c = expired[0]["client"];
  auto resets = events(j(), "client_reset");
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_EQ(resets[0]["client"], c);
  EXPECT_GT(resets[0]["t"].get<double>(), expired[0]["t"].get<double>());
  auto rst = packets(j(), c, "server>client", "R");
  ASSERT_EQ(rst.size(), 1u);
  EXPECT_EQ(j()["clients"][size_t(c)]["outcome"], "reset");
  EXPECT_EQ(j()["clients"][size_t(c)]["error"], "ECONNRESET");
}

TEST_F(SeedsLinux, SnapshotsAtTheKeyMoments) {
  int snapshots = 0;
  for (const auto& e : j()["timeline"])
    if (e["kind"] == "snapshot") {
      ++snapshots;
      EXPECT_NE(e["text"].get<std::string>().find("LISTEN"), std::string::npos);
    }
  EXPECT_GE(snapshots, 3);  // before accept() once, before the accept loop, at the end
}

TEST(SeedsBsd44, SilentDropAtThreeHalvesBPlusOneAndClientSynRetransmission) {
  if (!listen::make_backlog_model("bsd44")) GTEST_SKIP() << "bsd44 model not built in";
  const json j = run_seeds("bsd44");
  auto drops = events(j, "syn_dropped_queue_limit");
  ASSERT_FALSE(drops.empty());
  // B = 2: ⌊3B/2⌋ + 1 = 4 connections (half-open + queued) are there when the SYN is dropped.
  const int c = drops[0]["client"];
  auto d = decisions(j, c, "drop");
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d[0]["syn_queue"].get<int>() + d[0]["accept_queue"].get<int>(), 4);
  EXPECT_EQ(d[0]["tcp_flags"], "S");
  // Silent: no RST, no SYN-ACK to that client before its retransmitted SYN.
  auto syns = packets(j, c, "client>server", "S");
  ASSERT_GE(syns.size(), 2u);
  EXPECT_EQ(syns[0]["seq"], syns[1]["seq"]) << "the client's own SYN retransmission";
  EXPECT_TRUE(packets(j, c, "server>client", "R").empty());
  bool retrans = false;
  for (const auto& e : events(j, "client_syn_retransmitted")) retrans |= e["client"] == c;
  EXPECT_TRUE(retrans);
  // No ignored third ACKs on bsd44: the limit is checked at the SYN.
  EXPECT_TRUE(events(j, "third_ack_ignored").empty());
}

TEST(SeedsBuiltin, RunsLinuxThenBsd44SideBySide) {
  const BuiltinScenario* b = find_builtin("seeds");
  ASSERT_NE(b, nullptr);
  ASSERT_GE(b->runs.size(), 1u);
  EXPECT_EQ(b->runs[0].model, "linux");
  if (listen::make_backlog_model("bsd44")) {
    ASSERT_EQ(b->runs.size(), 2u);
    EXPECT_EQ(b->runs[1].model, "bsd44");
  }
}

}  // namespace
}  // namespace synq::lab
