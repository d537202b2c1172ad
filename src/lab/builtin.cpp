#include "lab/builtin.hpp"

namespace synq::lab {

namespace {

// The story of the seed texts: listen(fd, 2), a server that does not accept
// at first, clients that keep coming. On linux: three children fit the
// accept queue (B+1), a later SYN is dropped, a third ACK that meets a full
// accept queue is ignored while the SYN-ACK is retransmitted, accept() at
// 10 s lets it complete; on bsd44 the same workload meets one queue of
// ⌊3B/2⌋+1 and silent drops.
Scenario seeds(const std::string& model) {
  Scenario s;
  s.name = "seeds";
  s.description = "listen(fd, 2), accept() only from 10 s on, 6 clients";
  s.model = model;
  s.backlog = 2;
  s.clients = 6;
  s.arrival = {Arrival::Kind::every, 0.25};
  s.accept = {AcceptPolicy::Kind::at, 10};
  s.duration_s = 30;
  s.latency_ms = 1;
  return s;
}

Scenario no_accept_overflow() {
  Scenario s;
  s.name = "no-accept";
  s.description = "listen(fd, 4), a server that never accepts, 12 clients: what is left waiting";
  s.backlog = 4;
  s.clients = 12;
  s.arrival = {Arrival::Kind::every, 0.1};
  s.accept = {AcceptPolicy::Kind::never, 0};
  s.duration_s = 140;
  return s;
}

Scenario steady_rate() {
  Scenario s;
  s.name = "steady";
  s.description = "Poisson arrivals at 200/s against an accept loop of 150/s and listen(fd, 128)";
  s.backlog = 128;
  s.clients = 2000;
  s.arrival = {Arrival::Kind::poisson, 200};
  s.accept = {AcceptPolicy::Kind::rate, 150};
  s.duration_s = 30;
  return s;
}

}  // namespace

const std::vector<BuiltinScenario>& builtin_scenarios() {
  static const std::vector<BuiltinScenario> all = {
      {"seeds",
       "the backlog story: accept-queue overflow, ignored third ACK, linux vs bsd44",
       // bsd44 joins when its BacklogModel lands (issue 3).
       {seeds("linux")}},
      {"no-accept",
       "a server that never calls accept(): B+1 children, the rest retry and time out",
       {no_accept_overflow()}},
      {"steady",
       "arrivals faster than the accept loop: the queue fills and SYNs drop",
       {steady_rate()}},
  };
  return all;
}

const BuiltinScenario* find_builtin(const std::string& name) {
  for (const auto& b : builtin_scenarios())
    if (b.name == name) return &b;
  return nullptr;
}

}  // namespace synq::lab
