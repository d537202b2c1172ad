// `synq lab`: run a scenario in the simulator and show what the backlog did;
// `synq lab sweep`: the same over a grid of parameters, in parallel.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "commands.hpp"
#include "lab/builtin.hpp"
#include "lab/counter_label.hpp"
#include "lab/format_time.hpp"
#include "lab/lab_run.hpp"
#include "lab/report.hpp"
#include "lab/sweep.hpp"
#include "synq/sysctl.hpp"

namespace synq::cli {

namespace {

// The flags every form shares: which scenario, and what to change in it.
struct ScenarioArgs {
  std::string name = "seeds";  // a built-in name or a .toml file
  std::optional<std::string> model;
  std::optional<int> backlog;
  std::optional<int> clients;
  std::optional<std::string> arrival;
  std::optional<std::string> accept;
  std::optional<int> workers;
  std::optional<std::string> service;
  std::optional<double> duration;
  std::optional<uint64_t> seed;
  std::optional<double> connect_timeout;
  std::vector<std::string> sets;
  std::vector<std::string> client_sets;

  bool customized() const {
    return model || backlog || clients || arrival || accept || workers || service || duration ||
           seed || connect_timeout || !sets.empty() || !client_sets.empty();
  }
};

void add_scenario_options(CLI::App* cmd, ScenarioArgs& a) {
  cmd->add_option("scenario", a.name, "built-in scenario name (see --list) or a TOML file");
  cmd->add_option("--model", a.model, "listener model: linux|bsd44|freebsd|xnu");
  cmd->add_option("--backlog", a.backlog, "listen() backlog as passed to the call");
  cmd->add_option("--clients", a.clients, "number of clients")->check(CLI::NonNegativeNumber);
  cmd->add_option("--arrival", a.arrival, "burst | every:SEC | poisson:PER_SEC | trace:FILE");
  cmd->add_option("--accept", a.accept, "never | at:SEC | rate:PER_SEC");
  cmd->add_option("--workers", a.workers, "N worker threads that accept() when idle")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--service", a.service,
                  "workers' service time: fixed:S | exp:MEAN | uniform:A:B");
  cmd->add_option("--duration", a.duration, "seconds of virtual time")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", a.seed, "seed of every random choice");
  cmd->add_option("--connect-timeout", a.connect_timeout,
                  "clients give up connect() after this many seconds");
  cmd->add_option("--set", a.sets, "server knob by sysctl name: name=value (repeatable)");
  cmd->add_option("--client-set", a.client_sets,
                  "client knob by sysctl name: name=value (repeatable)");
}

std::pair<std::string, std::string> split_set(const std::string& kv, const char* flag) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    throw CLI::ValidationError(flag, fmt::format("expected name=value, got '{}'", kv));
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

// The runs the arguments ask for: a built-in's runs or a file's scenario,
// then the flags on top (a customized built-in runs once).
std::vector<lab::Scenario> scenarios_from(const ScenarioArgs& a) {
  std::vector<lab::Scenario> runs;
  if (const auto* builtin = lab::find_builtin(a.name)) {
    runs = builtin->runs;
  } else if (std::filesystem::exists(a.name)) {
    std::string err;
    auto s = lab::load_scenario_file(a.name, &err);
    if (!s) throw CLI::ValidationError("scenario", err);
    runs.push_back(*s);
  } else {
    throw CLI::ValidationError(
        "scenario",
        fmt::format("'{}' is neither a built-in scenario (see synq lab --list) nor a file",
                    a.name));
  }
  if (a.customized() && runs.size() > 1 && !a.model) runs.resize(1);
  if (a.model) runs.resize(1);
  for (auto& s : runs) {
    if (a.model) s.model = *a.model, s.variant.clear();
    if (a.backlog) s.backlog = *a.backlog;
    if (a.clients) s.clients = *a.clients;
    if (a.workers) s.workers = *a.workers;
    if (a.duration) s.duration_s = *a.duration;
    if (a.seed) s.seed = *a.seed;
    if (a.connect_timeout) s.connect_timeout_s = *a.connect_timeout;
    std::string err;
    if (a.arrival) {
      auto v = lab::Arrival::parse(*a.arrival, &err);
      if (!v) throw CLI::ValidationError("--arrival", err);
      s.arrival = *v;
      if (a.arrival->rfind("trace:", 0) != 0) s.client_start_s.clear();
    }
    if (a.accept) {
      auto v = lab::AcceptPolicy::parse(*a.accept, &err);
      if (!v) throw CLI::ValidationError("--accept", err);
      s.accept = *v;
    }
    if (a.service) {
      auto v = lab::ServiceTime::parse(*a.service, &err);
      if (!v) throw CLI::ValidationError("--service", err);
      s.service = *v;
    }
    for (const auto& kv : a.sets) {
      auto [k, v] = split_set(kv, "--set");
      if (!lab::apply_parameter(s, k, v, &err)) throw CLI::ValidationError("--set", err);
    }
    for (const auto& kv : a.client_sets) {
      auto [k, v] = split_set(kv, "--client-set");
      Sysctls probe;
      if (!probe.set(k, v, &err)) throw CLI::ValidationError("--client-set", err);
      s.client_sysctls.emplace_back(k, v);
    }
  }
  return runs;
}

void print_timeline(const lab::LabResult& r) {
  // The time column is format_time_column's fixed 11 columns: µs for what
  // happens within a round trip, seconds for the SYN-ACK schedule.
  for (const auto& e : r.timeline) {
    const std::string t = lab::format_time_column(e.t);
    if (e.kind == lab::TimelineEntry::Kind::snapshot) {
      std::printf("%s  %s", t.c_str(), e.text.c_str());
      continue;
    }
    const char* tag = "  --";
    if (e.kind == lab::TimelineEntry::Kind::packet) tag = e.lost ? "LOST" : "    ";
    if (e.kind == lab::TimelineEntry::Kind::decision) tag = "  =>";
    // A decision names its counter as the summary and the JSON do.
    const std::string text =
        e.kind == lab::TimelineEntry::Kind::decision ? lab::relabel_counter_tag(e.text) : e.text;
    std::printf("%s %s %s\n", t.c_str(), tag, text.c_str());
  }
}

void print_story(const lab::LabResult& r) {
  if (r.story.empty()) return;
  std::printf("--- the story in plain words:\n");
  for (const auto& e : r.story)
    std::printf("%s  %s\n", lab::format_time_column(e.t).c_str(), e.text.c_str());
}

// The runs of one built-in next to each other: what differs between models.
void print_side_by_side(const std::vector<lab::LabResult>& results) {
  std::printf("--- side by side:\n%-34s", "");
  for (const auto& r : results)
    std::printf("%14s",
                (r.scenario.variant.empty() ? r.scenario.model : r.scenario.variant).c_str());
  std::printf("\n");
  const auto row = [&](const char* what, auto value) {
    std::printf("%-34s", what);
    for (const auto& r : results) std::printf("%14s", value(r).c_str());
    std::printf("\n");
  };
  const auto count = [](const lab::LabResult& r, const char* kind) {
    size_t n = 0;
    for (const auto& e : r.story) n += e.kind == kind;
    return std::to_string(n);
  };
  row("backlog B after the clamp",
      [](const lab::LabResult& r) { return std::to_string(r.backlog_clamped); });
  row("accept queue high-water mark",
      [](const lab::LabResult& r) { return std::to_string(r.max_accept_queue); });
  row("SYN queue high-water mark",
      [](const lab::LabResult& r) { return std::to_string(r.max_syn_queue); });
  row("SYNs dropped", [](const lab::LabResult& r) {
    size_t n = 0;
    for (const auto& d : r.decisions) n += d.decision == "drop" && (d.tcp_flags & 0x12) == 0x02;
    return std::to_string(n);
  });
  row("clients whose third ACK was ignored",
      [&](const lab::LabResult& r) { return count(r, "third_ack_ignored"); });
  row("requests expired", [&](const lab::LabResult& r) { return count(r, "request_expired"); });
  for (int o = 0; o < 5; ++o)
    row(fmt::format("clients {}", lab::outcome_name(static_cast<lab::Outcome>(o))).c_str(),
        [o](const lab::LabResult& r) {
          size_t n = 0;
          for (const auto& c : r.clients) n += static_cast<int>(c.outcome) == o;
          return std::to_string(n);
        });
  row("ListenDrops", [](const lab::LabResult& r) {
    return std::to_string(r.server.get(Counter::TcpExt_ListenDrops));
  });
}

void write_file(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) throw CLI::Error("io", fmt::format("cannot write {}", path), 74);
}

