// The script runner core: plays a parsed packetdrill-dialect script against a
// Target (synq in virtual time, or the host kernel through TUN) and reports
// the first mismatch as expected-vs-actual packet lines.
//
// Semantics follow packetdrill (google/packetdrill run.c, run_packet.c,
// run_system_call.c), read for facts, written anew:
// - a relative time is counted from when the previous event actually
//   happened, except between two inbound packets (anchored on script time);
// - inbound sequence numbers are sent as written; the target's ISN is learnt
//   from each outbound SYN, and its numbers are shown relative to it;
// - an outbound packet must come within the tolerance of its time (ranges and
//   `*` widen that) and match flags, seq, length, ack, win (when written) and
//   options in order (`<...>`: any);
// - a call on a blocking socket that would block runs in the background when
//   written `+t...end call()`, and must return at `end`.
// synq additions: a packet the target sends that no `>` line expects fails
// the script (that is how a script shows that a SYN was dropped); `sport>dport`
// connections; --strict.
#pragma once

#include <string>
#include <vector>

#include "runner/target.hpp"
#include "script/ast.hpp"
#include "synq/address.hpp"

namespace synq::runner {

/// packetdrill's defaults.
inline constexpr uint16_t kBindPort = 8080;     // bind(fd, ..., ...)
inline constexpr uint16_t kConnectPort = 8080;  // connect(fd, ..., ...)
inline constexpr uint16_t kDefaultRemotePort =
    51000;  // the script's port on the default connection
inline constexpr int64_t kDefaultToleranceUsecs = 4000;

/// The script's addresses: --local_ip / --remote_ip or packetdrill's defaults
/// (192.168.0.1/16 for the target, 192.0.2.1 for the script's peer).
IpAddr script_local_ip(const script::Script& s);
IpAddr script_remote_ip(const script::Script& s);

struct RunReport {
  bool passed = false;
  /// Indented lines under the PASS/FAIL line: the first mismatch (a
  /// "file:line: what" line, then "expected:" and "actual:" lines), notes.
  std::vector<std::string> lines;
};

/// Runs one script. The target must be freshly set up for it.
RunReport run_script(const script::Script& s, Target& target);

}  // namespace synq::runner
