// The run's timeline (LabResult::timeline): plain-words notes from the
// clients and the server, the tcpdump-like packet lines the network's tap
// sees, the listener's decision lines and `ss -lnt` snapshots. Everything
// here is formatted text, so all of it is skipped when the run records no
// timeline (huge runs must not pay a string per client).
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "lab/run/client_directory.hpp"
#include "lab/run/world.hpp"

namespace synq::lab {

class TimelineRecorder {
 public:
  TimelineRecorder(LabWorld& world, const ClientDirectory& directory)
      : w_(world), directory_(directory) {}

  bool enabled() const { return w_.options.record_timeline; }

  /// A line of plain words at the current time; `client` is -1 for none.
  template <typename... Args>
  void note(TimelineEntry::Kind k, int client, fmt::format_string<Args...> format, Args&&... args) {
    if (!enabled()) return;
    TimelineEntry e;
    e.t = w_.now_s();
    e.kind = k;
    e.text = fmt::format(format, std::forward<Args>(args)...);
    e.client = client;
    timeline_.push_back(std::move(e));
  }

  /// The network tap: a packet line per packet sent (up to the timeline
  /// limit, attacker traffic left out), and its delivery time when it arrives.
  void on_tap(const sim::TapRecord& t);

  /// The line for a kept listener decision: every one that concerns a
  /// client, and the first 50 of the others (an attacker's would drown the story).
  void note_decision(const Decision& d);

  /// `ss -lnt` of the server's stream sockets (at most 40 lines), saying why.
  void snapshot(const std::string& why);

  std::vector<TimelineEntry> take() { return std::move(timeline_); }

 private:
  void note_delivery(const sim::TapRecord& t);

  LabWorld& w_;
  const ClientDirectory& directory_;
  std::vector<TimelineEntry> timeline_;
  /// Per direction (0: client>server, 1: server>client), the timeline
  /// indices of packet lines sent and not yet delivered, oldest first.
  std::deque<size_t> undelivered_[2];
  size_t packet_lines_ = 0;
  size_t decision_lines_ = 0;  // lines for decisions that concern no client
};

}  // namespace synq::lab
