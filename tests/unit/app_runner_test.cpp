// The script runner core against the synq target (virtual time): passing
// scripts, each kind of failure and its report, blocking calls, connections.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "runner/live_packet.hpp"
#include "runner/run_files.hpp"
#include "runner/runner.hpp"
#include "runner/synq_target.hpp"
#include "script/parser.hpp"

namespace synq::runner {
namespace {

const std::string kScriptDir = SYNQ_BINARY_DIR "/app_runner_test_dir";

struct Run {
  RunReport report;
  Duration end{0};
  std::string text() const {
    std::string t;
    for (const auto& l : report.lines) t += l + "\n";
    return t;
  }
};

Run run(const std::string& text) {
  auto parsed = script::parse_script(text, {.file = "t.pkt", .command_line = {}});
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : script::render(parsed.error()));
  if (!parsed.ok()) return {};
  SynqTarget target(SynqTargetConfig{script_local_ip(parsed.value()), "linux", 1, kScriptDir});
  Run r;
  r.report = run_script(parsed.value(), target);
  r.end = target.now();
  return r;
}

const std::string kListener = R"(
`sysctl -q net.ipv4.tcp_syncookies=0`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 8) = 0
   +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
)";

TEST(AppRunner, PassiveHandshakeThenAccept) {
  auto r = run(kListener + R"(
   +0 < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
   +0 > S. 0:0(0) ack 1 win 64240 <mss 1460,nop,nop,sackOK,nop,wscale 7>
 +.01 < . 1:1(0) ack 1 win 502
   +0 accept(3, ..., ...) = 4
)");
  EXPECT_TRUE(r.report.passed) << r.text();
}

TEST(AppRunner, WrongAckFailsWithExpectedAndActualLines) {
  auto r = run(kListener + R"(
   +0 < S 0:0(0) win 65535 <mss 1460>
   +0 > S. 0:0(0) ack 2 <mss 1460>
)");
  ASSERT_FALSE(r.report.passed);
  ASSERT_GE(r.report.lines.size(), 3u) << r.text();
  EXPECT_EQ(r.report.lines[0], "t.pkt:10: outbound packet differs: ack");
  EXPECT_EQ(r.report.lines[1], "  expected: > S. 0:0(0) ack 2 <mss 1460>  (at 0.000 s)");
  EXPECT_EQ(r.report.lines[2], "  actual:   > S. 0:0(0) ack 1 win 64240 <mss 1460>  (at 0.000 s)");
}

TEST(AppRunner, PacketNoLineExpectsFailsTheScript) {
  // The SYN-ACK is sent, but the script claims silence until accept() at 0.5 s.
  auto r = run(kListener + R"(
   +0 < S 0:0(0) win 65535 <mss 1460>
  +.5 accept(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)
)");
  ASSERT_FALSE(r.report.passed);
  EXPECT_EQ(r.report.lines[0], "t.pkt:10: unexpected outbound packet before this event")
      << r.text();
  EXPECT_EQ(r.report.lines[1], "  actual:   > S. 0:0(0) ack 1 win 64240 <mss 1460>  (at 0.000 s)");
}

TEST(AppRunner, SixtyThreeSecondScheduleRunsInVirtualTime) {
  // spec §2: SYN-ACKs at 0, 1, 3, 7, 15, 31 s, the request gone at 63 s.
  auto r = run(kListener + R"(
   +0 < S 0:0(0) win 65535 <mss 1460>
   +0 > S. 0:0(0) ack 1 <mss 1460>
   +1 > S. 0:0(0) ack 1 <mss 1460>
   +2 > S. 0:0(0) ack 1 <mss 1460>
   +4 > S. 0:0(0) ack 1 <mss 1460>
   +8 > S. 0:0(0) ack 1 <mss 1460>
  +16 > S. 0:0(0) ack 1 <mss 1460>
  +33 < . 1:1(0) ack 1 win 65535
   +0 > R 1:1(0)
)");
  EXPECT_TRUE(r.report.passed) << r.text();
  EXPECT_EQ(r.end, 64s);
}

TEST(AppRunner, RetransmissionExpectedLaterIsTooEarly) {
  auto r = run(kListener + R"(
   +0 < S 0:0(0) win 65535 <mss 1460>
   +0 > S. 0:0(0) ack 1 <mss 1460>
   +2 > S. 0:0(0) ack 1 <mss 1460>
)");
  ASSERT_FALSE(r.report.passed);
  EXPECT_EQ(r.report.lines[0], "t.pkt:11: outbound packet too early (tolerance 0.004 s)")
      << r.text();
  EXPECT_EQ(r.report.lines[2], "  actual:   > S. 0:0(0) ack 1 win 64240 <mss 1460>  (at 1.000 s)");
}

