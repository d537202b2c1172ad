// What "drop" means in the lab: a client that saw a drop of any kind — its
// SYN dropped, its third ACK ignored, a RST from the server. A burst of 40
// against a linux server that never accepts, listen(fd, 8): the SYN queue
// takes the first SYNs, the rest get cookies (tcp_syncookies=1); B+1 = 9
// children fill the accept queue and every cookie's third ACK is dropped —
// drops that a SYN-only count missed entirely.
#include <gtest/gtest.h>

#include <string>

#include "lab/lab_run.hpp"
#include "lab/sweep.hpp"

namespace synq::lab {
namespace {

Scenario never_accepting(int backlog) {
  Scenario s;
  s.name = "never";
  s.model = "linux";
  s.backlog = backlog;
  s.clients = 40;
  s.arrival = {Arrival::Kind::burst, 0, {}};
  s.accept = {AcceptPolicy::Kind::never, 0};
  s.duration_s = 30;
  return s;
}

TEST(LabDrops, ThirdAckIgnoredCountsAsADrop) {
  RunOptions o;
  o.record_timeline = false;
  const LabResult r = run(never_accepting(8), o);
  ASSERT_TRUE(r.error.empty()) << r.error;
  size_t ack_dropped = 0, syn_only = 0, any = 0;
  for (const auto& c : r.clients) {
    ack_dropped += c.acks_dropped > 0;
    syn_only += c.syn_drops > 0 && c.acks_dropped == 0 && !c.reset;
    any += c.saw_drop();
  }
  // B+1 = 9 children fit; each of the other 31 had a SYN dropped or its
  // third ACK ignored (or both).
  EXPECT_EQ(r.max_accept_queue, 9u);
  EXPECT_GT(ack_dropped, 0u);
  EXPECT_EQ(any, 31u);
  EXPECT_GT(r.server.get(Counter::TcpExt_ListenDrops), 0u);
  EXPECT_LT(syn_only, any) << "the SYN-only definition misses clients";
}

TEST(LabDrops, SweepDropRateAndAnswerCountEveryKindOfDrop) {
  std::string err;
  auto x = SweepAxis::parse("backlog=1,8,64", &err);
  ASSERT_TRUE(x) << err;
  const SweepResult r = run_sweep(never_accepting(1), *x, std::nullopt, 0.01, 1);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_DOUBLE_EQ(r.rows[0].drop_rate, 38.0 / 40.0);  // B+1 = 2 children fit
  const SweepRow& b8 = r.rows[1];
  ASSERT_TRUE(b8.error.empty()) << b8.error;
  EXPECT_DOUBLE_EQ(b8.drop_rate, 31.0 / 40.0);
  EXPECT_GT(b8.ack_dropped, 0u);
  EXPECT_GT(b8.listen_drops, 0u);
  // backlog 64 holds all 40 (B+1 = 65): no client sees a drop.
  EXPECT_EQ(r.rows[2].drop_rate, 0.0);
  EXPECT_EQ(r.rows[2].ack_dropped + r.rows[2].syn_dropped + r.rows[2].reset, 0u);
  // So the capacity answer is 64, not 1 as a SYN-only count said.
  EXPECT_NE(r.answer.find("is 64"), std::string::npos) << r.answer;
  EXPECT_NE(sweep_table(*x, std::nullopt, r).find("ACK drop"), std::string::npos);
}

TEST(LabDrops, ARstFromTheServerCountsAsADrop) {
  // Clients 0.2 ms apart on a 1 ms link: SYNs keep joining the SYN queue
  // while the first children fill the accept queue, so third ACKs of real
  // requests (not cookies, which are dropped silently) meet a full queue.
  Scenario s = never_accepting(8);
  s.arrival = {Arrival::Kind::every, 0.0002, {}};
  s.server_sysctls = {{"net.ipv4.tcp_syncookies", "0"}, {"net.ipv4.tcp_abort_on_overflow", "1"}};
  RunOptions o;
  o.record_timeline = false;
  const LabResult r = run(s, o);
  ASSERT_TRUE(r.error.empty()) << r.error;
  size_t reset = 0;
  for (const auto& c : r.clients) reset += c.reset && c.saw_drop();
  EXPECT_GT(reset, 0u) << "tcp_abort_on_overflow answers the third ACK with a RST";
}

}  // namespace
}  // namespace synq::lab
