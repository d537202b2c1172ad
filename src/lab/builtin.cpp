#include "lab/builtin.hpp"

#include "listen/backlog_model.hpp"

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
  // What each model's run shows (app_lab_describe_test checks the claims
  // against the runs' stories): bsd44 has no separate accept queue to
  // overflow, so it never ignores a third ACK; it drops SYNs instead.
  s.description =
      model == "bsd44"
          ? "listen(fd, 2): one queue of 3B/2+1 = 4 connections; SYNs beyond it dropped "
            "silently until accept() makes room"
          : "listen(fd, 2): ignored third ACKs, a dropped SYN, an expired request";
  s.model = model;
  s.backlog = 2;
  s.clients = 6;
  s.arrival = {Arrival::Kind::every, 0.25, {}};
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
  s.arrival = {Arrival::Kind::every, 0.1, {}};
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
  s.arrival = {Arrival::Kind::poisson, 200, {}};
  s.accept = {AcceptPolicy::Kind::rate, 150};
  s.duration_s = 30;
  return s;
}

// M/M/c/K: Poisson arrivals, c workers with exponential service, clients that
// give up instead of retrying — a pure loss system (docs/lab.md, the theory test).
Scenario workers_loss() {
  Scenario s;
  s.name = "workers";
  s.description = "Poisson 300/s, 4 workers with exp(10 ms) service, listen(fd, 4): M/M/4/9";
  s.backlog = 4;
  s.clients = 6000;
  s.arrival = {Arrival::Kind::poisson, 300, {}};
  s.workers = 4;
  s.service = {ServiceTime::Kind::exponential, 0.010, 0};
  s.latency_ms = 0.05;
  s.connect_timeout_s = 0.5;
  s.duration_s = 21;
  return s;
}

Scenario syn_flood(bool cookies) {
  Scenario s;
  s.name = "synflood";
  s.variant = cookies ? "cookies" : "nocookies";
  s.description = cookies ? "a SYN flood of 2000/s from 256 spoofed sources, tcp_syncookies=1"
                          : "the same flood with tcp_syncookies=0";
  s.backlog = 128;
  s.clients = 200;
  s.arrival = {Arrival::Kind::every, 0.05, {}};
  s.accept = {AcceptPolicy::Kind::rate, 1000};
  s.attacker = {2000, 256, 1, 6};
  s.duration_s = 12;
  s.server_sysctls = {{"net.ipv4.tcp_max_syn_backlog", "256"},
                      {"net.ipv4.tcp_syncookies", cookies ? "1" : "0"}};
  return s;
}

// A link outage in the middle of handshakes (docs/lab.md "outage"): 40 ms
// each way, the link down from 10 s to 80 s.
//  0, 5 s        clients 0 and 1 connect normally.
//  9.965–9.985   clients 2–6 send SYNs that are on the wire when the link goes
//                down at 10 s: the server gets them and answers into the void.
//  20 s          client 7 connects during the outage: every SYN is lost until
//                its retransmission at 87 s, which gets in on every model.
//  80 s          the link is back. Clients 2–6 sent their last SYN at ~77 s
//                and now only wait:
//    bsd44, xnu  at 75 s after each SYN arrived (~85 s) the embryonic
//                connection's timer resets it with RST|ACK: ECONNREFUSED;
//    linux       the request went silently at 63 s (~73 s): ETIMEDOUT at the
//                clients' own limit, 131 s after connect() (~141 s);
//    freebsd     the syncache entry went silently at 15.6 s: ETIMEDOUT too.
Scenario link_outage(const std::string& model) {
  Scenario s;
  s.name = "outage";
  s.model = model;
  const bool tells = model == "bsd44" || model == "xnu";
  s.description = tells ? "a 70 s outage mid-handshake: the server's 75 s timer refuses the "
                          "clients still waiting (RST|ACK)"
                        : "a 70 s outage mid-handshake: the server forgets the clients silently; "
                          "they wait out their own SYN limit (ETIMEDOUT)";
  s.backlog = 128;
  s.clients = 8;
  s.client_start_s = {0, 5, 9.965, 9.97, 9.975, 9.98, 9.985, 20};
  s.accept = {AcceptPolicy::Kind::rate, 1000};
  s.latency_ms = 40;
  s.outages = {{10, 80}};
  s.duration_s = 150;
  return s;
}

// The same flood against the BSD-derived models, run long enough to see
// what their 75 s connection-establishment timer does with the flood's
// embryonic connections: bsd44 holds ⌊3B/2⌋+1 = 8 of them (B = SOMAXCONN 5)
// for 75 s, every real client's SYN dropped meanwhile, then resets them all
// (RST|ACK to the spoofed sources) and the clients still retrying get in;
// xnu evicts one per SYN, so real clients get in throughout and only the
// flood's last 128 live to be reset at 75 s.
Scenario syn_flood_bsd(const std::string& model) {
  Scenario s = syn_flood(true);
  s.variant = model;
  s.model = model;
  s.description =
      model == "bsd44"
          ? "the flood against 4.4BSD: 8 embryonic slots held 75 s, then reset with RST|ACK"
          : "the flood against xnu: each SYN evicts an embryonic connection; the last ones are "
            "reset at 75 s";
  s.server_sysctls.clear();  // the Linux knobs mean nothing to these models
  s.duration_s = 145;        // the last client's SYN limit (10 s + 131 s) and then some
  return s;
}

bool model_exists(const char* name) {
  return listen::make_backlog_model(name) != nullptr;
}

}  // namespace

const std::vector<BuiltinScenario>& builtin_scenarios() {
  static const std::vector<BuiltinScenario> all = {
      {"seeds", "the backlog story: accept-queue overflow, ignored third ACK, linux vs bsd44",
       // The same workload on 4.4BSD side by side, when that model is built in.
       model_exists("bsd44") ? std::vector<Scenario>{seeds("linux"), seeds("bsd44")}
                             : std::vector<Scenario>{seeds("linux")}},
      {"no-accept",
       "a server that never calls accept(): B+1 children, the rest retry and time out",
       {no_accept_overflow()}},
      {"steady",
       "arrivals faster than the accept loop: the queue fills and SYNs drop",
       {steady_rate()}},
      {"workers",
       "4 workers, exponential service, Poisson arrivals: blocking as M/M/c/K predicts",
       {workers_loss()}},
      {"synflood",
       "a spoofed SYN flood: the SYN queue fills; cookies keep real clients in; bsd44 is locked "
       "for 75 s, xnu evicts",
       [] {
         std::vector<Scenario> runs = {syn_flood(true), syn_flood(false)};
         for (const char* m : {"bsd44", "xnu"})
           if (model_exists(m)) runs.push_back(syn_flood_bsd(m));
         return runs;
       }()},
      {"outage",
       "a link outage mid-handshake: which kernels tell waiting clients (75 s RST|ACK), which "
       "let them time out",
       [] {
         std::vector<Scenario> runs;
         for (const char* m : {"linux", "bsd44", "xnu", "freebsd"})
           if (model_exists(m)) runs.push_back(link_outage(m));
         return runs;
       }()},
  };
  return all;
}

const BuiltinScenario* find_builtin(const std::string& name) {
  for (const auto& b : builtin_scenarios())
    if (b.name == name) return &b;
  return nullptr;
}

}  // namespace synq::lab
