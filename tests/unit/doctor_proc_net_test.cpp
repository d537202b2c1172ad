// The /proc parsers of `synq doctor` (doctor/proc_net.hpp,
// doctor/proc_owners.hpp) over fixture text and fixture directories: no
// privileges, no kernel state.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "doctor/host_reader.hpp"
#include "doctor/proc_net.hpp"
#include "doctor/proc_owners.hpp"

namespace synq::doctor {
namespace {

// Shaped like the kernel's output: the Tcp group with MaxConn = -1
// (net/ipv4/proc.c, snmp_seq_show_tcp_udp), a trailing space after the
// last name as Icmp has, and two TcpExt/IpExt pairs as in /proc/net/netstat.
constexpr const char* kSnmp =
    "Ip: Forwarding DefaultTTL InReceives\n"
    "Ip: 2 64 9946\n"
    "Icmp: InMsgs InErrors \n"
    "Icmp: 3 0\n"
    "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens\n"
    "Tcp: 1 200 120000 -1 17 42\n";
constexpr const char* kNetstat =
    "TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops\n"
    "TcpExt: 5 4 18446744073709551615 7\n"
    "IpExt: InNoRoutes InOctets\n"
    "IpExt: 0 123456789012\n";

std::string error_of(std::string_view text, const std::string& file) {
  try {
    parse_proc_net_counters(text, file);
  } catch (const HostReadError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DoctorProcNet, ParsesGroupsIntoDottedNames) {
  auto snmp = parse_proc_net_counters(kSnmp, "/proc/net/snmp");
  EXPECT_EQ(snmp.at("Ip.InReceives"), 9946u);
  EXPECT_EQ(snmp.at("Icmp.InMsgs"), 3u);
  EXPECT_EQ(snmp.at("Tcp.PassiveOpens"), 42u);
  EXPECT_EQ(snmp.at("Tcp.RtoMax"), 120000u);
  EXPECT_EQ(snmp.count("Tcp.MaxConn"), 0u) << "the signed constant -1 is not a counter";
  EXPECT_EQ(snmp.size(), 3u + 2u + 5u);

  auto netstat = parse_proc_net_counters(kNetstat, "/proc/net/netstat");
  EXPECT_EQ(netstat.at("TcpExt.ListenOverflows"), 18446744073709551615u);
  EXPECT_EQ(netstat.at("TcpExt.ListenDrops"), 7u);
  EXPECT_EQ(netstat.at("IpExt.InOctets"), 123456789012u);
  EXPECT_EQ(netstat.size(), 6u);
}

TEST(DoctorProcNet, EmptyTextHasNoCounters) {
  EXPECT_TRUE(parse_proc_net_counters("", "/proc/net/snmp").empty());
  EXPECT_TRUE(parse_proc_net_counters("\n\n", "/proc/net/snmp").empty());
}

TEST(DoctorProcNet, MalformedLinesNameFileAndLine) {
  EXPECT_EQ(error_of("Tcp: A B\nTcp: 1 2\nTcpExt: X Y\n", "f"),
            "f:3: group TcpExt has a header line but no value line");
  EXPECT_EQ(error_of("Tcp: A B\nUdp: 1 2\n", "/proc/net/snmp"),
            "/proc/net/snmp:2: value line of group Tcp starts with \"Udp:\"");
  EXPECT_EQ(error_of("Ip: A\nIp: 1\nTcp: A B C\nTcp: 1 2\n", "/proc/net/snmp"),
            "/proc/net/snmp:4: group Tcp has 3 names but 2 values");
  EXPECT_EQ(error_of("TcpExt: A B\nTcpExt: 1 x2\n", "/proc/net/netstat"),
            "/proc/net/netstat:2: TcpExt.B is not a number: \"x2\"");
  EXPECT_EQ(error_of("no group here\n", "/proc/net/netstat"),
            "/proc/net/netstat:1: expected \"Group: Name ...\", got \"no group here\"");
  EXPECT_EQ(error_of("TcpExt: A\nTcpExt: 99999999999999999999\n", "n"),
            "n:2: TcpExt.A is not a number: \"99999999999999999999\"");
}

/// A throwaway directory shaped like /proc, removed at the end.
struct FakeProc {
  std::filesystem::path root;
  FakeProc() {
    char tmpl[] = "/tmp/synq-doctor-proc-XXXXXX";
    root = ::mkdtemp(tmpl);
  }
  ~FakeProc() { std::filesystem::remove_all(root); }
  void write(const std::string& rel, const std::string& text) const {
    auto p = root / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
};

TEST(DoctorProcNet, ReadsCountersFromBothFiles) {
  FakeProc proc;
  proc.write("net/snmp", kSnmp);
  proc.write("net/netstat", kNetstat);
  auto all = read_proc_net_counters(proc.root.string());
  EXPECT_EQ(all.at("Tcp.PassiveOpens"), 42u);
  EXPECT_EQ(all.at("TcpExt.ListenDrops"), 7u);
}

TEST(DoctorProcNet, MissingCounterFileIsAnErrorNamingIt) {
  FakeProc proc;
  proc.write("net/snmp", kSnmp);
  try {
    read_proc_net_counters(proc.root.string());
    FAIL() << "expected HostReadError";
  } catch (const HostReadError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read " + (proc.root / "net/netstat").string() +
                                         ": No such file or directory");
  }
}

TEST(DoctorProcNet, KnobsPresentAbsentAndMalformed) {
  FakeProc proc;
  proc.write("sys/net/core/somaxconn", "4096\n");
  proc.write("sys/net/ipv4/tcp_syncookies", "1\n");
  proc.write("sys/net/ipv4/tcp_fastopen", "-3\n");
  auto knobs = read_sysctl_knobs({"net.core.somaxconn", "net.ipv4.tcp_syncookies",
                                  "net.ipv4.tcp_syn_linear_timeouts", "net.ipv4.tcp_fastopen"},
                                 proc.root.string());
  EXPECT_EQ(knobs.at("net.core.somaxconn"), 4096);
  EXPECT_EQ(knobs.at("net.ipv4.tcp_syncookies"), 1);
  EXPECT_EQ(knobs.at("net.ipv4.tcp_fastopen"), -3);
  EXPECT_EQ(knobs.count("net.ipv4.tcp_syn_linear_timeouts"), 0u) << "absent file → absent knob";
  EXPECT_EQ(knobs.size(), 3u);

  proc.write("sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n");
  proc.write("sys/net/ipv4/tcp_timestamps", "yes\n");
  try {
    read_sysctl_knobs({"net.ipv4.tcp_rmem"}, proc.root.string());
    FAIL() << "expected HostReadError";
  } catch (const HostReadError& e) {
    EXPECT_EQ(std::string(e.what()), (proc.root / "sys/net/ipv4/tcp_rmem").string() +
                                         ": expected one number, got \"4096\t131072\t6291456\"");
  }
  try {
    read_sysctl_knobs({"net.ipv4.tcp_timestamps"}, proc.root.string());
    FAIL() << "expected HostReadError";
  } catch (const HostReadError& e) {
    EXPECT_EQ(std::string(e.what()),
              (proc.root / "sys/net/ipv4/tcp_timestamps").string() + ": not a number: \"yes\"");
  }
}

TEST(DoctorProcNet, KnobNamesIncludeTheDoctorsSet) {
  const auto& names = doctor_knob_names();
  for (const char* n :
       {"net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_syncookies",
        "net.ipv4.tcp_abort_on_overflow", "net.ipv4.tcp_synack_retries", "net.ipv4.tcp_syn_retries",
        "net.ipv4.tcp_syn_linear_timeouts", "net.ipv4.tcp_timestamps"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
}

TEST(DoctorProcOwners, SocketInodeFromLink) {
  EXPECT_EQ(socket_inode_from_link("socket:[12345]"), 12345u);
  EXPECT_EQ(socket_inode_from_link("socket:[0]"), 0u);
  EXPECT_EQ(socket_inode_from_link("pipe:[12345]"), std::nullopt);
  EXPECT_EQ(socket_inode_from_link("socket:[]"), std::nullopt);
  EXPECT_EQ(socket_inode_from_link("socket:[12a]"), std::nullopt);
  EXPECT_EQ(socket_inode_from_link("socket:[123"), std::nullopt);
  EXPECT_EQ(socket_inode_from_link("anon_inode:[eventpoll]"), std::nullopt);
  EXPECT_EQ(socket_inode_from_link("/dev/null"), std::nullopt);
}

TEST(DoctorProcOwners, SplitCmdline) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split_cmdline(std::string_view("python3\0-m\0http.server\0", 23)),
            (V{"python3", "-m", "http.server"}));
  EXPECT_EQ(split_cmdline(std::string_view("nginx: worker process", 21)),
            (V{"nginx: worker process"}));
  EXPECT_EQ(split_cmdline(std::string_view("a\0\0b\0", 5)), (V{"a", "", "b"}));
  EXPECT_EQ(split_cmdline(""), V{});
}

TEST(DoctorProcOwners, ScansFakeProcForWantedInodes) {
  FakeProc proc;
  proc.write("100/comm", "server\n");
  proc.write("100/cmdline", std::string("srv\0--port\0008080\0", 16));
  proc.write("200/comm", "worker\n");
  proc.write("200/cmdline", std::string("srv\0", 4));
  proc.write("300/comm", "other\n");
  proc.write("self/comm", "not a pid\n");
  for (const char* d : {"100/fd", "200/fd", "300/fd", "self/fd"}) {
    std::filesystem::create_directories(proc.root / d);
  }
  auto link = [&](const std::string& rel, const std::string& target) {
    std::filesystem::create_symlink(target, proc.root / rel);
  };
  link("100/fd/3", "socket:[777]");
  link("100/fd/4", "socket:[888]");
  link("100/fd/5", "socket:[777]");  // a dup()ed fd: still one owner
  link("200/fd/3", "socket:[777]");  // a forked worker holding the same listener
  link("300/fd/0", "/dev/null");
  link("300/fd/1", "socket:[999]");   // not wanted
  link("self/fd/3", "socket:[777]");  // not a pid directory

  auto owners = scan_socket_owners({777, 888, 555}, proc.root.string());
  ASSERT_EQ(owners.size(), 2u);
  ASSERT_EQ(owners.at(777).size(), 2u);
  EXPECT_EQ(owners.at(777)[0].pid, 100);
  EXPECT_EQ(owners.at(777)[0].comm, "server");
  EXPECT_EQ(owners.at(777)[0].argv, (std::vector<std::string>{"srv", "--port", "8080"}));
  EXPECT_EQ(owners.at(777)[1].pid, 200);
  EXPECT_EQ(owners.at(777)[1].comm, "worker");
  ASSERT_EQ(owners.at(888).size(), 1u);
  EXPECT_EQ(owners.at(888)[0].pid, 100);
}

}  // namespace
}  // namespace synq::doctor
