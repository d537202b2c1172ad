#include "listen/listener.hpp"

#include "stack/dcheck.hpp"

namespace synq::listen {

void Listener::syn_queue_add(RequestTable& t, uint32_t req) {
  Request& r = t.at(req);
  SYNQ_DCHECK(r.in_use && r.listener_fd == fd_);
  r.prev = kNoRequest;
  r.next = req_head_;
  if (req_head_ != kNoRequest) t.at(req_head_).prev = req;
  req_head_ = req;
  ++syn_len_;
#ifndef NDEBUG
  check_invariants(t);
#endif
}

void Listener::syn_queue_remove(RequestTable& t, uint32_t req) {
  Request& r = t.at(req);
  SYNQ_DCHECK(r.in_use && r.listener_fd == fd_ && syn_len_ > 0);
  if (r.prev != kNoRequest)
    t.at(r.prev).next = r.next;
  else
    req_head_ = r.next;
  if (r.next != kNoRequest) t.at(r.next).prev = r.prev;
  r.prev = r.next = kNoRequest;
  --syn_len_;
#ifndef NDEBUG
  // The request is still in_use here (the caller destroys it next), so count
  // the list rather than calling check_invariants.
  uint32_t n = 0;
  for (uint32_t i = req_head_; i != kNoRequest; i = t.at(i).next) ++n;
  SYNQ_DCHECK(n == syn_len_);
#endif
}

void Listener::accept_queue_push(uint32_t child) {
  accept_.push_back(child);
}

std::optional<uint32_t> Listener::accept_queue_pop() {
  if (accept_.empty()) return std::nullopt;
  uint32_t c = accept_.front();
  accept_.pop_front();
  return c;
}

void Listener::check_invariants(const RequestTable& t) const {
  uint32_t n = 0;
  for (uint32_t i = req_head_; i != kNoRequest; i = t.at(i).next) {
    SYNQ_DCHECK(t.at(i).in_use && t.at(i).listener_fd == fd_);
    ++n;
  }
  SYNQ_DCHECK(n == syn_len_);
  (void)n;
}

}  // namespace synq::listen
