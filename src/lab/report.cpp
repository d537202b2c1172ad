#include "lab/report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace synq::lab {

namespace {

using nlohmann::ordered_json;
namespace fs = std::filesystem;

std::optional<std::string> read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Text placed inside <script>: only "</script" ends the element early (HTML
// script data state), so only that is changed — "<\/script" means the same
// in a JS string or regex, and the bundles have no other use of it. JSON
// gets every "</" escaped, which JSON allows anywhere in a string.
std::string script_safe(std::string_view s, bool json) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<' && i + 1 < s.size() && s[i + 1] == '/' &&
        (json || (s.size() - i >= 8 &&
                  (s.substr(i + 2, 6) == "script" || s.substr(i + 2, 6) == "SCRIPT")))) {
      out += "<\\/";
      ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

const char* kStyle = R"css(
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ccc; }
.runs { display: flex; flex-wrap: wrap; gap: 24px; }
.run { flex: 1 1 700px; min-width: 700px; max-width: 900px; }
.chart { margin: 8px 0 16px 0; }
pre { background: #f6f6f6; padding: 8px; font-size: 12px; overflow-x: auto; }
table.story { border-collapse: collapse; font-size: 13px; }
table.story td { padding: 2px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
.timeline { max-height: 480px; overflow-y: auto; }
.k-packet { color: #444; } .k-client { color: #0a5; } .k-server { color: #05a; }
.k-decision { color: #a50; font-weight: bold; } .k-snapshot { color: #555; background: #eef; }
.lost { color: #c00; }
#errors { color: #c00; } #errors:empty { display: none; }
)css";

// Collects console errors and failed chart loads into the page (and its
// title), so a headless browser run can tell whether the page worked.
const char* kHarness = R"js(
window.__synqErrors = [];
(function () {
  function record(msg) {
    window.__synqErrors.push(String(msg));
    var e = document.getElementById('errors');
    if (e) e.textContent = window.__synqErrors.join('\n');
    document.title = 'synq-report-error: ' + window.__synqErrors[0];
  }
  var orig = console.error;
  console.error = function () { record(Array.prototype.join.call(arguments, ' ')); orig.apply(console, arguments); };
  window.addEventListener('error', function (ev) { record(ev.message || 'script error'); });
  window.addEventListener('unhandledrejection', function (ev) { record(ev.reason || 'rejected promise'); });
  window.__synqRecord = record;
})();
)js";

const char* kRender = R"js(
(function () {
  var specs = JSON.parse(document.getElementById('synq-specs').textContent);
  var jobs = specs.map(function (s) {
    return vegaEmbed('#' + s.id, s.spec, { actions: false, renderer: 'svg' });
  });
  Promise.all(jobs).then(function () {
    if (window.__synqErrors.length === 0) {
      document.title = 'synq-report-ok charts=' + jobs.length;
      document.body.setAttribute('data-status', 'ok');
    }
  }).catch(function (err) { window.__synqRecord(err); });
})();
)js";

ordered_json base_spec(const std::string& title) {
  return {{"$schema", "https://vega.github.io/schema/vega-lite/v6.json"},
          {"title", title},
          {"width", 520},
          {"height", 200}};
}

ordered_json queue_chart(const LabResult& r) {
  ordered_json values = ordered_json::array();
  auto add = [&](double t, const char* q, uint32_t n) {
    values.push_back({{"t", t}, {"queue", q}, {"entries", n}});
  };
  add(0, "SYN queue", 0);
  add(0, "accept queue", 0);
  for (const auto& q : r.queues) {
    add(q.t, "SYN queue", q.syn_queue);
    add(q.t, "accept queue", q.accept_queue);
  }
  add(r.scenario.duration_s, "SYN queue", r.queues.empty() ? 0 : r.queues.back().syn_queue);
  add(r.scenario.duration_s, "accept queue", r.queues.empty() ? 0 : r.queues.back().accept_queue);
  auto spec = base_spec("Listener queues over time");
  spec["data"] = {{"values", values}};
  spec["mark"] = {{"type", "line"}, {"interpolate", "step-after"}, {"strokeWidth", 2}};
  spec["encoding"] = {{"x", {{"field", "t"}, {"type", "quantitative"}, {"title", "time (s)"}}},
                      {"y", {{"field", "entries"}, {"type", "quantitative"}, {"title", "entries"}}},
                      {"color", {{"field", "queue"}, {"type", "nominal"}, {"title", nullptr}}}};
  return spec;
}

ordered_json connect_chart(const LabResult& r) {
  std::vector<double> t;
  for (const auto& c : r.clients)
    if (c.connect_time_s >= 0) t.push_back(std::max(c.connect_time_s, 1e-6));
  std::sort(t.begin(), t.end());
  ordered_json values = ordered_json::array();
  const size_t step = std::max<size_t>(1, t.size() / 2000);  // keep the page small
  for (size_t i = 0; i < t.size(); i += step)
    values.push_back({{"connect_s", t[i]}, {"fraction", double(i + 1) / double(t.size())}});
  if (!t.empty()) values.push_back({{"connect_s", t.back()}, {"fraction", 1.0}});
  auto spec = base_spec(fmt::format("Connect time, cumulative ({} of {} clients connected)",
                                    t.size(), r.clients.size()));
  spec["data"] = {{"values", values}};
  spec["mark"] = {{"type", "line"}, {"interpolate", "step-after"}, {"point", true}};
  spec["encoding"] = {{"x",
                       {{"field", "connect_s"},
                        {"type", "quantitative"},
                        {"scale", {{"type", "log"}}},
                        {"title", "connect time (s, log scale)"}}},
                      {"y",
                       {{"field", "fraction"},
                        {"type", "quantitative"},
                        {"title", "fraction of connected clients"}}}};
  return spec;
}

ordered_json drops_chart(const LabResult& r) {
  ordered_json values = ordered_json::array();
  for (const auto& [reason, bins] : r.drops.by_reason)
    for (size_t i = 0; i < bins.size(); ++i)
      if (bins[i])
        values.push_back({{"t", double(i) * r.drops.bin_s},
                          {"t_end", double(i + 1) * r.drops.bin_s},
                          {"reason", reason},
                          {"drops", bins[i]}});
  auto spec =
      base_spec(values.empty() ? "Drops by reason over time: none" : "Drops by reason over time");
  spec["data"] = {{"values", values}};
  spec["mark"] = {{"type", "bar"}};
  spec["encoding"] = {
      {"x",
       {{"field", "t"},
        {"type", "quantitative"},
        {"bin", {{"binned", true}, {"step", r.drops.bin_s}}},
        {"title", "time (s)"},
        {"scale", {{"domain", {0, r.scenario.duration_s}}}}}},
      {"x2", {{"field", "t_end"}}},
      {"y", {{"field", "drops"}, {"type", "quantitative"}, {"title", "drops"}, {"stack", true}}},
      {"color",
       {{"field", "reason"},
        {"type", "nominal"},
        {"legend", {{"orient", "bottom"}, {"labelLimit", 520}, {"columns", 1}}}}}};
  return spec;
}

std::string kind_name(TimelineEntry::Kind k) {
  static constexpr const char* kKinds[] = {"packet", "client", "server", "snapshot", "decision"};
  return kKinds[static_cast<size_t>(k)];
}

std::string page(const std::string& title, const std::string& body, const ordered_json& specs,
                 const ReportAssets& a) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out += "<title>" + html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n";
  out += "<script>" + std::string(kHarness) + "</script>\n";
  out += "<script>" + script_safe(a.vega, false) + "</script>\n";
  out += "<script>" + script_safe(a.vega_lite, false) + "</script>\n";
  out += "<script>" + script_safe(a.vega_embed, false) + "</script>\n";
  out += "</head><body data-status=\"loading\">\n<pre id=\"errors\"></pre>\n";
  out += body;
  out += "<script type=\"application/json\" id=\"synq-specs\">" + script_safe(specs.dump(), true) +
         "</script>\n";
  out += "<script>" + std::string(kRender) + "</script>\n</body></html>\n";
  return out;
}

}  // namespace

std::optional<ReportAssets> load_report_assets(const std::string& dir, std::string* error) {
  std::vector<fs::path> candidates;
  if (!dir.empty()) {
    candidates.emplace_back(dir);
  } else {
    if (const char* env = std::getenv("SYNQ_REPORT_ASSETS")) candidates.emplace_back(env);
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) candidates.push_back(exe.parent_path() / "report-assets");
  }
  for (const auto& d : candidates) {
    const fs::path nm = d / "node_modules";
    auto vega = read_text(nm / "vega/build/vega.min.js");
    auto lite = read_text(nm / "vega-lite/build/vega-lite.min.js");
    auto embed = read_text(nm / "vega-embed/build/vega-embed.min.js");
    if (vega && lite && embed) return ReportAssets{*vega, *lite, *embed};
  }
  if (error) {
    std::string where;
    for (const auto& d : candidates) where += (where.empty() ? "" : ", ") + d.string();
    *error = fmt::format(
        "the report's Vega-Lite bundles are not installed (looked in {}): run `make build`, or "
        "`npm ci` with src/lab/report/package.json into a directory and pass it with "
        "SYNQ_REPORT_ASSETS",
        where.empty() ? "nowhere" : where);
  }
  return std::nullopt;
}

