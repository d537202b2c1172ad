// counter_display_name: one name per counter for text and JSON alike —
// nstat's for Linux's counters, FreeBSD netstat's wording for FreeBSD's — and
// every display name leads back to its counter.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "synq/counters.hpp"

namespace synq {
namespace {

TEST(CounterNames, LinuxCountersAreNamedAsNstatDoes) {
  EXPECT_EQ(counter_display_name(Counter::TcpExt_ListenDrops), "TcpExtListenDrops");
  EXPECT_EQ(counter_display_name(Counter::Tcp_PassiveOpens), "TcpPassiveOpens");
  EXPECT_EQ(counter_display_name(Counter::Ip_InReceives), "IpInReceives");
  EXPECT_EQ(counter_display_name(Counter::Udp_InCsumErrors), "UdpInCsumErrors");
  EXPECT_FALSE(is_freebsd_counter(Counter::TcpExt_ListenOverflows));
}

TEST(CounterNames, FreeBsdCountersUseNetstatWording) {
  EXPECT_EQ(counter_display_name(Counter::FreeBSD_listendrop), "listen queue overflows");
  EXPECT_EQ(counter_display_name(Counter::FreeBSD_sc_added), "syncache entries added");
  EXPECT_EQ(counter_display_name(Counter::FreeBSD_sc_bucketoverflow), "syncache bucket overflow");
  EXPECT_EQ(counter_display_name(Counter::FreeBSD_sc_zonefail), "syncache zone failures");
  EXPECT_EQ(counter_display_name(Counter::FreeBSD_sc_sendcookie), "cookies sent");
  EXPECT_EQ(counter_display_name(Counter::FreeBSD_sc_recvcookie), "cookies received");
  EXPECT_TRUE(is_freebsd_counter(Counter::FreeBSD_sc_stale));
}

TEST(CounterNames, EveryCounterHasOneUniqueNameThatLeadsBackToIt) {
  std::set<std::string> seen;
  for (size_t i = 0; i < kCounterCount; ++i) {
    const auto c = static_cast<Counter>(i);
    const std::string name(counter_display_name(c));
    EXPECT_TRUE(seen.insert(name).second) << "two counters are called " << name;
    EXPECT_EQ(counter_by_name(name), c) << name;
    // No FreeBSD counter is left with the X-macro's internal name.
    if (is_freebsd_counter(c)) {
      EXPECT_EQ(name.find("FreeBSD"), std::string::npos) << name;
    }
  }
}

TEST(CounterNames, TheTableUsesTheDisplayNames) {
  Counters c;
  c.inc(Counter::TcpExt_ListenDrops, 2);
  c.inc(Counter::FreeBSD_sc_added, 12);
  const std::string table = c.to_table();
  EXPECT_NE(table.find("TcpExtListenDrops"), std::string::npos) << table;
  EXPECT_NE(table.find("syncache entries added"), std::string::npos) << table;
  EXPECT_EQ(table.find("sc_added"), std::string::npos) << table;
}

}  // namespace
}  // namespace synq
