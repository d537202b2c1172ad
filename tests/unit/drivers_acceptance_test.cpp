// Acceptance tests of synq as a whole, run in the simulator in virtual time:
// stacks exchanging data over a lossy link, connect() to a silent address and
// to a closed port, reproducible captures, and tshark reading them.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "drivers/sim/sim_network.hpp"
#include "drivers_apps.hpp"
#include "drivers_test_support.hpp"
#include "synq/stack.hpp"

namespace synq::sim {
namespace {

using testing::BulkPeer;
using testing::record_tcp;
using testing::Seen;
using testing::temp_path;

const IpAddr kServer = IpAddr::v4(10, 0, 0, 1);
const IpAddr kClient = IpAddr::v4(10, 0, 0, 2);
const IpAddr kSilent = IpAddr::v4(10, 0, 0, 9);
constexpr uint16_t kPort = 5001;

StackConfig host_config(const IpAddr& addr, std::string name) {
  StackConfig c;
  c.addresses = {addr};
  c.name = std::move(name);
  return c;
}

// A client and a server joined by one link; the server listens on kPort, the
// client connects at t = 0, and both run a BulkPeer from their hooks.
struct Transfer {
  Transfer(uint64_t seed, const LinkParams& lp, uint64_t bytes, int buffer = 0)
      : net(seed), client_app(1, 2, bytes), server_app(2, 1, bytes) {
    c = net.add_host(host_config(kClient, "client"));
    s = net.add_host(host_config(kServer, "server"));
    link = net.connect(c, s, lp);
    net.at(0s, [this, buffer] {
      Stack& ss = net.stack(s);
      listen_fd = *ss.socket(SockType::stream);
      if (buffer) {
        EXPECT_EQ(ss.setsockopt(listen_fd, SockOpt::so_sndbuf, buffer), Errno::ok);
        EXPECT_EQ(ss.setsockopt(listen_fd, SockOpt::so_rcvbuf, buffer), Errno::ok);
      }
      ASSERT_EQ(ss.bind(listen_fd, {kServer, kPort}), Errno::ok);
      ASSERT_EQ(ss.listen(listen_fd, 16), Errno::ok);
      Stack& cs = net.stack(c);
      const int fd = *cs.socket(SockType::stream);
      if (buffer) {
        EXPECT_EQ(cs.setsockopt(fd, SockOpt::so_sndbuf, buffer), Errno::ok);
        EXPECT_EQ(cs.setsockopt(fd, SockOpt::so_rcvbuf, buffer), Errno::ok);
      }
      ASSERT_EQ(cs.connect(fd, {kServer, kPort}), Errno::einprogress);
      client_fd = fd;
    });
    net.on_event(s, [this](HostId) {
      Stack& st = net.stack(s);
      if (server_app.fd() < 0 && listen_fd >= 0)
        if (auto a = st.accept(listen_fd)) server_app.attach(*a);
      server_app.pump(st);
    });
    net.on_event(c, [this](HostId) {
      Stack& st = net.stack(c);
      if (client_app.fd() < 0 && client_fd >= 0) {
        auto p = st.poll(client_fd);
        if (p && (*p & kWritable)) client_app.attach(client_fd);
      }
      client_app.pump(st);
    });
  }
  bool done() const { return client_app.done() && server_app.done(); }
  // Closes both sockets once the transfer is done and runs out the FIN
  // exchange and TIME-WAIT.
  void close_and_drain(Time limit) {
    net.at(net.now(), [this] {
      EXPECT_EQ(net.stack(c).close(client_app.fd()), Errno::ok);
      EXPECT_EQ(net.stack(s).close(server_app.fd()), Errno::ok);
      EXPECT_EQ(net.stack(s).close(listen_fd), Errno::ok);
    });
    EXPECT_TRUE(net.run_until_idle(limit));
  }

