// Shared by doctor's unit tests: the knobs of a stock Linux 6.18 namespace.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace synq::doctor::testing {

/// What /proc/sys shows in a fresh network namespace of Linux 6.18 (this
/// host's kernel), with somaxconn as given.
inline std::map<std::string, int64_t> stock_knobs(int64_t somaxconn = 4096) {
  return {{"net.core.somaxconn", somaxconn},       {"net.ipv4.tcp_max_syn_backlog", 2048},
          {"net.ipv4.tcp_syncookies", 1},          {"net.ipv4.tcp_abort_on_overflow", 0},
          {"net.ipv4.tcp_synack_retries", 5},      {"net.ipv4.tcp_syn_retries", 6},
          {"net.ipv4.tcp_syn_linear_timeouts", 4}, {"net.ipv4.tcp_timestamps", 1}};
}

}  // namespace synq::doctor::testing
