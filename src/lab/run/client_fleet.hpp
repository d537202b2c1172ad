// The lab's clients: when each arrives, its connect(), its request and the
// wait for the response, its connect timeout, and what the result reports
// about it (ClientResult: outcome, times, the listener's drops of its
// segments). Only the clients a packet or timer touched are stepped; nothing
// walks the clients in flight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "lab/run/client_directory.hpp"
#include "lab/run/descriptor_index.hpp"
#include "lab/run/timeline_recorder.hpp"
#include "lab/run/world.hpp"
#include "synq/trace.hpp"

namespace synq::lab {

class ClientFleet {
 public:
  ClientFleet(LabWorld& world, ClientDirectory& directory, TimelineRecorder& timeline);

  /// Draws every client's start time (the RNG stream does not depend on what
  /// the run does) and schedules the first start.
  void schedule_arrivals();

  /// After an event on the client host: steps the clients it touched.
  void on_host_event();

  /// What a listener decision means for the client it concerns: a dropped
  /// SYN or third ACK, or a RST.
  void on_listener_decision(int client, const ListenEvent& e);

  /// The server application accept()ed this client's connection.
  void mark_accepted(int client) { results_[static_cast<size_t>(client)].accepted = true; }

  uint32_t max_in_flight() const { return max_in_flight_; }
  std::vector<ClientResult> take_results() { return std::move(results_); }

 private:
  // Where a client is in its life.
  enum class Phase : uint8_t {
    scheduled,    // connect() not called yet (forever, if its start is past the run's end)
    connecting,   // connect() called, handshake not complete as the client sees it
    established,  // sending its request, reading the response
    finished,     // outcome decided and socket closed
  };

  // One client's socket and progress; `r` is what the result reports.
  struct Client {
    ClientResult* r = nullptr;  // in results_, handed to the result without a copy
    int fd = -1;
    uint32_t addr = 0;  // index of its source address
    Phase phase = Phase::scheduled;
    bool listener_decided = false;  // the listener has made a decision about it
    uint32_t sent = 0;
    uint32_t received = 0;
  };

  void schedule_next_start();
  void start_client(size_t i);
  void on_connect_timeout(size_t i);
  void step_client(Stack& st, Client& c, uint32_t ready);
  void finish(Client& c, Outcome o, Errno e);
  void retire(Client& c);

  LabWorld& w_;
  ClientDirectory& directory_;
  TimelineRecorder& timeline_;
  std::vector<Client> clients_;
  std::vector<ClientResult> results_;              // one per client; never resized after set-up
  std::vector<std::pair<double, size_t>> starts_;  // (connect() time, client), in time order
  size_t next_start_ = 0;
  DescriptorIndex client_by_fd_;                // client host's descriptor -> client in progress
  uint32_t in_flight_ = 0, max_in_flight_ = 0;  // clients between connect() and their outcome
  std::vector<uint8_t> request_;                // the bytes of a request still to send
  uint8_t buf_[4096];
};

}  // namespace synq::lab
