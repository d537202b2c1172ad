// synq command line: one subcommand per file (apps/synq/cmd_*.cpp).
// Exit codes: 0 success, 1 a run or check failed, 2 bad usage, 74 I/O error,
// 70 an internal error (a bug: please report it with the command line).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"synq: a user-space TCP/IP stack with faithful listen-backlog models"};
  app.require_subcommand(1);
  synq::cli::add_lab_command(app);
  synq::cli::add_sysctl_command(app);
  synq::cli::add_script_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help/--version exit 0; every usage error exits 2 (CLI11 uses 100+).
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const CLI::Error& e) {
    // Errors raised by a subcommand (a missing file, a run that failed).
    if (e.get_exit_code() != 0 && *e.what()) std::fprintf(stderr, "synq: %s\n", e.what());
    return e.get_exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "synq: internal error: %s\n", e.what());
    return 70;
  }
  return 0;
}
