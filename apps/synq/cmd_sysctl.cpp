// `synq sysctl`: every knob synq knows, by its sysctl name, with its default.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "commands.hpp"
#include "synq/sysctl.hpp"

namespace synq::cli {

void add_sysctl_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("sysctl", "List every knob with its default value");
  cmd->callback([] {
    Sysctls s;
    for (const auto& k : sysctl_list())
      std::printf("%-40s = %-24s # %s\n", std::string(k.name).c_str(), s.get(k.name)->c_str(),
                  std::string(k.help).c_str());
  });
}

}  // namespace synq::cli