TEST(AppRunner, BlockingAcceptReturnsWhenTheHandshakeCompletes) {
  const std::string blocking_listener = R"(
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 8) = 0
)";
  auto ok = run(blocking_listener + R"(
   +0...0.2 accept(3, ..., ...) = 4
   +.1 < S 0:0(0) win 65535 <mss 1460>
   +0 > S. 0:0(0) ack 1 <mss 1460>
   +.1 < . 1:1(0) ack 1 win 65535
)");
  EXPECT_TRUE(ok.report.passed) << ok.text();
  auto late = run(blocking_listener + R"(
   +0...0.1 accept(3, ..., ...) = 4
   +.1 < S 0:0(0) win 65535 <mss 1460>
   +0 > S. 0:0(0) ack 1 <mss 1460>
   +.1 < . 1:1(0) ack 1 win 65535
)");
  ASSERT_FALSE(late.report.passed);
  EXPECT_EQ(
      late.report.lines[0],
      "t.pkt:6: blocking call returned at 0.200 s, the script says 0.100 s (tolerance 0.004 s)")
      << late.text();
  auto unmarked = run(blocking_listener + "   +0 accept(3, ..., ...) = 4\n");
  ASSERT_FALSE(unmarked.report.passed);
  EXPECT_NE(unmarked.text().find("the call blocks (a blocking socket)"), std::string::npos);
}

TEST(AppRunner, ConnectionsMayInterleaveSameTimePackets) {
  // spec §7: same-tick timers of two requests fire in either order; a script
  // naming the connections does not depend on it.
  auto r = run(kListener + R"(
   +0 < 40000>8080 S 0:0(0) win 65535 <mss 1460>
   +0 < 40001>8080 S 0:0(0) win 65535 <mss 1460>
   +0 > 8080>40001 S. 0:0(0) ack 1 <mss 1460>
   +0 > 8080>40000 S. 0:0(0) ack 1 <mss 1460>
   +1 > 8080>40001 S. 0:0(0) ack 1 <mss 1460>
   +0 > 8080>40000 S. 0:0(0) ack 1 <mss 1460>
)");
  EXPECT_TRUE(r.report.passed) << r.text();
}

TEST(AppRunner, ActiveOpenLearnsTheIsnAndPortAndMapsAcks) {
  auto r = run(R"(
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
   +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
   +0 > S 0:0(0) <...>
 +.01 < S. 0:0(0) ack 1 win 65535 <mss 1460>
   +0 > . 1:1(0) ack 1 win 64240
   +0 write(3, ..., 100) = 100
   +0 > P. 1:101(100) ack 1
 +.01 < . 1:1(0) ack 101 win 65535
   +0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
)");
  EXPECT_TRUE(r.report.passed) << r.text();
}

TEST(AppRunner, StrictNeedsEveryWindow) {
  auto r = run("--strict\n" + kListener + R"(
   +0 < S 0:0(0) win 65535 <mss 1460>
   +0 > S. 0:0(0) ack 1 <mss 1460>
)");
  ASSERT_FALSE(r.report.passed);
  EXPECT_EQ(r.report.lines[0], "t.pkt:11: --strict: an outbound packet must state its win");
}

TEST(AppRunner, WrongSyscallResultShowsTheCall) {
  auto r = run(kListener + "   +0 accept(3, ..., ...) = 4\n");
  ASSERT_FALSE(r.report.passed);
  EXPECT_EQ(r.report.lines[0], "t.pkt:8: accept() returned another value");
  EXPECT_EQ(r.report.lines[2], "  actual:   = -1 EAGAIN (Resource temporarily unavailable)");
}

