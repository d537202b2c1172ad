// SYN cookies in the linux listener (spec §2 "SYN cookies", §8 L13–L20):
// hand-built segments, virtual time, exact counters.
#include "stack_linux_fixture.hpp"

namespace synq::test {
namespace {

using Cookies = LinuxListener;

// The ms clock of our TSval for this peer address: TSval - offset. Learned
// from an ordinary request's SYN-ACK (the offset is per address pair).
uint32_t ts_offset_from(const Sent& synack, Time at) {
  return synack.tcp.options.ts_val -
         static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(at).count());
}

TEST_F(Cookies, L13_CookieWhenTheSynQueueIsFullNeverRetransmittedNotListed) {
  server.sysctls().tcp_syncookies = 1;
  const int B = 2;
  listen(B);
  for (int i = 0; i < B + 1; ++i) ASSERT_EQ(syn(uint16_t(41000 + i)).size(), 1u);
  ASSERT_EQ(syn_recv_entries(), size_t(B + 1));  // qlen 3 > B: the SYN queue is full
  EXPECT_TRUE(kernel_log.empty());
  // SYN #B+2 → a cookie SYN-ACK.
  auto out = syn(42000, 7000);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::SYN | f::ACK));
  EXPECT_EQ(out[0].tcp.ack, 7001u);
  EXPECT_EQ(out[0].tcp.options.mss, 1460);
  EXPECT_EQ(count(Counter::TcpExt_TCPReqQFullDoCookies), 1u);
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesSent), 1u);
  EXPECT_EQ(count(Counter::TcpExt_ListenDrops), 0u);
  EXPECT_EQ(syn_recv_entries(), size_t(B + 1));  // nothing stored
  EXPECT_EQ(events.back().decision, ListenDecision::cookie);
  EXPECT_EQ(events.back().counter, Counter::TcpExt_SyncookiesSent);
  // The flood is logged once per listener.
  ASSERT_EQ(kernel_log.size(), 1u);
  EXPECT_EQ(kernel_log[0], "TCP: Possible SYN flooding on port 10.0.0.1:80. Sending cookies.");
  ASSERT_EQ(syn(42001, 7000).size(), 1u);
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesSent), 2u);
  EXPECT_EQ(kernel_log.size(), 1u);
  // Only the three requests' SYN-ACKs are ever retransmitted.
  for (const Sent& s : run_until(200s)) EXPECT_LT(s.dport, 42000) << s.dport;
  EXPECT_EQ(count(Counter::TcpExt_TCPSynRetrans), 3u * 5);
}

TEST_F(Cookies, L12_CookiesOffLogsDroppingRequestOnce) {
  server.sysctls().tcp_syncookies = 0;
  listen(0);
  ASSERT_EQ(syn(41000).size(), 1u);
  EXPECT_TRUE(syn(41001).empty());
  EXPECT_TRUE(syn(41002).empty());
  ASSERT_EQ(kernel_log.size(), 1u);
  EXPECT_EQ(kernel_log[0], "TCP: Possible SYN flooding on port 10.0.0.1:80. Dropping request.");
}

TEST_F(Cookies, L14_SyncookiesTwoAnswersEverySynWithACookieAndLogsNothing) {
  server.sysctls().tcp_syncookies = 2;
  listen(10);
  for (uint16_t p = 41000; p < 41005; ++p) ASSERT_EQ(syn(p).size(), 1u);
  EXPECT_EQ(count(Counter::TcpExt_TCPReqQFullDoCookies), 5u);
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesSent), 5u);
  EXPECT_EQ(syn_recv_entries(), 0u);
  EXPECT_EQ(server.next_deadline(), kNever);  // no timers: nothing to retransmit
  EXPECT_TRUE(kernel_log.empty());            // tcp_syn_flood_action is quiet with 2
}

