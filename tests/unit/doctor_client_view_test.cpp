// What clients see: the SYN and SYN-ACK retransmission schedules.
//
// Expected values come from the kernel rule, not from the code under test:
// Linux 6.18 tcp_retransmit_timer for a SYN-SENT socket starts at
// TCP_TIMEOUT_INIT (1 s); the first tcp_syn_linear_timeouts retransmissions
// keep that timeout, later ones double it (icsk_backoff, capped at
// TCP_RTO_MAX 120 s). tcp_write_timeout gives up (ETIMEDOUT) at the first
// timer at or after tcp_model_timeout(tcp_syn_retries, 1 s) =
// (2^(retries+1) − 1) s, the retries being at most ilog2(120) = 6 here.
// The SYN-ACK side, reqsk_timer_handler: timeout min(1 s << n, 120 s),
// tcp_synack_retries resends, the request removed at the timer after the
// last. docs/kernel-facts.md has the same rows measured on this kernel.
#include <gtest/gtest.h>

#include "doctor/client_view.hpp"

namespace synq::doctor {
namespace {

using V = std::vector<double>;

TEST(DoctorClientView, SynRetries6Linear4IsTheLinux618Default) {
  // Five 1 s steps (1..5 s), then doubling: 7, 11, 19, 35, 67; the budget
  // 2^7 − 1 = 127 s is first reached by the timer at 67 + 64 = 131 s.
  const auto s = syn_retransmissions(6, 4);
  EXPECT_EQ(s.retransmit_at_s, (V{1, 2, 3, 4, 5, 7, 11, 19, 35, 67}));
  EXPECT_DOUBLE_EQ(s.gives_up_at_s, 131);
}

TEST(DoctorClientView, SynRetries6Linear0DoublesFromTheStart) {
  // 1, 3, 7, 15, 31, 63; the next timer at 127 s meets the 127 s budget.
  const auto s = syn_retransmissions(6, 0);
  EXPECT_EQ(s.retransmit_at_s, (V{1, 3, 7, 15, 31, 63}));
  EXPECT_DOUBLE_EQ(s.gives_up_at_s, 127);
}

TEST(DoctorClientView, SynRetries2) {
  // Budget 2^3 − 1 = 7 s. Linear 0: 1, 3, then the timer at 7 s gives up.
  const auto doubling = syn_retransmissions(2, 0);
  EXPECT_EQ(doubling.retransmit_at_s, (V{1, 3}));
  EXPECT_DOUBLE_EQ(doubling.gives_up_at_s, 7);
  // Linear 4: 1..5 s every second (the 5th retransmission is past the linear
  // four, so the next timeout is 2 s), and the timer at 7 s gives up.
  const auto linear = syn_retransmissions(2, 4);
  EXPECT_EQ(linear.retransmit_at_s, (V{1, 2, 3, 4, 5}));
  EXPECT_DOUBLE_EQ(linear.gives_up_at_s, 7);
}

TEST(DoctorClientView, SynAckSchedule) {
  const auto five = synack_retransmissions(5);
  EXPECT_EQ(five.retransmit_at_s, (V{1, 3, 7, 15, 31}));
  EXPECT_DOUBLE_EQ(five.gives_up_at_s, 63);
  const auto two = synack_retransmissions(2);
  EXPECT_EQ(two.retransmit_at_s, (V{1, 3}));
  EXPECT_DOUBLE_EQ(two.gives_up_at_s, 7);
}

TEST(DoctorClientView, ExperiencesQuoteThisHostsKnobs) {
  NetnsSnapshot host;
  host.knobs = {{"net.ipv4.tcp_syn_retries", 6},
                {"net.ipv4.tcp_syn_linear_timeouts", 4},
                {"net.ipv4.tcp_synack_retries", 2}};
  const std::string syn = syn_drop_experience(host);
  EXPECT_NE(syn.find("1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s"), std::string::npos) << syn;
  EXPECT_NE(syn.find("ETIMEDOUT at 131 s"), std::string::npos) << syn;
  const std::string ack = ack_drop_experience(host);
  EXPECT_NE(ack.find("1, 3 s"), std::string::npos) << ack;
  EXPECT_NE(ack.find("After 7 s"), std::string::npos) << ack;
  EXPECT_NE(reset_experience().find("ECONNRESET"), std::string::npos);
  const auto n = client_view_numbers(host);
  EXPECT_EQ(n["client_connect_timeout_s"].get<double>(), 131);
  EXPECT_EQ(n["synack_retransmit_at_s"].size(), 2u);
}

TEST(DoctorClientView, KernelWithoutLinearTimeoutsKnob) {
  NetnsSnapshot host;
  host.knobs = {{"net.ipv4.tcp_syn_retries", 6}};  // no tcp_syn_linear_timeouts: plain doubling
  EXPECT_NE(syn_drop_experience(host).find("1, 3, 7, 15, 31, 63 s"), std::string::npos);
}

}  // namespace
}  // namespace synq::doctor
