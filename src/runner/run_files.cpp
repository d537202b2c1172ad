#include "runner/run_files.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/input_file.hpp"
#include "drivers/tun/netns.hpp"
#include "runner/linux_target.hpp"
#include "runner/runner.hpp"
#include "runner/synq_target.hpp"
#include "script/parser.hpp"
#include "synq/sysctl.hpp"

namespace synq::runner {

namespace {

// A script on a real kernel that runs longer than this is stopped.
constexpr int kChildTimeoutMs = 15 * 60 * 1000;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

// One script on the linux target: a child process inside a new network
// namespace; its report comes back through a pipe.
struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::string path;
  std::string msg;
  bool done = false;
  std::chrono::steady_clock::time_point started;
  RunReport failed;  // set when the child could not be started
};

void child_main(const script::Script& s, const std::string& path, int fd) {
  RunReport r;
  if (std::string e = tun::enter_new_netns(); !e.empty()) {
    r.lines.push_back(path + ": cannot create a network namespace: " + e);
  } else {
    LinuxTargetConfig cfg;
    cfg.local = script_local_ip(s);
    cfg.remote = script_remote_ip(s);
    if (s.options.mtu) cfg.mtu = *s.options.mtu;
    cfg.script_dir = directory_of(path);
    std::string err;
    auto target = LinuxTarget::create(cfg, &err);
    if (!target)
      r.lines.push_back(path + ": cannot set up the TUN device: " + err);
    else
      r = run_script(s, *target);
  }
  std::string msg = std::string(r.passed ? "1" : "0");
  for (const auto& l : r.lines) msg += l + "\n";
  size_t off = 0;
  while (off < msg.size()) {
    ssize_t n = ::write(fd, msg.data() + off, msg.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::_exit(0);
}

Child start_child(const script::Script& s, const std::string& path) {
  Child c;
  c.path = path;
  c.started = std::chrono::steady_clock::now();
  int fds[2];
  if (::pipe(fds) != 0) {
    c.failed.lines.push_back(path + ": pipe: " + std::strerror(errno));
    c.done = true;
    return c;
  }
  std::fflush(nullptr);
  c.pid = ::fork();
  if (c.pid < 0) {
    c.failed.lines.push_back(path + ": fork: " + std::strerror(errno));
    ::close(fds[0]);
    ::close(fds[1]);
    c.done = true;
    return c;
  }
  if (c.pid == 0) {
    ::close(fds[0]);
    child_main(s, path, fds[1]);
  }
  ::close(fds[1]);
  c.fd = fds[0];
  return c;
}

// Reads what a child wrote; true once it closed its pipe.
bool read_child(Child& c) {
  char buf[4096];
  ssize_t n = ::read(c.fd, buf, sizeof buf);
  if (n < 0 && errno == EINTR) return false;
  if (n > 0) {
    c.msg.append(buf, static_cast<size_t>(n));
    return false;
  }
  return true;
}

RunReport reap_child(Child& c, bool timed_out) {
  if (c.fd < 0) return c.failed;
  ::close(c.fd);
  c.fd = -1;
  if (timed_out) ::kill(c.pid, SIGKILL);
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  RunReport failed;
  if (timed_out) {
    failed.lines.push_back(c.path + ": stopped after " + std::to_string(kChildTimeoutMs / 1000) +
                           " s");
    return failed;
  }
  if (c.msg.empty()) {
    failed.lines.push_back(c.path + ": the script's process died (status " +
                           std::to_string(status) + ")");
    return failed;
  }
  RunReport r;
  r.passed = c.msg[0] == '1';
  std::istringstream lines(c.msg.substr(1));
  for (std::string l; std::getline(lines, l);) r.lines.push_back(l);
  return r;
}

// Waits until at least one running child finished; fills its report.
void wait_children(std::vector<Child>& running, std::vector<std::optional<RunReport>>& reports,
                   const std::vector<size_t>& index) {
  std::vector<pollfd> p;
  for (auto& c : running) p.push_back(pollfd{c.fd, POLLIN, 0});
  int r = ::poll(p.data(), p.size(), 1000);
  if (r < 0 && errno != EINTR) return;
  const auto now = std::chrono::steady_clock::now();
  for (size_t i = 0; i < running.size(); ++i) {
    Child& c = running[i];
    const bool timed_out = now - c.started > std::chrono::milliseconds(kChildTimeoutMs);
    if (timed_out || ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) && read_child(c))) {
      reports[index[i]] = reap_child(c, timed_out);
      c.done = true;
    }
  }
}

}  // namespace

