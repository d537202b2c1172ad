// Runs a Scenario in the simulator and records what happened: per-client
// outcomes, queue occupancy over time, a packet timeline, counters.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
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
  double connect_time_s = -1;      // until the client saw the handshake complete; -1 if never
  double end_s = -1;               // when the outcome was decided; -1 if pending
  Errno error = Errno::ok;         // SO_ERROR for refused/reset/timed_out
  bool accepted = false;           // the server application accepted it
  uint32_t syn_drops = 0;          // listener decisions that dropped one of its SYNs
  bool first_syn_dropped = false;  // the very first decision on it was a SYN drop
  uint32_t acks_dropped = 0;       // its third ACKs the listener ignored or dropped (queue full)
  bool reset = false;              // the server sent it a RST (listener decision or connection)
  /// The client saw a drop of any kind: what sweeps and reports call "dropped".
  bool saw_drop() const { return syn_drops > 0 || acks_dropped > 0 || reset; }
};

struct QueueSample {
  double t = 0;
  uint32_t syn_queue = 0;     // requests in SYN-RECEIVED (binned runs: the bin's maximum)
  uint32_t accept_queue = 0;  // established, not yet accepted (binned runs: the bin's maximum)
  // Binned runs: the bin's minimum, so a report can draw the band the queue
  // moved in; equal to the values above when every change is recorded.
  uint32_t syn_queue_min = 0, accept_queue_min = 0;
};

struct TimelineEntry {
  double t = 0;
  enum class Kind : uint8_t { packet, client, server, snapshot, decision } kind = Kind::packet;
  std::string text;       // tcpdump-like line, or plain words
  std::string direction;  // packets: "client>server" / "server>client"; empty otherwise
  bool lost = false;      // packets: dropped by the link
  // packets only: the TCP header, for tools that read the JSON
  uint16_t sport = 0, dport = 0;
  uint8_t flags = 0;
  uint32_t seq = 0, ack = 0, len = 0;
  int client = -1;  // the client this line belongs to (-1: none, e.g. the attacker)
  /// packets: when the receiver got it (`t` is when it was sent); -1 if the
  /// link lost it or it was still in flight at the end of the run.
  double t_delivered = -1;
};

/// One listener decision (the server's decision trace, include/synq/trace.hpp).
struct Decision {
  double t = 0;
  std::string peer;  // "10.0.0.2:40000"
  std::string
      decision;         // request | cookie | drop | rst | complete | expire | synack | ack | ignore
  std::string counter;  // Linux counter name, or empty
  std::string reason;   // listen_reason_text (section)
  std::string reason_key;  // listen_reason_key: what stories and tools match on
  uint8_t tcp_flags = 0;
  int client = -1;  // the client it concerns (-1: an attacker's spoofed source)
  // the listener's queues right after the decision
  uint32_t syn_queue = 0, accept_queue = 0;
};

/// A moment of the story in plain words, found from the decisions and packets
/// (story.cpp): "third_ack_ignored", "duplicate_ack", ...
struct StoryEvent {
  double t = 0;
  std::string kind;
  int client = -1;
  std::string text;
};

/// Drops per reason, counted in time bins (the report's "drops over time").
struct DropSeries {
  double bin_s = 1;
  std::map<std::string, std::vector<uint32_t>> by_reason;  // reason key -> count per bin
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
  uint32_t backlog_clamped = 0;  // B as the model clamped it
  double queue_bin_s = 0;        // > 0: `queues` holds one min/max sample per bin this long
  std::vector<StoryEvent> story;
  DropSeries drops;
  uint64_t attacker_syns = 0;
  uint64_t events = 0;                 // simulator events processed
  uint32_t max_clients_in_flight = 0;  // most clients between connect() and their outcome at once
  std::vector<std::string> notes;      // what the runner chose for the scenario (buffer sizes)
  std::string error;                   // set if the scenario could not run (bad sysctl, bad model)
};

struct RunOptions {
  std::string pcap_path;          // empty: no pcap
  bool record_timeline = true;    // packet lines and notes (costly for huge runs)
  size_t timeline_limit = 2000;   // stop recording packet lines after this many
  size_t decision_limit = 20000;  // stop keeping decisions after this many (counts go on)
  /// Queue samples: 0 records every change; otherwise at most one (the
  /// maximum) per interval. Negative: chosen from the run's size.
  double queue_resolution_s = -1;
  /// Called now and then with the fraction of virtual time done (0..1).
  std::function<void(double)> progress;
};

LabResult run(const Scenario& s, const RunOptions& opts = {});

/// The terminal summary: counters, outcomes, connect-time percentiles, high-water marks.
std::string summary_text(const LabResult& r);
/// Everything, machine-readable (see docs/lab.md).
/// With `clients_file` set, the per-client array is left out and the
/// document names that file instead (a huge run's JSON Lines, written with
/// write_client_lines). `indent` as nlohmann's dump (-1: one line).
std::string to_json(const LabResult& r, const std::string& clients_file = "", int indent = 1);
/// One client as one line of JSON (no newline): id, port, times, outcome,
/// error, accepted, and its drops (syn_drops, acks_dropped, reset, saw_drop).
std::string client_json_line(const ClientResult& c);
/// Every client as JSON Lines (each line ends in a newline), in id order;
/// stops early when `sink` returns false (a failed write).
void write_client_lines(const LabResult& r, const std::function<bool(std::string_view)>& sink);
/// Runs with more clients than this write their clients as JSON Lines.
inline constexpr int kHugeRunClients = 20000;

/// The story events of a finished run (story.cpp); run() fills LabResult::story with it.
std::vector<StoryEvent> find_story(const LabResult& r);

/// Percentile p (0..1) of v by the nearest-rank method; NaN if v is empty.
double percentile(std::vector<double> v, double p);

}  // namespace synq::lab
