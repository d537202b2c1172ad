// The story's "accept queue full" line on every model. The story matches a
// decision by its reason key (include/synq/listen_reason.hpp), so it fires
// whatever words a model uses: on a SYN for the models that check the queue
// at the SYN (linux, bsd44, xnu), on the ACK for freebsd, which makes the
// socket only then.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lab/lab_run.hpp"
#include "listen/backlog_model.hpp"

namespace synq::lab {
namespace {

using nlohmann::json;

// listen(fd, 2), never accept(), one client every 100 ms: the accept queue
// fills and every model must refuse the later clients.
json run_full_queue(const std::string& model) {
  Scenario s;
  s.model = model;
  s.backlog = 2;
  s.clients = 8;
  for (int i = 0; i < s.clients; ++i) s.client_start_s.push_back(0.1 * i);
  s.accept.kind = AcceptPolicy::Kind::never;
  s.duration_s = 3;
  const LabResult r = run(s);
  EXPECT_TRUE(r.error.empty()) << r.error;
  return json::parse(to_json(r));
}

std::vector<json> story(const json& j, const std::string& kind) {
  std::vector<json> out;
  for (const auto& e : j["story"])
    if (e["kind"] == kind) out.push_back(e);
  return out;
}

struct Case {
  const char* model;
  const char* kind;   // the story line expected
  const char* flags;  // of the refused segment
  int accept_queue;   // children queued when it is refused
};

class AcceptQueueFullStory : public ::testing::TestWithParam<Case> {};

TEST_P(AcceptQueueFullStory, FiresWithTheDecisionBehindIt) {
  const Case c = GetParam();
  if (!listen::make_backlog_model(c.model)) GTEST_SKIP() << c.model << " not built in";
  const json j = run_full_queue(c.model);
  const auto lines = story(j, c.kind);
  ASSERT_FALSE(lines.empty()) << c.model << ": no " << c.kind << " in " << j["story"].dump(1);
  // The line is backed by a decision about that client with the key, on the
  // segment the model refuses, with the accept queue at the model's limit.
  const int client = lines[0]["client"];
  bool backed = false;
  for (const auto& d : j["decisions"])
    if (d["client"] == client && d["reason_key"] == "accept_queue_full") {
      EXPECT_EQ(d["tcp_flags"], c.flags) << c.model;
      EXPECT_EQ(d["accept_queue"], c.accept_queue) << c.model;
      EXPECT_DOUBLE_EQ(d["t"].get<double>(), lines[0]["t"].get<double>()) << c.model;
      backed = true;
      break;
    }
  EXPECT_TRUE(backed) << c.model << ": no accept_queue_full decision for client " << client;
  // Every SYN refused for a full accept queue saw the queue at that limit.
  for (const auto& d : j["decisions"]) {
    if (d["reason_key"] == "accept_queue_full" && d["tcp_flags"] == "S") {
      EXPECT_EQ(d["accept_queue"], c.accept_queue) << c.model;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, AcceptQueueFullStory,
    ::testing::Values(
        // linux: acc > B, so B+1 = 3 children; the next SYN is dropped.
        Case{"linux", "syn_dropped_accept_queue_full", "S", 3},
        // bsd44: qlen + acc > 3B/2 = 3 with every connection completed: 4 children.
        Case{"bsd44", "syn_dropped_accept_queue_full", "S", 4},
        // xnu: so_qlen >= B = 2 and nothing embryonic to evict: 2 children.
        Case{"xnu", "syn_dropped_accept_queue_full", "S", 2},
        // freebsd: the syncache answers every SYN; the ACK finds acc > 3B/2 = 3.
        Case{"freebsd", "ack_refused_accept_queue_full", ".", 4}),
    [](const auto& info) { return std::string(info.param.model); });

}  // namespace
}  // namespace synq::lab
