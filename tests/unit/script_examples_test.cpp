// Each sample script under tests/scripts/examples/, parsed and checked field by field.
#include <gtest/gtest.h>

#include "script_test_util.hpp"
#include "wire/tcp_header.hpp"

namespace synq::script {
namespace {

using namespace test;
namespace f = wire::tcp_flags;

Script load(const std::string& name) {
  auto r = parse_script_file(example_path(name));
  if (!r.ok()) {
    ADD_FAILURE() << render(r.error());
    return Script{};
  }
  return std::move(r).value();
}

const Syscall& syscall_at(const Script& s, size_t i) {
  static const Syscall none;
  if (i >= s.events.size() || !s.events[i].syscall()) {
    ADD_FAILURE() << "event " << i << " is not a syscall";
    return none;
  }
  return *s.events[i].syscall();
}
const Packet& packet_at(const Script& s, size_t i) {
  static const Packet none;
  if (i >= s.events.size() || !s.events[i].packet()) {
    ADD_FAILURE() << "event " << i << " is not a packet";
    return none;
  }
  return *s.events[i].packet();
}

TEST(ScriptExamples, ListenBacklogHeaderAndInitCommand) {
  Script s = load("listen-backlog.pkt");
  EXPECT_EQ(s.file, example_path("listen-backlog.pkt"));
  EXPECT_EQ(s.options.ip_version, IpVersionOption::ipv4);
  EXPECT_EQ(s.options.local_ip, IpAddr::v4(192, 168, 0, 1));
  EXPECT_EQ(s.options.remote_ip, IpAddr::v4(192, 0, 2, 1));
  EXPECT_EQ(s.options.tolerance_usecs, 10000);
  EXPECT_FALSE(s.options.strict);
  EXPECT_FALSE(s.options.mss.has_value());
  ASSERT_EQ(s.events.size(), 13u);

  // The untimed two-line sysctl block (packetdrill's init command).
  const Event& init = s.events[0];
  EXPECT_EQ(init.timing.kind, Timing::Kind::none);
  EXPECT_EQ(init.loc, (SourceLoc{8, 1}));
  ASSERT_NE(init.shell(), nullptr);
  ASSERT_EQ(init.shell()->items.size(), 2u);
  EXPECT_EQ(std::get<SysctlSet>(init.shell()->items[0]),
            (SysctlSet{"net.ipv4.tcp_syncookies", "0", 8}));
  EXPECT_EQ(std::get<SysctlSet>(init.shell()->items[1]),
            (SysctlSet{"net.core.somaxconn", "4096", 9}));

  const Syscall& listen = syscall_at(s, 4);
  EXPECT_EQ(s.events[4].loc, (SourceLoc{14, 4}));
  EXPECT_EQ(s.events[4].timing.kind, Timing::Kind::relative);
  EXPECT_EQ(s.events[4].timing.start, Duration(0));
  EXPECT_EQ(listen.name, "listen");
  ASSERT_EQ(listen.args.size(), 2u);
  EXPECT_EQ(*listen.args[0].as_int(), 3);
  EXPECT_EQ(*listen.args[1].as_int(), 1);
  EXPECT_EQ(*listen.result.as_int(), 0);

  // < 40000>8080 S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
  const Packet& syn = packet_at(s, 5);
  EXPECT_EQ(syn.direction, Direction::inbound);
  EXPECT_EQ(syn.sport, 40000);
  EXPECT_EQ(syn.dport, 8080);
  EXPECT_EQ(syn.flags, f::SYN);
  EXPECT_EQ(syn.seq_start, 0u);
  EXPECT_EQ(syn.seq_end, 0u);
  EXPECT_EQ(syn.payload_len, 0);
  EXPECT_FALSE(syn.ack.has_value());
  EXPECT_EQ(syn.window, 65535);
  ASSERT_EQ(syn.options.size(), 5u);
  EXPECT_EQ(syn.options[0].kind, PacketOption::Kind::mss);
  EXPECT_EQ(syn.options[0].value, 1460u);
  EXPECT_EQ(syn.options[1].kind, PacketOption::Kind::sack_permitted);
  EXPECT_EQ(syn.options[2].kind, PacketOption::Kind::timestamp);
  EXPECT_EQ(syn.options[2].ts_val, 100u);
  EXPECT_EQ(syn.options[2].ts_ecr, 0u);
  EXPECT_EQ(syn.options[3].kind, PacketOption::Kind::nop);
  EXPECT_EQ(syn.options[4].kind, PacketOption::Kind::wscale);
  EXPECT_EQ(syn.options[4].value, 7u);
  const wire::TcpOptions o = syn.tcp_options();
  EXPECT_TRUE(o.has_mss && o.mss == 1460);
  EXPECT_TRUE(o.sack_permitted);
  EXPECT_TRUE(o.has_timestamps && o.ts_val == 100 && o.ts_ecr == 0);
  EXPECT_TRUE(o.has_wscale && o.wscale == 7);

  const Packet& synack = packet_at(s, 6);
  EXPECT_EQ(synack.direction, Direction::outbound);
  EXPECT_EQ(synack.sport, 8080);
  EXPECT_EQ(synack.dport, 40000);
  EXPECT_EQ(synack.flags, f::SYN | f::ACK);
  EXPECT_EQ(synack.ack, 1u);
  EXPECT_FALSE(synack.window.has_value());

  EXPECT_EQ(s.events[7].timing.start, ms(10));
  EXPECT_EQ(packet_at(s, 8).sport, 40001);

  const Syscall& accept = syscall_at(s, 11);
  EXPECT_EQ(accept.name, "accept");
  ASSERT_EQ(accept.args.size(), 3u);
  EXPECT_EQ(*accept.args[0].as_int(), 3);
  EXPECT_TRUE(accept.args[1].is_ellipsis());
  EXPECT_TRUE(accept.args[2].is_ellipsis());
  EXPECT_EQ(*accept.result.as_int(), 4);
  EXPECT_FALSE(accept.errno_name.has_value());
}

TEST(ScriptExamples, SynAckRetransmitScheduleAndRange) {
  Script s = load("synack-retransmit.pkt");
  EXPECT_EQ(s.options.mss, 1460);
  ASSERT_EQ(s.events.size(), 11u);

  // A timed backtick block with a plain `sysctl name=value`.
  EXPECT_EQ(s.events[0].timing.kind, Timing::Kind::relative);
  ASSERT_NE(s.events[0].shell(), nullptr);
  EXPECT_EQ(s.events[0].shell()->items.size(), 1u);
  EXPECT_EQ(std::get<SysctlSet>(s.events[0].shell()->items[0]),
            (SysctlSet{"net.ipv4.tcp_synack_retries", "3", 5}));

  // +0, +1, +2, +4: the doubling SYN-ACK timer.
  const Duration expected_gaps[] = {Duration(0), std::chrono::seconds(1), std::chrono::seconds(2),
                                    std::chrono::seconds(4)};
  for (size_t i = 0; i < 4; ++i) {
    const Event& e = s.events[6 + i];
    EXPECT_EQ(e.timing.kind, Timing::Kind::relative) << i;
    EXPECT_EQ(e.timing.start, expected_gaps[i]) << i;
    EXPECT_EQ(packet_at(s, 6 + i).to_string(), "> S. 0:0(0) ack 1 <mss 1460,nop,wscale 8>");
  }
  // +8~+8.5 > R 1:1(0)
  const Event& rst = s.events[10];
  EXPECT_EQ(rst.timing.kind, Timing::Kind::relative_range);
  EXPECT_EQ(rst.timing.start, std::chrono::seconds(8));
  EXPECT_EQ(rst.timing.end, ms(8500));
  EXPECT_EQ(rst.timing.to_string(), "+8~+8.5");
  EXPECT_EQ(packet_at(s, 10).flags, f::RST);
  EXPECT_EQ(packet_at(s, 10).seq_start, 1u);
}

TEST(ScriptExamples, DeferAcceptSockoptFcntlAndErrno) {
  Script s = load("defer-accept.pkt");
  ASSERT_EQ(s.events.size(), 15u);

  const Syscall& defer = syscall_at(s, 2);
  EXPECT_EQ(defer.name, "setsockopt");
  ASSERT_EQ(defer.args.size(), 5u);
  EXPECT_EQ(*defer.args[1].as_word(), "IPPROTO_TCP");
  EXPECT_EQ(*defer.args[2].as_word(), "TCP_DEFER_ACCEPT");
  const auto* len = std::get_if<ListExpr>(&defer.args[3].v);
  ASSERT_NE(len, nullptr);
  ASSERT_EQ(len->items.size(), 1u);
  EXPECT_EQ(*len->items[0].as_int(), 5);
  EXPECT_EQ(*defer.args[4].as_int(), 4);

  const Syscall& fcntl = syscall_at(s, 5);
  EXPECT_EQ(*fcntl.args[1].as_word(), "F_SETFL");
  const auto* ored = std::get_if<OrExpr>(&fcntl.args[2].v);
  ASSERT_NE(ored, nullptr);
  ASSERT_EQ(ored->terms.size(), 2u);
  EXPECT_EQ(*ored->terms[0].as_word(), "O_RDWR");
  EXPECT_EQ(*ored->terms[1].as_word(), "O_NONBLOCK");

  const Syscall& eagain = syscall_at(s, 9);
  EXPECT_EQ(*eagain.result.as_int(), -1);
  EXPECT_EQ(eagain.errno_name, "EAGAIN");
  EXPECT_EQ(eagain.errno_text, "Resource temporarily unavailable");

  const Packet& data = packet_at(s, 10);
  EXPECT_EQ(data.flags, f::PSH | f::ACK);
  EXPECT_EQ(data.seq_start, 1u);
  EXPECT_EQ(data.seq_end, 101u);
  EXPECT_EQ(data.payload_len, 100);
  EXPECT_EQ(s.events[10].timing.start, ms(100));

  const Syscall& so_error = syscall_at(s, 14);
  EXPECT_EQ(so_error.to_string(), "getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0");
}

TEST(ScriptExamples, SimultaneousOpenAnyOptionsAndStarTime) {
  Script s = load("simultaneous-open.pkt");
  ASSERT_EQ(s.events.size(), 11u);

  const Syscall& getfl = syscall_at(s, 1);
  EXPECT_EQ(getfl.args.size(), 2u);
  const auto* hex = std::get_if<IntExpr>(&getfl.result.v);
  ASSERT_NE(hex, nullptr);
  EXPECT_EQ(hex->value, 2);
  EXPECT_TRUE(hex->hex);
  EXPECT_FALSE(getfl.errno_name.has_value());
  EXPECT_EQ(getfl.note, "flags O_RDWR");

  const Syscall& connect = syscall_at(s, 3);
  EXPECT_EQ(*connect.result.as_int(), -1);
  EXPECT_EQ(connect.errno_name, "EINPROGRESS");
  EXPECT_EQ(connect.errno_text, "Operation now in progress");

  const Packet& syn_out = packet_at(s, 4);
  EXPECT_EQ(syn_out.direction, Direction::outbound);
  EXPECT_TRUE(syn_out.any_options);
  EXPECT_TRUE(syn_out.options.empty());
  EXPECT_EQ(syn_out.to_string(), "> S 0:0(0) <...>");
  EXPECT_FALSE(packet_at(s, 5).any_options);

  EXPECT_EQ(s.events[8].timing.kind, Timing::Kind::any);
  EXPECT_EQ(packet_at(s, 8).flags, f::ACK);

  // poll([{fd=3, events=POLLOUT, revents=POLLOUT}], 1, 0) = 1
  const Syscall& poll = syscall_at(s, 9);
  ASSERT_EQ(poll.args.size(), 3u);
  const auto* fds = std::get_if<ListExpr>(&poll.args[0].v);
  ASSERT_NE(fds, nullptr);
  ASSERT_EQ(fds->items.size(), 1u);
  const auto* pfd = std::get_if<StructExpr>(&fds->items[0].v);
  ASSERT_NE(pfd, nullptr);
  ASSERT_EQ(pfd->fields.size(), 3u);
  EXPECT_EQ(pfd->fields[0].name, "fd");
  EXPECT_EQ(*pfd->fields[0].value.as_int(), 3);
  EXPECT_EQ(pfd->fields[1].name, "events");
  EXPECT_EQ(*pfd->fields[1].value.as_word(), "POLLOUT");
  EXPECT_EQ(pfd->fields[2].name, "revents");
  EXPECT_EQ(*poll.result.as_int(), 1);
}

TEST(ScriptExamples, MultiConnectionPortsAndStrict) {
  Script s = load("multi-connection.pkt");
  EXPECT_TRUE(s.options.strict);
  ASSERT_EQ(s.events.size(), 14u);
  const std::pair<uint16_t, uint16_t> ports[] = {{40000, 8080}, {8080, 40000}, {40001, 8080},
                                                 {8080, 40001}, {40001, 8080}, {40000, 8080}};
  for (size_t i = 0; i < 6; ++i) {
    const Packet& p = packet_at(s, 4 + i);
    EXPECT_EQ(p.sport, ports[i].first) << i;
    EXPECT_EQ(p.dport, ports[i].second) << i;
  }
  EXPECT_EQ(packet_at(s, 6).options[0].value, 1400u);
  EXPECT_EQ(packet_at(s, 5).window, 64240);
  EXPECT_EQ(packet_at(s, 13).to_string(), "> 8080>40001 P. 1:11(10) ack 1 win 64240");
}

TEST(ScriptExamples, SocketOptionsBlockingCallAndCleanup) {
  Script s = load("socket-options.pkt");
  ASSERT_EQ(s.events.size(), 33u);

  const Event& init = s.events[0];
  EXPECT_EQ(init.timing.kind, Timing::Kind::none);
  ASSERT_EQ(init.shell()->items.size(), 1u);
  EXPECT_EQ(std::get<ShellCommand>(init.shell()->items[0]),
            (ShellCommand{"../common/defaults.sh", 2}));

  // SO_LINGER with a struct.
  const Syscall& linger = syscall_at(s, 3);
  const auto* st = std::get_if<StructExpr>(&linger.args[3].v);
  ASSERT_NE(st, nullptr);
  ASSERT_EQ(st->fields.size(), 2u);
  EXPECT_EQ(st->fields[0].name, "onoff");
  EXPECT_EQ(*st->fields[0].value.as_int(), 1);
  EXPECT_EQ(st->fields[1].name, "linger");
  EXPECT_EQ(*st->fields[1].value.as_int(), 0);
  EXPECT_EQ(*linger.args[4].as_int(), 8);

  const char* sockopts[] = {"SO_RCVBUF", "SO_SNDBUF", "TCP_MAXSEG", "TCP_SYNCNT", "TCP_NODELAY"};
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(*syscall_at(s, 4 + i).args[2].as_word(), sockopts[i]);

  // +0...0.200 accept(3, ..., ...) = 4
  const Event& accept = s.events[12];
  EXPECT_EQ(accept.timing.kind, Timing::Kind::relative);
  EXPECT_EQ(accept.timing.blocking_until, ms(200));
  EXPECT_EQ(accept.timing.to_string(), "+0...0.2");
  EXPECT_EQ(syscall_at(s, 12).name, "accept");

  const Packet& sack = packet_at(s, 19);
  ASSERT_EQ(sack.options.size(), 3u);
  EXPECT_EQ(sack.options[2].kind, PacketOption::Kind::sack);
  ASSERT_EQ(sack.options[2].sack.size(), 2u);
  EXPECT_EQ(sack.options[2].sack[0], (wire::SackBlock{1, 2}));
  EXPECT_EQ(sack.options[2].sack[1], (wire::SackBlock{3, 4}));
  EXPECT_EQ(sack.tcp_options().sack_count, 2);

  EXPECT_EQ(syscall_at(s, 20).to_string(), "send(4, ..., 10, 0) = 10");
  EXPECT_EQ(syscall_at(s, 23).to_string(), "recv(4, ..., 100, 0) = 10");
  EXPECT_EQ(syscall_at(s, 24).to_string(),
            "poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1");
  EXPECT_EQ(*syscall_at(s, 25).args[1].as_word(), "SHUT_WR");
  EXPECT_EQ(*syscall_at(s, 27).args[1].as_word(), "SHUT_RD");
  EXPECT_EQ(*syscall_at(s, 28).args[1].as_word(), "SHUT_RDWR");
  EXPECT_EQ(syscall_at(s, 31).to_string(), "close(3) = -1 EBADF (Bad file descriptor)");

  const Event& cleanup = s.events[32];
  EXPECT_EQ(cleanup.timing.kind, Timing::Kind::none);
  EXPECT_EQ(std::get<ShellCommand>(cleanup.shell()->items[0]).text,
            "/tmp/sysctl_restore_${PPID}.sh");
}

}  // namespace
}  // namespace synq::script