TEST_F(Cookies, L16_ValidCookieAckMakesAChildWithTheTablesMss) {
  server.sysctls().tcp_syncookies = 2;
  listen(10);
  const std::vector<std::pair<uint16_t, uint16_t>> peer_to_table = {
      {1460, 1460}, {1400, 1300}, {1440, 1440}, {1299, 536}, {9000, 1460}};
  uint16_t port = 41000;
  for (auto [peer_mss, table_mss] : peer_to_table) {
    auto sa = syn(port, 5000, opts(peer_mss));
    ASSERT_EQ(sa.size(), 1u);
    EXPECT_TRUE(ack(port, 5000, sa[0]).empty());
    Endpoint from;
    const tcp::TcpInfo info = accept_info(&from);
    EXPECT_EQ(from.port, port);
    EXPECT_EQ(info.state, TcpState::established);
    EXPECT_EQ(info.peer_mss, table_mss) << peer_mss;
    EXPECT_EQ(info.snd_nxt, sa[0].tcp.seq + 1);
    EXPECT_EQ(info.rcv_nxt, 5001u);
    ++port;
  }
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesRecv), peer_to_table.size());
  EXPECT_EQ(count(Counter::Tcp_PassiveOpens), peer_to_table.size());
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesFailed), 0u);
}

TEST_F(Cookies, L16_CookieAckWithDataDeliversIt) {
  server.sysctls().tcp_syncookies = 2;
  listen(10);
  auto sa = syn(41000, 5000);
  ASSERT_EQ(sa.size(), 1u);
  const std::string data = "GET / HTTP/1.0\r\n\r\n";
  ack(41000, 5000, sa[0], {}, bytes(data));
  auto fd = server.accept(lfd);
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(*server.readable_bytes(*fd), data.size());
}

struct CookieTimestamps : Cookies {
  uint32_t offset = 0;  // our TSval offset towards 10.0.0.9
  void SetUp() override {
    Cookies::SetUp();
    server.sysctls().tcp_syncookies = 0;  // one ordinary request to learn the offset
    listen(10);
    now = 5s;
    auto sa = syn(40999, 1, opts(1460, 7, true, 100));
    ASSERT_EQ(sa.size(), 1u);
    offset = ts_offset_from(sa[0], now);
    server.sysctls().tcp_syncookies = 2;
    now = 100s + 1ms;
  }
  uint32_t clock_ms() const {
    return static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  }
};

TEST_F(CookieTimestamps, L17_TsvalLowBitsCarryWscaleSackEcn) {
  auto ws7_sack = syn(41000, 5000, opts(1460, 7, true, 777));
  ASSERT_EQ(ws7_sack.size(), 1u);
  const uint32_t clock = ws7_sack[0].tcp.options.ts_val - offset;
  EXPECT_EQ(clock & 63, 23u);  // wscale 7 | SACK 16
  EXPECT_LE(clock, clock_ms());
  EXPECT_GT(clock + 64, clock_ms());
  EXPECT_EQ(ws7_sack[0].tcp.options.ts_ecr, 777u);
  EXPECT_TRUE(ws7_sack[0].tcp.options.has_wscale);
  EXPECT_TRUE(ws7_sack[0].tcp.options.sack_permitted);

  auto no_ws = syn(41001, 5000, opts(1460, -1, true, 777));
  ASSERT_EQ(no_ws.size(), 1u);
  EXPECT_EQ((no_ws[0].tcp.options.ts_val - offset) & 63, 31u);  // 0xF | SACK

  auto ecn = syn(41002, 5000, opts(1460, 7, true, 777), f::ECE | f::CWR);
  ASSERT_EQ(ecn.size(), 1u);
  EXPECT_EQ((ecn[0].tcp.options.ts_val - offset) & 63, 23u + 32);

  // The ACK echoes the TSval; the child gets the SYN's wscale and SACK back.
  EXPECT_TRUE(ack(41000, 5000, ws7_sack[0], opts(0, -1, false, 888, ws7_sack[0].tcp.options.ts_val))
                  .empty());
  const tcp::TcpInfo info = accept_info();
  EXPECT_TRUE(info.ws_ok);
  EXPECT_EQ(info.snd_wscale, 7);
  EXPECT_EQ(info.rcv_wscale, tcp::our_wscale(server.sysctls()));
  EXPECT_TRUE(info.sack_ok);
  EXPECT_TRUE(info.ts_ok);
  EXPECT_EQ(info.snd_wnd, 64240u << 7);
}

