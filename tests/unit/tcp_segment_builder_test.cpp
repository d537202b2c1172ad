// The segment builders every sender uses (tcp/segment_builder.hpp), and the
// constants and backoff formulas said once (tcp/tcp_limits.hpp, tcp/rto.hpp).
#include <gtest/gtest.h>

#include "tcp/rto.hpp"
#include "tcp/segment_builder.hpp"
#include "tcp/tcp_limits.hpp"

namespace synq::tcp {
namespace {

using namespace wire::tcp_flags;
using namespace std::chrono_literals;

// Ports and sequence numbers kept in distinct ranges so a swapped field shows.
const FourTuple kTuple{{IpAddr::v4(10, 0, 0, 1), 8080}, {IpAddr::v4(10, 0, 0, 2), 40123}};

wire::TcpSegment segment(uint8_t flags, uint32_t seq, uint32_t ack,
                         std::span<const uint8_t> payload = {}) {
  wire::TcpSegment s;
  s.h.sport = 40123;
  s.h.dport = 8080;
  s.h.flags = flags;
  s.h.seq = seq;
  s.h.ack = ack;
  s.h.window = 1000;
  s.payload = payload;
  return s;
}

TEST(SegmentBuilder, HeaderForTuple_FillsPortsFromLocalToRemote_RestZero) {
  wire::TcpHeader want;
  want.sport = 8080;
  want.dport = 40123;
  EXPECT_EQ(header_for(kTuple), want);
}

TEST(SegmentBuilder, ResetReply_ToAnAck_SeqIsSegAck_RstOnly) {
  const wire::TcpSegment seg = segment(ACK, 7000000, 3000000);
  wire::TcpHeader want = header_for(kTuple);
  want.seq = 3000000;
  want.flags = RST;
  EXPECT_EQ(reset_reply(kTuple, seg), want);
}

TEST(SegmentBuilder, ResetReply_WithoutAck_AcksSeqPlusLen_SynFinAndPayloadCount) {
  const uint8_t data[5] = {1, 2, 3, 4, 5};
  const wire::TcpSegment seg = segment(SYN | FIN, 7000000, 0, data);
  wire::TcpHeader want = header_for(kTuple);
  want.seq = 0;
  want.ack = 7000000 + 5 + 1 + 1;
  want.flags = RST | ACK;
  EXPECT_EQ(reset_reply(kTuple, seg), want);
}

TEST(SegmentBuilder, SynAck_BareAck_ActiveReset_CarryWhatTheyAreGiven) {
  wire::TcpOptions o;
  o.has_mss = true;
  o.mss = 1460;
  const wire::TcpHeader sa = syn_ack(kTuple, 5000000, 6000001, 64240, o);
  EXPECT_EQ(sa.sport, 8080);
  EXPECT_EQ(sa.dport, 40123);
  EXPECT_EQ(sa.seq, 5000000u);
  EXPECT_EQ(sa.ack, 6000001u);
  EXPECT_EQ(sa.flags, SYN | ACK);
  EXPECT_EQ(sa.window, 64240);
  EXPECT_EQ(sa.options, o);

  wire::TcpHeader ack = bare_ack(kTuple, 5000001, 6000001, 502);
  wire::TcpHeader want = header_for(kTuple);
  want.seq = 5000001;
  want.ack = 6000001;
  want.flags = ACK;
  want.window = 502;
  EXPECT_EQ(ack, want);

  set_timestamps(ack.options, 111, 222);
  EXPECT_TRUE(ack.options.has_timestamps);
  EXPECT_EQ(ack.options.ts_val, 111u);
  EXPECT_EQ(ack.options.ts_ecr, 222u);

  want.flags = RST | ACK;
  want.window = 0;
  EXPECT_EQ(active_reset(kTuple, 5000001, 6000001), want);
}

TEST(TcpLimits, MssFromMtu_LinuxTcpMtuToMss) {
  EXPECT_EQ(mss_from_mtu(IpVersion::v4, 0), 1460);  // default MTU 1500
  EXPECT_EQ(mss_from_mtu(IpVersion::v6, 0), 1440);
  EXPECT_EQ(mss_from_mtu(IpVersion::v4, 9000), 8960);
  EXPECT_EQ(mss_from_mtu(IpVersion::v4, 100), kMinMss);  // floor TCP_MIN_MSS
}

TEST(Rto, BackedOff_DoublesUpToRtoMax) {
  // The SYN-ACK schedule: 1, 2, 4, ... 64 s, then TCP_RTO_MAX.
  EXPECT_EQ(backed_off(kInitialRto, 0), 1s);
  EXPECT_EQ(backed_off(kInitialRto, 3), 8s);
  EXPECT_EQ(backed_off(kInitialRto, 6), 64s);
  EXPECT_EQ(backed_off(kInitialRto, 7), 120s);
  EXPECT_EQ(backed_off(kInitialRto, 1000), 120s);
  EXPECT_EQ(backed_off(300ms, 2), 1200ms);
}

TEST(Rto, ModelTimeout_LinuxGiveUpTimes) {
  // tcp_syn_retries 6 from TCP_TIMEOUT_INIT: 127 s; tcp_retries2 15 from
  // TCP_RTO_MIN: 924.6 s (Documentation/networking/ip-sysctl.rst).
  EXPECT_EQ(model_timeout(6, kInitialRto), 127s);
  EXPECT_EQ(model_timeout(15, kLinuxRtoMinConst), 924600ms);
  EXPECT_EQ(model_timeout(1, kInitialRto), 3s);
}

}  // namespace
}  // namespace synq::tcp
