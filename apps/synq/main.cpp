// synq command line: one subcommand per file (apps/synq/cmd_*.cpp).
//
// Exit codes (sysexits.h; docs/cli.md):
//   0   success
//   1   a run or a check failed (a script FAILs, a lab run's result is an error)
//   64  usage: a bad flag, value or combination of flags      (EX_USAGE)
//   65  a scenario, trace or script file that does not parse  (EX_DATAERR)
//   66  an input file missing, unreadable, empty or a directory (EX_NOINPUT)
//   70  an internal error: a bug, please report the command line (EX_SOFTWARE)
//   73  an output file cannot be created                       (EX_CANTCREAT)
//   74  writing an output failed                               (EX_IOERR)
// Every error goes to stderr; stdout carries only results.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "exit_codes.hpp"

#ifndef SYNQ_VERSION
#error "SYNQ_VERSION comes from CMake's project(VERSION)"
#endif

int main(int argc, char** argv) {
  using namespace synq::cli;
  CLI::App app{"synq: a user-space TCP/IP stack with faithful listen-backlog models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "synq " SYNQ_VERSION);
  app.footer(
      "Exit codes: 0 ok, 1 a run or check failed, 64 usage error, 65 bad input data,\n"
      "66 input file missing or unreadable, 70 internal error, 73 cannot create an output,\n"
      "74 I/O error while writing (sysexits.h; docs/cli.md).");
  add_lab_command(app);
  add_sysctl_command(app);
  add_script_command(app);
  add_doctor_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version: printed on stdout
  } catch (const CLI::ParseError& e) {
    // Every usage error, CLI11's or a subcommand's ValidationError (CLI11's
    // own codes are 100+): printed on stderr with the --help hint.
    app.exit(e);
    return kUsage;
  } catch (const CLI::Error& e) {
    // A subcommand's failure with its own code (exit_codes.hpp).
    if (e.get_exit_code() != 0 && *e.what()) std::fprintf(stderr, "synq: %s\n", e.what());
    return e.get_exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "synq: internal error: %s\n", e.what());
    return kSoftware;
  }
  return kOk;
}
