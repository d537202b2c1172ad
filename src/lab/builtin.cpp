#include "lab/builtin.hpp"

namespace synq::lab {

namespace {

// The story of the seed texts, on one listener with listen(fd, 2) (B = 2):
//  0.00, 0.25  clients 0 and 1 complete into the accept queue (acc = 2).
//  0.50        clients 2, 3, 4 connect at once: three requests; client 2's
//              third ACK fills the accept queue (acc = 3 = B+1); the third ACKs
//              of 3 and 4 meet a full queue and are ignored — both clients
//              believe they are connected and send their request.
//  1.5, 3.5…   SYN-ACK retransmissions; the clients answer with duplicate ACKs.
//  5.00        accept() once: a slot frees; the next ACK of client 3 or 4
//              completes it; the other stays ignored.
//  8.00        client 5's SYN meets a full accept queue: dropped silently; its
//              own SYN retransmissions keep trying.
//  63.5        the ignored request expires; that client's next segment is
//              answered with RST (ECONNRESET).
//  70          the application starts accepting: client 5 gets in on a
//              retransmitted SYN.
// On bsd44 the same workload meets one queue of ⌊3B/2⌋+1 and silent drops.
Scenario seeds(const std::string& model) {
  Scenario s;
  s.name = "seeds";
  s.description = "listen(fd, 2): ignored third ACKs, a dropped SYN, an expired request";
  s.model = model;
  s.backlog = 2;
  s.clients = 6;
  s.arrival = {Arrival::Kind::every, 0.25};
  s.client_start_s = {0, 0.25, 0.5, 0.5, 0.5, 8};
  s.accept = {AcceptPolicy::Kind::at, 70};
  s.accept_once_at = {5};
  s.duration_s = 140;
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
