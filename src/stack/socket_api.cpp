// The socket API with Linux's errors (checked against a Linux 6.18 host).
#include <algorithm>

#include "stack/dcheck.hpp"
#include "stack/stack_impl.hpp"
#include "tcp/tcp_limits.hpp"

namespace synq {

namespace {
// net.core.rmem_max / wmem_max on the reference host (Linux 6.18: 4 MiB).
constexpr int kBufMax = 4194304;
// SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF (TCP_SKB_MIN_TRUESIZE based).
constexpr int kMinRcvbuf = 2304;
constexpr int kMinSndbuf = 4608;
// net.core.rmem_default / wmem_default: UDP's buffers unless set.
constexpr int kUdpBufDefault = 212992;
constexpr int kMaxTcpSyncnt = 127;        // MAX_TCP_SYNCNT
constexpr int kTcpMinMss = tcp::kMinMss;  // TCP_MIN_MSS
constexpr int kMaxTcpWindow = 32767;      // MAX_TCP_WINDOW, TCP_MAXSEG's upper bound
constexpr uint16_t kTcpMssDefault = tcp::kDefaultPeerMss;  // TCP_MSS_DEFAULT
// TCP_TIMEOUT_INIT and TCP_RTO_MAX in whole seconds, the unit of TCP_DEFER_ACCEPT.
constexpr int kTimeoutInitSecs =
    static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(tcp::kInitialRto).count());
constexpr int kRtoMaxSecs =
    static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(tcp::kMaxRto).count());

// secs_to_retrans: TCP_DEFER_ACCEPT seconds → SYN-ACK retransmissions (1 s doubling, 120 s cap).
uint8_t secs_to_retrans(int seconds) {
  if (seconds <= 0) return 0;
  int timeout = kTimeoutInitSecs, period = kTimeoutInitSecs, res = 1;
  while (seconds > period && res < 255) {
    ++res;
    timeout = std::min(timeout << 1, kRtoMaxSecs);
    period += timeout;
  }
  return static_cast<uint8_t>(res);
}
// retrans_to_secs: the inverse, which rounds the stored value up (2 → 3).
int retrans_to_secs(uint8_t retrans) {
  if (retrans == 0) return 0;
  int timeout = kTimeoutInitSecs, period = kTimeoutInitSecs;
  while (--retrans) {
    timeout = std::min(timeout << 1, kRtoMaxSecs);
    period += timeout;
  }
  return period;
}

bool synchronized_or_later(TcpState st) {
  return st != TcpState::closed && st != TcpState::listen && st != TcpState::syn_sent &&
         st != TcpState::syn_received;
}
}  // namespace

// ------------------------------------------------------------------ descriptors

StackImpl::Socket* StackImpl::sock(int fd) {
  if (fd < kFirstFd) return nullptr;
  size_t i = static_cast<size_t>(fd - kFirstFd);
  if (i >= socks_.size() || !socks_[i].open) return nullptr;
  return &socks_[i];
}
const StackImpl::Socket* StackImpl::sock(int fd) const {
  return const_cast<StackImpl*>(this)->sock(fd);
}

int StackImpl::alloc_fd() {
  if (!free_fds_.empty()) {
    std::pop_heap(free_fds_.begin(), free_fds_.end(), std::greater<int>());
    int fd = free_fds_.back();
    free_fds_.pop_back();
    return fd;
  }
  if (socks_.size() >= static_cast<size_t>(kMaxFds)) return -1;
  socks_.emplace_back();
  return static_cast<int>(socks_.size() - 1) + kFirstFd;
}

void StackImpl::release_fd(int fd) {
  socks_[static_cast<size_t>(fd - kFirstFd)] = Socket{};
  free_fds_.push_back(fd);
  std::push_heap(free_fds_.begin(), free_fds_.end(), std::greater<int>());
}

tcp::Connection* StackImpl::connection_of(int fd) {
  Socket* s = sock(fd);
  if (!s || s->conn == kNoConn) return nullptr;
  return conns_[s->conn].conn.get();
}

