#include "listen/request.hpp"

#include "stack/dcheck.hpp"

namespace synq::listen {

uint32_t RequestTable::create(const FourTuple& t, int listener_fd) {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<uint32_t>(pool_.size());
    pool_.emplace_back();
  }
  Request& r = pool_[index];
  uint32_t generation = r.generation + 1;
  r = Request{};
  r.generation = generation;
  r.tuple = t;
  r.listener_fd = listener_fd;
  r.in_use = true;
  by_tuple_.insert(t, index);
  return index;
}

void RequestTable::destroy(uint32_t index) {
  Request& r = pool_[index];
  SYNQ_DCHECK(r.in_use);
  by_tuple_.erase(r.tuple);
  r.in_use = false;
  r.deadline = kNever;
  ++r.generation;  // invalidates pending timer entries
  free_.push_back(index);
}

}  // namespace synq::listen
