// sockets(): an `ss -tuan`-like view of every socket, request and orphan.
#include "stack/stack_impl.hpp"

namespace synq {

std::vector<SocketInfo> StackImpl::sockets() const {
  std::vector<SocketInfo> out;
  for (size_t i = 0; i < socks_.size(); ++i) {
    const Socket& s = socks_[i];
    if (!s.open) continue;
    SocketInfo info;
    info.fd = static_cast<int>(i) + kFirstFd;
    info.type = s.type;
    info.local = s.local;
    if (s.type == SockType::dgram) {
      info.remote = s.has_remote ? s.remote : Endpoint{};
      info.recv_q = static_cast<uint32_t>(s.udp_rx.bytes());
    } else if (s.listener) {
      info.state = TcpState::listen;
      info.recv_q = static_cast<uint32_t>(s.listener->accept_queue_len());
      info.send_q = static_cast<uint32_t>(s.listener->backlog());
      info.model = std::string(s.listener->model().name());
    } else if (s.conn != kNoConn) {
      const tcp::Connection& c = *conns_[s.conn].conn;
      info.state = c.state();
      info.local = c.tuple().local;
      info.remote = c.tuple().remote;
      info.recv_q = static_cast<uint32_t>(c.readable_bytes());
      info.send_q = static_cast<uint32_t>(c.send_queued());
    }
    out.push_back(info);
  }
  // Connections without a descriptor: unaccepted children, orphans, TIME-WAIT.
  for (const ConnSlot& cs : conns_) {
    if (!cs.conn || cs.fd >= 0) continue;
    SocketInfo info;
    info.state = cs.conn->state();
    info.local = cs.conn->tuple().local;
    info.remote = cs.conn->tuple().remote;
    info.recv_q = static_cast<uint32_t>(cs.conn->readable_bytes());
    info.send_q = static_cast<uint32_t>(cs.conn->send_queued());
    out.push_back(info);
  }
  // Half-open requests appear as SYN-RECV (passive-open.md §2 Observability).
  for (size_t i = 0; i < socks_.size(); ++i) {
    const Socket& s = socks_[i];
    if (!s.open || !s.listener) continue;
    for (uint32_t r = s.listener->first_request(); r != listen::kNoRequest;
         r = opener_.requests().at(r).next) {
      const listen::Request& req = opener_.requests().at(r);
      SocketInfo info;
      info.state = TcpState::syn_received;
      info.local = req.tuple.local;
      info.remote = req.tuple.remote;
      out.push_back(info);
    }
  }
  return out;
}

}  // namespace synq