  SimNetwork net;
  HostId c, s;
  LinkId link;
  int listen_fd = -1;
  int client_fd = -1;
  BulkPeer client_app, server_app;
};

// (a) 10 MB each way at once, 1% loss each way, 20 ms one-way delay, 100 Mbit/s.
TEST(Acceptance, TenMegabytesBothWaysOverALossyLinkArriveIntactAndInOrder) {
  constexpr uint64_t kBytes = 10'000'000;
  Transfer t(2024, LinkParams{.latency = 20ms, .loss = 0.01, .bandwidth_bps = 100'000'000}, kBytes,
             1 << 20);
  ASSERT_TRUE(t.net.run_until([&] { return t.done(); }, 3600s))
      << "client got " << t.client_app.received() << ", server got " << t.server_app.received()
      << " by " << to_seconds(t.net.now()) << " s";
  for (const BulkPeer* p : {&t.client_app, &t.server_app}) {
    EXPECT_EQ(p->sent(), kBytes);
    EXPECT_EQ(p->received(), kBytes);
    EXPECT_EQ(p->corrupt_reads(), 0u);
    EXPECT_TRUE(p->errors().empty());
  }
  // The link really lost packets both ways, and both stacks repaired that.
  EXPECT_GT(t.net.link_stats(t.link, Side::a_to_b).lost, 0u);
  EXPECT_GT(t.net.link_stats(t.link, Side::b_to_a).lost, 0u);
  EXPECT_GT(t.net.stack(t.c).counters()[Counter::Tcp_RetransSegs], 0u);
  EXPECT_GT(t.net.stack(t.s).counters()[Counter::Tcp_RetransSegs], 0u);
  RecordProperty("virtual_seconds", std::to_string(to_seconds(t.net.now())));
  RecordProperty("lost_c2s", std::to_string(t.net.link_stats(t.link, Side::a_to_b).lost));
  RecordProperty("lost_s2c", std::to_string(t.net.link_stats(t.link, Side::b_to_a).lost));
  RecordProperty("retrans_client",
                 std::to_string(t.net.stack(t.c).counters()[Counter::Tcp_RetransSegs]));
  RecordProperty("retrans_server",
                 std::to_string(t.net.stack(t.s).counters()[Counter::Tcp_RetransSegs]));
  t.close_and_drain(t.net.now() + 600s);
}

// (b) connect() to an address that never answers.
struct SilentConnect {
  std::vector<Time> syns;
  std::vector<std::string> flags;
  Time failed_at = kNever;
  Errno error = Errno::ok;
};

SilentConnect connect_to_silent(int syn_retries, int linear_timeouts, int syncnt = 0) {
  SimNetwork net(7);
  StackConfig cc = host_config(kClient, "client");
  cc.sysctls.tcp_syn_retries = syn_retries;
  cc.sysctls.tcp_syn_linear_timeouts = linear_timeouts;
  const HostId c = net.add_host(cc);
  const HostId hole = net.add_blackhole({kSilent}, "silent");
  net.connect(c, hole, LinkParams{.latency = 5ms});
  std::vector<Seen> seen;
  record_tcp(net, seen);
  SilentConnect out;
  int fd = -1;
  net.at(0s, [&] {
    Stack& st = net.stack(c);
    fd = *st.socket(SockType::stream);
    if (syncnt) {
      EXPECT_EQ(st.setsockopt(fd, SockOpt::tcp_syncnt, syncnt), Errno::ok);
    }
    EXPECT_EQ(st.connect(fd, {kSilent, 80}), Errno::einprogress);
  });
  net.on_event(c, [&](HostId) {
    Stack& st = net.stack(c);
    if (fd < 0 || out.failed_at != kNever) return;
    auto p = st.poll(fd);
    if (p && (*p & kError)) {
      out.failed_at = net.now();
      out.error = static_cast<Errno>(*st.getsockopt(fd, SockOpt::so_error));
    }
  });
  EXPECT_TRUE(net.run_until_idle(3600s));
  for (const Seen& s : seen) {
    out.syns.push_back(s.time);
    out.flags.push_back(s.flags);
  }
  return out;
}

// The schedules below are the ideal ones of docs/kernel-facts.md (measured on
// Linux 6.18, which adds only timer slack).
TEST(Acceptance, SilentAddressSynScheduleLinux618Defaults) {
  // tcp_syn_retries = 6, tcp_syn_linear_timeouts = 4: 6 + 4 retransmissions,
  // the first 4 (and the wait after them) at the initial RTO of 1 s, then doubling.
  const SilentConnect r = connect_to_silent(6, 4);
  EXPECT_EQ(r.syns, (std::vector<Time>{0s, 1s, 2s, 3s, 4s, 5s, 7s, 11s, 19s, 35s, 67s}));
  EXPECT_EQ(r.failed_at, 131s);
  EXPECT_EQ(r.error, Errno::etimedout);
}

TEST(Acceptance, SilentAddressSynScheduleWithSixRetriesNoLinearTimeouts) {
  // tcp_syn_retries = 6 before 6.18: RTO 1 s doubling, ETIMEDOUT at (2^7 - 1) s.
  const SilentConnect r = connect_to_silent(6, 0);
  EXPECT_EQ(r.syns, (std::vector<Time>{0s, 1s, 3s, 7s, 15s, 31s, 63s}));
  EXPECT_EQ(r.flags, std::vector<std::string>(7, "S"));
  EXPECT_EQ(r.failed_at, 127s);
  EXPECT_EQ(r.error, Errno::etimedout);
}

TEST(Acceptance, SilentAddressSynScheduleWithFiveRetriesNoLinearTimeouts) {
  const SilentConnect r = connect_to_silent(5, 0);
  EXPECT_EQ(r.syns, (std::vector<Time>{0s, 1s, 3s, 7s, 15s, 31s}));
  EXPECT_EQ(r.failed_at, 63s);
  EXPECT_EQ(r.error, Errno::etimedout);
}

TEST(Acceptance, SilentAddressTcpSyncntOverridesTheSysctl) {
  const SilentConnect r = connect_to_silent(6, 0, /*syncnt=*/2);
  EXPECT_EQ(r.syns, (std::vector<Time>{0s, 1s, 3s}));
  EXPECT_EQ(r.failed_at, 7s);
  EXPECT_EQ(r.error, Errno::etimedout);
}

// (c) connect() to a host without a listener: RST, ECONNREFUSED via SO_ERROR.
TEST(Acceptance, ClosedPortAnswersRstAndConnectIsRefused) {
  SimNetwork net(3);
  const HostId c = net.add_host(host_config(kClient, "client"));
  const HostId s = net.add_host(host_config(kServer, "server"));
  net.connect(c, s, LinkParams{.latency = 10ms});
  std::vector<Seen> seen;
  record_tcp(net, seen);
  int fd = -1;
  Time failed_at = kNever;
  net.at(0s, [&] {
    fd = *net.stack(c).socket(SockType::stream);
    EXPECT_EQ(net.stack(c).connect(fd, {kServer, kPort}), Errno::einprogress);
  });
  net.on_event(c, [&](HostId) {
    auto p = net.stack(c).poll(fd);
    if (failed_at == kNever && p && (*p & kError)) failed_at = net.now();
  });
  EXPECT_TRUE(net.run_until_idle(10s));
  EXPECT_EQ(seen, (std::vector<Seen>{{0ms, c, "S", 0}, {10ms, s, "R.", 0}}));
  EXPECT_EQ(failed_at, 20ms);
  Stack& cs = net.stack(c);
  EXPECT_EQ(cs.getsockopt(fd, SockOpt::so_error).value(), int(Errno::econnrefused));
  EXPECT_EQ(cs.getsockopt(fd, SockOpt::so_error).value(), 0) << "reading SO_ERROR clears it";
  EXPECT_EQ(net.stack(s).counters()[Counter::Tcp_OutRsts], 1u);
  EXPECT_EQ(cs.counters()[Counter::Tcp_AttemptFails], 1u);
}

TEST(Acceptance, ClosedPortIsRefusedOverIpv6Too) {
  const IpAddr server6 = *IpAddr::parse("2001:db8::1");
  const IpAddr client6 = *IpAddr::parse("2001:db8::2");
  SimNetwork net(4);
  const HostId c = net.add_host(host_config(client6, "client"));
  const HostId s = net.add_host(host_config(server6, "server"));
  net.connect(c, s, LinkParams{.latency = 3ms});
  std::vector<Seen> seen;
  record_tcp(net, seen);
  int fd = -1;
  net.at(1s, [&] {
    fd = *net.stack(c).socket(SockType::stream, IpVersion::v6);
    EXPECT_EQ(net.stack(c).connect(fd, {server6, kPort}), Errno::einprogress);
  });
  EXPECT_TRUE(net.run_until_idle(10s));
  EXPECT_EQ(seen, (std::vector<Seen>{{1s, c, "S", 0}, {1003ms, s, "R.", 0}}));
  EXPECT_EQ(net.stack(c).getsockopt(fd, SockOpt::so_error).value(), int(Errno::econnrefused));
}

// (d) The same scenario twice with one seed gives byte-identical captures.
std::string capture_transfer(uint64_t seed, const std::string& name) {
  const std::string path = temp_path(name);
  Transfer t(seed,
             LinkParams{.latency = 5ms, .jitter = 1ms, .loss = 0.02, .bandwidth_bps = 10'000'000},
             200'000);
  std::string error;
  EXPECT_TRUE(t.net.capture_all(path, &error)) << error;
  EXPECT_TRUE(t.net.run_until([&] { return t.done(); }, 600s));
  EXPECT_EQ(t.client_app.received(), 200'000u);
  EXPECT_EQ(t.server_app.received(), 200'000u);
  t.close_and_drain(t.net.now() + 600s);
  t.net.close_captures();
  return path;
}

TEST(Acceptance, SameSeedGivesByteIdenticalPcapOtherSeedDoesNot) {
  const auto first = testing::read_file(capture_transfer(5, "synq_accept_seed5_a.pcap"));
  EXPECT_GT(first.size(), 200'000u);
  EXPECT_EQ(testing::read_file(capture_transfer(5, "synq_accept_seed5_b.pcap")), first);
  EXPECT_NE(testing::read_file(capture_transfer(6, "synq_accept_seed6.pcap")), first);
}

// (e) tshark, an independent dissector, reads the capture.
std::vector<std::string> run_lines(const std::string& cmd) {
  std::vector<std::string> lines;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return lines;
  std::string cur;
  for (int ch; (ch = fgetc(p)) != EOF;) {
    if (ch == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(ch);
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  EXPECT_EQ(pclose(p), 0) << cmd;
  return lines;
}

TEST(Acceptance, TsharkSeesTheHandshakeInOrderAndNoBadPackets) {
  if (std::system("command -v tshark >/dev/null 2>&1") != 0) GTEST_SKIP() << "no tshark";
  const std::string path = capture_transfer(5, "synq_accept_tshark.pcap");
  // tcp.flags is the numeric field: 0x0002 SYN, 0x0012 SYN+ACK, 0x0010 ACK.
  const auto lines = run_lines("tshark -r " + path +
                               " -Y tcp -T fields -E separator=, -e ip.src -e ip.dst"
                               " -e tcp.flags -e tcp.len 2>/dev/null");
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0], "10.0.0.2,10.0.0.1,0x0002,0");
  EXPECT_EQ(lines[1], "10.0.0.1,10.0.0.2,0x0012,0");
  EXPECT_EQ(lines[2], "10.0.0.2,10.0.0.1,0x0010,0");
  // With checksum validation on, nothing is malformed or has a bad checksum.
  const auto bad = run_lines("tshark -r " + path +
                             " -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE"
                             " -Y 'ip.checksum.status == 0 || tcp.checksum.status == 0 ||"
                             " _ws.malformed' -T fields -e frame.number 2>/dev/null");
  EXPECT_TRUE(bad.empty()) << bad.size() << " bad packets, first frame " << bad.front();
}

}  // namespace
}  // namespace synq::sim