std::string report_html(const std::vector<LabResult>& runs, const ReportAssets& assets) {
  const std::string name = runs.empty() ? "lab" : runs.front().scenario.name;
  std::string body = fmt::format("<h1>synq lab: {}</h1>\n", html_escape(name));
  if (!runs.empty() && !runs.front().scenario.description.empty())
    body += "<p>" + html_escape(runs.front().scenario.description) + "</p>\n";
  body +=
      "<p>How to read this page: the first chart shows how full the listener's SYN queue "
      "(half-open requests) and accept queue (connections waiting for accept()) were; the "
      "second, how long clients waited for connect() to complete; the third, which drops "
      "happened when. The story lists the moments worth a look; the timeline below it has "
      "every packet and decision.</p>\n";
  ordered_json specs = ordered_json::array();
  body += "<div class=\"runs\">\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const LabResult& r = runs[i];
    const std::string label = r.scenario.variant.empty() ? r.scenario.model : r.scenario.variant;
    body += fmt::format("<div class=\"run\"><h2>{} (model {})</h2>\n", html_escape(label),
                        html_escape(r.scenario.model));
    body += "<pre>" + html_escape(summary_text(r)) + "</pre>\n";
    const char* charts[] = {"queues", "connect", "drops"};
    ordered_json chart_specs[] = {queue_chart(r), connect_chart(r), drops_chart(r)};
    for (size_t c = 0; c < 3; ++c) {
      const std::string id = fmt::format("chart-{}-{}", i, charts[c]);
      body += fmt::format("<div class=\"chart\" id=\"{}\"></div>\n", id);
      specs.push_back({{"id", id}, {"spec", chart_specs[c]}});
    }
    if (!r.story.empty()) {
      body += "<h3>The story</h3>\n<table class=\"story\">\n";
      for (const auto& e : r.story)
        body += fmt::format("<tr><td>{:.3f}</td><td>{}</td><td>{}</td></tr>\n", e.t,
                            html_escape(e.kind), html_escape(e.text));
      body += "</table>\n";
    }
    body += "<h3>Timeline</h3>\n<pre class=\"timeline\">";
    size_t lines = 0;
    for (const auto& e : r.timeline) {
      if (++lines > 5000) {
        body += "... (the rest is in the JSON)\n";
        break;
      }
      std::string cls = "k-" + kind_name(e.kind);
      if (e.lost) cls += " lost";
      body += fmt::format("<span class=\"{}\">{:9.3f} {}</span>\n", cls, e.t, html_escape(e.text));
    }
    body += "</pre></div>\n";
  }
  body += "</div>\n";
  return page("synq lab: " + name, body, specs, assets);
}