// "out/seeds.json" for a single run, "out/seeds-linux.json" when a built-in has several.
std::string output_path(const std::string& base, const lab::Scenario& s, size_t runs) {
  if (base.empty() || base == "-" || runs == 1) return base;
  auto p = std::filesystem::path(base);
  const std::string label = s.variant.empty() ? s.model : s.variant;
  return (p.parent_path() / (p.stem().string() + "-" + label + p.extension().string())).string();
}

// A progress bar for runs that take more than a second of wall time, only
// when a person is watching (stdout is a terminal).
std::function<void(double)> progress_bar(const std::string& label) {
  if (!isatty(STDOUT_FILENO)) return {};
  auto start = std::chrono::steady_clock::now();
  auto shown = std::make_shared<bool>(false);
  return [start, shown, label](double f) {
    const auto waited = std::chrono::steady_clock::now() - start;
    if (waited < std::chrono::seconds(1) && f < 1.0) return;
    if (f >= 1.0) {
      if (*shown) std::printf("\r%*s\r", 70, "");
      std::fflush(stdout);
      return;
    }
    *shown = true;
    const int width = 40;
    const int done = static_cast<int>(f * width);
    std::printf("\r%s [%s%s] %3d%%", label.c_str(), std::string(size_t(done), '#').c_str(),
                std::string(size_t(width - done), ' ').c_str(), static_cast<int>(f * 100));
    std::fflush(stdout);
  };
}

