#include "runner/run_files.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "drivers/tun/netns.hpp"
#include "runner/linux_target.hpp"
#include "runner/runner.hpp"
#include "runner/synq_target.hpp"
#include "script/parser.hpp"

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

// Runs one parsed script on the linux target in a child process inside a
// new network namespace; the report comes back through a pipe.
RunReport run_in_namespace(const script::Script& s, const std::string& path) {
  RunReport failed;
  int fds[2];
  if (::pipe(fds) != 0) {
    failed.lines.push_back(path + ": pipe: " + std::strerror(errno));
    return failed;
  }
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    failed.lines.push_back(path + ": fork: " + std::strerror(errno));
    ::close(fds[0]);
    ::close(fds[1]);
    return failed;
  }
  if (pid == 0) {
    ::close(fds[0]);
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
      ssize_t n = ::write(fds[1], msg.data() + off, msg.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[4096];
  bool timed_out = false;
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, kChildTimeoutMs);
    if (r == 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    if (r < 0 && errno == EINTR) continue;
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    msg.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    failed.lines.push_back(path + ": stopped after " + std::to_string(kChildTimeoutMs / 1000) +
                           " s");
    return failed;
  }
  if (msg.empty()) {
    failed.lines.push_back(path + ": the script's process died (status " + std::to_string(status) +
                           ")");
    return failed;
  }
  RunReport r;
  r.passed = msg[0] == '1';
  std::istringstream lines(msg.substr(1));
  for (std::string l; std::getline(lines, l);) r.lines.push_back(l);
  return r;
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

int run_script_files(const std::vector<std::string>& files, const ScriptFilesOptions& options,
                     std::ostream& out) {
  int passed = 0, failed = 0;
  for (const auto& path : files) {
    std::vector<std::string> lines;
    RunReport report;
    std::ifstream f(path);
    std::stringstream text;
    text << f.rdbuf();
    std::string marker_error;
    auto markers = find_differ_markers(text.str(), &marker_error);
    script::ParseOptions po;
    po.file = path;
    po.command_line = options.header_options;
    auto parsed = script::parse_script_file(path, po);
    if (!f) {
      report.lines.push_back(path + ": cannot read the file");
    } else if (!marker_error.empty()) {
      report.lines.push_back(path + ": " + marker_error);
    } else if (!parsed.ok()) {
      report.lines.push_back(script::render(parsed.error()));
    } else if (options.target == "synq") {
      SynqTargetConfig cfg;
      cfg.local = script_local_ip(parsed.value());
      cfg.model = options.model;
      SynqTarget target(cfg);
      report = run_script(parsed.value(), target);
    } else {
      report = run_in_namespace(parsed.value(), path);
    }
    const DifferMarker* marker = nullptr;
    for (const auto& m : markers)
      if (m.target == options.target) marker = &m;
    std::string status;
    if (report.passed) {
      ++passed;
      status = "PASS";
      if (marker)
        report.lines.insert(report.lines.begin(), "note: marked `expect-differ " + marker->target +
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
    out << status << " " << path << "\n";
    if (status != "PASS" || options.verbose || marker)
      for (const auto& l : report.lines) out << "  " << l << "\n";
    out.flush();
  }
  out << passed << " passed, " << failed << " failed\n";
  return failed;
}

}  // namespace synq::runner
