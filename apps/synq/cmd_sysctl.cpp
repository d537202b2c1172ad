// `synq sysctl`: the knobs synq knows, by their sysctl names, with their
// defaults — like sysctl(8): `synq sysctl NAME...`, `synq sysctl -a` (output
// that `sysctl -p FILE` accepts), `-n` for values only. With no argument it
// lists every knob with a line of help.
#include <CLI/CLI.hpp>

#include <cstdio>

#include <fmt/format.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "synq/sysctl.hpp"

namespace synq::cli {

namespace {

struct SysctlArgs {
  std::vector<std::string> names;
  bool all = false;
  bool values_only = false;
};

void print_knob(const Sysctls& s, std::string_view name, bool values_only) {
  const std::string value = *s.get(name);
  if (values_only)
    std::printf("%s\n", value.c_str());
  else
    std::printf("%s = %s\n", std::string(name).c_str(), value.c_str());
}

void run_sysctl(const SysctlArgs& a) {
  const Sysctls s;
  if (a.all && !a.names.empty())
    throw CLI::ValidationError("-a", "prints every knob: give either -a or names, not both");
  if (!a.all && a.names.empty()) {
    for (const auto& k : sysctl_list())
      std::printf("%-40s = %-24s # %s\n", std::string(k.name).c_str(), s.get(k.name)->c_str(),
                  std::string(k.help).c_str());
    return;
  }
  if (a.all) {
    for (const auto& k : sysctl_list()) print_knob(s, k.name, a.values_only);
    return;
  }
  // Like sysctl(8): print what is known, report each unknown name, then fail.
  int unknown = 0;
  for (const auto& n : a.names) {
    if (n.find('=') != std::string::npos) {
      std::fprintf(stderr,
                   "synq: sysctl: %s: synq sysctl only reads defaults; set a knob for a run "
                   "with `synq lab --set %s`\n",
                   n.c_str(), n.c_str());
      ++unknown;
    } else if (!s.get(n)) {
      std::fprintf(stderr, "synq: sysctl: unknown name '%s' (synq sysctl -a lists them)\n",
                   n.c_str());
      ++unknown;
    } else {
      print_knob(s, n, a.values_only);
    }
  }
  std::fflush(stdout);
  // A name that does not exist is a bad argument: usage (sysctl(8) says 255).
  if (unknown) fail(kUsage, "");
}

}  // namespace

void add_sysctl_command(CLI::App& app) {
  auto args = std::make_shared<SysctlArgs>();
  auto* cmd = app.add_subcommand(
      "sysctl", "Print knobs and their defaults: NAME... or -a as `name = value` (sysctl -p form)");
  cmd->add_option("names", args->names,
                  "knob names (net.ipv4.tcp_syncookies or net/ipv4/tcp_syncookies)");
  cmd->add_flag("-a,--all", args->all, "every knob, one `name = value` line each");
  cmd->add_flag("-n,--values", args->values_only, "print values only");
  cmd->callback([args] { run_sysctl(*args); });
}

}  // namespace synq::cli