lab::ReportAssets assets_or_throw(const std::string& dir) {
  std::string err;
  auto a = lab::load_report_assets(dir, &err);
  if (!a) throw CLI::Error("report", err, 1);
  return *a;
}

struct LabArgs {
  ScenarioArgs scenario;
  bool list = false;
  std::string json, pcap, report, out_dir, assets;
  bool quiet = false;
  bool no_timeline = false;
};

void run_lab(const LabArgs& a) {
  if (a.list) {
    for (const auto& b : lab::builtin_scenarios()) {
      std::string models;
      for (const auto& s : b.runs)
        models += (models.empty() ? "" : ", ") + (s.variant.empty() ? s.model : s.variant);
      std::printf("%-10s %s [%s]\n", b.name.c_str(), b.teaches.c_str(), models.c_str());
    }
    return;
  }
  std::vector<lab::Scenario> runs = scenarios_from(a.scenario);
  std::string json = a.json, pcap = a.pcap, report = a.report;
  const std::string stem = std::filesystem::path(a.scenario.name).stem().string();
  if (!a.out_dir.empty()) {
    std::filesystem::create_directories(a.out_dir);
    const auto dir = std::filesystem::path(a.out_dir);
    if (json.empty()) json = (dir / (stem + ".json")).string();
    if (pcap.empty()) pcap = (dir / (stem + ".pcap")).string();
    if (report.empty()) report = (dir / (stem + ".html")).string();
  }
  // Load the bundles first: a missing install should fail before a long run.
  std::optional<lab::ReportAssets> assets;
  if (!report.empty()) assets = assets_or_throw(a.assets);
  const bool human = json != "-";
  int failures = 0;
  std::vector<lab::LabResult> results;
  std::vector<std::string> written;
  for (const auto& s : runs) {
    lab::RunOptions opts;
    opts.pcap_path = output_path(pcap, s, runs.size());
    opts.record_timeline = !a.no_timeline;
    if (s.clients > 20000) opts.timeline_limit = 500;
    if (human) opts.progress = progress_bar(fmt::format("{} on {}", s.name, s.model));
    auto r = lab::run(s, opts);
    if (human) {
      std::printf("=== %s on %s: %s\n", s.name.c_str(), s.model.c_str(), s.description.c_str());
      if (!a.quiet) {
        print_timeline(r);
        print_story(r);
      }
      std::printf("%s\n", lab::summary_text(r).c_str());
    }
    if (!r.error.empty()) ++failures;
    const auto jpath = output_path(json, s, runs.size());
    if (jpath == "-" && runs.size() > 1) {
      // Several runs on stdout: one JSON array, so the output stays one document.
      std::printf("%s%s", results.empty() ? "[\n" : ",\n", lab::to_json(r).c_str());
      if (results.size() + 1 == runs.size()) std::printf("\n]\n");
    } else if (!jpath.empty()) {
      write_file(jpath, lab::to_json(r));
      if (jpath != "-") written.push_back(jpath + " (everything as JSON)");
    }
    if (!opts.pcap_path.empty() && r.error.empty())
      written.push_back(opts.pcap_path + " (the packets, for wireshark/tshark)");
    results.push_back(std::move(r));
  }
  if (human && results.size() > 1) print_side_by_side(results);
  if (!report.empty()) {
    write_file(report, lab::report_html(results, *assets));
    if (report != "-") written.push_back(report + " (charts and timeline: open it in a browser)");
  }
  if (human)
    for (const auto& w : written) std::printf("wrote %s\n", w.c_str());
  if (failures) throw CLI::RuntimeError(1);
}

