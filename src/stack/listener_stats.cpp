// listener_queues(): a listener's queue lengths without walking the socket
// table — what the lab samples after every event, so it must stay O(1).
#include "stack/stack_impl.hpp"

namespace synq {

Result<ListenerQueues> StackImpl::listener_queues(int fd) const {
  const Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (!s->listener) return Errno::einval;
  const listen::QueueLengths q = s->listener->lengths();
  return ListenerQueues{q.syn_queue, q.accept_queue, q.backlog};
}

}  // namespace synq
