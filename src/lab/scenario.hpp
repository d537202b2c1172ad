// A lab scenario: one server host, a population of clients, a link, an
// optional SYN-flood attacker and the server application's accept behaviour —
// run in the virtual-time simulator. docs/lab.md describes every field and
// the TOML form (scenario_toml.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace synq::lab {

/// When clients call connect().
struct Arrival {
  enum class Kind : uint8_t { burst, every, poisson, trace };
  Kind kind = Kind::burst;
  double param = 0;        // every: seconds between clients; poisson: clients per second
  std::string trace_path;  // trace: a file of connect() times in seconds, one per line
  /// Parses "burst", "every:0.5", "poisson:2000", "trace:FILE". Returns nullopt with `error` set.
  static std::optional<Arrival> parse(const std::string& text, std::string* error);
  std::string to_string() const;
};

/// When the server application calls accept() (ignored when workers > 0).
struct AcceptPolicy {
  enum class Kind : uint8_t { never, at, rate };
  Kind kind = Kind::never;
  double param = 0;  // at: seconds from start; rate: accepts per second
  /// Parses "never", "at:10", "rate:100".
  static std::optional<AcceptPolicy> parse(const std::string& text, std::string* error);
  std::string to_string() const;
};

/// How long a worker thread is busy with one accepted connection.
struct ServiceTime {
  enum class Kind : uint8_t { fixed, exponential, uniform };
  Kind kind = Kind::fixed;
  double a = 0;  // fixed: the time; exponential: the mean; uniform: the low end (seconds)
  double b = 0;  // uniform: the high end
  /// Parses "fixed:0.01", "exp:0.01" (mean), "uniform:0.005:0.02".
  static std::optional<ServiceTime> parse(const std::string& text, std::string* error);
  std::string to_string() const;
  double mean() const { return kind == Kind::uniform ? (a + b) / 2 : a; }
};

/// Times the client–server link is down, both directions: a packet sent in
/// [from_s, until_s) is lost; one already on the wire still arrives.
struct LinkOutage {
  double from_s = 0;
  double until_s = 0;
  /// Parses "FROM:UNTIL[,FROM:UNTIL…]" (seconds, FROM < UNTIL, windows in
  /// order and not overlapping); "" or "none" is no outage.
  static std::optional<std::vector<LinkOutage>> parse(const std::string& text, std::string* error);
  static std::string to_string(const std::vector<LinkOutage>& outages);
};

/// A SYN flood from spoofed sources (nothing answers the SYN-ACKs).
struct Attacker {
  double rate = 0;         // SYNs per second; 0: no attacker
  uint32_t sources = 256;  // distinct spoofed source addresses (198.18.0.0/15)
  double start_s = 0;
  double stop_s = -1;  // -1: until the end of the run
};

struct Scenario {
  std::string name = "custom";
  std::string description;
  /// Names this run among several of one built-in ("linux", "bsd44",
  /// "cookies"); output files get it as a suffix. Empty: the model's name.
  std::string variant;
  std::string model = "linux";  // the server listener's backlog model
  int backlog = 128;            // passed to listen() as is
  int clients = 10;
  Arrival arrival{};
  /// Explicit connect() times (seconds), one per client; overrides `arrival`
  /// for the first clients it lists (built-in stories and trace files use it).
  std::vector<double> client_start_s;
  AcceptPolicy accept{};
  /// Extra single accept() calls at these times (seconds), each taking one
  /// connection if one is queued — for stories like "accept() frees one slot at 5 s".
  std::vector<double> accept_once_at;
  /// N worker threads: each accept()s when idle, is busy for a service time,
  /// then writes the response and closes. 0: use `accept` instead.
  int workers = 0;
  ServiceTime service{};
  double duration_s = 70;
  uint64_t seed = 1;
  // The link between the clients and the server, each direction.
  double latency_ms = 1;            // one-way
  double jitter_ms = 0;             // extra one-way delay, uniform in [0, jitter]
  double loss = 0;                  // probability a packet is lost
  uint64_t bandwidth_bps = 0;       // 0: infinitely fast
  std::vector<LinkOutage> outages;  // when the link is down (not the attacker's)
  uint32_t request_bytes = 100;     // a client sends this once connected (0: nothing)
  uint32_t response_bytes = 100;
  /// The client application gives up (close()) if connect() has not completed
  /// after this many seconds: outcome timed_out. 0: wait for the kernel.
  double connect_timeout_s = 0;
  Attacker attacker{};
  /// Knobs by sysctl name, applied to the server / the client host.
  std::vector<std::pair<std::string, std::string>> server_sysctls;
  std::vector<std::pair<std::string, std::string>> client_sysctls;
};

/// Reads a scenario from TOML text (`origin` names it in errors). On error
/// returns nullopt and sets `error` to "origin:line:column: what was expected".
std::optional<Scenario> parse_scenario_toml(const std::string& text, const std::string& origin,
                                            std::string* error);
std::optional<Scenario> load_scenario_file(const std::string& path, std::string* error);

/// Reads connect() times (seconds, one per line, '#' comments) for trace:FILE arrivals.
std::optional<std::vector<double>> load_arrival_trace(const std::string& path, std::string* error);

}  // namespace synq::lab
