// Every parse error: exact "file:line:column: expected X, got Y" text.
#include <gtest/gtest.h>

#include "script_test_util.hpp"

namespace synq::script {
namespace {

using test::parse_error;

TEST(ScriptErrors, ErrorIsAStructAndRendersLikeACompiler) {
  auto r = parse_script("0 < SX 0:0(0)\n", ParseOptions{"dir/x.pkt", {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().file, "dir/x.pkt");
  EXPECT_EQ(r.error().line, 1u);
  EXPECT_EQ(r.error().column, 6u);
  EXPECT_EQ(r.error().message, "expected TCP flag (F S R P . U E W), got 'X'");
  EXPECT_EQ(render(r.error()), "dir/x.pkt:1:6: expected TCP flag (F S R P . U E W), got 'X'");
}

TEST(ScriptErrors, UnknownOrRepeatedFlag) {
  EXPECT_EQ(parse_error("0 close(3) = 0\n+0 > S.Q 0:0(0)\n"),
            "t.pkt:2:8: expected TCP flag (F S R P . U E W), got 'Q'");
  EXPECT_EQ(parse_error("0 < S.P 0:0(0)\n"),
            "t.pkt:1:7: expected '.' last in TCP flags, got 'P' after it");
  EXPECT_EQ(parse_error("0 < SAF 0:0(0)\n"),
            "t.pkt:1:6: expected TCP flag (F S R P . U E W), got 'A'");
  EXPECT_EQ(parse_error("0 < SS 0:0(0)\n"),
            "t.pkt:1:6: expected each TCP flag once, got 'S' twice");
  EXPECT_EQ(parse_error("0 <\n"), "t.pkt:1:4: expected TCP flags, got end of line");
}

TEST(ScriptErrors, MissingResult) {
  EXPECT_EQ(parse_error("0 close(3)\n+0 close(4) = 0\n"),
            "t.pkt:1:11: expected '=' and the return value, got end of line");
  EXPECT_EQ(parse_error("0 close(3) 0\n"),
            "t.pkt:1:12: expected '=' and the return value, got '0'");
  EXPECT_EQ(parse_error("0 close(3) =\n+0 close(4) = 0\n"),
            "t.pkt:1:13: expected return value, got end of line");
  EXPECT_EQ(parse_error("0 close(3\n+0 close(4) = 0\n"),
            "t.pkt:1:10: expected ',' or ')' in the argument list, got end of line");
  EXPECT_EQ(parse_error("0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now\n"),
            "t.pkt:1:55: expected ')' closing the note, got end of line");
}

TEST(ScriptErrors, BadOptions) {
  EXPECT_EQ(parse_error("0 < S 0:0(0) <mss 1460,foo>\n"),
            "t.pkt:1:24: expected TCP option (nop, eol, mss, wscale, sackOK, sack, TS), got 'foo'");
  EXPECT_EQ(parse_error("0 < S 0:0(0) <mss 70000>\n"),
            "t.pkt:1:19: expected mss value (0..65535), got '70000'");
  EXPECT_EQ(parse_error("0 < S 0:0(0) <wscale 256>\n"),
            "t.pkt:1:22: expected wscale shift count (0..255), got '256'");
  EXPECT_EQ(parse_error("0 < S 0:0(0) <mss 1460 nop>\n"),
            "t.pkt:1:24: expected ',' or '>' in TCP options, got 'nop'");
  EXPECT_EQ(parse_error("0 < S 0:0(0) <TS 1 ecr 2>\n"),
            "t.pkt:1:18: expected 'val' in TS option, got '1'");
  EXPECT_EQ(parse_error("0 > S 0:0(0) <FO abcd>\n"),
            "t.pkt:1:15: expected TCP option (nop, eol, mss, wscale, sackOK, sack, TS), got "
            "unsupported option 'FO'");
  EXPECT_EQ(parse_error("0 < . 1:1(0) <sack 1:2 3:4 5:6 7:8 9:10>\n"),
            "t.pkt:1:36: expected at most 4 SACK blocks, got a 5th");
  EXPECT_EQ(parse_error("0 < S 0:0(0) <mss 1460,TS val 1 ecr 2,sack 1:2 3:4 5:6,nop>\n"),
            "t.pkt:1:14: expected at most 40 bytes of TCP options, got 41");
  EXPECT_EQ(parse_error("0 < S 0:0(0) <...>\n"),
            "t.pkt:1:3: expected TCP options on an inbound packet, got '<...>'");
  EXPECT_EQ(parse_error("0 < S 0:0(0) <mss 1460\n+0 close(3) = 0\n"),
            "t.pkt:1:23: expected ',' or '>' in TCP options, got end of line");
}

TEST(ScriptErrors, BadPacketFields) {
  EXPECT_EQ(parse_error("0 < P. 1:100(100)\n"),
            "t.pkt:1:10: expected end sequence number 101 (start + payload length), got '100'");
  EXPECT_EQ(parse_error("0 < S 0:0 win 10\n"),
            "t.pkt:1:11: expected '(' and the payload length, got 'win'");
  EXPECT_EQ(parse_error("0 < . 4294967296:4294967296(0)\n"),
            "t.pkt:1:7: expected start sequence number (0..4294967295), got '4294967296'");
  EXPECT_EQ(parse_error("0 < S 0:0(0) wn 100\n"),
            "t.pkt:1:14: expected 'ack', 'win', 'urg', TCP options or end of line, got 'wn'");
  EXPECT_EQ(parse_error("0 < S 0:0(0) win 65536\n"),
            "t.pkt:1:18: expected window (0..65535), got '65536'");
  EXPECT_EQ(parse_error("0 < S 0:0(0) ack\n"), "t.pkt:1:17: expected ack number, got end of line");
  EXPECT_EQ(parse_error("0 < 40000 S 0:0(0)\n"),
            "t.pkt:1:11: expected '>' between source and destination port, got 'S'");
  EXPECT_EQ(parse_error("0 < 70000>80 S 0:0(0)\n"),
            "t.pkt:1:5: expected source port (0..65535), got '70000'");
}

TEST(ScriptErrors, UnsupportedFeaturesAreNamed) {
  EXPECT_EQ(parse_error("0 > [ect0] S. 0:0(0) ack 1\n"),
            "t.pkt:1:5: expected TCP flags, got unsupported IP field '[ect0]'");
  EXPECT_EQ(parse_error("0 > (tos 0x2) S. 0:0(0) ack 1\n"),
            "t.pkt:1:5: expected TCP flags, got unsupported IP field '(tos 0x2)'");
  EXPECT_EQ(parse_error("0 < udp (10)\n"),
            "t.pkt:1:5: expected TCP flags, got unsupported protocol 'udp'");
  EXPECT_EQ(parse_error("0 %{ print(1) }%\n"),
            "t.pkt:1:3: expected packet, system call or command, got unsupported code block '%{'");
}

TEST(ScriptErrors, UnterminatedBacktickCommentAndString) {
  EXPECT_EQ(parse_error("0 close(3) = 0\n+0 `sysctl -q net.ipv4.tcp_syncookies=1\n"),
            "t.pkt:2:4: expected closing '`' for this command, got end of file");
  EXPECT_EQ(parse_error("0 close(3) = 0 /* never\nclosed"),
            "t.pkt:1:16: expected '*/' closing this comment, got end of file");
  EXPECT_EQ(parse_error("0 write(3, \"abc, 3) = 3\n"),
            "t.pkt:1:12: expected closing '\"' for this string, got end of file");
  // A lexical error later in the file does not hide an earlier syntax error.
  EXPECT_EQ(parse_error("0 close 3\n/* open"),
            "t.pkt:1:3: expected packet, system call or command, got 'close'");
}

TEST(ScriptErrors, BadTiming) {
  EXPECT_EQ(parse_error("+x close(3) = 0\n"), "t.pkt:1:2: expected time, got 'x'");
  EXPECT_EQ(parse_error("close(3) = 0\n"), "t.pkt:1:1: expected time, got 'close'");
  EXPECT_EQ(parse_error("0.1234567891 close(3) = 0\n"),
            "t.pkt:1:1: expected time with at most 9 decimal places, got '0.1234567891'");
  EXPECT_EQ(parse_error("99999999 close(3) = 0\n"),
            "t.pkt:1:1: expected time of at most 1000000 seconds, got '99999999'");
  EXPECT_EQ(parse_error("-1 close(3) = 0\n"), "t.pkt:1:1: expected time, got '-'");
  EXPECT_EQ(parse_error("+1~2 > S 0:0(0)\n"),
            "t.pkt:1:4: expected '+' before the range's end time, got '2'");
  EXPECT_EQ(parse_error("0.3~0.2 > S 0:0(0)\n"), "t.pkt:1:5: expected range end >= 0.3, got 0.2");
  EXPECT_EQ(parse_error("0 close(3) = 0\n* close(3) = 0\n"),
            "t.pkt:2:1: expected an outbound packet ('>') after a '*' time, got system call "
            "'close'");
  EXPECT_EQ(parse_error("0~1 < S 0:0(0)\n"),
            "t.pkt:1:1: expected an outbound packet ('>') after a time range, got an inbound "
            "packet");
  EXPECT_EQ(parse_error("0\n"),
            "t.pkt:1:2: expected packet, system call or command, got end of line");
  EXPECT_EQ(parse_error("0 close(3) = 0\n+0"),
            "t.pkt:2:3: expected packet, system call or command, got end of file");
  EXPECT_EQ(parse_error("0...x close(3) = 0\n"), "t.pkt:1:5: expected time, got 'x'");
}

TEST(ScriptErrors, BadExpressions) {
  EXPECT_EQ(parse_error("0 f(99999999999999999999) = 0\n"),
            "t.pkt:1:5: expected a 64-bit integer, got '99999999999999999999'");
  EXPECT_EQ(parse_error("0 f({onoff 1}) = 0\n"),
            "t.pkt:1:12: expected '=' after field name 'onoff', got '1'");
  EXPECT_EQ(parse_error("0 sendmsg(4, {msg_name(...)=...}, 0) = 0\n"),
            "t.pkt:1:23: expected '=' after field name 'msg_name', got unsupported msghdr form "
            "'msg_name(...)'");
  EXPECT_EQ(parse_error("0 f([1 2]) = 0\n"), "t.pkt:1:8: expected ',' or ']' in the list, got '2'");
  EXPECT_EQ(parse_error("0 f(A|) = 0\n"), "t.pkt:1:7: expected a value, got ')'");
  EXPECT_EQ(parse_error("0 f(" + std::string(40, '[') + ") = 0\n"),
            "t.pkt:1:38: expected at most 32 nested brackets, got more");
  EXPECT_EQ(parse_error("0 close(3) = 0 \x01\n"),
            "t.pkt:1:16: expected end of line, got byte '\\x01'");
}

TEST(ScriptErrors, UnreadableFile) {
  auto r = parse_script_file("/nonexistent/x.pkt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(render(r.error()),
            "/nonexistent/x.pkt: expected a readable script file, got No such file or directory");
}

}  // namespace
}  // namespace synq::script