std::vector<DifferMarker> find_differ_markers(const std::string& text, std::string* error) {
  static const std::string kTag = "//! expect-differ";
  std::vector<DifferMarker> out;
  std::istringstream in(text);
  unsigned line = 0;
  for (std::string l; std::getline(in, l);) {
    ++line;
    std::string t = trim(l);
    if (t.rfind(kTag, 0) != 0) continue;
    std::string rest = trim(t.substr(kTag.size()));
    auto colon = rest.find(':');
    DifferMarker m;
    m.line = line;
    if (colon != std::string::npos) {
      m.target = trim(rest.substr(0, colon));
      m.reason = trim(rest.substr(colon + 1));
    }
    if ((m.target != "synq" && m.target != "linux") || m.reason.empty()) {
      if (error)
        *error = "line " + std::to_string(line) +
                 ": expected `//! expect-differ synq|linux: <reason>`, got `" + t + "`";
      return {};
    }
    out.push_back(std::move(m));
  }
  return out;
}

namespace {

// A script file read and parsed, with its markers; `report` is set when it
// cannot run at all.
struct Prepared {
  std::string path;
  std::vector<DifferMarker> markers;
  std::optional<script::Script> script;
  std::optional<RunReport> report;
};

Prepared prepare(const std::string& path, const ScriptFilesOptions& options) {
  Prepared p;
  p.path = path;
  RunReport bad;
  if (auto problem = check_script_file(path, options)) {
    bad.lines.push_back(problem->message);
    p.report = std::move(bad);
    return p;
  }
  // check_script_file read and parsed it already; scripts are small, and
  // reading twice keeps the check usable on its own (before any run).
  const InputFile file = read_input_file(path, "script");
  p.markers = find_differ_markers(file.text, nullptr);
  script::ParseOptions po;
  po.file = path;
  po.command_line = options.header_options;
  p.script = std::move(script::parse_script(file.text, po).value());
  return p;
}

}  // namespace

std::optional<ScriptFileProblem> check_script_file(const std::string& path,
                                                   const ScriptFilesOptions& options) {
  const InputFile file = read_input_file(path, "script");
  if (file.problem == InputProblem::unreadable)
    return ScriptFileProblem{ScriptFileProblem::Kind::unreadable, file.error};
  // An empty script would PASS having checked nothing.
  if (file.problem == InputProblem::empty)
    return ScriptFileProblem{ScriptFileProblem::Kind::bad,
                             path + ": the script is empty: nothing to check"};
  std::string marker_error;
  find_differ_markers(file.text, &marker_error);
  if (!marker_error.empty())
    return ScriptFileProblem{ScriptFileProblem::Kind::bad, path + ": " + marker_error};
  script::ParseOptions po;
  po.file = path;
  po.command_line = options.header_options;
  auto parsed = script::parse_script(file.text, po);
  if (!parsed.ok())
    return ScriptFileProblem{ScriptFileProblem::Kind::bad, script::render(parsed.error())};
  if (parsed.value().events.empty())
    return ScriptFileProblem{ScriptFileProblem::Kind::bad,
                             path +
                                 ": the script has no events (only comments or options): "
                                 "nothing to check"};
  return std::nullopt;
}

