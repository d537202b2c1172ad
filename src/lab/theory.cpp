#include "lab/theory.hpp"

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

std::optional<QueueLimit> queue_limit(std::string_view model, uint32_t b) {
  // docs/models.md, "full check" rows.
  if (model == "linux") return QueueLimit{b + 1, false, "B+1"};                 // acc > B is full
  if (model == "bsd44") return QueueLimit{3 * b / 2 + 1, true, "⌊3B/2⌋+1"};     // qlen + acc > 3B/2
  if (model == "freebsd") return QueueLimit{3 * b / 2 + 1, false, "⌊3B/2⌋+1"};  // sol_qlen > 3B/2
  if (model == "xnu") return QueueLimit{b, true, "B"};  // qlen + acc >= B at a SYN
  return std::nullopt;
}

int mmck_capacity(std::string_view model, int workers, int backlog) {
  const auto lim = queue_limit(model, static_cast<uint32_t>(backlog));
  return lim ? workers + static_cast<int>(lim->value) : -1;
}

}  // namespace synq::lab