std::string sweep_report_html(const std::string& title, const std::string& answer,
                              const std::vector<SweepPoint>& points, const ReportAssets& assets) {
  ordered_json values = ordered_json::array();
  std::string x_name = points.empty() ? "x" : points.front().x_name;
  std::string series_name = points.empty() ? "" : points.front().series_name;
  for (const auto& p : points)
    values.push_back({{"x", p.x},
                      {"series", p.series.empty() ? "all" : p.series},
                      {"drop_rate", p.drop_rate},
                      {"p99_connect_s", p.p99_connect_s}});
  auto chart = [&](const char* field, const char* ytitle, const char* t) {
    auto spec = base_spec(t);
    spec["data"] = {{"values", values}};
    spec["mark"] = {{"type", "line"}, {"point", true}};
    spec["encoding"] = {{"x", {{"field", "x"}, {"type", "quantitative"}, {"title", x_name}}},
                        {"y", {{"field", field}, {"type", "quantitative"}, {"title", ytitle}}},
                        {"color",
                         {{"field", "series"},
                          {"type", "nominal"},
                          {"title", series_name.empty() ? "" : series_name}}}};
    return spec;
  };
  ordered_json specs = ordered_json::array();
  specs.push_back(
      {{"id", "chart-drop"},
       {"spec", chart("drop_rate", "fraction of clients with a dropped SYN", "Drop rate")}});
  specs.push_back({{"id", "chart-p99"},
                   {"spec", chart("p99_connect_s", "p99 connect time (s)", "p99 connect time")}});
  std::string body = "<h1>" + html_escape(title) + "</h1>\n<p><b>" + html_escape(answer) +
                     "</b></p>\n<div class=\"chart\" id=\"chart-drop\"></div>\n"
                     "<div class=\"chart\" id=\"chart-p99\"></div>\n";
  body += "<table class=\"story\"><tr><td>" + html_escape(x_name) + "</td><td>" +
          html_escape(series_name) + "</td><td>drop rate</td><td>p99 connect (s)</td></tr>\n";
  for (const auto& p : points)
    body += fmt::format("<tr><td>{}</td><td>{}</td><td>{:.4f}</td><td>{:.4f}</td></tr>\n", p.x,
                        html_escape(p.series), p.drop_rate, p.p99_connect_s);
  body += "</table>\n";
  return page(title, body, specs, assets);
}

}  // namespace synq::lab
