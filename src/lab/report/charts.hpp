// The report's Vega-Lite charts, built as JSON specs. Runs shown side by side
// share their y-scales (ChartScales), so equal heights mean equal numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/lab_run.hpp"
#include "lab/theory.hpp"

namespace synq::lab {

/// Axis maxima shared by the runs of one page.
struct ChartScales {
  uint32_t queue_max = 1;     // entries (queues, limits, SYN + accept)
  uint32_t drops_max = 1;     // drops in one time bin, all reasons stacked
  double connect_min = 1e-3;  // connect-time axis (log), seconds
  double connect_max = 1;
  double duration_s = 1;
};
ChartScales shared_scales(const std::vector<LabResult>& runs);

/// The charts of one run; nullopt where there is nothing to draw (the page
/// shows a sentence instead of an empty frame).
nlohmann::ordered_json queue_chart(const LabResult& r, const ChartScales& sc);
std::optional<nlohmann::ordered_json> connect_chart(const LabResult& r, const ChartScales& sc);
std::optional<nlohmann::ordered_json> drops_chart(const LabResult& r, const ChartScales& sc);

/// A sweep's chart of `field` against the first parameter: log2 x for a
/// backlog sweep, a dashed rule at `target` (< 0: none).
struct SweepChartPoint {
  double x = 0;
  std::string series;
  double drop_rate = 0, p99_connect_s = 0;
};
nlohmann::ordered_json sweep_chart(const std::vector<SweepChartPoint>& points,
                                   const std::string& x_name, const std::string& series_name,
                                   const char* field, const char* y_title, const char* title,
                                   double target);

/// Round powers of ten within [lo, hi] for a log time axis, and the label
/// expression that prints them as µs, ms or s.
std::vector<double> decade_ticks(double lo, double hi);
extern const char* const kTimeLabelExpr;

}  // namespace synq::lab