TEST_F(CookieTimestamps, L16_CookieChildsWindowIsRoundedToTheTablesMss) {
  // Host kernel (tests/scripts/linux/cookies-overflow-ts.pkt): cookie_v4_check
  // redoes the initial window with the cookie's MSS, timestamps not taken
  // off: peer MSS 1300 → 65536 rounded down to 50 × 1300 = 65000, sent as
  // ceil(65000 / 128) = 508 (an ordinary request's child: 45 × 1448 → 510).
  auto sa = syn(41000, 5000, opts(1300, 7, true, 777));
  ASSERT_EQ(sa.size(), 1u);
  const uint32_t tsval = sa[0].tcp.options.ts_val;
  EXPECT_TRUE(ack(41000, 5000, sa[0], opts(0, -1, false, 888, tsval)).empty());
  ASSERT_TRUE(server.accept(lfd).ok());
  const std::vector<uint8_t> data(100, 'x');
  peer.send(now, Seg()
                     .from(41000)
                     .to(80)
                     .seq(5001 + 1000)
                     .ack(sa[0].tcp.seq + 1)
                     .options(opts(0, -1, false, 889, tsval))
                     .payload(data));  // out of order: an immediate ACK
  auto out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.ack, 5001u);
  EXPECT_EQ(out[0].tcp.window, 508u);
}

TEST_F(Cookies, L18_CookieWithoutTimestampsLosesWscaleAndSack) {
  server.sysctls().tcp_syncookies = 2;
  listen(10);
  auto sa = syn(41000, 5000, opts(1460, 7, true));  // no timestamps
  ASSERT_EQ(sa.size(), 1u);
  // Nothing to keep them in: the SYN-ACK offers neither.
  EXPECT_FALSE(sa[0].tcp.options.has_wscale);
  EXPECT_FALSE(sa[0].tcp.options.sack_permitted);
  EXPECT_FALSE(sa[0].tcp.options.has_timestamps);
  EXPECT_TRUE(ack(41000, 5000, sa[0]).empty());
  const tcp::TcpInfo info = accept_info();
  EXPECT_FALSE(info.ws_ok);
  EXPECT_EQ(info.snd_wscale, 0);
  EXPECT_EQ(info.rcv_wscale, 0);
  EXPECT_FALSE(info.sack_ok);
  EXPECT_FALSE(info.ts_ok);
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesRecv), 1u);
}

TEST_F(Cookies, L19_CookieAckWithTheAcceptQueueFullIsDroppedSilentlyEvenWithAbort) {
  server.sysctls().tcp_syncookies = 2;
  server.sysctls().tcp_abort_on_overflow = 1;
  listen(0);  // B+1 = 1 child fits
  auto a = syn(41000, 5000);
  auto b = syn(41001, 6000);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_TRUE(ack(41000, 5000, a[0]).empty());
  ASSERT_EQ(listener_info().recv_q, 1u);
  EXPECT_TRUE(ack(41001, 6000, b[0]).empty());  // no RST
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesRecv), 2u);
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 1u);
  EXPECT_EQ(count(Counter::TcpExt_ListenDrops), 1u);
  EXPECT_EQ(count(Counter::Tcp_PassiveOpens), 1u);
  EXPECT_EQ(count(Counter::Tcp_OutRsts), 0u);
  EXPECT_EQ(listener_info().recv_q, 1u);
  // The cookie is still good: after accept() the client's next ACK completes it.
  ASSERT_TRUE(server.accept(lfd).ok());
  EXPECT_TRUE(ack(41001, 6000, b[0]).empty());
  EXPECT_EQ(count(Counter::Tcp_PassiveOpens), 2u);
}