// Linux makes a child by cloning its listener when the handshake completes
// (tcp_check_req → inet_csk_clone_lock → sk_clone_lock, which copies the whole
// sock). So the child starts with the listener's SO_REUSEADDR (sk_reuse),
// SO_RCVBUF / SO_SNDBUF and their user locks, SO_LINGER (flag and time),
// TCP_NODELAY (nonagle), TCP_MAXSEG (rx_opt.user_mss) and TCP_SYNCNT
// (icsk_syn_retries), as they were at that moment; later changes to the
// listener reach only later children. inet_csk_clone_lock clears the clone's
// accept queue, and TCP_DEFER_ACCEPT lives there, so a child reads it as 0.
// O_NONBLOCK belongs to the file, not the sock: accept() gives a blocking
// descriptor unless accept4(SOCK_NONBLOCK) asks otherwise (the script runner
// keeps that per descriptor). tests/scripts/linux/accept-inherits-options.pkt
// and accept-options-at-handshake.pkt check all of this on both targets.
StackImpl::Inherited StackImpl::inherit_options(const Socket& listener) const {
  return Inherited{listener.opts, listener.reuseaddr};
}

// ------------------------------------------------------------------ socket, bind

Result<int> StackImpl::socket(SockType type, IpVersion family) {
  if (family != IpVersion::v4 && family != IpVersion::v6) return Errno::eafnosupport;
  if (type != SockType::stream && type != SockType::dgram) return Errno::einval;
  int fd = alloc_fd();
  if (fd < 0) return Errno::emfile;
  Socket& s = socks_[static_cast<size_t>(fd - kFirstFd)];
  s = Socket{};
  s.open = true;
  s.type = type;
  s.family = family;
  s.local.addr.version = family;
  s.remote.addr.version = family;
  return fd;
}

Errno StackImpl::bind(int fd, const Endpoint& local) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (local.addr.version != s->family)
    return s->family == IpVersion::v4 ? Errno::eafnosupport : Errno::einval;
  if (s->bound || s->listener || s->conn != kNoConn) return Errno::einval;  // already bound
  if (!local.addr.is_unspecified() && !is_local(local.addr)) return Errno::eaddrnotavail;
  Endpoint ep = local;
  if (ep.port == 0) {
    auto port = ephemeral_port(s->type, ep.addr, nullptr);
    if (!port) return Errno::eaddrinuse;
    ep.port = *port;
  } else if (bind_conflict(fd, *s, ep)) {
    return Errno::eaddrinuse;
  }
  s->local = ep;
  s->bound = true;
  s->bind_locked = true;
  register_fd_port(fd);
  if (s->type == SockType::dgram) udp_bind_table_add(fd, *s);
  return Errno::ok;
}

Errno StackImpl::autobind(int fd, Socket& s) {
  if (s.bound) return Errno::ok;
  auto port = ephemeral_port(s.type, s.local.addr, nullptr);
  if (!port) return Errno::eagain;  // Linux: EAGAIN when the ephemeral range is exhausted
  s.local.port = *port;
  s.bound = true;
  register_fd_port(fd);
  if (s.type == SockType::dgram) udp_bind_table_add(fd, s);
  return Errno::ok;
}

// ------------------------------------------------------------------ listen, accept

Errno StackImpl::set_listen_model(int fd, std::string_view model) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (s->type != SockType::stream) return Errno::eopnotsupp;
  if (s->listener) return Errno::einval;  // chosen at listen() time
  if (!listen::make_backlog_model(model))
    return Errno::einval;  // not one of linux, bsd44, freebsd, xnu
  s->model_override = std::string(model);
  return Errno::ok;
}

