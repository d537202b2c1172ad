// A scenario's one-line description, generated from its settings, for runs
// whose settings are not a built-in's as written (flags, a file without a
// description): the header then says what actually runs.
#pragma once

#include <string>

#include "lab/scenario.hpp"

namespace synq::lab {

/// e.g. "listen(fd, 8); 20 clients, one every 0.25 s; accept() never called;
/// 70 s". Names the backlog, the clients and how they arrive, who calls
/// accept(), the duration, and every setting that differs from a custom
/// scenario's default (link, timeout, attacker, sysctls, seed).
std::string describe(const Scenario& s);

}  // namespace synq::lab
