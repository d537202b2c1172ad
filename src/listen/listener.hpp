// A listening socket's queues (passive-open.md §2): the SYN queue of half-open requests
// and the FIFO accept queue of established children. Each count changes in
// exactly one function (syn_queue_add/remove, accept_queue_push/pop), which
// is where the debug invariant checks sit.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "listen/backlog_model.hpp"
#include "listen/request.hpp"
#include "synq/address.hpp"

namespace synq::listen {

class Listener {
 public:
  Listener(int fd, const Endpoint& local, std::unique_ptr<BacklogModel> model, int backlog)
      : fd_(fd), local_(local), model_(std::move(model)), backlog_(backlog) {}

  int fd() const { return fd_; }
  const Endpoint& local() const { return local_; }
  const BacklogModel& model() const { return *model_; }
  BacklogModel& model() { return *model_; }
  int backlog() const { return backlog_; }
  /// Re-listen: passive-open.md §1, only B changes, the queues are kept.
  void set_backlog(int b) { backlog_ = b; }

  QueueLengths lengths() const {
    return {syn_len_, static_cast<uint32_t>(accept_.size()), static_cast<uint32_t>(backlog_)};
  }
  uint32_t syn_queue_len() const { return syn_len_; }
  size_t accept_queue_len() const { return accept_.size(); }
  const std::deque<uint32_t>& accept_queue() const { return accept_; }
  uint32_t first_request() const { return req_head_; }

  // ---- the only places the queue counts change
  void syn_queue_add(RequestTable& t, uint32_t req);
  void syn_queue_remove(RequestTable& t, uint32_t req);
  void accept_queue_push(uint32_t child);
  std::optional<uint32_t> accept_queue_pop();

  /// Debug check: SYN-queue length == live requests of this listener.
  void check_invariants(const RequestTable& t) const;

 private:
  int fd_;
  Endpoint local_;
  std::unique_ptr<BacklogModel> model_;
  int backlog_;
  uint32_t syn_len_ = 0;
  uint32_t req_head_ = kNoRequest;
  std::deque<uint32_t> accept_;  // connection slots, oldest completion first
};

}  // namespace synq::listen