Errno StackImpl::listen(int fd, int backlog) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (s->type != SockType::stream)
    return Errno::eopnotsupp;  // passive-open.md §1: UDP has no listen
  if (s->listener) {
    // passive-open.md §1: re-listen changes only B; the queues are kept.
    s->listener->set_backlog(s->listener->model().clamp_backlog(backlog, config_.sysctls));
    return Errno::ok;
  }
  if (s->conn != kNoConn || s->cstate != ConnectState::unconnected) return Errno::einval;
  const std::string& name =
      s->model_override.empty() ? config_.sysctls.listen_model : s->model_override;
  auto model = listen::make_backlog_model(name);
  if (!model) return Errno::einval;  // net.core.synq_listen_model names no model
  if (!s->bound) {
    // passive-open.md §1: listen on an unbound socket binds an ephemeral port.
    if (Errno e = autobind(fd, *s); e != Errno::ok) return Errno::eaddrinuse;
  } else if (bind_conflict(fd, *s, s->local)) {
    return Errno::eaddrinuse;  // inet_csk_listen_start re-checks: another socket listens here
  }
  int b = model->clamp_backlog(backlog, config_.sysctls);
  s->listener = std::make_unique<listen::Listener>(fd, s->local, std::move(model), b);
  listeners_.insert(s->local, fd);
  return Errno::ok;
}

listen::Listener* StackImpl::listener_of_fd(int fd) {
  Socket* s = sock(fd);
  return s ? s->listener.get() : nullptr;
}

listen::Listener* StackImpl::listener_at(const Endpoint& local) {
  if (const int* fd = listeners_.find(local)) return listener_of_fd(*fd);
  Endpoint any{IpAddr{}, local.port};
  any.addr.version = local.addr.version;
  if (const int* fd = listeners_.find(any)) return listener_of_fd(*fd);
  return nullptr;
}

listen::ListenerOptions StackImpl::listener_options(int listener_fd) const {
  listen::ListenerOptions o;
  if (const Socket* s = sock(listener_fd)) {
    o.synack_retries = s->opts.syn_retries;
    o.user_mss = s->opts.user_mss;
    o.rcvbuf = s->opts.rcvbuf;
    o.defer_accept = s->defer_accept;
  }
  return o;
}

Result<int> StackImpl::accept(int fd, Endpoint* peer) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (s->type != SockType::stream)
    return Errno::eopnotsupp;  // passive-open.md §1: UDP has no accept
  if (!s->listener) return Errno::einval;
  listen::Listener& l = *s->listener;
  if (l.accept_queue_len() == 0) return Errno::eagain;
  int nfd = alloc_fd();
  if (nfd < 0) return Errno::emfile;
  s = sock(fd);  // alloc_fd may have grown socks_
  uint32_t slot = *l.accept_queue_pop();
  check_accept_queue(l);
  ConnSlot& c = conns_[slot];
  c.listener_fd = -1;
  c.fd = nfd;
  Socket& n = socks_[static_cast<size_t>(nfd - kFirstFd)];
  n = Socket{};
  n.open = true;
  n.type = SockType::stream;
  n.family = s->family;
  n.local = c.conn->tuple().local;
  n.remote = c.conn->tuple().remote;
  n.bound = true;
  n.cstate = ConnectState::connected;
  n.conn = slot;
  // The descriptor shows the options its connection was born with
  // (create_child → inherit_options), not the listener's options now.
  n.reuseaddr = c.reuse;
  n.opts = c.conn->options();
  if (peer) *peer = n.remote;
  return nfd;
}

void StackImpl::stop_listening(int fd, Socket& s) {
  listen::Listener& l = *s.listener;
  // The half-open requests first, as the model says (Linux: silently; BSD
  // soclose() aborts so_q0 before so_q), then passive-open.md §2 "Closing a
  // listener": RST|ACK to every unaccepted child.
  opener_.close_listener(l);
  while (auto slot = l.accept_queue_pop()) {
    ConnSlot& c = conns_[*slot];
    c.listener_fd = -1;
    if (c.conn->state() != TcpState::closed) c.conn->abort(now_, Errno::econnreset);
    if (c.conn->state() == TcpState::closed)
      schedule_free(*slot);
    else
      c.conn->close(now_);  // an engine that does not close at once still orphans it
  }
  SYNQ_DCHECK(l.syn_queue_len() == 0 && l.accept_queue_len() == 0);
  if (const int* owner = listeners_.find(l.local()); owner && *owner == fd)
    listeners_.erase(l.local());
  s.listener.reset();
}

