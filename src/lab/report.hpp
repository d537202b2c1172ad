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

/// The page for one or more runs of one scenario (e.g. linux and bsd44 side by side).
std::string report_html(const std::vector<LabResult>& runs, const ReportAssets& assets);
/// The page for a sweep: drop rate and p99 connect time against the first parameter.
std::string sweep_report_html(const std::string& title, const std::string& answer,
                              const std::vector<SweepPoint>& points, const ReportAssets& assets);

}  // namespace synq::lab
