// A SYN to a TIME-WAIT connection on a listener's port (Linux
// tcp_timewait_state_process, TCP_TW_SYN): a SYN above rcv_nxt ends the
// TIME-WAIT and the listener answers it, with ISN tw_snd_nxt + 65535 + 2.
#include "stack_linux_fixture.hpp"

namespace synq::test {
namespace {

struct TimeWaitSyn : LinuxListener {
  Sent synack;
  uint32_t server_fin_seq = 0;  // our FIN's sequence number; snd_nxt in TIME-WAIT is one more

  // 10.0.0.9:41000 → :80, ISN 5000; the server closes first and ends in TIME-WAIT.
  void SetUp() override {
    LinuxListener::SetUp();
    listen(10);
    auto sa = syn(41000, 5000);
    ASSERT_EQ(sa.size(), 1u);
    synack = sa[0];
    ASSERT_TRUE(ack(41000, 5000, synack).empty());
    auto fd = server.accept(lfd);
    ASSERT_TRUE(fd.ok());
    ASSERT_EQ(server.close(*fd), Errno::ok);
    auto fin = drain(server);
    ASSERT_EQ(fin.size(), 1u);
    ASSERT_TRUE(fin[0].is(f::FIN | f::ACK));
    server_fin_seq = fin[0].tcp.seq;
    // The peer ACKs our FIN and sends its own; we ACK it and enter TIME-WAIT.
    peer.send(now, Seg().from(41000).to(80).fin().seq(5001).ack(server_fin_seq + 1));
    auto last = drain(server);
    ASSERT_EQ(last.size(), 1u);
    ASSERT_TRUE(last[0].is(f::ACK));
    ASSERT_EQ(state_of_41000(), TcpState::time_wait);
  }
  std::optional<TcpState> state_of_41000() const {
    for (const SocketInfo& s : server.sockets())
      if (s.remote.port == 41000) return s.state;
    return std::nullopt;
  }
};

TEST_F(TimeWaitSyn, SynAboveRcvNxtEndsTimeWaitAndTheListenerAnswers) {
  now = 1s;
  auto out = syn(41000, 5002 + 100000);  // rcv_nxt in TIME-WAIT is 5002
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::SYN | f::ACK));
  EXPECT_EQ(out[0].tcp.ack, 5002u + 100000 + 1);
  EXPECT_EQ(out[0].tcp.seq, server_fin_seq + 1 + 65535 + 2);
  EXPECT_EQ(state_of_41000(), TcpState::syn_received);
  EXPECT_EQ(syn_recv_entries(), 1u);
  // The new incarnation completes as usual.
  EXPECT_TRUE(ack(41000, 5002 + 100000, out[0]).empty());
  EXPECT_EQ(listener_info().recv_q, 1u);
  EXPECT_EQ(count(Counter::Tcp_PassiveOpens), 2u);
}

TEST_F(TimeWaitSyn, WithoutAListenerTheTimeWaitAnswersWithItsAck) {
  // Linux tcp_v4_rcv: TCP_TW_SYN finds no listener and falls through to
  // TCP_TW_ACK — the peer learns where the old connection stands.
  ASSERT_EQ(server.close(lfd), Errno::ok);
  drain(server);
  now = 1s;
  auto out = syn(41000, 5002 + 100000);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::ACK));
  EXPECT_EQ(out[0].tcp.seq, server_fin_seq + 1);
  EXPECT_EQ(out[0].tcp.ack, 5002u);
  EXPECT_EQ(state_of_41000(), TcpState::time_wait);
}

TEST_F(TimeWaitSyn, OldSynKeepsTheTimeWaitAndIsAnsweredWithAnAck) {
  now = 1s;
  auto out = syn(41000, 4000);  // below rcv_nxt: an old duplicate
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::ACK));
  EXPECT_EQ(out[0].tcp.ack, 5002u);
  EXPECT_EQ(state_of_41000(), TcpState::time_wait);
  EXPECT_EQ(syn_recv_entries(), 0u);
}

TEST_F(TimeWaitSyn, WithTheListenerFullTheSynIsDroppedAndTheTimeWaitIsGone) {
  // Linux drops the TIME-WAIT before the listener decides: a full accept
  // queue loses both (the client retries its SYN; nothing is left to answer).
  ASSERT_EQ(server.listen(lfd, 0), Errno::ok);
  auto other = syn(42000, 1);
  ASSERT_EQ(other.size(), 1u);
  ASSERT_TRUE(ack(42000, 1, other[0]).empty());  // acc 1 > B = 0: full
  now = 1s;
  EXPECT_TRUE(syn(41000, 5002 + 100000).empty());
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 1u);
  EXPECT_EQ(state_of_41000(), std::nullopt);
}

}  // namespace
}  // namespace synq::test