// ------------------------------------------------------------------ connect

void StackImpl::release_socket_conn(Socket& s) {
  if (s.conn == kNoConn) return;
  ConnSlot& c = conns_[s.conn];
  c.fd = -1;
  if (c.conn->state() == TcpState::closed) schedule_free(s.conn);
  s.conn = kNoConn;
}

Errno StackImpl::connect(int fd, const Endpoint& remote) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (remote.addr.version != s->family) return Errno::eafnosupport;
  if (s->type == SockType::dgram) {
    if (Errno e = autobind(fd, *s); e != Errno::ok) return e;
    s->remote = remote;
    s->has_remote = true;
    return Errno::ok;
  }
  switch (s->cstate) {
    case ConnectState::connected:
      return Errno::eisconn;
    case ConnectState::connecting: {
      tcp::Connection& c = *conns_[s->conn].conn;
      TcpState st = c.state();
      if (st == TcpState::syn_sent || st == TcpState::syn_received) return Errno::ealready;
      if (st == TcpState::closed) {
        // __inet_stream_connect sock_error: report (and clear) the error once,
        // ECONNABORTED if it was already read; the socket may connect again.
        Errno e = c.take_error();
        if (e == Errno::ok) e = Errno::econnaborted;
        s->cstate = ConnectState::unconnected;
        release_socket_conn(*s);
        if (s->bind_locked) {
          register_fd_port(fd);  // an explicit bind outlives the failed attempt
        } else {
          // inet_put_port on tcp_done: an implicit port is given back.
          s->bound = false;
          s->local = Endpoint{};
          s->local.addr.version = s->family;
        }
        return e;
      }
      s->cstate = ConnectState::connected;
      return Errno::ok;
    }
    case ConnectState::unconnected:
      break;
  }
  if (s->listener) return Errno::eisconn;
  if (s->conn != kNoConn) release_socket_conn(*s);
  if (remote.addr.is_unspecified() || remote.port == 0) return Errno::enetunreach;
  IpAddr local_addr = s->local.addr;
  if (local_addr.is_unspecified()) {
    auto a = source_for(s->family);
    if (!a) return Errno::enetunreach;
    local_addr = *a;
  }
  uint16_t port = s->local.port;
  if (!s->bound) {
    auto p = ephemeral_port(SockType::stream, local_addr, &remote);
    if (!p) return Errno::eaddrnotavail;  // Linux: ephemeral range exhausted on connect
    port = *p;
  }
  const FourTuple t{{local_addr, port}, remote};
  if (conn_table_.find(t) || opener_.find_request(t)) return Errno::eaddrnotavail;
  unregister_fd_port(fd);
  s->local = t.local;
  s->bound = true;
  uint32_t slot = new_conn(t, s->opts, s->reuseaddr);
  conns_[slot].fd = fd;
  s->conn = slot;
  s->cstate = ConnectState::connecting;
  conns_[slot].conn->connect(now_, isn(t), ts_offset(t));
  flush_deferred();
  return Errno::einprogress;
}

// ------------------------------------------------------------------ data

Result<size_t> StackImpl::send(int fd, std::span<const uint8_t> data) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (s->type == SockType::dgram) {
    if (!s->has_remote) return Errno::edestaddrreq;
    return udp_send(fd, *s, data, s->remote);
  }
  // Linux sk_stream_wait_connect: a socket that is not connecting → EPIPE.
  if (s->conn == kNoConn) return Errno::epipe;
  tcp::Connection& c = *conns_[s->conn].conn;
  TcpState st = c.state();
  if (st == TcpState::syn_sent || st == TcpState::syn_received) {
    if (Errno e = c.take_error(); e != Errno::ok) return e;
    return Errno::eagain;  // non-blocking send while the handshake runs
  }
  auto r = c.send(now_, data);
  flush_deferred();
  return r;
}