TEST(AppRunner, AbsoluteSeqMatchesTheRealNumberNewIsnSynGetsRstAckSeqZero) {
  // spec §8 L27: the RST|ACK for a new-ISN SYN carries seq 0 on the wire.
  const std::string head = kListener + R"(
   +0 < S 0:0(0) win 65535 <mss 1460>
   +0 > S. 0:0(0) ack 1 <mss 1460>
 +.01 < S 100:100(0) win 65535 <mss 1460>
)";
  auto ok = run(head + "   +0 > R. abs 0:0(0) ack 101\n");
  EXPECT_TRUE(ok.report.passed) << ok.text();
  // Relative to the listener's ISN the same packet is some other number.
  auto relative = run(head + "   +0 > R. 0:0(0) ack 101\n");
  EXPECT_FALSE(relative.report.passed);
  EXPECT_NE(relative.text().find("outbound packet differs: seq"), std::string::npos)
      << relative.text();
  auto wrong = run(head + "   +0 > R. abs 7:7(0) ack 101\n");
  EXPECT_FALSE(wrong.report.passed);
  EXPECT_NE(wrong.text().find("expected: > R. abs 7:7(0) ack 101"), std::string::npos)
      << wrong.text();
  EXPECT_NE(wrong.text().find("actual:   > R. abs 0:0(0) ack 101"), std::string::npos)
      << wrong.text();
}

TEST(AppRunner, LinuxTargetRefusesAnotherModel) {
  ScriptFilesOptions o;
  o.target = "linux";
  o.model = "bsd44";
  EXPECT_NE(check_target_and_model(o).find("cannot play the 'bsd44' model"), std::string::npos);
  o.model = "linux";
  EXPECT_EQ(check_target_and_model(o), "");
  o.target = "synq";
  for (const char* m : {"linux", "bsd44", "freebsd", "xnu"}) {
    o.model = m;
    EXPECT_EQ(check_target_and_model(o), "") << m;
  }
  o.model = "solaris";
  EXPECT_NE(check_target_and_model(o).find("unknown model"), std::string::npos);
}

TEST(AppRunner, ALineExpectingMorePayloadTakesTheFollowingSegmentsAsGsoWould) {
  // packetdrill's TUN has TSO: `write(4, ..., 2000)` is one packet there; here
  // two MSS-1000 segments, which the line takes together.
  const std::string head = kListener + R"(
   +0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
   +0 > S. 0:0(0) ack 1 <...>
 +.01 < . 1:1(0) ack 1 win 257
   +0 accept(3, ..., ...) = 4
   +0 write(4, ..., 2000) = 2000
)";
  auto ok = run(head + "   +0 > P. 1:2001(2000) ack 1\n");
  EXPECT_TRUE(ok.report.passed) << ok.text();
  auto one = run(head + "   +0 > . 1:1001(1000) ack 1\n   +0 > P. 1001:2001(1000) ack 1\n");
  EXPECT_TRUE(one.report.passed) << one.text();
  auto too_much = run(head + "   +0 > P. 1:3001(3000) ack 1\n");
  EXPECT_FALSE(too_much.report.passed);
  EXPECT_NE(too_much.text().find("actual:   > P. 1:2001(2000) ack 1"), std::string::npos)
      << too_much.text();
}

TEST(AppRunner, BlockingFormWhoseEndIsNowMayReturnAtOnce) {
  // packetdrill's `+0...0.000 read(...)`: returns at once, as written.
  const std::string head = kListener + R"(
   +0 < S 0:0(0) win 32792 <mss 1000>
   +0 > S. 0:0(0) ack 1 <...>
 +.01 < . 1:1(0) ack 1 win 257
   +0 accept(3, ..., ...) = 4
 +.01 < P. 1:101(100) ack 1 win 257
   +0 > . 1:1(0) ack 101
)";
  auto now = run(head + "   +0...0.000 read(4, ..., 100) = 100\n");
  EXPECT_TRUE(now.report.passed) << now.text();
  auto later = run(head + "   +0...0.300 read(4, ..., 100) = 100\n");
  EXPECT_FALSE(later.report.passed);
  EXPECT_NE(later.text().find("the script says this call blocks, but it returned at once"),
            std::string::npos)
      << later.text();
}

TEST(AppRunner, ACommandNamingAShellScriptAppliesItsSysctlsOnSynq) {
  // packetdrill's `../common/defaults.sh`: its sysctls (with $((...))) apply,
  // other lines and unknown knobs are skipped with a note. A 15 MB tcp_rmem
  // max gives wscale 8 (synq's default 6 MB: 7).
  std::filesystem::create_directories(kScriptDir + "/common");
  {
    std::ofstream f(kScriptDir + "/common/defaults.sh");
    f << "#!/bin/bash\nip tcp_metrics flush all > /dev/null 2>&1\n"
         "sysctl -q net.ipv4.tcp_rmem=\"4096 540000 $((15*1024*1024))\"\n"
         "sysctl -q net.ipv4.tcp_frto=2\ntc qdisc add dev tun0 root pfifo\n";
  }
  auto r = run("`common/defaults.sh`\n" + kListener + R"(
   +0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
   +0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 8>
)");
  EXPECT_TRUE(r.report.passed) << r.text();
  EXPECT_NE(r.text().find("applied: net.ipv4.tcp_rmem; not modelled: net.ipv4.tcp_frto"),
            std::string::npos)
      << r.text();
}