TEST_F(Cookies, L20_BadCookieAfterARecentOverflowFailsAndGetsRst) {
  server.sysctls().tcp_syncookies = 1;
  listen(10);
  // No cookie sent yet: an ACK is just a stray ACK (RST, nothing examined).
  peer.send(now, Seg().from(41000).to(80).seq(5001).ack(424242));
  auto out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::RST));
  EXPECT_EQ(out[0].tcp.seq, 424242u);
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesFailed), 0u);

  server.sysctls().tcp_syncookies = 2;
  auto sa = syn(41001, 5000);  // a cookie at t = 0: the listener overflowed
  ASSERT_EQ(sa.size(), 1u);
  now = 120s;  // exactly TCP_SYNCOOKIE_VALID later: still recent
  peer.send(now, Seg().from(41000).to(80).seq(5001).ack(424242));
  out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::RST));
  EXPECT_EQ(out[0].tcp.seq, 424242u);
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesFailed), 1u);
  EXPECT_EQ(events.back().counter, Counter::TcpExt_SyncookiesFailed);

  now = 120s + 1ns;  // no longer recent: a stray ACK again
  peer.send(now, Seg().from(41000).to(80).seq(5001).ack(424242));
  ASSERT_EQ(drain(server).size(), 1u);
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesFailed), 1u);
  EXPECT_EQ(count(Counter::Tcp_OutRsts), 3u);
}

TEST_F(Cookies, L20_CookieExpiresAfterTwoMinuteTicks) {
  server.sysctls().tcp_syncookies = 2;
  listen(10);
  now = 30s;  // minute 0
  auto early = syn(41000, 5000);
  auto early2 = syn(41003, 5000);
  ASSERT_EQ(early.size(), 1u);
  ASSERT_EQ(early2.size(), 1u);
  now = 119s;  // minute 1: a cookie from minute 0 is still good
  EXPECT_TRUE(ack(41003, 5000, early2[0]).empty());
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesRecv), 1u);
  auto late = syn(41001, 6000);  // minute 1; also keeps the overflow stamp recent
  ASSERT_EQ(late.size(), 1u);
  now = 120s;  // minute 2: minute 0's cookie has expired, minute 1's has not
  auto out = ack(41000, 5000, early[0]);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::RST));
  EXPECT_EQ(out[0].tcp.seq, early[0].tcp.seq + 1);
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesFailed), 1u);
  EXPECT_TRUE(ack(41001, 6000, late[0]).empty());
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesRecv), 2u);
  EXPECT_EQ(count(Counter::Tcp_PassiveOpens), 2u);
}

TEST_F(Cookies, TamperedCookieAckFails) {
  server.sysctls().tcp_syncookies = 2;
  listen(10);
  auto sa = syn(41000, 5000);
  ASSERT_EQ(sa.size(), 1u);
  peer.send(now, Seg().from(41000).to(80).seq(5001).ack(sa[0].tcp.seq + 1 + (1u << 8)));
  auto out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].is(f::RST));
  EXPECT_EQ(out[0].tcp.seq, sa[0].tcp.seq + 1 + (1u << 8));
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesFailed), 1u);
  EXPECT_EQ(count(Counter::Tcp_PassiveOpens), 0u);
}

TEST_F(Cookies, L08_FullAcceptQueueWithCookiesAlwaysNoCookieSent) {
  listen(0);
  auto sa = syn(40001);
  ASSERT_EQ(sa.size(), 1u);
  ack(40001, 1000, sa[0]);
  server.sysctls().tcp_syncookies = 2;
  EXPECT_TRUE(syn(40002).empty());
  EXPECT_EQ(count(Counter::TcpExt_TCPReqQFullDoCookies), 1u);
  EXPECT_EQ(count(Counter::TcpExt_ListenOverflows), 1u);
  EXPECT_EQ(count(Counter::TcpExt_ListenDrops), 1u);
  EXPECT_EQ(count(Counter::TcpExt_SyncookiesSent), 0u);
  EXPECT_EQ(events.back().decision, ListenDecision::drop);
}

}  // namespace
}  // namespace synq::test
