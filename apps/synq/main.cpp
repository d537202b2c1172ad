// synq command line: one subcommand per file (apps/synq/cmd_*.cpp).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "synq/stack.hpp"

int main(int argc, char** argv) {
  CLI::App app{"synq: a user-space TCP/IP stack with faithful listen-backlog models"};
  app.require_subcommand(1);
  auto* sysctl = app.add_subcommand("sysctl", "List every knob with its default value");
  sysctl->callback([] {
    synq::Sysctls s;
    for (const auto& k : synq::sysctl_list())
      std::printf("%-44s = %-24s # %s\n", std::string(k.name).c_str(), s.get(k.name)->c_str(),
                  std::string(k.help).c_str());
  });
  CLI11_PARSE(app, argc, argv);
  return 0;
}
