// Turns what doctor read into findings in plain words, each with its numbers
// and a suggested fix (docs/doctor.md shows an example of each).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "doctor/snapshot.hpp"

namespace synq::doctor {

/// Everything one doctor run saw: the namespace at the start and the end of
/// the watch window, and the kernel's per-listener evidence in between.
struct Observation {
  NetnsSnapshot before;
  NetnsSnapshot after;
  /// The namespace doctor started from, when --netns moved it elsewhere
  /// (its knobs tell whether the clamp is the namespace's own).
  std::optional<NetnsSnapshot> origin;
  double window_s = 0;  // after.taken_at_s - before.taken_at_s
  /// Per-listener evidence of `after`'s namespace; nullopt when BPF was not
  /// available, and then `evidence_missing` says why (one line).
  std::optional<std::vector<ListenerEvidence>> evidence;
  std::string evidence_missing;
};

enum class Severity { info, warning, problem };
std::string_view severity_name(Severity s);  // "info", "warning", "problem"

/// Finding ids (stable; --json carries them and tests match them):
///   backlog_clamped          Send-Q is somaxconn: the program asked for more
///   framework_default        a runtime's default backlog recognised from the command line
///   accept_queue_full        Recv-Q > Send-Q now (Linux admits B+1) or at the high-water mark
///   syn_time_overflow        SYNs dropped because the accept queue was full
///   ack_time_overflow        third ACKs dropped because the accept queue was full
///   abort_on_overflow        tcp_abort_on_overflow=1 sent RSTs
///   syn_queue_overflow       SYNs dropped: SYN queue full with cookies off
///   syn_cookies              cookies sent/validated, and what they lose without timestamps
///   myth_max_syn_backlog     tcp_max_syn_backlog does nothing while cookies are on
///   myth_backlog_drop        TCPBacklogDrop is not a listen-queue counter
///   flood_log_once           "Possible SYN flooding" is printed once per listener
///   unattributed_drops       namespace counters moved with no per-port evidence (no BPF)
///   evidence_missing         BPF unavailable: what is not shown
struct Finding {
  std::string id;
  Severity severity = Severity::info;
  std::optional<SocketAddress> listener;  // none: about the namespace as a whole
  std::string title;                      // one line
  std::string detail;                     // plain words, with the numbers
  std::string fix;                        // what to do; empty when nothing is to be done
  nlohmann::json numbers;                 // the numbers quoted, by name
};

std::vector<Finding> diagnose(const Observation& o);

/// The evidence for one listener of `o.after`: matched by socket cookie, else
/// by (netns inode, family, address, port); nullptr when none (or no BPF).
const ListenerEvidence* evidence_for(const Observation& o, const Listener& l);

}  // namespace synq::doctor