Result<size_t> StackImpl::recv(int fd, std::span<uint8_t> buf) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (s->type == SockType::dgram) return recvfrom(fd, buf, nullptr);
  if (s->conn == kNoConn) return Errno::enotconn;
  tcp::Connection& c = *conns_[s->conn].conn;
  TcpState st = c.state();
  if (st == TcpState::syn_sent || st == TcpState::syn_received) {
    if (Errno e = c.take_error(); e != Errno::ok) return e;
    return Errno::eagain;
  }
  auto r = c.recv(now_, buf);
  flush_deferred();
  return r;
}

Result<size_t> StackImpl::readable_bytes(int fd) const {
  const Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (s->type == SockType::dgram) return s->udp_rx.next_size();
  if (s->listener) return Errno::einval;  // tcp_ioctl SIOCINQ on a listener
  if (s->conn == kNoConn) return size_t{0};
  return conns_[s->conn].conn->readable_bytes();
}

Errno StackImpl::shutdown(int fd, ShutdownHow how) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (how != ShutdownHow::rd && how != ShutdownHow::wr && how != ShutdownHow::rdwr)
    return Errno::einval;
  const bool rd = how != ShutdownHow::wr;
  const bool wr = how != ShutdownHow::rd;
  if (s->type == SockType::dgram) {
    s->shut_rd |= rd;
    s->shut_wr |= wr;
    return s->has_remote ? Errno::ok : Errno::enotconn;  // inet_shutdown: TCP_CLOSE → ENOTCONN
  }
  if (s->listener) {
    if (rd) stop_listening(fd, *s);  // inet_shutdown: LISTEN + SHUT_RD → disconnect
    flush_deferred();
    return Errno::ok;
  }
  if (s->conn == kNoConn) return Errno::enotconn;
  tcp::Connection& c = *conns_[s->conn].conn;
  TcpState st = c.state();
  if (st == TcpState::closed) return Errno::enotconn;
  if (st == TcpState::syn_sent) {
    // inet_shutdown: SYN-SENT → disconnect; the socket is unconnected again.
    c.abort(now_, Errno::ok);
    (void)c.take_error();
    s->cstate = ConnectState::unconnected;
    release_socket_conn(*s);
    flush_deferred();
    return Errno::ok;
  }
  s->shut_rd |= rd;
  s->shut_wr |= wr;
  if (rd) c.shutdown_read();
  Errno e = Errno::ok;
  if (wr) e = c.shutdown_write(now_);
  flush_deferred();
  return e == Errno::enotconn ? Errno::enotconn : Errno::ok;
}

Errno StackImpl::close(int fd) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (s->type == SockType::dgram) {
    udp_bind_table_remove(fd, *s);
    unregister_fd_port(fd);
    release_fd(fd);
    return Errno::ok;
  }
  if (s->listener) stop_listening(fd, *s);
  unregister_fd_port(fd);
  if (s->conn != kNoConn) {
    uint32_t slot = s->conn;
    ConnSlot& c = conns_[slot];
    c.fd = -1;
    s->conn = kNoConn;
    if (c.conn->state() != TcpState::closed) c.conn->close(now_);
    if (conns_[slot].conn && conns_[slot].conn->state() == TcpState::closed) schedule_free(slot);
  }
  release_fd(fd);
  flush_deferred();
  return Errno::ok;
}

// ------------------------------------------------------------------ options

