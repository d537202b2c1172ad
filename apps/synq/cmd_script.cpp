// `synq script`: run packetdrill-dialect scripts against synq (virtual time)
// or the host's Linux kernel (TUN in a private network namespace).
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "commands.hpp"
#include "runner/run_files.hpp"

namespace synq::cli {

void add_script_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "script",
      "Run packetdrill-dialect scripts against synq or the host kernel (docs/scripts.md)");
  struct Args {
    runner::ScriptFilesOptions options;
    std::vector<std::string> files;
    int64_t tolerance_usecs = -1;
    bool strict = false;
  };
  auto args = std::make_shared<Args>();
  args->options.jobs = 8;  // the kernel's timers take the time, not the CPU
  cmd->add_option("--target", args->options.target, "synq (virtual time) or linux (host kernel)")
      ->check(CLI::IsMember({"synq", "linux"}));
  cmd->add_option("--model", args->options.model,
                  "synq target: the listener model (linux, bsd44, freebsd, xnu)");
  cmd->add_option("--tolerance_usecs", args->tolerance_usecs,
                  "timing tolerance, overriding the scripts' --tolerance_usecs");
  cmd->add_flag("--strict", args->strict, "match every field of outbound packets (extension)");
  cmd->add_option("-o,--option", args->options.header_options,
                  "a header option overriding the scripts', e.g. -o mss=1000");
  cmd->add_option("-j,--jobs", args->options.jobs,
                  "linux target: scripts run at once, each in its own namespace (default 8)");
  cmd->add_flag("-v,--verbose", args->options.verbose, "print notes under passing scripts too");
  cmd->add_option("files", args->files, "script files")->required();
  cmd->callback([args] {
    auto opts = args->options;
    if (args->tolerance_usecs >= 0)
      opts.header_options.push_back("tolerance_usecs=" + std::to_string(args->tolerance_usecs));
    if (args->strict) opts.header_options.push_back("strict");
    int failed = runner::run_script_files(args->files, opts, std::cout);
    std::exit(failed == 0 ? 0 : 1);
  });
}

}  // namespace synq::cli
