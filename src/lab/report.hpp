// `synq lab --report FILE.html`: one self-contained page — charts drawn by
// Vega-Lite (its bundles inlined, so the page works offline) and the timeline.
// The bundles come from the npm packages pinned in src/lab/report/package.json,
// installed into the build tree by `make` (build/report-assets/node_modules).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lab/lab_run.hpp"

namespace synq::lab {

struct ReportAssets {
  std::string vega, vega_lite, vega_embed;  // minified browser bundles
};

/// Reads the three bundles from `dir`/node_modules/... If `dir` is empty,
/// looks in $SYNQ_REPORT_ASSETS, then report-assets/ beside the running
/// executable. Nullopt with `error` saying where it looked and how to fix it.
std::optional<ReportAssets> load_report_assets(const std::string& dir, std::string* error);

/// One sweep point, for the sweep report's chart.
struct SweepPoint {
  std::string x_name, series_name;
  double x = 0;
  std::string series;  // the second parameter's value ("" if one parameter)
  double drop_rate = 0;
  double p99_connect_s = 0;
};

/// The page for one or more runs of one scenario (e.g. linux and bsd44 side
/// by side), titled with the scenario's name. Once its charts have rendered
/// the page sets <body data-status="synq-report-ok charts=N ladders=M"> (or
/// "synq-report-error: ..."), which tests read; the title stays.
std::string report_html(const std::vector<LabResult>& runs, const ReportAssets& assets);
/// The page for a sweep: drop rate and p99 connect time against the first
/// parameter (log2 for backlog), with a dashed line at `target_drop_rate`
/// on the drop-rate chart (< 0: none).
std::string sweep_report_html(const std::string& title, const std::string& answer,
                              const std::vector<SweepPoint>& points, const ReportAssets& assets,
                              double target_drop_rate = -1);

/// The M/M/c/K comparison the `workers` scenario's description promises,
/// for a run with Poisson arrivals and c workers with exponential service:
/// K = c + what the model's queue holds. Nullopt for other runs.
struct TheoryCheck {
  double lambda = 0, mu = 0;
  int c = 0, K = 0;
  double predicted = 0;  // P(an arrival finds the system full)
  double measured = 0;   // fraction of the clients that started and saw a drop
  size_t dropped = 0, started = 0;
  bool clients_retry = false;  // no connect timeout below the first SYN retransmission
};
std::optional<TheoryCheck> theory_check(const LabResult& r);

}  // namespace synq::lab
