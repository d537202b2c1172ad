// Which lab client owns a source address and port. The listener's trace, the
// packet tap and accept() name a peer only by address and port; this turns
// that into the client's id in O(1) with one flat table indexed by
// (source address index << 16 | port), so a million clients cost no hashing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lab/run/world.hpp"
#include "synq/address.hpp"

namespace synq::lab {

class ClientDirectory {
 public:
  /// Room for every port on `addresses` source addresses, all unowned.
  void reserve_addresses(uint32_t addresses) {
    table_.assign(static_cast<size_t>(addresses) << 16, kNoClient);
  }
  /// More than one source address: clients must bind to theirs before connect().
  bool spans_many_addresses() const { return table_.size() > (1u << 16); }

  void add(uint32_t address_index, uint16_t port, uint32_t client) {
    table_[static_cast<size_t>(address_index) << 16 | port] = client;
  }

  /// The client using `addr`:`port`, or -1 (the server, or an attacker's
  /// spoofed source).
  int client_at(const IpAddr& addr, uint16_t port) const {
    if (!addr.is_v4()) return -1;
    const uint32_t host = addr.v4_host_order();
    if (host < address_plan::kFirstClientAddr) return -1;
    const size_t at = static_cast<size_t>(host - address_plan::kFirstClientAddr) << 16 | port;
    if (at >= table_.size() || table_[at] == kNoClient) return -1;
    return static_cast<int>(table_[at]);
  }
  int client_at(const Endpoint& e) const { return client_at(e.addr, e.port); }

 private:
  static constexpr uint32_t kNoClient = UINT32_MAX;
  std::vector<uint32_t> table_;
};

}  // namespace synq::lab
