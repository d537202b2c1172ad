// `synq lab`: run a scenario in the simulator and show what the backlog did.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "commands.hpp"
#include "lab/builtin.hpp"
#include "lab/lab_run.hpp"

namespace synq::cli {

namespace {

struct LabArgs {
  std::string name = "seeds";
  bool list = false;
  std::optional<std::string> model;
  std::optional<int> backlog;
  std::optional<int> clients;
  std::optional<std::string> arrival;
  std::optional<std::string> accept;
  std::optional<double> duration;
  std::optional<uint64_t> seed;
  std::vector<std::string> sets;
  std::string json, pcap, report, out_dir;
  bool quiet = false;
};

void print_timeline(const lab::LabResult& r) {
  for (const auto& e : r.timeline) {
    if (e.kind == lab::TimelineEntry::Kind::snapshot) {
      std::printf("%9.3f  %s", e.t, e.text.c_str());
      continue;
    }
    const char* tag = "  --";
    if (e.kind == lab::TimelineEntry::Kind::packet) tag = e.lost ? "LOST" : "    ";
    if (e.kind == lab::TimelineEntry::Kind::decision) tag = "  =>";
    std::printf("%9.3f %s %s\n", e.t, tag, e.text.c_str());
  }
}

bool write_file(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return true;
  }
  std::ofstream f(path);
  f << text;
  return static_cast<bool>(f);
}

// "out/seeds.json" for a single run, "out/seeds-linux.json" when a built-in has several.
std::string output_path(const std::string& base, const std::string& model, size_t runs) {
  if (base.empty() || base == "-" || runs == 1) return base;
  auto p = std::filesystem::path(base);
  return (p.parent_path() / (p.stem().string() + "-" + model + p.extension().string())).string();
}

}  // namespace

void add_lab_command(CLI::App& app) {
  auto args = std::make_shared<LabArgs>();
  auto* cmd = app.add_subcommand("lab", "Run a backlog scenario in virtual time and explain it");
  cmd->add_option("scenario", args->name, "built-in scenario name (see --list)");
  cmd->add_flag("--list", args->list, "list built-in scenarios");
  cmd->add_option("--model", args->model, "listener model: linux|bsd44|freebsd|xnu");
  cmd->add_option("--backlog", args->backlog, "listen() backlog as passed to the call");
  cmd->add_option("--clients", args->clients, "number of clients")->check(CLI::NonNegativeNumber);
  cmd->add_option("--arrival", args->arrival, "burst | every:SEC | poisson:PER_SEC");
  cmd->add_option("--accept", args->accept, "never | at:SEC | rate:PER_SEC");
  cmd->add_option("--duration", args->duration, "seconds of virtual time")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", args->seed, "seed of every random choice");
  cmd->add_option("--set", args->sets, "server knob by sysctl name: name=value (repeatable)");
  cmd->add_option("--json", args->json, "write everything as JSON (- for stdout)");
  cmd->add_option("--pcap", args->pcap, "write the packets as pcap");
  cmd->add_option("--out-dir", args->out_dir, "write NAME.json and NAME.pcap into this directory");
  cmd->add_flag("--quiet", args->quiet, "summary only, no timeline");
  cmd->callback([args] {
    auto& a = *args;
    if (a.list) {
      for (const auto& b : lab::builtin_scenarios())
        std::printf("%-12s %s\n", b.name.c_str(), b.teaches.c_str());
      return;
    }
    const lab::BuiltinScenario* builtin = lab::find_builtin(a.name);
    if (!builtin)
      throw CLI::ValidationError(
          "scenario", fmt::format("unknown scenario '{}' (see synq lab --list)", a.name));
    std::vector<lab::Scenario> runs = builtin->runs;
    const bool customized = a.model || a.backlog || a.clients || a.arrival || a.accept ||
                            a.duration || a.seed || !a.sets.empty();
    if (customized) runs.resize(1);
    for (auto& s : runs) {
      if (a.model) s.model = *a.model;
      if (a.backlog) s.backlog = *a.backlog;
      if (a.clients) s.clients = *a.clients;
      if (a.duration) s.duration_s = *a.duration;
      if (a.seed) s.seed = *a.seed;
      std::string err;
      if (a.arrival) {
        auto v = lab::Arrival::parse(*a.arrival, &err);
        if (!v) throw CLI::ValidationError("--arrival", err);
        s.arrival = *v;
      }
      if (a.accept) {
        auto v = lab::AcceptPolicy::parse(*a.accept, &err);
        if (!v) throw CLI::ValidationError("--accept", err);
        s.accept = *v;
      }
      for (const auto& kv : a.sets) {
        auto eq = kv.find('=');
        if (eq == std::string::npos)
          throw CLI::ValidationError("--set", fmt::format("expected name=value, got '{}'", kv));
        s.server_sysctls.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
      }
    }
    std::string json = a.json, pcap = a.pcap;
    if (!a.out_dir.empty()) {
      std::filesystem::create_directories(a.out_dir);
      if (json.empty()) json = (std::filesystem::path(a.out_dir) / (a.name + ".json")).string();
      if (pcap.empty()) pcap = (std::filesystem::path(a.out_dir) / (a.name + ".pcap")).string();
    }
    int failures = 0;
    for (const auto& s : runs) {
      lab::RunOptions opts;
      opts.pcap_path = output_path(pcap, s.model, runs.size());
      auto r = lab::run(s, opts);
      if (json != "-") {
        std::printf("=== %s on %s: %s\n", s.name.c_str(), s.model.c_str(), s.description.c_str());
        if (!a.quiet) print_timeline(r);
        std::printf("%s\n", lab::summary_text(r).c_str());
      }
      if (!r.error.empty()) ++failures;
      const auto jpath = output_path(json, s.model, runs.size());
      if (!jpath.empty()) {
        if (!write_file(jpath, lab::to_json(r)))
          throw CLI::Error("io", fmt::format("cannot write {}", jpath), 74);
        if (jpath != "-") std::printf("wrote %s\n", jpath.c_str());
      }
      if (!opts.pcap_path.empty() && r.error.empty())
        std::printf("wrote %s\n", opts.pcap_path.c_str());
    }
    if (failures) throw CLI::RuntimeError(1);
  });
}

}  // namespace synq::cli