std::string check_target_and_model(const ScriptFilesOptions& options) {
  if (options.target != "synq" && options.target != "linux")
    return "unknown target '" + options.target + "' (synq or linux)";
  Sysctls probe;
  if (std::string err; !probe.set("synq.listen_model", options.model, &err))
    return "unknown model '" + options.model + "' (linux, bsd44, freebsd, xnu)";
  if (options.target == "linux" && options.model != "linux")
    return "--target linux runs the host's Linux kernel; it cannot play the '" + options.model +
           "' model (run --model " + options.model + " scripts with --target synq)";
  return {};
}

int run_script_files(const std::vector<std::string>& files, const ScriptFilesOptions& options,
                     std::ostream& out) {
  if (std::string e = check_target_and_model(options); !e.empty()) {
    out << "error: " << e << "\n";
    return static_cast<int>(std::max<size_t>(files.size(), 1));
  }
  std::vector<Prepared> prepared;
  for (const auto& path : files) prepared.push_back(prepare(path, options));
  std::vector<std::optional<RunReport>> reports(prepared.size());
  for (size_t i = 0; i < prepared.size(); ++i)
    if (prepared[i].report) reports[i] = prepared[i].report;

  int passed = 0, failed = 0;
  size_t printed = 0;
  auto print_ready = [&] {
    for (; printed < prepared.size() && reports[printed]; ++printed) {
      const Prepared& p = prepared[printed];
      RunReport report = *reports[printed];
      const DifferMarker* marker = nullptr;
      for (const auto& m : p.markers)
        if (m.target == options.target) marker = &m;
      std::string status;
      if (report.passed) {
        ++passed;
        status = "PASS";
        if (marker)
          report.lines.insert(report.lines.begin(), "note: marked `expect-differ " +
                                                        marker->target +
                                                        "` but passed: remove the marker (line " +
                                                        std::to_string(marker->line) + ")");
      } else if (marker) {
        ++passed;
        status = "XFAIL";
        report.lines.insert(report.lines.begin(),
                            "expected to differ on " + marker->target + ": " + marker->reason);
      } else {
        ++failed;
        status = "FAIL";
      }
      out << status << " " << p.path << "\n";
      if (status != "PASS" || options.verbose || marker)
        for (const auto& l : report.lines) out << "  " << l << "\n";
      out.flush();
    }
  };

  if (options.target == "synq") {
    for (size_t i = 0; i < prepared.size(); ++i) {
      if (!reports[i]) {
        SynqTargetConfig cfg;
        cfg.local = script_local_ip(*prepared[i].script);
        cfg.model = options.model;
        cfg.script_dir = directory_of(prepared[i].path);
        SynqTarget target(cfg);
        reports[i] = run_script(*prepared[i].script, target);
      }
      print_ready();
    }
  } else {
    // Each script has its own namespace, so several can run at once; the
    // kernel's timers are what takes the time, not the CPU.
    const size_t jobs = std::max(1, options.jobs);
    std::vector<Child> running;
    std::vector<size_t> index;  // running[i] is prepared[index[i]]
    size_t next = 0;
    while (next < prepared.size() || !running.empty()) {
      while (running.size() < jobs && next < prepared.size()) {
        if (!reports[next]) {
          Child c = start_child(*prepared[next].script, prepared[next].path);
          if (c.done) {
            reports[next] = c.failed;
          } else {
            running.push_back(std::move(c));
            index.push_back(next);
          }
        }
        ++next;
      }
      if (!running.empty()) wait_children(running, reports, index);
      for (size_t i = running.size(); i-- > 0;) {
        if (!running[i].done) continue;
        running.erase(running.begin() + static_cast<long>(i));
        index.erase(index.begin() + static_cast<long>(i));
      }
      print_ready();
    }
  }
  print_ready();
  out << passed << " passed, " << failed << " failed\n";
  return failed;
}

}  // namespace synq::runner
