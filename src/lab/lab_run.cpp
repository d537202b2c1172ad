// The lab runner: one Scenario in the simulator. This file only wires the
// parts of a run together and collects their result; each part lives in
// src/lab/run/: the world's set-up (world), the clients (client_fleet), the
// server application (server_app) and the recorders (timeline_recorder,
// decision_recorder, queue_sampler).
//
// Per event the run does O(1) work plus the sockets the event touched: each
// host's stack says which descriptors a packet or a timer touched
// (Stack::drain_ready), the hooks step those clients and served connections
// only, and the queues are read with Stack::listener_queues. Nothing walks
// the clients in flight.
#include "lab/lab_run.hpp"

#include "lab/run/client_directory.hpp"
#include "lab/run/client_fleet.hpp"
#include "lab/run/decision_recorder.hpp"
#include "lab/run/queue_sampler.hpp"
#include "lab/run/server_app.hpp"
#include "lab/run/timeline_recorder.hpp"
#include "lab/run/world.hpp"

namespace synq::lab {

namespace {

// Runs the simulation to the scenario's end, reporting progress in hundredths.
void run_to_end(LabWorld& w) {
  const double duration_s = w.scenario.duration_s;
  if (!w.options.progress) {
    w.net.run_until(from_seconds(duration_s));
    return;
  }
  for (int i = 1; i <= 100; ++i) {
    w.net.run_until(from_seconds(duration_s * i / 100.0));
    w.options.progress(i / 100.0);
  }
}

}  // namespace

LabResult run(const Scenario& s, const RunOptions& opts) {
  LabResult res;
  res.scenario = s;
  LabWorld world(s, opts);
  if (!build_network(world, &res.error)) return res;

  // Keep the order of the steps below: callbacks due at the same virtual
  // time run in the order they were scheduled, and arrivals draw from the
  // network's RNG before the run starts, so reordering them changes results.
  ClientDirectory directory;
  directory.reserve_addresses(world.client_addresses);
  TimelineRecorder timeline(world, directory);
  if (timeline.enabled()) world.net.set_tap([&](const sim::TapRecord& t) { timeline.on_tap(t); });
  DecisionRecorder decisions(world, timeline);
  QueueSampler queues(
      QueueSampler::resolution_for(opts, world.client_count(), world.scenario.duration_s));
  ClientFleet clients(world, directory, timeline);
  ServerApp server(world, directory, clients, timeline);

  const bool listening = open_listener(
      world,
      [&](const ListenEvent& e) {
        const int client = directory.client_at(e.tuple.remote);
        clients.on_listener_decision(client, e);
        decisions.record(e, client);
      },
      &res.error);
  if (!listening) return res;
  timeline.note(
      TimelineEntry::Kind::server, -1, "server listens on {} with listen(fd, {}), model {}",
      address_plan::server_endpoint().to_string(), world.scenario.backlog, world.scenario.model);
  clients.schedule_arrivals();
  server.schedule_accepts();
  world.net.on_event(world.server, [&](sim::HostId) {
    server.on_host_event();
    if (auto q = world.server_stack().listener_queues(world.listener); q.ok())
      queues.sample(world.now_s(), *q);
  });
  world.net.on_event(world.client, [&](sim::HostId) { clients.on_host_event(); });

  run_to_end(world);
  queues.flush();
  timeline.snapshot("end of run");
  world.net.close_captures();

  Stack& srv = world.server_stack();
  res.server = srv.counters();
  res.client = world.client_stack().counters();
  res.clients = clients.take_results();
  res.queues = queues.take();
  res.timeline = timeline.take();
  res.decisions = decisions.take_decisions();
  res.max_syn_queue = queues.max_syn_queue();
  res.max_accept_queue = queues.max_accept_queue();
  res.accepted = server.accepted();
  res.queue_bin_s = queues.resolution_s();
  if (auto q = srv.listener_queues(world.listener); q.ok()) res.backlog_clamped = q->backlog;
  res.drops = decisions.take_drops();
  res.attacker_syns = world.attacker ? world.attacker->sent() : 0;
  res.events = world.net.events_processed();
  res.max_clients_in_flight = clients.max_in_flight();
  res.story = find_story(res);
  return res;
}

}  // namespace synq::lab
