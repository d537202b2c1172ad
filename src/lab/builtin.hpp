// Built-in lab scenarios, by name (`synq lab --list`).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lab/scenario.hpp"

namespace synq::lab {

struct BuiltinScenario {
  std::string name;
  std::string teaches;         // one line: what it shows
  std::vector<Scenario> runs;  // run in order, printed side by side (e.g. linux then bsd44)
};

const std::vector<BuiltinScenario>& builtin_scenarios();
const BuiltinScenario* find_builtin(const std::string& name);

}  // namespace synq::lab
