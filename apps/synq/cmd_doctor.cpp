// `synq doctor`: this Linux host's listen queues, per port, explained with the
// kernel's own evidence (docs/doctor.md). It reads the listeners through
// sock_diag, the knobs and counters of the namespace, attaches BPF programs
// to the passive-open path for the watch window, and prints findings in plain
// words; `--predict PORT` replays the observed listener in `synq lab`.
#include <CLI/CLI.hpp>

#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "commands.hpp"
#include "doctor/evidence_probe.hpp"
#include "doctor/findings.hpp"
#include "doctor/host_reader.hpp"
#include "doctor/predict.hpp"
#include "doctor/report.hpp"
#include "exit_codes.hpp"
#include "flag_values.hpp"

namespace synq::cli {

namespace {

struct DoctorArgs {
  std::string netns;
  std::string interval = "1";
  bool json = false;
  bool watch = false;
  std::string predict_port;
  std::string arrival_rate, accept_rate;
  bool no_bpf = false;
  bool no_owners = false;
};

// SIGINT/SIGTERM end the watch window early (or the --watch loop): the report
// of what was seen so far is still printed, and the probe is detached cleanly.
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) {
  g_stop = 1;
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: nanosleep returns at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

double monotonic_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Sleeps until `deadline` (CLOCK_MONOTONIC seconds) or a stop signal.
void sleep_until(double deadline) {
  while (!g_stop) {
    const double left = deadline - monotonic_s();
    if (left <= 0) return;
    const double step = left < 0.1 ? left : 0.1;
    timespec ts{static_cast<time_t>(step),
                static_cast<long>((step - static_cast<time_t>(step)) * 1e9)};
    nanosleep(&ts, nullptr);
  }
}

doctor::NetnsSnapshot read_or_fail(const std::string& netns, const doctor::ReadOptions& options) {
  try {
    return doctor::read_snapshot(netns, options);
  } catch (const doctor::HostReadError& e) {
    fail(kNoInput, std::string("doctor: ") + e.what());
  }
}

void emit(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  if (std::ferror(stdout)) fail(kIoErr, "doctor: writing the report failed");
}

void run_doctor(const DoctorArgs& a) {
  // Every flag is checked before anything is read or attached.
  const double interval = number_flag("--interval", a.interval, 0, true, 3600);
  std::optional<uint16_t> predict_port;
  if (!a.predict_port.empty())
    predict_port = static_cast<uint16_t>(int_flag("--predict", a.predict_port, 1, 65535));
  const double arrival =
      a.arrival_rate.empty() ? -1 : number_flag("--arrival-rate", a.arrival_rate, 0, true, 1e7);
  const double accept =
      a.accept_rate.empty() ? -1 : number_flag("--accept-rate", a.accept_rate, 0, false, 1e7);
  if (!predict_port && (arrival >= 0 || accept >= 0))
    throw CLI::ValidationError("--arrival-rate/--accept-rate",
                               "only mean something with --predict PORT");
  if (a.watch && predict_port)
    throw CLI::ValidationError("--watch",
                               "--predict runs once on one window: give one or the other");
  if (!a.netns.empty() &&
      (a.netns.find('/') != std::string::npos || a.netns == "." || a.netns == ".."))
    throw CLI::ValidationError("--netns",
                               "a name made by `ip netns add` (no '/'), got '" + a.netns + "'");

  doctor::ReadOptions options;
  options.owners = !a.no_owners;
  doctor::Observation obs;
  if (!a.netns.empty()) {
    // The namespace doctor starts from: its somaxconn tells whether a clamp
    // is the named namespace's own setting.
    doctor::ReadOptions quick;
    quick.owners = false;
    obs.origin = read_or_fail("", quick);
    try {
      doctor::enter_netns(a.netns);
    } catch (const doctor::HostReadError& e) {
      fail(kNoInput, std::string("doctor: ") + e.what());
    }
  }
  // A first dump gives every listener its socket cookie, the key the BPF
  // programs count under; the baseline is read once they are attached.
  const auto first = read_or_fail(a.netns, doctor::ReadOptions{false});
  if (predict_port) {
    // A port with no listener is a bad argument: said now, not after the window.
    std::string seen;
    bool found = false;
    for (const auto& l : first.listeners) {
      found = found || l.local.port == *predict_port;
      if (seen.find(" " + std::to_string(l.local.port) + ",") == std::string::npos)
        seen += " " + std::to_string(l.local.port) + ",";
    }
    if (!found) {
      if (!seen.empty()) seen.pop_back();
      fail(kUsage, fmt::format("doctor: --predict {}: no listener on that port in this network "
                               "namespace (listening:{})",
                               *predict_port, seen.empty() ? " none" : seen));
    }
  }
  std::unique_ptr<doctor::EvidenceProbe> probe;
  if (a.no_bpf)
    obs.evidence_missing =
        "per-port kernel evidence disabled by --no-bpf; queues, knobs and "
        "namespace counters are still shown";
  else
    probe = doctor::EvidenceProbe::start(&obs.evidence_missing);

  install_stop_handlers();
  obs.before = read_or_fail(a.netns, options);
  std::fprintf(
      stderr, "synq: doctor: watching %s for %s s%s\n",
      a.netns.empty() ? "this network namespace" : ("network namespace " + a.netns).c_str(),
      fmt::format("{:g}", interval).c_str(), probe ? " with BPF evidence" : " (no BPF evidence)");
  const bool tty = isatty(STDOUT_FILENO);
  double deadline = obs.before.taken_at_s;
  for (;;) {
    deadline += interval;
    sleep_until(deadline);
    obs.after = read_or_fail(a.netns, options);
    obs.window_s = obs.after.taken_at_s - obs.before.taken_at_s;
    if (probe) {
      std::vector<doctor::ListenerEvidence> mine;
      for (auto& e : probe->read())
        if (e.netns_inode == obs.after.netns_inode) mine.push_back(e);
      obs.evidence = std::move(mine);
    }
    if (predict_port) break;  // printed below, with the prediction
    const auto findings = doctor::diagnose(obs);
    if (a.json) {
      // --watch --json: one document per line (JSON Lines).
      emit(doctor::to_json(obs, findings).dump(a.watch ? -1 : 2) + "\n");
    } else {
      if (a.watch && tty) emit("\x1b[H\x1b[2J");  // a live view: redraw in place
      emit(doctor::render_text(obs, findings));
      if (a.watch && !tty) emit("\n");
    }
    if (!a.watch || g_stop) break;
  }
  if (!predict_port) return;

  doctor::PredictInput in;
  try {
    in = doctor::predict_input(obs, *predict_port);
  } catch (const std::invalid_argument& e) {
    fail(kUsage, std::string("doctor: --predict: ") + e.what());
  }
  if (arrival >= 0) {
    in.arrival_per_s = arrival;
    in.rates_source = "arrival rate from --arrival-rate; " + in.rates_source;
  }
  if (accept >= 0) {
    in.accept_per_s = accept;
    in.rates_source = "accept rate from --accept-rate; " + in.rates_source;
  }
  const auto prediction = doctor::predict(in);
  const auto findings = doctor::diagnose(obs);
  if (a.json) {
    auto doc = doctor::to_json(obs, findings);
    doc["prediction"] = doctor::to_json(prediction);
    emit(doc.dump(2) + "\n");
  } else {
    emit(doctor::render_text(obs, findings) + "\n" + doctor::render_text(prediction));
  }
}

}  // namespace

void add_doctor_command(CLI::App& app) {
  auto args = std::make_shared<DoctorArgs>();
  auto* cmd = app.add_subcommand(
      "doctor",
      "Explain this Linux host's listen queues per port, with the kernel's own evidence "
      "(docs/doctor.md)");
  cmd->add_option("--netns", args->netns,
                  "a network namespace made by `ip netns add` (default: the current one)");
  cmd->add_option("--interval", args->interval,
                  "seconds to watch (counter rates, BPF evidence); with --watch, the refresh")
      ->capture_default_str();
  cmd->add_flag("--json", args->json,
                "print one JSON document (with --watch: one per refresh, JSON Lines)");
  cmd->add_flag("--watch", args->watch, "refresh every --interval until Ctrl-C");
  cmd->add_option("--predict", args->predict_port,
                  "replay the listener on PORT in `synq lab`: as observed, a larger backlog, "
                  "more accepting, tcp_abort_on_overflow=1");
  cmd->add_option("--arrival-rate", args->arrival_rate,
                  "--predict: connections per second to assume instead of the measured rate");
  cmd->add_option("--accept-rate", args->accept_rate,
                  "--predict: accept() calls per second to assume instead of the measured rate");
  cmd->add_flag("--no-bpf", args->no_bpf, "do not attach BPF programs (no per-port evidence)");
  cmd->add_flag("--no-owners", args->no_owners, "do not scan /proc for the owning processes");
  cmd->callback([args] { run_doctor(*args); });
}

}  // namespace synq::cli
