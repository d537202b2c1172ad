// Builds a lab run's world from its Scenario (world.hpp). The order of the
// steps is part of the run's reproducibility: hosts are numbered and seeded
// in the order they are added.
#include "lab/run/world.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "synq/errno.hpp"

namespace synq::lab {

namespace {

bool apply_sysctls(Sysctls& s, const std::vector<std::pair<std::string, std::string>>& sets,
                   std::string* error) {
  for (const auto& [k, v] : sets)
    if (!s.set(k, v, error)) return false;
  return true;
}

}  // namespace

uint32_t LabWorld::client_count() const {
  return static_cast<uint32_t>(std::max(0, scenario.clients));
}

bool build_network(LabWorld& w, std::string* error) {
  using namespace address_plan;
  Scenario& s = w.scenario;
  if (s.arrival.kind == Arrival::Kind::trace) {
    auto times = load_arrival_trace(s.arrival.trace_path, error);
    if (!times) return false;
    s.client_start_s = std::move(*times);
    s.clients = static_cast<int>(s.client_start_s.size());
  }
  const uint32_t n = w.client_count();
  w.client_addresses = std::max(1u, (n + kClientsPerAddress - 1) / kClientsPerAddress);
  StackConfig server_cfg{.addresses = {IpAddr::v4(kServerAddr)}, .seed = 1, .name = "server"};
  StackConfig client_cfg{.addresses = {}, .seed = 2, .name = "client"};
  for (uint32_t i = 0; i < w.client_addresses; ++i)
    client_cfg.addresses.push_back(IpAddr::v4(kFirstClientAddr + i));
  if (!apply_sysctls(server_cfg.sysctls, s.server_sysctls, error) ||
      !apply_sysctls(client_cfg.sysctls, s.client_sysctls, error))
    return false;
  w.server = w.net.add_host(server_cfg);
  w.client = w.net.add_host(client_cfg);
  sim::LinkParams link{.latency = from_seconds(s.latency_ms / 1000.0),
                       .jitter = from_seconds(s.jitter_ms / 1000.0),
                       .loss = s.loss,
                       .bandwidth_bps = s.bandwidth_bps};
  sim::LinkParams client_link = link;
  for (const LinkOutage& o : s.outages)
    client_link.outages.push_back({from_seconds(o.from_s), from_seconds(o.until_s)});
  w.net.connect(w.client, w.server, client_link);
  if (s.attacker.rate > 0) {
    std::vector<IpAddr> spoofed;
    for (uint32_t i = 0; i < std::max(1u, s.attacker.sources); ++i)
      spoofed.push_back(IpAddr::v4(kSpoofBase + 1 + i));
    const Time stop = s.attacker.stop_s < 0 ? kNever : from_seconds(s.attacker.stop_s);
    auto node = std::make_unique<SynFloodNode>(spoofed, server_endpoint(), s.attacker.rate,
                                               from_seconds(s.attacker.start_s), stop);
    w.attacker = node.get();
    w.attacker_host = w.net.add_node(std::move(node), spoofed, "attacker");
    w.net.connect(w.attacker_host, w.server, link);
  }
  return w.options.pcap_path.empty() || w.net.capture_all(w.options.pcap_path, error);
}

bool open_listener(LabWorld& w, ListenTrace trace, std::string* error) {
  const Scenario& s = w.scenario;
  Stack& srv = w.server_stack();
  srv.set_listen_trace(std::move(trace));
  w.listener = *srv.socket(SockType::stream);
  srv.bind(w.listener, address_plan::server_endpoint());
  if (s.model != srv.sysctls().listen_model) {
    if (Errno e = srv.set_listen_model(w.listener, s.model); e != Errno::ok) {
      *error = fmt::format("listener model '{}' is not available: {}", s.model, errno_name(e));
      return false;
    }
  }
  if (Errno e = srv.listen(w.listener, s.backlog); e != Errno::ok) {
    *error = fmt::format("listen({}) failed: {}", s.backlog, errno_name(e));
    return false;
  }
  return true;
}

}  // namespace synq::lab
