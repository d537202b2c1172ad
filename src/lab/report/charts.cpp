#include "lab/report/charts.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

namespace synq::lab {

namespace {

using nlohmann::ordered_json;

ordered_json base_spec(const std::string& title) {
  return {{"$schema", "https://vega.github.io/schema/vega-lite/v6.json"},
          {"title", title},
          {"width", 520},
          {"height", 200}};
}

// Counts are whole numbers: no 0.5 ticks on a queue of two.
ordered_json count_axis(const char* title, uint32_t max) {
  return {{"title", title},
          {"scale", {{"domain", {0, max}}, {"nice", false}}},
          {"axis", {{"tickMinStep", 1}, {"format", "d"}}}};
}

ordered_json time_axis(double duration_s) {
  return {{"title", "time (s)"},
          {"scale", {{"domain", {0, duration_s}}, {"nice", false}}},
          {"axis", {{"format", "~f"}}}};
}

// 0, step, 2 step, ... up to `span`, with step 1, 2 or 5 times a power of ten
// and at most about ten ticks.
std::vector<double> round_ticks(double span) {
  std::vector<double> out;
  if (!(span > 0)) return out;
  const double p = std::pow(10.0, std::floor(std::log10(span / 10)));
  double step = p;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (span / (m * p) <= 10) {
      step = m * p;
      break;
    }
  for (int i = 0; i * step <= span * (1 + 1e-9); ++i) out.push_back(std::round(i * step / p) * p);
  return out;
}

constexpr size_t kMaxBands = 300;

}  // namespace

const char* const kTimeLabelExpr =
    "datum.value >= 1 ? format(datum.value, '~g') + ' s' : datum.value >= 0.001 ? "
    "format(datum.value * 1000, '~g') + ' ms' : format(datum.value * 1000000, '~g') + ' µs'";

std::vector<double> decade_ticks(double lo, double hi) {
  std::vector<double> out;
  if (!(lo > 0) || !(hi >= lo)) return out;
  for (int e = static_cast<int>(std::floor(std::log10(lo))); e <= std::ceil(std::log10(hi)); ++e) {
    const double v = std::pow(10.0, e);
    if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
  }
  return out;
}

ChartScales shared_scales(const std::vector<LabResult>& runs) {
  ChartScales sc;
  double cmin = INFINITY, cmax = 0;
  for (const auto& r : runs) {
    sc.duration_s = std::max(sc.duration_s, r.scenario.duration_s);
    uint32_t q = std::max(r.max_syn_queue, r.max_accept_queue);
    if (auto lim = queue_limit(r.scenario.model, r.backlog_clamped)) {
      q = std::max(q, lim->value);
      if (lim->counts_half_open)
        for (const auto& s : r.queues) q = std::max(q, s.syn_queue + s.accept_queue);
    }
    sc.queue_max = std::max(sc.queue_max, q);
    size_t bins = 0;
    for (const auto& [reason, b] : r.drops.by_reason) bins = std::max(bins, b.size());
    for (size_t i = 0; i < bins; ++i) {
      uint32_t sum = 0;
      for (const auto& [reason, b] : r.drops.by_reason)
        if (i < b.size()) sum += b[i];
      sc.drops_max = std::max(sc.drops_max, sum);
    }
    for (const auto& c : r.clients)
      if (c.connect_time_s >= 0) {
        cmin = std::min(cmin, std::max(c.connect_time_s, 1e-6));
        cmax = std::max(cmax, std::max(c.connect_time_s, 1e-6));
      }
  }
  // Headroom above the highest count, so a line at the maximum (and the
  // limit's label) does not sit on the frame.
  sc.queue_max += std::max<uint32_t>(1, sc.queue_max / 8);
  sc.drops_max += std::max<uint32_t>(1, sc.drops_max / 8);
  if (cmax > 0) {
    sc.connect_min = std::pow(10.0, std::floor(std::log10(cmin)));
    sc.connect_max = std::pow(10.0, std::ceil(std::log10(cmax)));
    if (sc.connect_max <= sc.connect_min) sc.connect_max = sc.connect_min * 10;
  }
  return sc;
}

ordered_json queue_chart(const LabResult& r, const ChartScales& sc) {
  const auto lim = queue_limit(r.scenario.model, r.backlog_clamped);
  const bool binned = r.queue_bin_s > 0;
  // A one-count model's limit is on the sum: draw the sum, or the limit
  // line would have nothing to be read against. (Per bin, a sum of maxima is
  // not the maximum of the sum, so binned runs leave it out.)
  const bool total = lim && lim->counts_half_open && !binned;
  ordered_json values = ordered_json::array();
  auto add = [&](double t, const char* q, uint32_t hi, uint32_t lo) {
    values.push_back({{"t", t}, {"queue", q}, {"entries", hi}, {"low", lo}});
  };
  auto add_sample = [&](double t, const QueueSample& s) {
    add(t, "SYN queue", s.syn_queue, s.syn_queue_min);
    add(t, "accept queue", s.accept_queue, s.accept_queue_min);
    if (total) add(t, "SYN + accept", s.syn_queue + s.accept_queue, s.syn_queue + s.accept_queue);
  };
  add_sample(0, QueueSample{});
  // A chart 520 px wide shows a few hundred bins at most: more only smear
  // into a solid block. Merge neighbours (min of minima, max of maxima).
  const size_t merge = binned ? (r.queues.size() + kMaxBands - 1) / kMaxBands : 1;
  double shown_bin_s = r.queue_bin_s;
  if (merge > 1) {
    shown_bin_s = r.queue_bin_s * static_cast<double>(merge);
    std::optional<QueueSample> cur;
    for (const auto& q : r.queues) {
      const double start = std::floor(q.t / shown_bin_s) * shown_bin_s;
      if (cur && cur->t != start) {
        add_sample(cur->t, *cur);
        cur.reset();
      }
      if (!cur) {
        cur = q;
        cur->t = start;
        continue;
      }
      cur->syn_queue = std::max(cur->syn_queue, q.syn_queue);
      cur->accept_queue = std::max(cur->accept_queue, q.accept_queue);
      cur->syn_queue_min = std::min(cur->syn_queue_min, q.syn_queue_min);
      cur->accept_queue_min = std::min(cur->accept_queue_min, q.accept_queue_min);
    }
    if (cur) add_sample(cur->t, *cur);
  } else {
    for (const auto& q : r.queues) add_sample(q.t, q);
  }
  add_sample(r.scenario.duration_s, r.queues.empty() ? QueueSample{} : r.queues.back());

  const std::string title =
      binned ? fmt::format("Listener queues over time (band: min–max per {:.3g} ms)",
                           shown_bin_s * 1000)
             : "Listener queues over time";
  auto spec = base_spec(title);
  // Vega's first two colours (blue, orange) for the queues; green for the
  // sum, away from the limit's red.
  ordered_json domain = {"SYN queue", "accept queue"};
  ordered_json range = {"#4c78a8", "#f58518"};
  if (total) {
    domain.push_back("SYN + accept");
    range.push_back("#54a24b");
  }
  const ordered_json color = {{"field", "queue"},
                              {"type", "nominal"},
                              {"title", nullptr},
                              {"scale", {{"domain", domain}, {"range", range}}},
                              {"legend",
                               {{"orient", "bottom"},
                                {"direction", "horizontal"},
                                {"symbolOpacity", 1},
                                {"symbolStrokeWidth", 2}}}};
  ordered_json x = time_axis(r.scenario.duration_s);
  x["field"] = "t";
  x["type"] = "quantitative";
  ordered_json y = count_axis("entries", sc.queue_max);
  y["field"] = "entries";
  y["type"] = "quantitative";

  ordered_json layers = ordered_json::array();
  if (binned)
    layers.push_back(
        {{"data", {{"values", values}}},
         {"mark", {{"type", "area"}, {"interpolate", "step-after"}, {"opacity", 0.45}}},
         {"encoding", {{"x", x}, {"y", y}, {"y2", {{"field", "low"}}}, {"color", color}}}});
  else {  // the band's top edge is the maximum already
    // The sum is often equal to one of the queues: a wide pale line under
    // them keeps both visible.
    if (total)
      layers.push_back({{"data", {{"values", values}}},
                        {"transform", {{{"filter", "datum.queue == 'SYN + accept'"}}}},
                        {"mark",
                         {{"type", "line"},
                          {"interpolate", "step-after"},
                          {"strokeWidth", 7},
                          {"opacity", 0.4}}},
                        {"encoding", {{"x", x}, {"y", y}, {"color", color}}}});
    layers.push_back(
        {{"data", {{"values", values}}},
         {"mark", {{"type", "line"}, {"interpolate", "step-after"}, {"strokeWidth", 2}}},
         {"transform", {{{"filter", "datum.queue != 'SYN + accept'"}}}},
         {"encoding", {{"x", x}, {"y", y}, {"color", color}}}});
  }
  if (lim) {
    // Linux's SYN queue is full at the same count (qlen > B) unless the
    // legacy check (qlen >= B) is asked for: say so, or a SYN queue pinned at
    // the line would look like a mistake.
    const bool legacy = std::any_of(
        r.scenario.server_sysctls.begin(), r.scenario.server_sysctls.end(),
        [](const auto& kv) { return kv.first == "synq.syn_queue_check" && kv.second == "legacy"; });
    const std::string what = lim->counts_half_open                    ? "SYN + accept limit"
                             : r.scenario.model == "linux" && !legacy ? "limit of each queue"
                                                                      : "accept-queue limit";
    const std::string text = fmt::format("{} {} = {}", what, lim->formula, lim->value);
    ordered_json rule_data = {
        {"values", {{{"limit", lim->value}, {"t", r.scenario.duration_s}, {"text", text}}}}};
    ordered_json ly = y;
    ly["field"] = "limit";
    layers.push_back({{"data", rule_data},
                      {"mark", {{"type", "rule"}, {"strokeDash", {6, 4}}, {"color", "#c62828"}}},
                      {"encoding", {{"y", ly}}}});
    ordered_json tx = x;
    tx["field"] = "t";
    layers.push_back({{"data", rule_data},
                      {"mark",
                       {{"type", "text"},
                        {"align", "right"},
                        {"baseline", "bottom"},
                        {"dy", -3},
                        {"color", "#c62828"}}},
                      {"encoding", {{"x", tx}, {"y", ly}, {"text", {{"field", "text"}}}}}});
  }
  spec["layer"] = layers;
  return spec;
}

std::optional<ordered_json> connect_chart(const LabResult& r, const ChartScales& sc) {
  std::vector<double> t;
  for (const auto& c : r.clients)
    if (c.connect_time_s >= 0) t.push_back(std::max(c.connect_time_s, 1e-6));
  if (t.empty()) return std::nullopt;
  std::sort(t.begin(), t.end());
  ordered_json values = ordered_json::array();
  const size_t step = std::max<size_t>(1, t.size() / 2000);  // keep the page small
  for (size_t i = 0; i < t.size(); i += step)
    values.push_back({{"connect_s", t[i]}, {"fraction", double(i + 1) / double(t.size())}});
  values.push_back({{"connect_s", t.back()}, {"fraction", 1.0}});
  auto spec = base_spec(fmt::format("Connect time, cumulative ({} of {} clients connected)",
                                    t.size(), r.clients.size()));
  spec["data"] = {{"values", values}};
  spec["mark"] = {{"type", "line"}, {"interpolate", "step-after"}, {"point", true}};
  spec["encoding"] = {
      {"x",
       {{"field", "connect_s"},
        {"type", "quantitative"},
        {"scale", {{"type", "log"}, {"domain", {sc.connect_min, sc.connect_max}}}},
        {"axis",
         {{"values", decade_ticks(sc.connect_min, sc.connect_max)}, {"labelExpr", kTimeLabelExpr}}},
        {"title", "connect time (log scale)"}}},
      {"y",
       {{"field", "fraction"},
        {"type", "quantitative"},
        {"scale", {{"domain", {0, 1}}}},
        {"axis", {{"format", "~%"}}},
        {"title", "connected clients"}}}};
  return spec;
}

std::optional<ordered_json> drops_chart(const LabResult& r, const ChartScales& sc) {
  ordered_json values = ordered_json::array();
  for (const auto& [reason, bins] : r.drops.by_reason)
    for (size_t i = 0; i < bins.size(); ++i)
      if (bins[i])
        values.push_back({{"t", double(i) * r.drops.bin_s},
                          {"t_end", double(i + 1) * r.drops.bin_s},
                          {"reason", reason},
                          {"drops", bins[i]}});
  if (values.empty()) return std::nullopt;
  auto spec = base_spec(fmt::format("Drops by reason ({:g} s bins)", r.drops.bin_s));
  spec["data"] = {{"values", values}};
  spec["mark"] = {{"type", "bar"}};
  // Binned, so the bars stand on the axis and stack; a binned axis ticks at
  // bin edges (1.4, 2.8, ...) unless given round values.
  ordered_json x = time_axis(r.scenario.duration_s);
  x["field"] = "t";
  x["type"] = "quantitative";
  x["bin"] = {{"binned", true}, {"step", r.drops.bin_s}};
  x["axis"]["values"] = round_ticks(r.scenario.duration_s);
  ordered_json y = count_axis("drops", sc.drops_max);
  y["field"] = "drops";
  y["type"] = "quantitative";
  y["stack"] = true;
  spec["encoding"] = {{"x", x},
                      {"x2", {{"field", "t_end"}}},
                      {"y", y},
                      {"color",
                       {{"field", "reason"},
                        {"type", "nominal"},
                        {"legend", {{"orient", "bottom"}, {"labelLimit", 520}, {"columns", 1}}}}}};
  return spec;
}

ordered_json sweep_chart(const std::vector<SweepChartPoint>& points, const std::string& x_name,
                         const std::string& series_name, const char* field, const char* y_title,
                         const char* title, double target) {
  ordered_json values = ordered_json::array();
  std::set<double> xs;
  for (const auto& p : points) {
    values.push_back({{"x", p.x},
                      {"series", p.series.empty() ? "all" : p.series},
                      {"drop_rate", p.drop_rate},
                      {"p99_connect_s", p.p99_connect_s}});
    xs.insert(p.x);
  }
  // A backlog sweep doubles its value each step (LOW..HIGH): log2 spaces the
  // points evenly and ticks at exactly the values tried.
  const bool log2 = x_name == "backlog" && !xs.empty() && *xs.begin() > 0;
  ordered_json x = {{"field", "x"}, {"type", "quantitative"}, {"title", x_name}};
  if (log2) {
    x["scale"] = {{"type", "log"}, {"base", 2}};
    x["axis"] = {{"values", std::vector<double>(xs.begin(), xs.end())}, {"format", "d"}};
  } else {
    x["axis"] = {{"format", "~f"}};
  }
  const bool rate = std::string(field) == "drop_rate";
  ordered_json y = {{"field", field}, {"type", "quantitative"}, {"title", y_title}};
  y["axis"] = rate ? ordered_json{{"format", "~%"}} : ordered_json{{"labelExpr", kTimeLabelExpr}};
  ordered_json layers = ordered_json::array();
  layers.push_back({{"data", {{"values", values}}},
                    {"mark", {{"type", "line"}, {"point", true}}},
                    {"encoding",
                     {{"x", x},
                      {"y", y},
                      {"color",
                       {{"field", "series"},
                        {"type", "nominal"},
                        {"title", series_name.empty() ? "" : series_name}}}}}});
  if (target >= 0) {
    ordered_json data = {
        {"values", {{{"target", target}, {"text", fmt::format("target {:g}%", target * 100)}}}}};
    ordered_json ty = y;
    ty["field"] = "target";
    layers.push_back({{"data", data},
                      {"mark", {{"type", "rule"}, {"strokeDash", {6, 4}}, {"color", "#c62828"}}},
                      {"encoding", {{"y", ty}}}});
    layers.push_back({{"data", data},
                      {"mark",
                       {{"type", "text"},
                        {"align", "left"},
                        {"baseline", "bottom"},
                        {"x", 4},
                        {"dy", -3},
                        {"color", "#c62828"}}},
                      {"encoding", {{"y", ty}, {"text", {{"field", "text"}}}}}});
  }
  auto spec = base_spec(title);
  spec["layer"] = layers;
  return spec;
}

}  // namespace synq::lab
