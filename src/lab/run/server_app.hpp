// The server application of a lab run: when it calls accept() (an accept
// loop from a given time, a rate of accept()s, single accept()s, or a pool
// of workers with a service time), and each accepted connection's request
// read and response sent. Only the connections a packet or timer touched
// are stepped.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "lab/run/client_directory.hpp"
#include "lab/run/client_fleet.hpp"
#include "lab/run/descriptor_index.hpp"
#include "lab/run/timeline_recorder.hpp"
#include "lab/run/world.hpp"

namespace synq::lab {

class ServerApp {
 public:
  ServerApp(LabWorld& world, const ClientDirectory& directory, ClientFleet& clients,
            TimelineRecorder& timeline);

  /// Puts the scenario's accept policy on the event queue.
  void schedule_accepts();

  /// After an event on the server host: accept()s what the policy allows
  /// and steps the served connections the event touched.
  void on_host_event();

  uint64_t accepted() const { return accepted_; }

 private:
  // Where an accepted connection is.
  enum class ServedPhase : uint8_t {
    in_service,  // a worker holds it: no response until its service time is over
    responding,  // respond once the whole request is in
    closed,      // response sent and the socket closed
  };

  struct Served {
    int fd = -1;
    uint32_t received = 0;
    uint32_t sent = 0;
    ServedPhase phase = ServedPhase::in_service;
    bool queued = false;  // in dirty_ (to be stepped at the end of this event)
  };

  void schedule_rate_accept(uint64_t n);
  uint32_t accept_one(std::string_view what);
  double service_time();
  void respond(uint32_t idx);
  void mark_dirty(uint32_t idx);
  void step_served(Stack& st, Served& c);

  LabWorld& w_;
  const ClientDirectory& directory_;
  ClientFleet& clients_;
  TimelineRecorder& timeline_;
  std::vector<Served> served_;
  DescriptorIndex served_by_fd_;  // server host's descriptor -> served connection
  std::vector<uint32_t> dirty_;   // served connections to step at the end of this event
  uint32_t workers_idle_ = 0;
  bool accept_loop_running_ = false;  // AcceptPolicy::at: the loop has started
  uint64_t accept_tokens_ = 0;        // AcceptPolicy::rate: accept()s due and not yet made
  uint64_t accepted_ = 0;
  std::vector<uint8_t> response_;  // the bytes of a response still to send
  uint8_t buf_[4096];
};

}  // namespace synq::lab
