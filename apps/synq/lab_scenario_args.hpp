// The flags `synq lab` and `synq lab sweep` share: which scenario, and what
// to change in it — turned into the runs to make, every value checked before
// anything runs (docs/cli.md, "What the flags mean").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lab/scenario.hpp"

namespace CLI {
class App;
}

namespace synq::cli {

struct ScenarioArgs {
  std::string name;  // a built-in name or a TOML file; empty: not given
  // Kept as text and parsed by flag_values.hpp: CLI11 would wrap or accept
  // NaN, and prints its range limits as 300-digit numbers.
  std::optional<std::string> model, backlog, clients, arrival, accept, workers, service, duration,
      seed, connect_timeout;
  std::vector<std::string> sets;
  std::vector<std::string> client_sets;

  /// Any flag that changes a scenario was given.
  bool customized() const;
};

void add_scenario_options(CLI::App* cmd, ScenarioArgs& a);

/// What the arguments ask for. With no positional, `default_name` (a
/// built-in) runs — unless `flags_alone_are_custom` and flags were given: then
/// one "custom" scenario built from a neutral base and the flags. Throws
/// usage errors (64), an unreadable file (66) or a bad file (65).
struct ScenarioRuns {
  std::vector<lab::Scenario> runs;
  std::string stem;  // output files' base name: the built-in's, the file's or "custom"
};
ScenarioRuns scenarios_from(const ScenarioArgs& a, const std::string& default_name,
                            bool flags_alone_are_custom);

/// The listener models built into this binary, for messages.
std::vector<std::string> available_models();

}  // namespace synq::cli
