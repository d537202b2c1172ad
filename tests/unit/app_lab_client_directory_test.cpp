// ClientDirectory: a client is found by its source address and port only on
// the client addresses it was sized for; the server, spoofed sources, other
// addresses, unused ports and IPv6 belong to no client.
#include <gtest/gtest.h>

#include "lab/run/client_directory.hpp"

namespace synq::lab {
namespace {

IpAddr client_address(uint32_t index) {
  return IpAddr::v4(address_plan::kFirstClientAddr + index);
}

TEST(ClientDirectory, FindsEachClientByItsAddressAndPort) {
  ClientDirectory d;
  d.reserve_addresses(2);
  d.add(0, 40000, 7);
  d.add(1, 40000, 9);
  d.add(1, 65535, 0);
  EXPECT_EQ(d.client_at(client_address(0), 40000), 7);
  EXPECT_EQ(d.client_at(client_address(1), 40000), 9);
  EXPECT_EQ(d.client_at(Endpoint{client_address(1), 65535}), 0);
  EXPECT_EQ(d.client_at(client_address(0), 40001), -1) << "a port no client uses";
}

TEST(ClientDirectory, NoClientOutsideItsAddresses) {
  ClientDirectory d;
  d.reserve_addresses(1);
  d.add(0, 1000, 3);
  EXPECT_EQ(d.client_at(IpAddr::v4(address_plan::kServerAddr), 1000), -1);
  EXPECT_EQ(d.client_at(IpAddr::v4(address_plan::kSpoofBase + 1), 1000), -1);
  EXPECT_EQ(d.client_at(client_address(1), 1000), -1) << "beyond the reserved addresses";
  EXPECT_EQ(d.client_at(*IpAddr::parse("::1"), 1000), -1);
}

TEST(ClientDirectory, ManyAddressesOnlyPastTheFirst) {
  ClientDirectory one;
  one.reserve_addresses(1);
  EXPECT_FALSE(one.spans_many_addresses());
  ClientDirectory two;
  two.reserve_addresses(2);
  EXPECT_TRUE(two.spans_many_addresses());
}

}  // namespace
}  // namespace synq::lab
