// The runner core's state for one script (internal to src/runner/): the
// event loop (script_run.cpp) and system calls (script_syscalls.cpp).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runner/live_packet.hpp"
#include "runner/runner.hpp"
#include "runner/target.hpp"
#include "script/ast.hpp"

namespace synq::runner {

class ScriptRun {
 public:
  ScriptRun(const script::Script& s, Target& t);
  RunReport run();

 private:
  // A call on a blocking socket that could not finish at once (`+t...end`).
  struct Pending {
    const script::Event* event = nullptr;
    Duration end{0};  // when the script says it returns
    Duration tolerance{0};
    std::function<std::optional<CallOutcome>()> attempt;  // nothing: still blocked
    std::function<bool(const CallOutcome&)> finish;       // checks the result
  };

  // ---- events (script_run.cpp)
  bool run_event(const script::Event& ev);
  bool outbound(const script::Event& ev, const script::Packet& p);
  bool inbound(const script::Event& ev, const script::Packet& p, Duration at);
  bool coalesce_segments(const script::Packet& exp, const ScriptConn& conn, const LiveTcp& first,
                         Duration until, script::Packet& actual);
  bool shell(const script::Event& ev, const script::ShellBlock& b);
  Duration anchor_for(const script::Event& ev) const;
  Duration tolerance(Duration interval) const;
  bool pump(Duration until, bool* got_packet);
  bool collect_until(Duration until);
  bool reject_unexpected(Duration older_than, const script::Event* ev);
  bool retry_pending();
  bool finish_pending();
  ScriptConn& conn_for(const script::Packet& p);
  std::string render_live(const OutPacket& p);

  // ---- system calls (script_syscalls.cpp)
  bool syscall(const script::Event& ev, const script::Syscall& sc);
  bool blocking_or_done(const script::Event& ev, const script::Syscall& sc, int script_fd,
                        const Call& c, const CallOutcome& first,
                        std::function<std::optional<CallOutcome>()> attempt,
                        std::function<bool(const CallOutcome&)> finish);
  bool check_result(const script::Event& ev, const script::Syscall& sc, const CallOutcome& o,
                    bool returns_fd);
  int live_fd(const script::Expr& e) const;

  // ---- reporting
  bool fail(const script::Event* ev, const std::string& what,
            const std::vector<std::string>& detail = {});
  void note(const std::string& text) { report_.lines.push_back("note: " + text); }
  std::string where(const script::Event* ev) const;

  const script::Script& s_;
  Target& t_;
  IpAddr local_;
  IpAddr remote_;
  Duration tol_{0};
  bool strict_ = false;
  std::deque<OutPacket> buffered_;  // sent by the target, not yet matched
  std::vector<ScriptConn> conns_;   // [0]: the default connection
  bool default_conn_ready_ = false;
  std::map<int, int> fds_;           // script descriptor → target descriptor
  std::map<int, bool> nonblocking_;  // by script descriptor (the runner emulates O_NONBLOCK)
  std::optional<Pending> pending_;
  const script::Event* prev_ = nullptr;
  Duration prev_script_time_{0};
  RunReport report_;
  bool failed_ = false;
};

}  // namespace synq::runner
