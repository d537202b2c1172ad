// Base types: addresses, errno names, counters by Linux name, sysctls by name.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "synq/address.hpp"
#include "synq/counters.hpp"
#include "synq/errno.hpp"
#include "synq/sysctl.hpp"

namespace synq {
namespace {

TEST(IpAddr, ParsesAndPrintsV4AndV6) {
  auto a = IpAddr::parse("10.0.0.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_host_order(), 0x0a000001u);
  EXPECT_EQ(*a, IpAddr::v4(10, 0, 0, 1));
  EXPECT_EQ(a->to_string(), "10.0.0.1");
  auto b = IpAddr::parse("fd00::1");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->is_v4());
  EXPECT_EQ(b->to_string(), "fd00::1");
  EXPECT_FALSE(IpAddr::parse("10.0.0.256"));
  EXPECT_FALSE(IpAddr::parse("nonsense"));
  EXPECT_EQ((Endpoint{*b, 80}).to_string(), "[fd00::1]:80");
  EXPECT_EQ((Endpoint{*a, 8080}).to_string(), "10.0.0.1:8080");
}

TEST(IpAddr, V4AndV6WithSameBytesDiffer) {
  IpAddr v4 = IpAddr::v4(1, 2, 3, 4);
  IpAddr v6 = v4;
  v6.version = IpVersion::v6;
  EXPECT_NE(v4, v6);
}

TEST(FourTuple, HashSeparatesDirectionAndPorts) {
  FourTuple t{{IpAddr::v4(10, 0, 0, 1), 80}, {IpAddr::v4(10, 0, 0, 2), 40000}};
  FourTuple r{t.remote, t.local};
  FourTuple p = t;
  p.remote.port = 40001;
  EXPECT_NE(hash_value(t), hash_value(r));
  EXPECT_NE(hash_value(t), hash_value(p));
  EXPECT_EQ(hash_value(t), hash_value(FourTuple(t)));
  EXPECT_NE(hash_value(t, 1), hash_value(t, 2));
}

TEST(Errno, PosixNamesRoundTrip) {
  EXPECT_EQ(errno_name(Errno::econnrefused), "ECONNREFUSED");
  EXPECT_EQ(errno_name(Errno::einprogress), "EINPROGRESS");
  EXPECT_EQ(static_cast<int>(Errno::etimedout), 110);  // Linux numbering
  Errno e{};
  ASSERT_TRUE(errno_from_name("EADDRINUSE", e));
  EXPECT_EQ(e, Errno::eaddrinuse);
  EXPECT_FALSE(errno_from_name("ENOSUCH", e));
}

TEST(Result, HoldsValueOrError) {
  Result<int> ok = 3;
  Result<int> bad = Errno::eagain;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  EXPECT_EQ(ok.error(), Errno::ok);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), Errno::eagain);
}

TEST(Counters, LinuxNamesLookupAndTable) {
  Counters c;
  c.inc(Counter::TcpExt_ListenOverflows, 3);
  c.inc(Counter::Udp_InCsumErrors);
  EXPECT_EQ(c[Counter::TcpExt_ListenOverflows], 3u);
  EXPECT_EQ(counter_by_name("ListenOverflows"), Counter::TcpExt_ListenOverflows);
  EXPECT_EQ(counter_by_name("TcpExtListenOverflows"), Counter::TcpExt_ListenOverflows);
  EXPECT_EQ(counter_by_name("Udp.InCsumErrors"), Counter::Udp_InCsumErrors);
  EXPECT_EQ(counter_by_name("InCsumErrors"), Counter::Tcp_InCsumErrors);
  EXPECT_EQ(counter_by_name("sc_stale"), Counter::FreeBSD_sc_stale);
  EXPECT_FALSE(counter_by_name("NoSuchCounter"));
  const std::string table = c.to_table();
  EXPECT_NE(table.find("TcpExtListenOverflows"), std::string::npos);
  EXPECT_EQ(table.find("TcpExtListenDrops"), std::string::npos);  // zero rows hidden
  EXPECT_NE(c.to_table(true).find("TcpExtListenDrops"), std::string::npos);
  auto j = nlohmann::json::parse(c.to_json());
  EXPECT_EQ(j["TcpExt"]["ListenOverflows"], 3);
  auto flat = nlohmann::json::parse(c.to_flat_json());
  EXPECT_EQ(flat["ListenOverflows"], 3);
  EXPECT_EQ(flat["Udp.InCsumErrors"], 1);
  EXPECT_EQ(flat["Tcp.InCsumErrors"], 0);
}

TEST(Sysctls, DefaultsAreLinux6) {
  Sysctls s;
  EXPECT_EQ(s.get("net.core.somaxconn"), "4096");
  EXPECT_EQ(s.get("net.ipv4.tcp_syn_retries"), "6");
  EXPECT_EQ(s.get("net.ipv4.tcp_synack_retries"), "5");
  EXPECT_EQ(s.get("net.ipv4.tcp_rmem"), "4096\t131072\t6291456");
  EXPECT_EQ(s.derived_wscale(), 7);  // Linux with the default tcp_rmem max
}

TEST(Sysctls, SetByNameValidates) {
  Sysctls s;
  std::string err;
  EXPECT_TRUE(s.set("net.core.somaxconn", "128", &err)) << err;
  EXPECT_EQ(s.somaxconn, 128);
  EXPECT_TRUE(s.set("net/ipv4/tcp_syncookies", "2", &err)) << err;
  EXPECT_EQ(s.tcp_syncookies, 2);
  EXPECT_FALSE(s.set("net.ipv4.tcp_syncookies", "3", &err));
  EXPECT_NE(err.find("out of range"), std::string::npos);
  EXPECT_FALSE(s.set("net.ipv4.tcp_syncookies", "x", &err));
  EXPECT_FALSE(s.set("net.ipv4.nope", "1", &err));
  EXPECT_NE(err.find("unknown sysctl"), std::string::npos);
  EXPECT_TRUE(s.set("net.ipv4.tcp_rmem", "4096 87380 33554432", &err)) << err;
  EXPECT_EQ(s.derived_wscale(), 10);  // as on a host with a 32 MiB tcp_rmem max
  EXPECT_FALSE(s.set("net.ipv4.tcp_rmem", "4096 87380", &err));
  EXPECT_TRUE(s.set("synq.listen_model", "bsd44", &err)) << err;
  EXPECT_EQ(s.listen_model, "bsd44");
  EXPECT_FALSE(s.set("synq.listen_model", "solaris", &err));
  EXPECT_NE(err.find("linux|bsd44|freebsd|xnu"), std::string::npos);
  EXPECT_TRUE(s.set("net.ipv4.tcp_window_scaling", "0"));
  EXPECT_EQ(s.derived_wscale(), 0);
  for (const auto& k : sysctl_list()) EXPECT_TRUE(s.get(k.name)) << k.name;
}

}  // namespace
}  // namespace synq