TEST(AppRunner, AnyOtherShellCommandIsAnErrorNamingItsLineOnSynq) {
  // Issue 5: shell lines other than sysctls run only with the linux target.
  auto r = run("`sysctl -q net.ipv4.tcp_syncookies=0\nip link set lo mtu 1500`\n" + kListener);
  EXPECT_FALSE(r.report.passed);
  EXPECT_NE(r.text().find(":2: command `ip link set lo mtu 1500` runs only with --target linux"),
            std::string::npos)
      << r.text();
}

TEST(AppRunner, Ipv6ScriptsUsePacketdrillsAddressesAndAnIpv6Socket) {
  auto r = run("--ip_version=ipv6\n" + kListener + R"(
   +0 < S 0:0(0) win 65535 <mss 1440>
   +0 > S. 0:0(0) ack 1 win 64800 <mss 1440>
 +.01 < . 1:1(0) ack 1 win 502
   +0 accept(3, ..., ...) = 4
)");
  EXPECT_TRUE(r.report.passed) << r.text();
  auto parsed = script::parse_script("--ip_version=ipv6\n0 socket(..., SOCK_STREAM, 0) = 3\n", {});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(script_local_ip(parsed.value()).to_string(), "fd3d:fa7b:d17d::1");
  EXPECT_EQ(script_remote_ip(parsed.value()).to_string(), "2001:db8::1");
  auto mapped = run("--ip_version=ipv4-mapped-ipv6\n" + kListener);
  EXPECT_FALSE(mapped.report.passed);
  EXPECT_NE(mapped.text().find("ipv4-mapped-ipv6 is not supported"), std::string::npos)
      << mapped.text();
}

TEST(AppRunner, InboundOptionsGoOutInTheScriptsOrder) {
  using K = script::PacketOption::Kind;
  std::vector<script::PacketOption> o(4);
  o[0].kind = K::wscale;
  o[0].value = 7;
  o[1].kind = K::nop;
  o[2].kind = K::mss;
  o[2].value = 1000;
  o[3].kind = K::sack;
  o[3].sack = {wire::SackBlock{10, 20}};
  EXPECT_EQ(ordered_option_bytes(o, 100, std::nullopt),
            (std::vector<uint8_t>{
                3, 3, 7, 1,   2, 4, 0x03, 0xe8, 5, 10,
                0, 0, 0, 110, 0, 0, 0,    120,  0, 0}));  // SACK edges + 100, EOL padding to 20
  // The stack reads them wherever they are: MSS 1000 is what it segments by.
  auto r = run(kListener + R"(
   +0 < S 0:0(0) win 65535 <wscale 7,nop,sackOK,mss 1000>
   +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>
 +.01 < . 1:1(0) ack 1 win 502
   +0 accept(3, ..., ...) = 4
   +0 getsockopt(4, IPPROTO_TCP, TCP_MAXSEG, [1000], [4]) = 0
)");
  EXPECT_TRUE(r.report.passed) << r.text();
}

TEST(AppRunner, DifferMarkersNeedATargetAndAReason) {
  std::string err;
  auto m = find_differ_markers("// x\n//! expect-differ synq: not yet (issue 7)\n", &err);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].target, "synq");
  EXPECT_EQ(m[0].reason, "not yet (issue 7)");
  EXPECT_EQ(m[0].line, 2u);
  EXPECT_TRUE(find_differ_markers("//! expect-differ synq:\n", &err).empty());
  EXPECT_EQ(
      err,
      "line 1: expected `//! expect-differ synq|linux: <reason>`, got `//! expect-differ synq:`");
}

TEST(AppRunner, LiveOptionsKeepWireOrder) {
  const uint8_t bytes[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
  auto opts = parse_ordered_options(bytes);
  script::Packet p;
  p.direction = script::Direction::outbound;
  p.flags = 0x12;
  p.ack = 1;
  p.options = opts;
  EXPECT_EQ(p.to_string(), "> S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>");
}

}  // namespace
}  // namespace synq::runner
