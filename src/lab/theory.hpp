// Queueing theory the lab is checked against (docs/lab.md, "Checking against
// theory"): a listener with c workers and an accept queue is an M/M/c/K loss
// system when arrivals are Poisson, service is exponential and nobody retries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace synq::lab {

/// What a listener model holds for listen(fd, B), B after its clamp
/// (docs/models.md): linux's accept queue B+1; freebsd's completed queue
/// ⌊3B/2⌋+1; bsd44's half-open + queued ⌊3B/2⌋+1; xnu's half-open + queued B.
struct QueueLimit {
  uint32_t value = 0;
  bool counts_half_open = false;  // the limit is on SYN queue + accept queue together
  std::string formula;            // "B+1", "⌊3B/2⌋+1", "B"
};
std::optional<QueueLimit> queue_limit(std::string_view model, uint32_t backlog_clamped);

/// P(an arrival finds the system full) in M/M/c/K: arrival rate `lambda`,
/// service rate `mu` per server, `c` servers, at most `K` (>= c) in the system.
double mmck_blocking(double lambda, double mu, int c, int K);

/// K for a listener model: c workers in service plus what its queue holds
/// for listen(fd, B) (queue_limit) — B + 1 on linux (full only when acc > B).
/// For bsd44 and xnu the limit also counts half-open requests, which a round
/// trip far below the service time keeps near zero. -1 for an unknown model.
int mmck_capacity(std::string_view model, int workers, int backlog);

}  // namespace synq::lab
