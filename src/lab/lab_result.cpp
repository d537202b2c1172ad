// Small vocabulary of a run's result (lab_run.hpp) shared by the summary,
// the JSON, sweeps and the report: outcome names and percentiles.
#include <algorithm>
#include <cmath>

#include "lab/lab_run.hpp"

namespace synq::lab {

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::established:
      return "established";
    case Outcome::refused:
      return "refused";
    case Outcome::reset:
      return "reset";
    case Outcome::timed_out:
      return "timed_out";
    case Outcome::pending:
      return "pending";
  }
  return "?";
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(i == 0 ? 0 : i - 1, v.size() - 1)];
}

}  // namespace synq::lab
