// `synq script`: run packetdrill-dialect scripts against synq (virtual time)
// or the host's Linux kernel (TUN in a private network namespace).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "runner/run_files.hpp"

namespace synq::cli {

namespace {

struct ScriptArgs {
  runner::ScriptFilesOptions options;
  std::vector<std::string> files;
  int64_t tolerance_usecs = -1;
  bool strict = false;
};

void run_scripts(const ScriptArgs& a) {
  auto opts = a.options;
  if (std::string e = runner::check_target_and_model(opts); !e.empty())
    throw CLI::ValidationError("--target/--model", e);
  if (a.tolerance_usecs >= 0)
    opts.header_options.push_back("tolerance_usecs=" + std::to_string(a.tolerance_usecs));
  if (a.strict) opts.header_options.push_back("strict");
  // Every file is read and parsed before any runs: a typo in the tenth file
  // should not wait for nine kernels' timers. Each problem is reported.
  bool unreadable = false, bad = false;
  for (const auto& f : a.files) {
    if (auto p = runner::check_script_file(f, opts)) {
      std::fprintf(stderr, "synq: %s\n", p->message.c_str());
      (p->kind == runner::ScriptFileProblem::Kind::unreadable ? unreadable : bad) = true;
    }
  }
  if (unreadable) fail(kNoInput, "");
  if (bad) fail(kDataErr, "");
  const int failed = runner::run_script_files(a.files, opts, std::cout);
  std::cout.flush();
  if (failed) fail(kFailed, "");
}

}  // namespace

void add_script_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "script",
      "Run packetdrill-dialect scripts against synq or the host kernel (docs/scripts.md)");
  auto args = std::make_shared<ScriptArgs>();
  args->options.jobs = 8;  // the kernel's timers take the time, not the CPU
  cmd->add_option("--target", args->options.target, "synq (virtual time) or linux (host kernel)")
      ->check(CLI::IsMember({"synq", "linux"}))
      ->capture_default_str();
  cmd->add_option("--model", args->options.model, "synq target: the listener model")
      ->check(CLI::IsMember({"linux", "bsd44", "freebsd", "xnu"}))
      ->capture_default_str();
  cmd->add_option("--tolerance_usecs", args->tolerance_usecs,
                  "timing tolerance, overriding the scripts' --tolerance_usecs")
      ->check(CLI::Range(int64_t{0}, int64_t{3600} * 1000000));
  cmd->add_flag("--strict", args->strict, "match every field of outbound packets (extension)");
  cmd->add_option("-o,--option", args->options.header_options,
                  "a header option overriding the scripts', e.g. -o mss=1000 (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)  // one value per -o: the files after it stay files
      ->take_all();
  cmd->add_option("-j,--jobs", args->options.jobs,
                  "linux target: scripts run at once, each in its own namespace")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_flag("-v,--verbose", args->options.verbose, "print notes under passing scripts too");
  cmd->add_option("files", args->files, "script files")->required();
  cmd->callback([args] { run_scripts(*args); });
}

}  // namespace synq::cli
