// `synq lab`: run a scenario in the simulator and show what the backlog did;
// `synq lab sweep`: the same over a grid of parameters, in parallel.
// The scenario flags live in lab_scenario_args.cpp; every input is checked
// and every output path probed before the first run starts.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "base/input_file.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "lab/builtin.hpp"
#include "lab/format_time.hpp"
#include "lab/lab_run.hpp"
#include "lab/report.hpp"
#include "lab/sweep.hpp"
#include "lab_scenario_args.hpp"
#include "output_files.hpp"
#include "synq/sysctl.hpp"

namespace synq::cli {

namespace {

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
    std::printf("%s %s %s\n", t.c_str(), tag, e.text.c_str());
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

// "out/seeds.json" for a single run, "out/seeds-linux.json" when a built-in has several.
std::string output_path(const std::string& base, const lab::Scenario& s, size_t runs) {
  if (base.empty() || base == "-" || runs == 1) return base;
  auto p = std::filesystem::path(base);
  const std::string label = s.variant.empty() ? s.model : s.variant;
  return (p.parent_path() / (p.stem().string() + "-" + label + p.extension().string())).string();
}

// A huge run's clients go to JSON Lines beside its JSON: "out/x.json" ->
// "out/x.clients.jsonl". Empty for stdout, no JSON, or a run small enough to inline.
std::string clients_lines_path(const std::string& json_path, const lab::Scenario& s) {
  if (json_path.empty() || json_path == "-" || s.clients <= lab::kHugeRunClients) return "";
  auto p = std::filesystem::path(json_path);
  return (p.parent_path() / (p.stem().string() + ".clients.jsonl")).string();
}

// Writes a huge run's JSON (the summary, naming its lines file) and the
// clients as JSON Lines; on stdout, the summary as one line and then the
// clients' lines: one JSON Lines stream.
void write_huge_json(const std::string& jpath, const lab::LabResult& r) {
  if (jpath == "-") {
    write_output_with("-", [&](const auto& write) {
      if (write(lab::to_json(r, "-", -1) + "\n"))
        lab::write_client_lines(r, [&](std::string_view line) { return write(line); });
    });
    return;
  }
  const std::string lines_path = clients_lines_path(jpath, r.scenario);
  write_output_with(lines_path, [&](const auto& write) {
    lab::write_client_lines(r, [&](std::string_view line) { return write(line); });
  });
  write_output(jpath, lab::to_json(r, std::filesystem::path(lines_path).filename().string()));
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

// The report's bundles are an input: missing ones stop the command before a run.
lab::ReportAssets assets_or_throw(const std::string& dir) {
  std::string err;
  auto a = lab::load_report_assets(dir, &err);
  if (!a) fail(kNoInput, err);
  return *a;
}

// Output flags that would collide: two documents on stdout, or two outputs
// into one file.
void check_distinct_outputs(std::initializer_list<std::pair<const char*, std::string>> outputs) {
  std::vector<std::pair<const char*, std::string>> given;
  for (const auto& o : outputs)
    if (!o.second.empty()) given.push_back(o);
  for (size_t i = 0; i < given.size(); ++i)
    for (size_t k = i + 1; k < given.size(); ++k)
      if (given[i].second == given[k].second)
        throw CLI::ValidationError(
            given[k].first,
            given[k].second == "-"
                ? fmt::format("{} and {} both write to stdout: one document at a time",
                              given[i].first, given[k].first)
                : fmt::format("{} and {} both write {}", given[i].first, given[k].first,
                              given[k].second));
}

struct LabArgs {
  ScenarioArgs scenario;
  bool list = false;
  std::string json, pcap, report, out_dir, assets;
  bool quiet = false;
  bool no_timeline = false;
};

void list_builtins() {
  for (const auto& b : lab::builtin_scenarios()) {
    std::string models;
    for (const auto& s : b.runs)
      models += (models.empty() ? "" : ", ") + (s.variant.empty() ? s.model : s.variant);
    std::printf("%-10s %s [%s]\n", b.name.c_str(), b.teaches.c_str(), models.c_str());
  }
}

void run_lab(const LabArgs& a) {
  if (a.list) {
    if (!a.scenario.name.empty() || a.scenario.customized())
      throw CLI::ValidationError("--list", "lists the built-ins and runs nothing: drop the rest");
    list_builtins();
    return;
  }
  if (a.pcap == "-")
    throw CLI::ValidationError("--pcap", "pcap goes to a file (tshark -r FILE reads it)");
  check_distinct_outputs({{"--json", a.json}, {"--pcap", a.pcap}, {"--report", a.report}});
  // Usage and input errors first (64, 65, 66), then outputs (73): nothing
  // runs until everything the command needs is known to be there.
  const ScenarioRuns plan = scenarios_from(a.scenario, "seeds", true);
  const std::vector<lab::Scenario>& runs = plan.runs;
  std::string json = a.json, pcap = a.pcap, report = a.report;
  if (!a.out_dir.empty()) {
    // Explicit --json/--pcap/--report win over --out-dir for their file.
    const auto dir = std::filesystem::path(a.out_dir);
    if (json.empty()) json = (dir / (plan.stem + ".json")).string();
    if (pcap.empty()) pcap = (dir / (plan.stem + ".pcap")).string();
    if (report.empty()) report = (dir / (plan.stem + ".html")).string();
  }
  std::optional<lab::ReportAssets> assets;
  if (!report.empty()) assets = assets_or_throw(a.assets);
  const std::vector<std::string> made =
      a.out_dir.empty() ? std::vector<std::string>{} : make_output_dir(a.out_dir);
  try {
    // The flags' own paths too: with several runs `--json DIR` would name
    // DIR-linux.json beside DIR, not fail, and a directory is refused (73).
    check_output_path(json);
    check_output_path(pcap);
    for (const auto& s : runs) {
      check_output_path(output_path(json, s, runs.size()));
      check_output_path(clients_lines_path(output_path(json, s, runs.size()), s));
      check_output_path(output_path(pcap, s, runs.size()));
    }
    check_output_path(report);
  } catch (...) {
    remove_created_dirs(made);  // a refused command leaves nothing behind
    throw;
  }

  const bool human = json != "-" && report != "-";
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
    if (!r.error.empty()) {
      ++failures;
      std::fflush(stdout);
      std::fprintf(stderr, "synq: %s on %s: %s\n", s.name.c_str(), s.model.c_str(),
                   r.error.c_str());
    }
    const auto jpath = output_path(json, s, runs.size());
    if (!jpath.empty() && s.clients > lab::kHugeRunClients) {
      write_huge_json(jpath, r);
      if (jpath != "-")
        written.push_back(jpath + " (summary as JSON) and " + clients_lines_path(jpath, s) +
                          " (one line per client)");
    } else if (jpath == "-" && runs.size() > 1) {
      // Several runs on stdout: one JSON array, so the output stays one document.
      std::printf("%s%s", results.empty() ? "[\n" : ",\n", lab::to_json(r).c_str());
      if (results.size() + 1 == runs.size()) std::printf("\n]\n");
    } else if (!jpath.empty()) {
      write_output(jpath, lab::to_json(r));
      if (jpath != "-") written.push_back(jpath + " (everything as JSON)");
    }
    if (!opts.pcap_path.empty() && r.error.empty())
      written.push_back(opts.pcap_path + " (the packets, for wireshark/tshark)");
    results.push_back(std::move(r));
  }
  if (human && results.size() > 1) print_side_by_side(results);
  if (!report.empty()) {
    write_output(report, lab::report_html(results, *assets));
    if (report != "-") written.push_back(report + " (charts and timeline: open it in a browser)");
  }
  if (human)
    for (const auto& w : written) std::printf("wrote %s\n", w.c_str());
  std::fflush(stdout);
  if (failures) fail(kFailed, "");
}

struct SweepArgs {
  ScenarioArgs scenario;
  std::string vary = "backlog=1..64";
  std::string vary2;
  double target = 0.01;
  unsigned threads = 0;
  std::string json, report, assets;
};

// The scenario parameter a --vary axis names, as the flag that also sets it.
bool flag_sets(const ScenarioArgs& s, const std::string& name) {
  if (name == "model") return s.model.has_value();
  if (name == "backlog") return s.backlog.has_value();
  if (name == "clients") return s.clients.has_value();
  if (name == "workers") return s.workers.has_value();
  if (name == "arrival") return s.arrival.has_value();
  if (name == "accept") return s.accept.has_value();
  if (name == "service") return s.service.has_value();
  if (name == "duration") return s.duration.has_value();
  if (name == "seed") return s.seed.has_value();
  for (const auto& kv : s.sets)
    if (kv.substr(0, kv.find('=')) == name) return true;
  return false;
}

void run_sweep_command(const SweepArgs& a) {
  std::string err;
  auto x = lab::SweepAxis::parse(a.vary, &err);
  if (!x) throw CLI::ValidationError("--vary", err);
  std::optional<lab::SweepAxis> y;
  if (!a.vary2.empty()) {
    y = lab::SweepAxis::parse(a.vary2, &err);
    if (!y) throw CLI::ValidationError("--vary2", err);
    if (y->name == x->name)
      throw CLI::ValidationError("--vary2", fmt::format("--vary already varies {}", x->name));
  }
  for (const auto* axis : {&*x, y ? &*y : nullptr})
    if (axis && flag_sets(a.scenario, axis->name))
      throw CLI::ValidationError(
          "--vary",
          fmt::format("{} is both varied and fixed by a flag: drop the flag", axis->name));
  if (!std::isfinite(a.target) || a.target <= 0 || a.target > 1)
    throw CLI::ValidationError("--target",
                               fmt::format("expected a drop rate in (0, 1], got {}", a.target));
  check_distinct_outputs({{"--json", a.json}, {"--report", a.report}});
  // Every subcommand honours its positional; with none, the sweep sizes the
  // workers scenario (a load worth sizing), not the seeds story.
  const ScenarioRuns plan = scenarios_from(a.scenario, "workers", false);
  const lab::Scenario base = plan.runs.front();
  if (plan.runs.size() > 1)
    std::fprintf(stderr,
                 "synq: a sweep runs one scenario: the %s run of %s (--model picks another)\n",
                 (base.variant.empty() ? base.model : base.variant).c_str(), base.name.c_str());
  std::optional<lab::ReportAssets> assets;
  if (!a.report.empty()) assets = assets_or_throw(a.assets);
  check_output_path(a.json);
  check_output_path(a.report);
  const size_t points = x->values.size() * (y ? y->values.size() : 1);
  const bool human = a.json != "-" && a.report != "-";
  if (human)
    std::printf("sweep of %s: %zu runs of %zu clients on %u threads\n", base.name.c_str(), points,
                static_cast<size_t>(base.clients),
                a.threads ? a.threads : std::max(1u, std::thread::hardware_concurrency()));
  auto r = lab::run_sweep(base, *x, y, a.target, a.threads);
  if (human) std::printf("%s%s\n", lab::sweep_table(*x, y, r).c_str(), r.answer.c_str());
  if (!a.json.empty()) {
    write_output(a.json, lab::sweep_json(base, *x, y, a.target, r));
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
    write_output(a.report, lab::sweep_report_html(
                               fmt::format("synq lab sweep: {} over {}", base.name, x->name),
                               r.answer, pts, *assets, a.target));
    if (human) std::printf("wrote %s\n", a.report.c_str());
  }
}

}  // namespace

void add_lab_command(CLI::App& app) {
  auto args = std::make_shared<LabArgs>();
  auto* cmd = app.add_subcommand(
      "lab",
      "Run a backlog scenario in virtual time and explain it (no scenario and no flags: seeds; "
      "flags alone: a custom scenario)");
  cmd->require_subcommand(0, 1);
  add_scenario_options(cmd, args->scenario);
  cmd->add_flag("--list", args->list, "list built-in scenarios");
  cmd->add_option("--json", args->json,
                  "write everything as JSON to this file (- for stdout; not a directory)");
  cmd->add_option("--pcap", args->pcap, "write the packets as pcap to this file");
  cmd->add_option("--report", args->report, "write a self-contained HTML report with charts");
  cmd->add_option("--out-dir", args->out_dir,
                  "write NAME.json, NAME.pcap and NAME.html into this directory (created if "
                  "missing; --json/--pcap/--report given too win for their file)");
  cmd->add_option("--assets", args->assets,
                  "directory with the report's node_modules (default: beside the executable)");
  cmd->add_flag("--quiet", args->quiet, "summary only, no timeline");
  cmd->add_flag("--no-timeline", args->no_timeline, "record no timeline (huge runs)");

  auto sargs = std::make_shared<SweepArgs>();
  auto* sweep = cmd->add_subcommand(
      "sweep",
      "Run a scenario (default: workers) over one or two parameters in parallel and size the "
      "backlog");
  add_scenario_options(sweep, sargs->scenario);
  sweep
      ->add_option("--vary", sargs->vary,
                   "first parameter: name=v1,v2,... or name=LOW..HIGH (powers of two)")
      ->capture_default_str();
  sweep->add_option("--vary2", sargs->vary2, "second parameter, same form; not the first's");
  sweep->add_option("--target", sargs->target, "drop rate the answer must stay under, in (0, 1]")
      ->capture_default_str();
  sweep->add_option("--threads", sargs->threads, "threads, 0: every core")
      ->check(CLI::Range(0u, 4096u))
      ->capture_default_str();
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