Errno StackImpl::setsockopt(int fd, SockOpt opt, int value) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  tcp::Connection* c = s->conn != kNoConn ? conns_[s->conn].conn.get() : nullptr;
  const bool tcp_level = opt == SockOpt::tcp_nodelay || opt == SockOpt::tcp_maxseg ||
                         opt == SockOpt::tcp_syncnt || opt == SockOpt::tcp_defer_accept;
  if (tcp_level && s->type != SockType::stream) return Errno::enoprotoopt;
  switch (opt) {
    case SockOpt::so_reuseaddr:
      s->reuseaddr = value != 0;
      return Errno::ok;
    case SockOpt::so_rcvbuf: {
      // sock_setsockopt: min(val, rmem_max) as unsigned, doubled, at least SOCK_MIN_RCVBUF.
      unsigned v = std::min(static_cast<unsigned>(value), static_cast<unsigned>(kBufMax));
      s->opts.rcvbuf = std::max(static_cast<int>(v * 2), kMinRcvbuf);
      if (c) c->options().rcvbuf = s->opts.rcvbuf;
      return Errno::ok;
    }
    case SockOpt::so_sndbuf: {
      unsigned v = std::min(static_cast<unsigned>(value), static_cast<unsigned>(kBufMax));
      s->opts.sndbuf = std::max(static_cast<int>(v * 2), kMinSndbuf);
      if (c) c->options().sndbuf = s->opts.sndbuf;
      return Errno::ok;
    }
    case SockOpt::so_error:
    case SockOpt::so_type:
    case SockOpt::so_acceptconn:
      return Errno::enoprotoopt;  // read-only options
    case SockOpt::tcp_nodelay:
      s->opts.nodelay = value != 0;
      if (c) c->set_nodelay(s->opts.nodelay);
      return Errno::ok;
    case SockOpt::tcp_maxseg:
      if (value != 0 && (value < kTcpMinMss || value > kMaxTcpWindow)) return Errno::einval;
      s->opts.user_mss = static_cast<uint16_t>(value);
      if (c) c->set_user_mss(s->opts.user_mss);
      return Errno::ok;
    case SockOpt::tcp_syncnt:
      if (value < 1 || value > kMaxTcpSyncnt) return Errno::einval;
      s->opts.syn_retries = value;
      if (c) c->set_syn_retries(value);
      return Errno::ok;
    case SockOpt::tcp_defer_accept:
      // Stored as retransmissions, like Linux; the linux model defers the third ACK with it.
      s->defer_accept = secs_to_retrans(value);
      return Errno::ok;
  }
  return Errno::enoprotoopt;
}

Result<int> StackImpl::getsockopt(int fd, SockOpt opt) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  tcp::Connection* c = s->conn != kNoConn ? conns_[s->conn].conn.get() : nullptr;
  const bool tcp_level = opt == SockOpt::tcp_nodelay || opt == SockOpt::tcp_maxseg ||
                         opt == SockOpt::tcp_syncnt || opt == SockOpt::tcp_defer_accept;
  if (tcp_level && s->type != SockType::stream) return Errno::enoprotoopt;
  const bool udp = s->type == SockType::dgram;
  switch (opt) {
    case SockOpt::so_reuseaddr:
      return s->reuseaddr ? 1 : 0;
    case SockOpt::so_rcvbuf:
      return s->opts.rcvbuf ? s->opts.rcvbuf : udp ? kUdpBufDefault : config_.sysctls.tcp_rmem[1];
    case SockOpt::so_sndbuf:
      return s->opts.sndbuf ? s->opts.sndbuf : udp ? kUdpBufDefault : config_.sysctls.tcp_wmem[1];
    case SockOpt::so_error: {
      Errno e = s->so_error;
      s->so_error = Errno::ok;
      if (e == Errno::ok && c) e = c->take_error();
      return static_cast<int>(e);
    }
    case SockOpt::so_type:
      return udp ? 2 : 1;  // SOCK_DGRAM : SOCK_STREAM
    case SockOpt::so_acceptconn:
      return s->listener ? 1 : 0;
    case SockOpt::tcp_nodelay:
      return s->opts.nodelay ? 1 : 0;
    case SockOpt::tcp_maxseg:
      // tcp_getsockopt: the user MSS before connecting, else the MSS in use.
      if (c && synchronized_or_later(c->state())) return static_cast<int>(c->mss());
      return s->opts.user_mss ? s->opts.user_mss : kTcpMssDefault;
    case SockOpt::tcp_syncnt:
      return s->opts.syn_retries > 0 ? s->opts.syn_retries : config_.sysctls.tcp_syn_retries;
    case SockOpt::tcp_defer_accept:
      return retrans_to_secs(s->defer_accept);
  }
  return Errno::enoprotoopt;
}

