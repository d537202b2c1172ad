#include "lab_scenario_args.hpp"

#include <CLI/CLI.hpp>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "base/input_file.hpp"
#include "exit_codes.hpp"
#include "flag_values.hpp"
#include "lab/builtin.hpp"
#include "lab/describe.hpp"
#include "lab/sweep.hpp"
#include "listen/backlog_model.hpp"
#include "synq/sysctl.hpp"

namespace synq::cli {

namespace {

// No run needs more virtual time than a year; beyond it the nanosecond clock
// is still far from overflowing, but the number is surely a typo.
constexpr double kMaxSeconds = 365.0 * 24 * 3600;

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string run_label(const lab::Scenario& s) {
  return s.variant.empty() ? s.model : s.variant;
}

// The flags as typed values, parsed once, before any file is read.
struct Overrides {
  std::optional<std::string> model;
  std::optional<int> backlog, clients, workers;
  std::optional<lab::Arrival> arrival;
  std::optional<lab::AcceptPolicy> accept;
  std::optional<lab::ServiceTime> service;
  std::optional<double> duration, connect_timeout;
  std::optional<uint64_t> seed;
  std::vector<std::pair<std::string, std::string>> sets, client_sets;
};

std::pair<std::string, std::string> split_set(const std::string& kv, const char* flag) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    throw CLI::ValidationError(flag, fmt::format("expected name=value, got '{}'", kv));
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

template <typename T>
T parsed_or_throw(const char* flag, const std::string& text) {
  std::string err;
  auto v = T::parse(text, &err);
  if (!v) throw CLI::ValidationError(flag, err);
  return *v;
}

void check_model(const char* flag, const std::string& m) {
  const auto models = available_models();
  if (std::find(models.begin(), models.end(), m) == models.end())
    throw CLI::ValidationError(
        flag, fmt::format("expected one of {} (the models built in), got '{}'", join(models), m));
}

Overrides parse_flags(const ScenarioArgs& a) {
  Overrides o;
  if (a.model) check_model("--model", *a.model), o.model = *a.model;
  // listen() takes any int; a negative backlog is legal and clamped by the model.
  if (a.backlog) o.backlog = static_cast<int>(int_flag("--backlog", *a.backlog, INT_MIN, INT_MAX));
  if (a.clients) o.clients = static_cast<int>(int_flag("--clients", *a.clients, 0, INT_MAX));
  if (a.workers) o.workers = static_cast<int>(int_flag("--workers", *a.workers, 0, INT_MAX));
  if (a.arrival) o.arrival = parsed_or_throw<lab::Arrival>("--arrival", *a.arrival);
  if (a.accept) o.accept = parsed_or_throw<lab::AcceptPolicy>("--accept", *a.accept);
  if (a.service) o.service = parsed_or_throw<lab::ServiceTime>("--service", *a.service);
  if (a.duration) o.duration = number_flag("--duration", *a.duration, 0, true, kMaxSeconds);
  if (a.seed) o.seed = u64_flag("--seed", *a.seed);
  if (a.connect_timeout)
    o.connect_timeout = number_flag("--connect-timeout", *a.connect_timeout, 0, false, kMaxSeconds);

  // The same knob twice, or a knob --set and a flag both name, leaves the
  // reader guessing which one won: refuse.
  std::set<std::string> seen;
  const std::set<std::string> flagged = [&] {
    std::set<std::string> f;
    const std::pair<const char*, bool> given[] = {
        {"model", a.model.has_value()},     {"backlog", a.backlog.has_value()},
        {"clients", a.clients.has_value()}, {"workers", a.workers.has_value()},
        {"arrival", a.arrival.has_value()}, {"accept", a.accept.has_value()},
        {"service", a.service.has_value()}, {"duration", a.duration.has_value()},
        {"seed", a.seed.has_value()},
    };
    for (const auto& [n, g] : given)
      if (g) f.insert(n);
    return f;
  }();
  for (const auto& kv : a.sets) {
    auto [k, v] = split_set(kv, "--set");
    if (!seen.insert(k).second)
      throw CLI::ValidationError("--set", fmt::format("'{}' is set twice", k));
    if (flagged.count(k))
      throw CLI::ValidationError("--set",
                                 fmt::format("'{}' is also given as --{}: keep one", k, k));
    std::string err;
    lab::Scenario probe;
    if (!lab::apply_parameter(probe, k, v, &err)) throw CLI::ValidationError("--set", err);
    if (k == "model") check_model("--set model", v);
    o.sets.emplace_back(k, v);
  }
  seen.clear();
  for (const auto& kv : a.client_sets) {
    auto [k, v] = split_set(kv, "--client-set");
    if (!seen.insert(k).second)
      throw CLI::ValidationError("--client-set", fmt::format("'{}' is set twice", k));
    std::string err;
    Sysctls probe;
    if (!probe.set(k, v, &err)) throw CLI::ValidationError("--client-set", err);
    o.client_sets.emplace_back(k, v);
  }

  // Flags that contradict each other, whatever the scenario.
  if (o.workers && *o.workers > 0 && o.accept)
    throw CLI::ValidationError(
        "--workers",
        "--workers and --accept both say when accept() is called (workers accept "
        "when idle): give one");
  if (o.workers && *o.workers == 0 && o.service)
    throw CLI::ValidationError("--service",
                               "--service is the time a worker is busy; --workers 0 has none");
  if (o.arrival && o.arrival->kind == lab::Arrival::Kind::trace && o.clients)
    throw CLI::ValidationError("--clients",
                               "with --arrival trace:FILE each line of FILE is a client: drop "
                               "--clients");
  return o;
}

// Reads a scenario file: a missing or unreadable file is 66, a bad one 65.
lab::Scenario load_file(const std::string& path) {
  const InputFile f = read_input_file(path, "scenario file", true);
  if (f.problem != InputProblem::none) fail(kNoInput, f.error);
  std::string err;
  auto s = lab::parse_scenario_toml(f.text, path, &err);
  if (!s) fail(kDataErr, err);
  return *s;
}

std::vector<lab::Scenario> base_runs(const std::string& name) {
  if (const auto* b = lab::find_builtin(name)) return b->runs;
  std::error_code ec;
  if (std::filesystem::exists(name, ec) || name.find('/') != std::string::npos ||
      name.ends_with(".toml"))
    return {load_file(name)};
  std::vector<std::string> names;
  for (const auto& b : lab::builtin_scenarios()) names.push_back(b.name);
  throw CLI::ValidationError(
      "scenario",
      fmt::format("'{}' is neither a built-in scenario ({}) nor a file", name, join(names)));
}

// A trace file is read now, so a missing or bad one stops the command before
// any run (the run reads it again).
void check_trace(const lab::Arrival& a) {
  if (a.kind != lab::Arrival::Kind::trace) return;
  const InputFile f = read_input_file(a.trace_path, "arrival trace");
  if (f.problem == InputProblem::unreadable) fail(kNoInput, f.error);
  std::string err;
  if (!lab::load_arrival_trace(a.trace_path, &err)) fail(kDataErr, err);
}

// Applies the flags to one run; true if anything changed the run's behaviour.
bool apply(lab::Scenario& s, const Overrides& o) {
  bool touched = false;
  const auto set = [&touched](auto& field, const auto& value) {
    field = value;
    touched = true;
  };
  if (o.backlog) set(s.backlog, *o.backlog);
  if (o.duration) set(s.duration_s, *o.duration);
  if (o.seed) set(s.seed, *o.seed);
  if (o.connect_timeout) set(s.connect_timeout_s, *o.connect_timeout);
  // A flag that replaces a behaviour replaces the scenario's scripted
  // version of it too: new clients or arrivals drop the scripted start
  // times; a new accept policy or workers drop the scripted accept() calls.
  if (o.clients) set(s.clients, *o.clients), s.client_start_s.clear();
  if (o.arrival) set(s.arrival, *o.arrival), s.client_start_s.clear();
  if (o.accept) {
    set(s.accept, *o.accept);
    s.accept_once_at.clear();
    s.workers = 0;  // an accept policy replaces the scenario's workers
  }
  if (o.workers) set(s.workers, *o.workers), s.accept_once_at.clear();
  if (o.service) set(s.service, *o.service);
  for (const auto& [k, v] : o.sets) {
    std::string err;
    if (!lab::apply_parameter(s, k, v, &err)) throw CLI::ValidationError("--set", err);
    if (k == "clients" || k == "arrival") s.client_start_s.clear();
    if (k == "accept" || k == "workers") s.accept_once_at.clear();
    touched = true;
  }
  for (const auto& kv : o.client_sets) {
    std::erase_if(s.client_sysctls, [&](const auto& e) { return e.first == kv.first; });
    s.client_sysctls.push_back(kv);
    touched = true;
  }
  return touched;
}

}  // namespace

std::vector<std::string> available_models() {
  std::vector<std::string> out;
  for (const char* m : {"linux", "bsd44", "freebsd", "xnu"})
    if (listen::make_backlog_model(m)) out.emplace_back(m);
  return out;
}

bool ScenarioArgs::customized() const {
  return model || backlog || clients || arrival || accept || workers || service || duration ||
         seed || connect_timeout || !sets.empty() || !client_sets.empty();
}

void add_scenario_options(CLI::App* cmd, ScenarioArgs& a) {
  const char* dflt = " (default: the scenario's; a custom run: ";
  cmd->add_option("scenario", a.name, "built-in scenario name (see --list) or a TOML file");
  cmd->add_option("--model", a.model,
                  fmt::format("listener model: {}{}linux)", join(available_models()), dflt))
      ->type_name("MODEL");
  cmd->add_option("--backlog", a.backlog,
                  fmt::format("listen() backlog as passed to the call{}128)", dflt))
      ->type_name("INT");
  cmd->add_option("--clients", a.clients, fmt::format("number of clients{}10)", dflt))
      ->type_name("INT");
  cmd->add_option("--arrival", a.arrival,
                  fmt::format("burst | every:SEC | poisson:PER_SEC | trace:FILE{}burst)", dflt))
      ->type_name("SPEC");
  cmd->add_option("--accept", a.accept, fmt::format("never | at:SEC | rate:PER_SEC{}never)", dflt))
      ->type_name("SPEC");
  cmd->add_option(
         "--workers", a.workers,
         fmt::format("N worker threads that accept() when idle; not with --accept{}0)", dflt))
      ->type_name("INT");
  cmd->add_option("--service", a.service,
                  "workers' service time: fixed:S | exp:MEAN | uniform:A:B (needs workers)")
      ->type_name("SPEC");
  cmd->add_option("--duration", a.duration, fmt::format("seconds of virtual time{}70)", dflt))
      ->type_name("SEC");
  cmd->add_option("--seed", a.seed, fmt::format("seed of every random choice{}1)", dflt))
      ->type_name("UINT64");
  cmd->add_option(
         "--connect-timeout", a.connect_timeout,
         fmt::format("clients give up connect() after this many seconds, 0: never{}0)", dflt))
      ->type_name("SEC");
  // One value per flag: a vector option would otherwise swallow the
  // positional scenario after it (`--set k=v seeds`).
  cmd->add_option("--set", a.sets,
                  "server knob by sysctl name, or a scenario parameter: name=value (repeatable)")
      ->type_name("NAME=VALUE")
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
  cmd->add_option("--client-set", a.client_sets,
                  "client knob by sysctl name: name=value (repeatable)")
      ->type_name("NAME=VALUE")
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
}

ScenarioRuns scenarios_from(const ScenarioArgs& a, const std::string& default_name,
                            bool flags_alone_are_custom) {
  const Overrides o = parse_flags(a);
  ScenarioRuns out;
  std::string name = a.name;
  if (name.empty() && flags_alone_are_custom && a.customized()) {
    // Flags alone describe the whole run: start from nothing scripted.
    out.runs.push_back(lab::Scenario{});
    out.stem = "custom";
  } else {
    if (name.empty()) name = default_name;
    out.runs = base_runs(name);
    out.stem = std::filesystem::path(name).stem().string();
  }

  // --model on a built-in with several runs keeps the runs on that model;
  // if none is, the first run's workload on the model asked for.
  bool model_matched = false;
  if (o.model && out.runs.size() > 1) {
    std::vector<std::string> labels;
    for (const auto& s : out.runs) labels.push_back(run_label(s));
    std::vector<lab::Scenario> kept;
    for (const auto& s : out.runs)
      if (s.model == *o.model) kept.push_back(s);
    if (kept.size() < out.runs.size())
      std::fprintf(
          stderr, "synq: %s has runs %s; --model %s runs %s\n", name.c_str(), join(labels).c_str(),
          o.model->c_str(),
          kept.empty()
              ? fmt::format("the {} run's workload on {}", labels.front(), *o.model).c_str()
              : fmt::format("the {} run{} only", *o.model, kept.size() > 1 ? "s" : "").c_str());
    model_matched = !kept.empty();
    if (kept.empty()) kept.push_back(out.runs.front());
    out.runs = std::move(kept);
  }

  for (auto& s : out.runs) {
    bool touched = apply(s, o);
    if (o.model && !model_matched) {
      s.model = *o.model;
      s.variant.clear();
      touched = true;
    }
    if (o.service && s.workers == 0)
      throw CLI::ValidationError(
          "--service", fmt::format("{} has no workers: --service needs --workers N", s.name));
    // An accept loop that starts after the end is `never` in disguise.
    if (o.accept && s.accept.kind == lab::AcceptPolicy::Kind::at && s.accept.param >= s.duration_s)
      throw CLI::ValidationError(
          "--accept", fmt::format("at:{} starts after the run ends ({} s): say --accept never, or "
                                  "give a longer --duration",
                                  s.accept.param, s.duration_s));
    check_trace(s.arrival);
    // The header says what runs: a built-in's prose only when untouched.
    if (touched || s.description.empty()) s.description = lab::describe(s);
  }
  return out;
}

}  // namespace synq::cli
