// Header options (in the script and passed in) and backtick command blocks.
#include <gtest/gtest.h>

#include "script/shell_block.hpp"
#include "script_test_util.hpp"

namespace synq::script {
namespace {

using test::parse_error;
using test::parse_ok;

TEST(ScriptHeader, EveryKnownOption) {
  Script s = parse_ok(
      "--ip_version=ipv6\n--mss=1000\n--mtu=1500\n--tolerance_usecs=7000\n"
      "--local_ip=fd00::1\n--remote_ip=fd00::2\n--strict\n"
      "--tcp_ts_tick_usecs=1000 // kept for the runner\n--strict_segments\n"
      "0 close(3) = 0\n");
  const HeaderOptions& o = s.options;
  EXPECT_EQ(o.ip_version, IpVersionOption::ipv6);
  EXPECT_EQ(o.mss, 1000);
  EXPECT_EQ(o.mtu, 1500u);
  EXPECT_EQ(o.tolerance_usecs, 7000);
  EXPECT_EQ(o.local_ip, IpAddr::parse("fd00::1"));
  EXPECT_EQ(o.remote_ip, IpAddr::parse("fd00::2"));
  EXPECT_TRUE(o.strict);
  ASSERT_EQ(o.other.size(), 2u);
  EXPECT_EQ(o.other[0], (OtherOption{"tcp_ts_tick_usecs", "1000", SourceLoc{8, 1}}));
  EXPECT_EQ(o.other[1], (OtherOption{"strict_segments", std::nullopt, SourceLoc{9, 1}}));
  EXPECT_EQ(s.events.size(), 1u);
}

TEST(ScriptHeader, PassedInOptionsOverrideTheScript) {
  ParseOptions opts{
      "t.pkt", {"--mss=536", "strict", "--ip_version=ipv4-mapped-ipv6", "--tcp_ts_tick_usecs=10"}};
  Script s = parse_ok("--mss=1460\n--ip_version=ipv4\n--tcp_ts_tick_usecs=1000\n", opts);
  EXPECT_EQ(s.options.mss, 536);
  EXPECT_TRUE(s.options.strict);
  EXPECT_EQ(s.options.ip_version, IpVersionOption::ipv4_mapped_ipv6);
  ASSERT_EQ(s.options.other.size(), 1u);
  EXPECT_EQ(s.options.other[0].value, "10");
  EXPECT_TRUE(s.events.empty());
}

TEST(ScriptHeader, BadValuesNameTheOption) {
  EXPECT_EQ(parse_error("--mss=0\n"), "t.pkt:1:1: expected an MSS of 1..65535 for --mss, got '0'");
  EXPECT_EQ(parse_error("\n  --mtu=abc\n"),
            "t.pkt:2:3: expected an MTU of 68..65535 for --mtu, got 'abc'");
  EXPECT_EQ(parse_error("--ip_version=ipv5\n"),
            "t.pkt:1:1: expected ipv4, ipv6 or ipv4-mapped-ipv6 for --ip_version, got 'ipv5'");
  EXPECT_EQ(parse_error("--local_ip=10.0.0.256\n"),
            "t.pkt:1:1: expected an IPv4 or IPv6 address for --local_ip, got '10.0.0.256'");
  EXPECT_EQ(parse_error("--remote_ip\n"),
            "t.pkt:1:1: expected a value for --remote_ip, got no value");
  EXPECT_EQ(parse_error("--tolerance_usecs=-1\n"),
            "t.pkt:1:1: expected a non-negative number of microseconds for --tolerance_usecs, "
            "got '-1'");
  EXPECT_EQ(parse_error("--strict=1\n"), "t.pkt:1:1: expected no value for --strict, got '1'");
  auto r = parse_script("", ParseOptions{"t.pkt", {"--mss=99999"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(render(r.error()), "command line: expected an MSS of 1..65535 for --mss, got '99999'");
}

TEST(ScriptHeader, OptionsOnlyBeforeTheFirstEvent) {
  EXPECT_EQ(parse_error("0 close(3) = 0\n--mss=1000\n"),
            "t.pkt:2:1: expected event time (options go before the first event), got option "
            "'--mss=1000'");
}

TEST(ScriptShell, SysctlFormsBecomeTypedItems) {
  ShellBlock b = split_shell_block(
      "sysctl -q net.ipv4.tcp_syncookies=2\n"
      "  sysctl -w net.core.somaxconn=1024  \n"
      "sysctl net.ipv4.tcp_max_syn_backlog=8\n"
      "sysctl -q -w net.ipv4.tcp_rmem=\"4096 87380 6291456\" net.ipv4.tcp_timestamps=0\n",
      10);
  ASSERT_EQ(b.items.size(), 5u);
  EXPECT_EQ(std::get<SysctlSet>(b.items[0]), (SysctlSet{"net.ipv4.tcp_syncookies", "2", 10}));
  EXPECT_EQ(std::get<SysctlSet>(b.items[1]), (SysctlSet{"net.core.somaxconn", "1024", 11}));
  EXPECT_EQ(std::get<SysctlSet>(b.items[2]), (SysctlSet{"net.ipv4.tcp_max_syn_backlog", "8", 12}));
  EXPECT_EQ(std::get<SysctlSet>(b.items[3]),
            (SysctlSet{"net.ipv4.tcp_rmem", "4096 87380 6291456", 13}));
  EXPECT_EQ(std::get<SysctlSet>(b.items[4]), (SysctlSet{"net.ipv4.tcp_timestamps", "0", 13}));
}

TEST(ScriptShell, OtherCommandsStayRawWithTheirLines) {
  ShellBlock b = split_shell_block(
      "../common/defaults.sh\n"
      "\n"
      "sysctl net.ipv4.tcp_syncookies\n"               // a read, not a set
      "sysctl -q net.ipv4.tcp_syncookies=1 && true\n"  // more than one command
      "tc qdisc add dev tun0 \\\n"
      "   root fq\n"
      "# a shell comment\n",
      3);
  ASSERT_EQ(b.items.size(), 4u);
  EXPECT_EQ(std::get<ShellCommand>(b.items[0]), (ShellCommand{"../common/defaults.sh", 3}));
  EXPECT_EQ(std::get<ShellCommand>(b.items[1]),
            (ShellCommand{"sysctl net.ipv4.tcp_syncookies", 5}));
  EXPECT_EQ(std::get<ShellCommand>(b.items[2]).line, 6u);
  EXPECT_EQ(std::get<ShellCommand>(b.items[3]), (ShellCommand{"tc qdisc add dev tun0 root fq", 7}));
}

TEST(ScriptShell, TimedMultiLineBlockInAScript) {
  Script s = parse_ok(
      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
      "+0.5 `sysctl -q net.ipv4.tcp_syncookies=0\n"
      "      echo done`\n"
      "+0 close(3) = 0\n");
  ASSERT_EQ(s.events.size(), 3u);
  const Event& e = s.events[1];
  EXPECT_EQ(e.loc, (SourceLoc{2, 1}));
  EXPECT_EQ(e.timing.start, test::ms(500));
  ASSERT_EQ(e.shell()->items.size(), 2u);
  EXPECT_EQ(std::get<SysctlSet>(e.shell()->items[0]).line, 2u);
  EXPECT_EQ(std::get<ShellCommand>(e.shell()->items[1]), (ShellCommand{"echo done", 3}));
  EXPECT_EQ(e.shell()->raw, "sysctl -q net.ipv4.tcp_syncookies=0\n      echo done");
}

TEST(ScriptComments, BothStylesAnywhere) {
  Script s = parse_ok(
      "/* header\n comment */ --mss=1000 // trailing\n"
      "0 close(/* fd */ 3) = 0 // done\n"
      "// the end");
  EXPECT_EQ(s.options.mss, 1000);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].syscall()->to_string(), "close(3) = 0");
}

}  // namespace
}  // namespace synq::script
