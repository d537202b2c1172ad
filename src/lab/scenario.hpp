// A lab scenario: one server host, a population of clients, a link, and the
// server application's accept behaviour — run in the virtual-time simulator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace synq::lab {

/// When clients call connect().
struct Arrival {
  enum class Kind : uint8_t { burst, every, poisson };
  Kind kind = Kind::burst;
  double param = 0;  // every: seconds between clients; poisson: clients per second
  /// Parses "burst", "every:0.5", "poisson:2000". Returns nullopt with `error` set.
  static std::optional<Arrival> parse(const std::string& text, std::string* error);
  std::string to_string() const;
};

/// When the server application calls accept().
struct AcceptPolicy {
  enum class Kind : uint8_t { never, at, rate };
  Kind kind = Kind::never;
  double param = 0;  // at: seconds from start; rate: accepts per second
  /// Parses "never", "at:10", "rate:100".
  static std::optional<AcceptPolicy> parse(const std::string& text, std::string* error);
  std::string to_string() const;
};

struct Scenario {
  std::string name = "custom";
  std::string description;
  std::string model = "linux";  // the server listener's backlog model
  int backlog = 128;            // passed to listen() as is
  int clients = 10;
  Arrival arrival{};
  /// Explicit connect() times (seconds), one per client; overrides `arrival`
  /// for the first clients it lists (built-in stories use it).
  std::vector<double> client_start_s;
  AcceptPolicy accept{};
  /// Extra single accept() calls at these times (seconds), each taking one
  /// connection if one is queued — for stories like "accept() frees one slot at 5 s".
  std::vector<double> accept_once_at;
  double duration_s = 70;
  uint64_t seed = 1;
  double latency_ms = 1;         // one-way, each direction
  uint32_t request_bytes = 100;  // a client sends this once connected (0: nothing)
  uint32_t response_bytes = 100;
  /// Knobs by sysctl name, applied to the server / the client host.
  std::vector<std::pair<std::string, std::string>> server_sysctls;
  std::vector<std::pair<std::string, std::string>> client_sysctls;
};

}  // namespace synq::lab
