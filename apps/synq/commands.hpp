// Each subcommand registers itself on the CLI11 app from its own file.
#pragma once

namespace CLI {
class App;
}

namespace synq::cli {
void add_lab_command(CLI::App& app);
void add_sysctl_command(CLI::App& app);
void add_script_command(CLI::App& app);
void add_doctor_command(CLI::App& app);
}  // namespace synq::cli
