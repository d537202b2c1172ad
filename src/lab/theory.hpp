// Queueing theory the lab is checked against (docs/lab.md, "Checking against
// theory"): a listener with c workers and an accept queue is an M/M/c/K loss
// system when arrivals are Poisson, service is exponential and nobody retries.
#pragma once

namespace synq::lab {

/// P(an arrival finds the system full) in M/M/c/K: arrival rate `lambda`,
/// service rate `mu` per server, `c` servers, at most `K` (>= c) in the system.
double mmck_blocking(double lambda, double mu, int c, int K);

/// K for a listener model: c workers in service plus what its accept queue
/// holds for listen(fd, B) — B + 1 on linux (full only when acc > B).
int mmck_capacity(const char* model, int workers, int backlog);

}  // namespace synq::lab