struct SweepArgs {
  ScenarioArgs scenario;
  std::string vary = "backlog=1..64";
  std::string vary2;
  double target = 0.01;
  unsigned threads = 0;
  std::string json, report, assets;
};

void run_sweep_command(SweepArgs a) {
  if (a.scenario.name == "seeds") a.scenario.name = "workers";  // the default load to size
  auto runs = scenarios_from(a.scenario);
  const lab::Scenario base = runs.front();
  std::string err;
  auto x = lab::SweepAxis::parse(a.vary, &err);
  if (!x) throw CLI::ValidationError("--vary", err);
  std::optional<lab::SweepAxis> y;
  if (!a.vary2.empty()) {
    y = lab::SweepAxis::parse(a.vary2, &err);
    if (!y) throw CLI::ValidationError("--vary2", err);
  }
  std::optional<lab::ReportAssets> assets;
  if (!a.report.empty()) assets = assets_or_throw(a.assets);
  const size_t points = x->values.size() * (y ? y->values.size() : 1);
  const bool human = a.json != "-";
  if (human)
    std::printf("sweep of %s: %zu runs of %zu clients on %u threads\n", base.name.c_str(), points,
                static_cast<size_t>(base.clients),
                a.threads ? a.threads : std::max(1u, std::thread::hardware_concurrency()));
  auto r = lab::run_sweep(base, *x, y, a.target, a.threads);
  if (human) std::printf("%s%s\n", lab::sweep_table(*x, y, r).c_str(), r.answer.c_str());
  if (!a.json.empty()) {
    write_file(a.json, lab::sweep_json(base, *x, y, a.target, r));
    if (human) std::printf("wrote %s\n", a.json.c_str());
  }
  if (!a.report.empty()) {
    std::vector<lab::SweepPoint> pts;
    for (const auto& row : r.rows) {
      if (!row.error.empty()) continue;
      double xv = 0;
      try {
        xv = std::stod(row.x);
      } catch (...) {
        continue;  // a non-numeric first parameter has no line chart
      }
      pts.push_back({x->name, y ? y->name : "", xv, row.y, row.drop_rate, row.p99_connect_s});
    }
    write_file(a.report,
               lab::sweep_report_html(fmt::format("synq lab sweep: {} over {}", base.name, x->name),
                                      r.answer, pts, *assets));
    if (human) std::printf("wrote %s\n", a.report.c_str());
  }
}

}  // namespace

void add_lab_command(CLI::App& app) {
  auto args = std::make_shared<LabArgs>();
  auto* cmd = app.add_subcommand("lab", "Run a backlog scenario in virtual time and explain it");
  cmd->require_subcommand(0, 1);
  add_scenario_options(cmd, args->scenario);
  cmd->add_flag("--list", args->list, "list built-in scenarios");
  cmd->add_option("--json", args->json, "write everything as JSON (- for stdout)");
  cmd->add_option("--pcap", args->pcap, "write the packets as pcap");
  cmd->add_option("--report", args->report, "write a self-contained HTML report with charts");
  cmd->add_option("--out-dir", args->out_dir,
                  "write NAME.json, NAME.pcap and NAME.html into this directory");
  cmd->add_option("--assets", args->assets,
                  "directory with the report's node_modules (default: beside the executable)");
  cmd->add_flag("--quiet", args->quiet, "summary only, no timeline");
  cmd->add_flag("--no-timeline", args->no_timeline, "record no timeline (huge runs)");

  auto sargs = std::make_shared<SweepArgs>();
  auto* sweep = cmd->add_subcommand(
      "sweep", "Run a scenario over one or two parameters in parallel and size the backlog");
  add_scenario_options(sweep, sargs->scenario);
  sweep
      ->add_option("--vary", sargs->vary,
                   "first parameter: name=v1,v2,... or name=LOW..HIGH (powers of two)")
      ->capture_default_str();
  sweep->add_option("--vary2", sargs->vary2, "second parameter, same form");
  sweep->add_option("--target", sargs->target, "drop rate the answer must stay under")
      ->capture_default_str();
  sweep->add_option("--threads", sargs->threads, "threads (default: every core)");
  sweep->add_option("--json", sargs->json, "write the table as JSON (- for stdout)");
  sweep->add_option("--report", sargs->report, "write an HTML page with the charts");
  sweep->add_option("--assets", sargs->assets, "directory with the report's node_modules");
  sweep->callback([sargs] { run_sweep_command(*sargs); });

  cmd->callback([args, sweep] {
    if (sweep->parsed()) return;
    run_lab(*args);
  });
}

}  // namespace synq::cli
