// doctor's output: text for people, JSON for tools (docs/doctor.md).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "doctor/findings.hpp"

namespace synq::doctor {

/// The listener table (address, Recv-Q, Send-Q, SYN-RECV, high-water marks,
/// per-port drops, owner), the knobs, the namespace counter deltas, then the
/// findings with their fixes.
std::string render_text(const Observation& o, const std::vector<Finding>& findings);

/// The same content as render_text, as one JSON document (schema in docs/doctor.md).
nlohmann::json to_json(const Observation& o, const std::vector<Finding>& findings);

}  // namespace synq::doctor
