// The simulated world one lab run happens in: the server and client hosts,
// the link between them, the optional SYN flooder and the listening socket,
// built from a Scenario. Set-up lives apart from the clients, the server
// application and the recorders so each of them reads one shared picture of
// the world without knowing how it was built.
#pragma once

#include <cstdint>
#include <string>

#include "drivers/sim/sim_network.hpp"
#include "lab/attacker.hpp"
#include "lab/lab_run.hpp"
#include "synq/stack.hpp"
#include "synq/trace.hpp"

namespace synq::lab {

/// Where everything sits on the simulated network.
namespace address_plan {
inline constexpr uint16_t kServerPort = 80;
inline constexpr uint32_t kServerAddr = 0x0a000001;       // 10.0.0.1
inline constexpr uint32_t kFirstClientAddr = 0x0a000002;  // 10.0.0.2, .3, ...
inline constexpr uint32_t kSpoofBase = 0xc6120000;        // 198.18.0.0/15 (RFC 2544 benchmarking)
/// Clients per source address: a third of the ephemeral range, so ports never run out.
inline constexpr uint32_t kClientsPerAddress = 10000;
inline Endpoint server_endpoint() {
  return Endpoint{IpAddr::v4(kServerAddr), kServerPort};
}
}  // namespace address_plan

struct LabWorld {
  LabWorld(const Scenario& s, const RunOptions& o) : scenario(s), options(o), net(s.seed) {}

  /// As given, except a trace arrival's start times and client count, which
  /// build_network reads from the trace file.
  Scenario scenario;
  RunOptions options;
  sim::SimNetwork net;
  sim::HostId server = 0;
  sim::HostId client = 0;
  sim::HostId attacker_host = UINT32_MAX;  // UINT32_MAX: no attacker
  SynFloodNode* attacker = nullptr;        // owned by `net`
  int listener = -1;                       // the server's listening descriptor
  uint32_t client_addresses = 1;           // source addresses the client host has

  Stack& server_stack() { return net.stack(server); }
  Stack& client_stack() { return net.stack(client); }
  double now_s() const { return to_seconds(net.now()); }
  /// Clients the scenario asks for (never negative).
  uint32_t client_count() const;
};

/// Reads a trace arrival's start times, then builds the hosts, the link, the
/// attacker (if the scenario has one) and the pcap capture (if asked for).
/// False with `error` set if the scenario cannot run (bad trace, bad sysctl,
/// unwritable pcap).
bool build_network(LabWorld& w, std::string* error);

/// Opens the server's listener with the scenario's model and backlog; the
/// listener's decisions go to `trace` from then on. False with `error` set if
/// the model is not available or listen() fails.
bool open_listener(LabWorld& w, ListenTrace trace, std::string* error);

}  // namespace synq::lab
