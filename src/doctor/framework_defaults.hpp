// The listen() backlogs that runtimes and servers pick when the user never
// chose one, how doctor recognises them from a process's comm and argv, the
// setting that changes each, and where the number comes from (docs/doctor.md
// prints this table). Only what a command line can honestly show is
// recognised: a compiled Go, Rust or grpc-java program looks like any other
// binary, so those defaults are listed for the docs but never matched.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "doctor/snapshot.hpp"

namespace synq::doctor {

struct RuntimeDefault {
  std::string_view family;   // "python", "node", "java", "nginx", ... ("" : not recognisable)
  std::string_view runtime;  // "Python socketserver / http.server"
  uint32_t backlog = 0;      // what it passes to listen()
  std::string_view setting;  // what changes it
  std::string_view source;   // where the number comes from
};

/// Every entry, recognisable or not, in the order docs/doctor.md lists them.
std::span<const RuntimeDefault> runtime_defaults();

/// A process recognised as a runtime family, with the defaults it may use.
struct Recognised {
  std::string_view family;
  std::string how;  // what in comm/argv gave it away, e.g. "argv has -m http.server"
  std::vector<const RuntimeDefault*> candidates;
};
std::optional<Recognised> recognise(const Owner& owner);

/// A listener whose Send-Q is a recognised runtime's default.
struct DefaultMatch {
  const RuntimeDefault* entry = nullptr;
  std::string how;       // from Recognised
  bool clamped = false;  // Send-Q is min(default, somaxconn) < default
  /// More than one default was possible for this runtime (Python: 5, 100,
  /// 128): the Send-Q value picked this one.
  bool picked_by_send_q = false;
  /// Other defaults of the same runtime with the same value (Java: Tomcat's
  /// and Akka HTTP's 100): the command line cannot tell them apart.
  std::vector<const RuntimeDefault*> same_value;
};

/// The matching rule: a runtime recognised AND Send-Q equal to one of its
/// defaults, or to min(default, somaxconn) when somaxconn is below it.
std::optional<DefaultMatch> match_default(const Owner& owner, uint32_t send_q, int64_t somaxconn);

/// A backlog cut to 16 bits somewhere between the program and the kernel:
/// somaxconn ≥ 65536 and Send-Q equal to somaxconn modulo 65536 (262144 →
/// 0), or Send-Q 65535 below a larger somaxconn. One line, or nullopt.
std::optional<std::string> truncation_note(uint32_t send_q, int64_t somaxconn);

}  // namespace synq::doctor
