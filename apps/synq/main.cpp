// synq command line: one subcommand per file (apps/synq/cmd_*.cpp).
// Exit codes: 0 success, 1 a run or check failed, 2 bad usage (CLI11), 74 I/O error.
#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"synq: a user-space TCP/IP stack with faithful listen-backlog models"};
  app.require_subcommand(1);
  synq::cli::add_lab_command(app);
  synq::cli::add_sysctl_command(app);
  synq::cli::add_script_command(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
