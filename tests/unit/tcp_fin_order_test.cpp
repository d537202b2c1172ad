// The ordering input.cpp states at its top: RFC 9293's fifth step (ACK) runs
// before the eighth (FIN), so a FIN,ACK that also acknowledges our FIN takes
// FIN-WAIT-1 through FIN-WAIT-2 to TIME-WAIT, never through CLOSING.
#include "tcp_harness.hpp"

namespace synq::tcp::testing {
namespace {

std::vector<TcpState> path_of(const RecordingHost& host) {
  std::vector<TcpState> path;
  for (const auto& t : host.transitions) path.push_back(t.second);
  return path;
}

TEST_F(TcpTest, FinWait1_FinAckAcknowledgingOurFin_to_TimeWait_ThroughFinWait2) {
  establish(false);
  conn->close(now);
  expect(FIN | ACK, kIss + 1, kIrs + 1);
  inject(Seg().fin().seq(kIrs + 1).ack(kIss + 2));
  expect(ACK, kIss + 2, kIrs + 2);
  expect_nothing();
  EXPECT_EQ(conn->state(), TcpState::time_wait);
  const std::vector<TcpState> want = {TcpState::syn_sent, TcpState::established,
                                      TcpState::fin_wait_1, TcpState::fin_wait_2,
                                      TcpState::time_wait};
  EXPECT_EQ(path_of(host), want);
}

TEST_F(TcpTest, FinWait1_FinNotAcknowledgingOurFin_to_Closing) {
  establish(false);
  conn->close(now);
  expect(FIN | ACK, kIss + 1, kIrs + 1);
  inject(Seg().fin().seq(kIrs + 1).ack(kIss + 1));
  expect(ACK, kIss + 2, kIrs + 2);
  EXPECT_EQ(conn->state(), TcpState::closing);
  inject(Seg().seq(kIrs + 2).ack(kIss + 2));
  EXPECT_EQ(conn->state(), TcpState::time_wait);
  const std::vector<TcpState> want = {TcpState::syn_sent, TcpState::established,
                                      TcpState::fin_wait_1, TcpState::closing, TcpState::time_wait};
  EXPECT_EQ(path_of(host), want);
}

}  // namespace
}  // namespace synq::tcp::testing
