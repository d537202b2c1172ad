#include "lab/report.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "lab/report/charts.hpp"
#include "lab/report/html.hpp"
#include "lab/report/ladder.hpp"
#include "lab/theory.hpp"

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
.grid { display: grid; column-gap: 24px; align-items: start; }
.chart { margin: 8px 0 16px 0; }
.empty { margin: 8px 0 16px 0; width: 560px; padding: 18px 12px; border: 1px dashed #bbb;
  color: #555; background: #fafafa; }
.empty b { color: #333; }
.theory { border-left: 4px solid #4c78a8; background: #f3f6fa; padding: 6px 10px; font-size: 14px; }
.drops { font-size: 14px; }
pre { background: #f6f6f6; padding: 8px; font-size: 12px; overflow-x: auto; }
table.story { border-collapse: collapse; font-size: 13px; }
table.story td { padding: 2px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
.timeline { max-height: 480px; overflow-y: auto; }
.k-packet { color: #444; } .k-client { color: #0a5; } .k-server { color: #05a; }
.k-decision { color: #a50; font-weight: bold; } .k-snapshot { color: #555; background: #eef; }
.lost { color: #c00; }
.client-pick { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0; }
.client-pick button { font: 13px system-ui, sans-serif; padding: 3px 10px; border: 1px solid #999;
  border-radius: 4px; background: #fff; cursor: pointer; }
.client-pick button[aria-pressed="true"] { background: #1565c0; color: #fff; border-color: #1565c0; }
.client-pick button .n { color: #c62828; font-weight: 600; }
.client-pick button[aria-pressed="true"] .n { color: #ffd54f; }
.ladder-run { flex: 1 1 640px; min-width: 560px; max-width: 800px; }
.ladder-run svg { width: 100%; height: auto; }
.ladder-client p { font-size: 13px; margin: 4px 0; }
#errors { color: #c00; } #errors:empty { display: none; }
)css";

// Collects console errors and failed chart loads into the page (and its
// status attribute), so a headless browser run can tell whether the page
// worked. The title stays the scenario's name: it is what a reader's tab shows.
const char* kHarness = R"js(
window.__synqErrors = [];
(function () {
  function record(msg) {
    window.__synqErrors.push(String(msg));
    var e = document.getElementById('errors');
    if (e) e.textContent = window.__synqErrors.join('\n');
    if (document.body) document.body.setAttribute('data-status', 'synq-report-error: ' + window.__synqErrors[0]);
  }
  var orig = console.error;
  console.error = function () { record(Array.prototype.join.call(arguments, ' ')); orig.apply(console, arguments); };
  window.addEventListener('error', function (ev) { record(ev.message || 'script error'); });
  window.addEventListener('unhandledrejection', function (ev) { record(ev.reason || 'rejected promise'); });
  window.__synqRecord = record;
})();
)js";

// Renders the charts, wires the client picker of the ladder diagrams (one
// client at a time, the same client in every run; #client=N in the address
// picks one), then reports how many charts and ladders are on the page.
const char* kRender = R"js(
(function () {
  function pick(c) {
    document.querySelectorAll('.ladder-client').forEach(function (d) { d.hidden = d.dataset.client !== c; });
    document.querySelectorAll('.client-pick button').forEach(function (b) {
      b.setAttribute('aria-pressed', b.dataset.client === c ? 'true' : 'false');
    });
  }
  document.querySelectorAll('.client-pick button').forEach(function (b) {
    b.addEventListener('click', function () { pick(b.dataset.client); });
  });
  var m = /^#client=(\d+)$/.exec(location.hash);
  if (m && document.querySelector('.ladder-client[data-client="' + m[1] + '"]')) pick(m[1]);
  var specs = JSON.parse(document.getElementById('synq-specs').textContent);
  var jobs = specs.map(function (s) {
    return vegaEmbed('#' + s.id, s.spec, { actions: false, renderer: 'svg' });
  });
  Promise.all(jobs).then(function () {
    var drawn = 0;
    specs.forEach(function (s) { if (document.querySelector('#' + s.id + ' svg')) drawn++; });
    var ladders = 0;
    document.querySelectorAll('svg.ladder').forEach(function (l) {
      if (l.querySelector('g.pkt')) ladders++;
    });
    if (drawn !== specs.length) window.__synqRecord(drawn + ' of ' + specs.length + ' charts drawn');
    if (window.__synqErrors.length === 0) {
      var status = 'synq-report-ok charts=' + drawn + ' ladders=' + ladders;
      document.body.setAttribute('data-status', status);
      document.getElementById('synq-status').textContent = status;
    }
  }).catch(function (err) { window.__synqRecord(err); });
})();
)js";

std::string kind_name(TimelineEntry::Kind k) {
  static constexpr const char* kKinds[] = {"packet", "client", "server", "snapshot", "decision"};
  return kKinds[static_cast<size_t>(k)];
}

std::string page(const std::string& title, const std::string& body, const ordered_json& specs,
                 const ReportAssets& a) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out += "<title>" + html::escape(title) + "</title>\n<style>" + kStyle + "</style>\n";
  out += "<script>" + std::string(kHarness) + "</script>\n";
  out += "<script>" + script_safe(a.vega, false) + "</script>\n";
  out += "<script>" + script_safe(a.vega_lite, false) + "</script>\n";
  out += "<script>" + script_safe(a.vega_embed, false) + "</script>\n";
  out += "</head><body data-status=\"loading\">\n<pre id=\"errors\"></pre>\n";
  out += "<p id=\"synq-status\" hidden></p>\n";
  out += body;
  out += "<script type=\"application/json\" id=\"synq-specs\">" + script_safe(specs.dump(), true) +
         "</script>\n";
  out += "<script>" + std::string(kRender) + "</script>\n</body></html>\n";
  return out;
}

// A chart's place on the page, or the sentence that stands for it.
std::string chart_or_note(const std::string& id, const std::optional<ordered_json>& spec,
                          const std::string& note_html, ordered_json& specs) {
  if (!spec) return "<div class=\"empty\">" + note_html + "</div>\n";
  specs.push_back({{"id", id}, {"spec", *spec}});
  return fmt::format("<div class=\"chart\" id=\"{}\"></div>\n", id);
}

std::string run_label(const LabResult& r) {
  return r.scenario.variant.empty() ? r.scenario.model : r.scenario.variant;
}

// "Dropped" as the sweeps count it (ClientResult::saw_drop), with its parts.
std::string drops_line(const LabResult& r) {
  size_t any = 0, syn = 0, ack = 0, rst = 0;
  for (const auto& c : r.clients) {
    any += c.saw_drop();
    syn += c.syn_drops > 0;
    ack += c.acks_dropped > 0;
    rst += c.reset;
  }
  return fmt::format(
      "<p class=\"drops\"><b>{} of {} clients saw a drop</b>: {} had a SYN dropped, {} a third "
      "ACK ignored, {} were reset by the server (a client can be in several).</p>\n",
      any, r.clients.size(), syn, ack, rst);
}

std::string theory_html(const LabResult& r) {
  const auto t = theory_check(r);
  if (!t) return "";
  const auto lim = queue_limit(r.scenario.model, r.backlog_clamped);
  std::string out = fmt::format(
      "<p class=\"theory\"><b>M/M/c/K prediction</b>: λ = {:g}/s Poisson arrivals, c = {} "
      "workers serving at μ = {:g}/s each (exponential), K = c + {} = {} ({} {} holds {} "
      "for listen(fd, {})). Predicted blocking P<sub>K</sub> = <b>{:.2f}%</b>; measured: "
      "<b>{:.2f}%</b> ({} of {} clients saw a drop).",
      t->lambda, t->c, t->mu, lim ? lim->formula : "B", t->K, r.scenario.model,
      lim && lim->counts_half_open ? "half-open + queued" : "the accept queue",
      lim ? lim->value : 0, r.scenario.backlog, t->predicted * 100, t->measured * 100, t->dropped,
      t->started);
  if (t->clients_retry)
    out +=
        " The clients retry their SYNs (no connect timeout under the first 1 s "
        "retransmission), so this is not a pure loss system: expect the two to differ.";
  if (lim && lim->counts_half_open)
    out += " On this model the limit also counts half-open requests, so K is approximate.";
  return out + "</p>\n";
}

// The ladder section: a client picker and, per run, one ladder per client
// (all in the page, one shown at a time).
std::string ladders_html(const std::vector<LabResult>& runs) {
  std::vector<const LabResult*> shown;
  for (const auto& r : runs)
    if (ladder_fits(r)) shown.push_back(&r);
  if (shown.empty()) return "";
  size_t clients = 0;
  for (const auto* r : shown) clients = std::max(clients, r->clients.size());
  // Open on the client with the most to see.
  int first = 0;
  size_t best = 0;
  std::vector<size_t> notable(clients, 0);
  for (size_t c = 0; c < clients; ++c) {
    for (const auto* r : shown) notable[c] += notable_decisions(*r, static_cast<int>(c));
    if (notable[c] > best) {
      best = notable[c];
      first = static_cast<int>(c);
    }
  }
  std::string out =
      "<h2>Packet by packet</h2>\n<p>One client at a time: its packets as arrows from the "
      "moment they were sent to the moment they arrived (a red ✕ midway: the link lost it), "
      "labelled like tcpdump with sequence numbers relative to each side's first one; the "
      "listener's decisions are marked on the server line where it took them, with the "
      "counter it incremented. Time flows down on a compressed scale (a break mark on the "
      "lines skips a long wait; the times are on the left). The number on a client's button "
      "counts its listener decisions other than “request created” and “handshake complete”. "
      "Hover an arrow for the full tcpdump line.</p>\n<div class=\"client-pick\">";
  for (size_t c = 0; c < clients; ++c)
    out += fmt::format(
        "<button type=\"button\" data-client=\"{0}\" aria-pressed=\"{1}\">client {0}{2}</button>",
        c, static_cast<int>(c) == first ? "true" : "false",
        notable[c] ? fmt::format(" <span class=\"n\">{}</span>", notable[c]) : "");
  out += "</div>\n<div class=\"runs\">\n";
  for (const auto* r : shown) {
    out += fmt::format("<div class=\"ladder-run\" data-run=\"{0}\"><h3>{0} (model {1})</h3>\n",
                       html::escape(run_label(*r)), html::escape(r->scenario.model));
    for (const auto& c : r->clients) {
      std::string fate = std::string(outcome_name(c.outcome));
      if (c.connect_time_s >= 0)
        fate += fmt::format(", connected after {:.3f} s", c.connect_time_s);
      if (c.error != Errno::ok) fate += fmt::format(" ({})", errno_name(c.error));
      out += fmt::format(
          "<div class=\"ladder-client\" data-client=\"{}\"{}><p>client {} (port {}), connect() "
          "at {:.3f} s: <b>{}</b>{}</p>\n",
          c.id, c.id == first ? "" : " hidden", c.id, c.port, c.start_s, html::escape(fate),
          c.accepted ? ", accepted by the server" : "");
      out += ladder_svg(*r, c.id);
      out += "</div>\n";
    }
    out += "</div>\n";
  }
  return out + "</div>\n";
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

std::optional<TheoryCheck> theory_check(const LabResult& r) {
  const Scenario& s = r.scenario;
  if (s.workers <= 0 || s.arrival.kind != Arrival::Kind::poisson || s.arrival.param <= 0 ||
      s.service.kind != ServiceTime::Kind::exponential || s.service.a <= 0 || !r.error.empty())
    return std::nullopt;
  TheoryCheck t;
  t.K = mmck_capacity(s.model, s.workers, static_cast<int>(r.backlog_clamped));
  if (t.K < 0) return std::nullopt;
  t.lambda = s.arrival.param;
  t.mu = 1 / s.service.a;
  t.c = s.workers;
  t.predicted = mmck_blocking(t.lambda, t.mu, t.c, t.K);
  for (const auto& c : r.clients) {
    if (c.start_s > s.duration_s) continue;  // never started
    ++t.started;
    t.dropped += c.saw_drop();
  }
  t.measured = t.started ? double(t.dropped) / double(t.started) : 0;
  // Linux's first SYN retransmission comes after 1 s: a client that gives up
  // sooner never retries.
  t.clients_retry = s.connect_timeout_s <= 0 || s.connect_timeout_s >= 1;
  return t;
}

std::string report_html(const std::vector<LabResult>& runs, const ReportAssets& assets) {
  const std::string name = runs.empty() ? "lab" : runs.front().scenario.name;
  std::string body = fmt::format("<h1>synq lab: {}</h1>\n", html::escape(name));
  if (!runs.empty() && !runs.front().scenario.description.empty())
    body += "<p>" + html::escape(runs.front().scenario.description) + "</p>\n";
  body +=
      "<p>How to read this page: the first chart shows how full the listener's SYN queue "
      "(half-open requests) and accept queue (connections waiting for accept()) were, against "
      "the limit the model puts on them (dashed); the second, how long clients waited for "
      "connect() to complete; the third, which drops happened when. Runs side by side share "
      "their scales. The story lists the moments worth a look; the timeline below it has every "
      "packet and decision.</p>\n";
  const ChartScales sc = shared_scales(runs);
  ordered_json specs = ordered_json::array();
  // One grid row per kind of item (heading, summary, drops, theory, each
  // chart), one column per run: what is compared sits side by side at the
  // same height, however long each run's summary is.
  constexpr size_t kRows = 7;
  std::vector<std::array<std::string, kRows>> cells(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    const LabResult& r = runs[i];
    auto& c = cells[i];
    c[0] = fmt::format("<h2>{} (model {})</h2>\n", html::escape(run_label(r)),
                       html::escape(r.scenario.model));
    c[1] = "<pre>" + html::escape(summary_text(r)) + "</pre>\n";
    if (!r.error.empty()) continue;
    c[2] = drops_line(r);
    c[3] = theory_html(r);
    c[4] = chart_or_note(fmt::format("chart-{}-queues", i), queue_chart(r, sc), "", specs);
    c[5] = chart_or_note(fmt::format("chart-{}-connect", i), connect_chart(r, sc),
                         "<b>Connect time</b>: no client completed connect() in this run.", specs);
    c[6] = chart_or_note(
        fmt::format("chart-{}-drops", i), drops_chart(r, sc),
        "<b>No drops</b>: the listener dropped no segment in this run (nothing to chart).", specs);
  }
  body += fmt::format(
      "<div class=\"grid\" style=\"grid-template-columns: repeat({}, minmax(640px, 900px))\">\n",
      std::max<size_t>(1, runs.size()));
  for (size_t k = 0; k < kRows; ++k)
    for (const auto& c : cells) body += "<div class=\"cell\">" + c[k] + "</div>\n";
  body += "</div>\n";
  body += ladders_html(runs);
  body += "<div class=\"runs\">\n";
  for (const auto& r : runs) {
    body += fmt::format("<div class=\"run\"><h2>{}: story and timeline</h2>\n",
                        html::escape(run_label(r)));
    if (!r.story.empty()) {
      body += "<h3>The story</h3>\n<table class=\"story\">\n";
      for (const auto& e : r.story)
        body += fmt::format("<tr><td>{:.3f}</td><td>{}</td><td>{}</td></tr>\n", e.t,
                            html::escape(e.kind), html::escape(e.text));
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
      body += fmt::format("<span class=\"{}\">{:9.3f} {}</span>\n", cls, e.t, html::escape(e.text));
    }
    body += "</pre></div>\n";
  }
  body += "</div>\n";
  return page("synq lab: " + name, body, specs, assets);
}

std::string sweep_report_html(const std::string& title, const std::string& answer,
                              const std::vector<SweepPoint>& points, const ReportAssets& assets,
                              double target_drop_rate) {
  const std::string x_name = points.empty() ? "x" : points.front().x_name;
  const std::string series_name = points.empty() ? "" : points.front().series_name;
  std::vector<SweepChartPoint> pts;
  bool any_drop = false;
  for (const auto& p : points) {
    pts.push_back({p.x, p.series, p.drop_rate, p.p99_connect_s});
    any_drop = any_drop || p.drop_rate > 0;
  }
  ordered_json specs = ordered_json::array();
  std::string body =
      "<h1>" + html::escape(title) + "</h1>\n<p><b>" + html::escape(answer) + "</b></p>\n";
  if (points.empty()) {
    body +=
        "<div class=\"empty\"><b>Nothing to chart</b>: no point of the sweep has a numeric "
        "first parameter and a result.</div>\n";
  } else {
    std::optional<ordered_json> drop;
    if (any_drop)
      drop = sweep_chart(pts, x_name, series_name, "drop_rate", "clients that saw a drop",
                         "Drop rate", target_drop_rate);
    body += chart_or_note("chart-drop", drop,
                          "<b>No drops</b> at any point of the sweep: every client got through "
                          "without a drop.",
                          specs);
    body += chart_or_note("chart-p99",
                          sweep_chart(pts, x_name, series_name, "p99_connect_s", "p99 connect time",
                                      "p99 connect time", -1),
                          "", specs);
  }
  body += "<table class=\"story\"><tr><td>" + html::escape(x_name) + "</td><td>" +
          html::escape(series_name) + "</td><td>drop rate</td><td>p99 connect (s)</td></tr>\n";
  for (const auto& p : points)
    body += fmt::format("<tr><td>{}</td><td>{}</td><td>{:.4f}</td><td>{:.4f}</td></tr>\n", p.x,
                        html::escape(p.series), p.drop_rate, p.p99_connect_s);
  body += "</table>\n";
  return page(title, body, specs, assets);
}

}  // namespace synq::lab
