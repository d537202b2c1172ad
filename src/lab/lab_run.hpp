// Runs a Scenario in the simulator and records what happened: per-client
// outcomes, queue occupancy over time, a packet timeline, counters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lab/scenario.hpp"
#include "synq/counters.hpp"
#include "synq/errno.hpp"

namespace synq::lab {

enum class Outcome : uint8_t { established, refused, reset, timed_out, pending };
std::string_view outcome_name(Outcome o);

struct ClientResult {
  int id = 0;
  uint16_t port = 0;   // the client's ephemeral port
  double start_s = 0;  // when connect() was called
  Outcome outcome = Outcome::pending;
  double connect_time_s = -1;  // until the client saw the handshake complete; -1 if never
  double end_s = -1;           // when the outcome was decided; -1 if pending
  Errno error = Errno::ok;     // SO_ERROR for refused/reset/timed_out
  bool accepted = false;       // the server application accepted it
};

struct QueueSample {
  double t = 0;
  uint32_t syn_queue = 0;     // requests in SYN-RECEIVED
  uint32_t accept_queue = 0;  // established, not yet accepted
};

struct TimelineEntry {
  double t = 0;
  enum class Kind : uint8_t { packet, client, server, snapshot, decision } kind = Kind::packet;
  std::string text;       // tcpdump-like line, or plain words
  std::string direction;  // packets: "client>server" / "server>client"; empty otherwise
  bool lost = false;      // packets: dropped by the link
};

/// One listener decision (the server's decision trace, include/synq/trace.hpp).
struct Decision {
  double t = 0;
  std::string peer;  // "10.0.0.2:40000"
  std::string
      decision;         // request | cookie | drop | rst | complete | expire | synack | ack | ignore
  std::string counter;  // Linux counter name, or empty
  std::string reason;
  uint8_t tcp_flags = 0;
};

struct LabResult {
  Scenario scenario;
  Counters server;
  Counters client;
  std::vector<ClientResult> clients;
  std::vector<QueueSample> queues;
  std::vector<TimelineEntry> timeline;
  std::vector<Decision> decisions;
  uint32_t max_syn_queue = 0;
  uint32_t max_accept_queue = 0;
  uint64_t accepted = 0;
  std::string error;  // set if the scenario could not run (bad sysctl, bad model)
};

struct RunOptions {
  std::string pcap_path;         // empty: no pcap
  bool record_timeline = true;   // packet lines (costly for huge runs)
  size_t timeline_limit = 2000;  // stop recording packet lines after this many
};

LabResult run(const Scenario& s, const RunOptions& opts = {});

/// The terminal summary: counters, outcomes, connect-time percentiles, high-water marks.
std::string summary_text(const LabResult& r);
/// Everything, machine-readable (see docs/lab.md).
std::string to_json(const LabResult& r);

}  // namespace synq::lab
