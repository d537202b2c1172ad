// Syscall lines and their generically parsed argument expressions.
#include <gtest/gtest.h>

#include "script_test_util.hpp"

namespace synq::script {
namespace {

using test::parse_ok;

Syscall only_syscall(const std::string& line) {
  Script s = parse_ok(line + "\n");
  if (s.events.size() != 1 || !s.events[0].syscall()) {
    ADD_FAILURE() << "not one syscall: " << line;
    return Syscall{};
  }
  return *s.events[0].syscall();
}

TEST(ScriptSyscall, SocketWithEllipsisAndWords) {
  Syscall s = only_syscall("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3");
  EXPECT_EQ(s.name, "socket");
  ASSERT_EQ(s.args.size(), 3u);
  EXPECT_TRUE(s.args[0].is_ellipsis());
  EXPECT_EQ(*s.args[1].as_word(), "SOCK_STREAM");
  EXPECT_EQ(*s.args[2].as_word(), "IPPROTO_TCP");
  EXPECT_EQ(*s.result.as_int(), 3);
  EXPECT_EQ(s.args[1].loc, (SourceLoc{1, 15}));
}

TEST(ScriptSyscall, EmptyArgumentListAndEmptyList) {
  Syscall s = only_syscall("+0 getpid() = 1");
  EXPECT_TRUE(s.args.empty());
  Syscall t = only_syscall("+0 f([]) = 0");
  ASSERT_EQ(t.args.size(), 1u);
  EXPECT_TRUE(std::get<ListExpr>(t.args[0].v).items.empty());
}

TEST(ScriptSyscall, NegativeHexStringsAndCalls) {
  Syscall s = only_syscall(
      "+0 f(-5, 0xffffffff, \"a\\\"b\" \"c\", \"abc\"..., htons(8080), inet_addr(\"192.0.2.1\")) = "
      "0");
  ASSERT_EQ(s.args.size(), 6u);
  EXPECT_EQ(*s.args[0].as_int(), -5);
  EXPECT_EQ(*s.args[1].as_int(), 0xffffffff);
  EXPECT_TRUE(std::get<IntExpr>(s.args[1].v).hex);
  EXPECT_EQ(std::get<StringExpr>(s.args[2].v).value, "a\"bc");
  EXPECT_TRUE(std::get<StringExpr>(s.args[3].v).trailing_ellipsis);
  const auto& htons = std::get<CallExpr>(s.args[4].v);
  EXPECT_EQ(htons.name, "htons");
  EXPECT_EQ(*htons.args[0].as_int(), 8080);
  EXPECT_EQ(std::get<StringExpr>(std::get<CallExpr>(s.args[5].v).args[0].v).value, "192.0.2.1");
  EXPECT_EQ(
      s.to_string(),
      "f(-5, 0xffffffff, \"a\\\"bc\", \"abc\"..., htons(8080), inet_addr(\"192.0.2.1\")) = 0");
}

TEST(ScriptSyscall, SockaddrStructWithNestedCalls) {
  Syscall s = only_syscall(
      "+0 connect(3, {sa_family=AF_INET, sin_port=htons(8080), "
      "sin_addr=inet_addr(\"192.0.2.1\")}, 16) = 0");
  const auto& sa = std::get<StructExpr>(s.args[1].v);
  ASSERT_EQ(sa.fields.size(), 3u);
  EXPECT_EQ(sa.fields[1].name, "sin_port");
  EXPECT_EQ(std::get<CallExpr>(sa.fields[1].value.v).name, "htons");
}

TEST(ScriptSyscall, PollOverSeveralLinesAndArraysOfStructs) {
  Script sc = parse_ok(
      "+0...0.010 poll([{fd=3, events=POLLIN, revents=0},\n"
      "                 {fd=4,\n"
      "                  events=POLLIN|POLLOUT, revents=POLLOUT}], 2, 10) = 1\n"
      "+0 close(3) = 0\n");
  ASSERT_EQ(sc.events.size(), 2u);
  EXPECT_EQ(sc.events[0].timing.blocking_until, test::ms(10));
  const Syscall& s = *sc.events[0].syscall();
  const auto& fds = std::get<ListExpr>(s.args[0].v);
  ASSERT_EQ(fds.items.size(), 2u);
  const auto& second = std::get<StructExpr>(fds.items[1].v);
  EXPECT_EQ(*second.fields[0].value.as_int(), 4);
  EXPECT_EQ(std::get<OrExpr>(second.fields[1].value.v).terms.size(), 2u);
  EXPECT_EQ(fds.items[1].loc, (SourceLoc{2, 18}));
  EXPECT_EQ(sc.events[1].loc, (SourceLoc{4, 1}));
}

TEST(ScriptSyscall, ErrnoWithAndWithoutText) {
  Syscall a = only_syscall("+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)");
  EXPECT_EQ(a.errno_name, "EINPROGRESS");
  EXPECT_EQ(a.errno_text, "Operation now in progress");
  EXPECT_FALSE(a.note.has_value());
  Syscall b = only_syscall("+0 connect(3, ..., ...) = -1 ECONNREFUSED");
  EXPECT_EQ(b.errno_name, "ECONNREFUSED");
  EXPECT_FALSE(b.errno_text.has_value());
  EXPECT_EQ(b.to_string(), "connect(3, ..., ...) = -1 ECONNREFUSED");
}

TEST(ScriptSyscall, ReadWriteWithSizesAndFlags) {
  EXPECT_EQ(only_syscall("+0 read(4, ..., 1000) = 0").to_string(), "read(4, ..., 1000) = 0");
  EXPECT_EQ(only_syscall("+0 write(4,...,2000)=2000").to_string(), "write(4, ..., 2000) = 2000");
  Syscall s = only_syscall("+0 send(4, ..., 40, MSG_MORE|MSG_DONTWAIT) = 40");
  EXPECT_EQ(std::get<OrExpr>(s.args[3].v).terms.size(), 2u);
}

TEST(ScriptSyscall, BlockingCallWithRelativeStart) {
  Script s = parse_ok("+.1...0.200 connect(3, ..., ...) = 0\n");
  EXPECT_EQ(s.events[0].timing.kind, Timing::Kind::relative);
  EXPECT_EQ(s.events[0].timing.start, test::ms(100));
  EXPECT_EQ(s.events[0].timing.blocking_until, test::ms(200));
}

}  // namespace
}  // namespace synq::script
