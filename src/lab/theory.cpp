#include "lab/theory.hpp"

#include <cstring>

namespace synq::lab {

double mmck_blocking(double lambda, double mu, int c, int K) {
  // p_n ∝ a^n / n! for n < c and a^n / (c! c^(n-c)) for c <= n <= K, a = λ/μ;
  // computed term by term (each from the previous) so nothing overflows.
  const double a = lambda / mu;
  double term = 1, sum = 1;
  for (int n = 1; n <= K; ++n) {
    term *= a / (n <= c ? n : c);
    sum += term;
  }
  return term / sum;
}

int mmck_capacity(const char* model, int workers, int backlog) {
  // Linux's sk_acceptq_is_full() is `ack_backlog > max_ack_backlog`: a SYN is
  // dropped only once B + 1 children wait, so the queue holds B + 1.
  if (std::strcmp(model, "linux") == 0) return workers + backlog + 1;
  return workers + backlog;
}

}  // namespace synq::lab