Errno StackImpl::set_linger(int fd, Linger linger) {
  Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  // sock_setsockopt(SO_LINGER): turning lingering off only clears the flag;
  // the time stays and getsockopt still reports it.
  s->opts.linger.on = linger.on;
  if (linger.on) s->opts.linger.seconds = std::max(linger.seconds, 0);
  if (s->conn != kNoConn) conns_[s->conn].conn->options().linger = s->opts.linger;
  return Errno::ok;
}

Result<Linger> StackImpl::get_linger(int fd) const {
  const Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  return s->opts.linger;
}

// ------------------------------------------------------------------ names, state

Result<Endpoint> StackImpl::getsockname(int fd) const {
  const Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  return s->local;
}

Result<Endpoint> StackImpl::getpeername(int fd) const {
  const Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (s->type == SockType::dgram) {
    if (!s->has_remote) return Errno::enotconn;
    return s->remote;
  }
  if (s->conn == kNoConn) return Errno::enotconn;
  const tcp::Connection& c = *conns_[s->conn].conn;
  // inet_getname: CLOSE or SYN-SENT → ENOTCONN.
  if (c.state() == TcpState::closed || c.state() == TcpState::syn_sent) return Errno::enotconn;
  return c.tuple().remote;
}

Result<TcpState> StackImpl::state(int fd) const {
  const Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  if (s->type != SockType::stream) return Errno::eopnotsupp;
  if (s->listener) return TcpState::listen;
  if (s->conn == kNoConn) return TcpState::closed;
  return conns_[s->conn].conn->state();
}

uint32_t StackImpl::readiness(const Socket& s) const {
  if (s.type == SockType::dgram) {
    uint32_t r = kWritable;
    if (!s.udp_rx.empty() || s.shut_rd) r |= kReadable;
    if (s.so_error != Errno::ok) r |= kError;
    if (s.shut_rd && s.shut_wr) r |= kHangup;
    return r;
  }
  if (s.listener)
    return s.listener->accept_queue_len() ? uint32_t{kReadable}
                                          : uint32_t{0};  // passive-open.md §8.35
  if (s.conn == kNoConn) return kWritable | kHangup;      // tcp_poll on a fresh socket (TCP_CLOSE)
  const tcp::Connection& c = *conns_[s.conn].conn;
  const TcpState st = c.state();
  uint32_t r = 0;
  if (c.error() != Errno::ok) r |= kError;
  if (st == TcpState::syn_sent || st == TcpState::syn_received) return r;
  const bool fin_in = c.at_eof() || st == TcpState::close_wait || st == TcpState::closing ||
                      st == TcpState::last_ack || st == TcpState::time_wait ||
                      st == TcpState::closed;
  const bool rcv_shut = fin_in || s.shut_rd;
  const bool snd_shut = s.shut_wr || st == TcpState::closed;
  if (st == TcpState::closed || (rcv_shut && snd_shut)) r |= kHangup;
  if (rcv_shut) r |= kReadable | kRdHangup;
  if (c.readable_bytes() > 0) r |= kReadable;
  if (snd_shut || c.send_space() > 0) r |= kWritable;
  return r;
}

void StackImpl::mark_ready(int fd) {
  Socket* s = sock(fd);
  if (!s || s->ready_queued) return;
  s->ready_queued = true;
  ready_.push_back(fd);
}

void StackImpl::drain_ready(const std::function<void(int, uint32_t)>& sink) {
  // Report from a second list, so what the sink's calls mark waits for the next drain.
  ready_draining_.clear();
  ready_draining_.swap(ready_);
  for (int fd : ready_draining_) {
    Socket* s = sock(fd);
    // Closed since (and maybe reopened: then its own entry, if marked, is later in the list).
    if (!s || !s->ready_queued) continue;
    s->ready_queued = false;
    if (const uint32_t events = readiness(*s); events != 0) sink(fd, events);
  }
}

Result<uint32_t> StackImpl::poll(int fd) const {
  const Socket* s = sock(fd);
  if (!s) return Errno::ebadf;
  return readiness(*s);
}

}  // namespace synq
