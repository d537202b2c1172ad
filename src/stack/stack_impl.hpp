// StackImpl: the state behind synq::Stack — socket table, demux tables,
// connections, listeners, timers, output queue. Implements the hosts the TCP
// engine (tcp::ConnectionHost) and the passive open (listen::ListenerHost) run in.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "listen/listener.hpp"
#include "listen/passive_open.hpp"
#include "stack/flat_hash_map.hpp"
#include "stack/isn.hpp"
#include "stack/output_queue.hpp"
#include "stack/timer_heap.hpp"
#include "stack/udp_queue.hpp"
#include "synq/stack.hpp"
#include "tcp/connection.hpp"
#include "wire/wire.hpp"

namespace synq {

class StackImpl final : public tcp::ConnectionHost, public listen::ListenerHost {
 public:
  explicit StackImpl(StackConfig config);
  ~StackImpl() override;

  // ---------------------------------------------------------------- driver
  void input(Time now, std::span<const uint8_t> ip_packet);
  void advance(Time now);
  Time next_deadline() const;
  void drain_output(const std::function<void(std::span<const uint8_t>)>& sink);
  Time now() const override { return now_; }
  void drain_ready(const std::function<void(int, uint32_t)>& sink);
  bool has_ready() const { return !ready_.empty(); }

  // ---------------------------------------------------------------- sockets
  Result<int> socket(SockType type, IpVersion family);
  Errno bind(int fd, const Endpoint& local);
  Errno listen(int fd, int backlog);
  Errno set_listen_model(int fd, std::string_view model);
  Result<int> accept(int fd, Endpoint* peer);
  Errno connect(int fd, const Endpoint& remote);
  Result<size_t> send(int fd, std::span<const uint8_t> data);
  Result<size_t> recv(int fd, std::span<uint8_t> buf);
  Result<size_t> readable_bytes(int fd) const;
  Result<size_t> sendto(int fd, std::span<const uint8_t> data, const Endpoint& to);
  Result<size_t> recvfrom(int fd, std::span<uint8_t> buf, Endpoint* from);
  Errno shutdown(int fd, ShutdownHow how);
  Errno close(int fd);
  Errno setsockopt(int fd, SockOpt opt, int value);
  Result<int> getsockopt(int fd, SockOpt opt);
  Errno set_linger(int fd, Linger linger);
  Result<Linger> get_linger(int fd) const;
  Result<Endpoint> getsockname(int fd) const;
  Result<Endpoint> getpeername(int fd) const;
  Result<uint32_t> poll(int fd) const;
  Result<TcpState> state(int fd) const;

  // ---------------------------------------------------------------- views
  Counters& counters() override { return counters_; }
  const Counters& counters() const { return counters_; }
  Sysctls& sysctls() { return config_.sysctls; }
  const Sysctls& sysctls() const override { return config_.sysctls; }
  const std::string& name() const { return config_.name; }
  const std::vector<IpAddr>& addresses() const { return config_.addresses; }
  std::vector<SocketInfo> sockets() const;
  Result<ListenerQueues> listener_queues(int fd) const;  // listener_stats.cpp
  void set_listen_trace(ListenTrace t) { listen_trace_ = std::move(t); }

  /// The connection behind a descriptor, for tests and tools (null if none).
  tcp::Connection* connection_of(int fd);
  /// Number of live connection objects (with or without descriptor).
  size_t connection_count() const { return conn_table_.size(); }
  /// Number of live half-open requests over all listeners.
  size_t request_count() const { return opener_.requests().live(); }
  /// Every stack invariant that does not hold now, one line each (empty: all
  /// hold); invariants.cpp lists them. `timers_current`: timers have run up to
  /// now() (true after advance(); input() may move time without running them).
  std::vector<std::string> invariant_violations(bool timers_current = true) const;

  // ---------------------------------------------------------------- hosts
  void send_segment(const FourTuple& t, const wire::TcpHeader& h,
                    std::span<const uint8_t> payload) override;
  void timer_changed(tcp::Connection& c, Time deadline) override;
  void state_changed(tcp::Connection& c, TcpState from, TcpState to) override;
  bool time_wait_full() const override {
    return time_waits_ >= static_cast<size_t>(config_.sysctls.tcp_max_tw_buckets);
  }
  /// Connections in TIME-WAIT now (Linux's tw_refcount - 1).
  size_t time_wait_count() const { return time_waits_; }
  void send_reset_reply(const FourTuple& t, const wire::TcpSegment& seg) override;
  uint32_t isn(const FourTuple& t) override { return isn_.isn(t, now_); }
  uint64_t seed() const override { return config_.seed; }
  uint32_t ts_offset(const FourTuple& t) override {
    return isn_.ts_offset(t.local.addr, t.remote.addr);
  }
  listen::ListenerOptions listener_options(int listener_fd) const override;
  uint16_t path_mss(const FourTuple& t) const override;
  void request_timer_changed(uint32_t req, uint32_t generation, Time deadline) override;
  uint32_t create_child(listen::Listener& l, const FourTuple& t,
                        const tcp::PassiveOpen& p) override;
  void deliver_to_child(uint32_t child, const wire::TcpSegment& seg) override;
  bool tracing() const override { return static_cast<bool>(listen_trace_); }
  void trace(const ListenEvent& e) override {
    if (listen_trace_) listen_trace_(e);
  }

 private:
  static constexpr int kFirstFd = 3;  // 0..2 are stdio in a real process
  static constexpr int kMaxFds = 1 << 20;
  static constexpr uint32_t kNoConn = UINT32_MAX;

  enum class ConnectState : uint8_t { unconnected, connecting, connected };

  struct Socket {
    bool open = false;
    SockType type = SockType::stream;
    IpVersion family = IpVersion::v4;
    Endpoint local{};
    bool bound = false;        // has a local port
    bool bind_locked = false;  // bound by bind(), not implicitly (keeps its port on failure)
    bool port_registered = false;
    Endpoint remote{};  // UDP default destination
    bool has_remote = false;
    ConnectState cstate = ConnectState::unconnected;
    bool shut_rd = false;
    bool shut_wr = false;
    // options
    bool reuseaddr = false;
    // TCP_NODELAY, TCP_MAXSEG, TCP_SYNCNT, SO_RCVBUF/SO_SNDBUF (stored doubled;
    // UDP uses the buffer sizes too) and SO_LINGER: held once, in the form a
    // connection takes them, so connect() and a child's clone copy one struct.
    tcp::ConnectionOptions opts;
    uint8_t defer_accept = 0;  // in SYN-ACK retransmissions, like Linux
    Errno so_error = Errno::ok;
    bool ready_queued = false;  // in ready_ (drain_ready), not reported yet
    std::string model_override;
    // TCP
    uint32_t conn = kNoConn;
    std::unique_ptr<listen::Listener> listener;
    // UDP
    stack::UdpReceiveQueue udp_rx;
  };

  // Where a connection counts for bind conflicts (SO_REUSEADDR rules).
  enum class PortUse : uint8_t { none, reuse, noreuse, timewait };

  struct ConnSlot {
    std::unique_ptr<tcp::Connection> conn;
    uint32_t generation = 0;
    Time deadline = kNever;
    int fd = -1;           // descriptor, -1 when orphaned or waiting in an accept queue
    int listener_fd = -1;  // listener whose accept queue holds it
    bool reuse = false;
    PortUse port_use = PortUse::none;
    bool in_table = false;
    bool free_pending = false;
  };

  struct AddrUse {
    IpAddr addr;
    uint32_t reuse = 0;
    uint32_t noreuse = 0;
    uint32_t timewait = 0;
  };
  struct PortUsers {
    std::vector<int> fds;        // bound sockets without a connection (incl. listeners)
    std::vector<AddrUse> conns;  // connections, per local address
    bool empty() const;
  };

  // -- descriptors
  Socket* sock(int fd);
  const Socket* sock(int fd) const;
  int alloc_fd();
  void release_fd(int fd);
  /// A packet or timer touched `fd` (no-op for -1): drain_ready() reports it once.
  void mark_ready(int fd);

  // -- ports
  static uint32_t port_key(SockType type, uint16_t port) {
    return (type == SockType::stream ? 0u : 1u) << 16 | port;
  }
  bool bind_conflict(int fd, const Socket& s, const Endpoint& ep) const;
  std::optional<uint16_t> ephemeral_port(SockType type, const IpAddr& local,
                                         const Endpoint* remote);
  /// Someone holds the port on an address overlapping `local` (bound or connected).
  bool port_held_on(const PortUsers& users, const IpAddr& local) const;
  void register_fd_port(int fd);
  void unregister_fd_port(int fd);
  void conn_port_use(uint32_t slot, PortUse use);
  bool is_local(const IpAddr& a) const;
  std::optional<IpAddr> source_for(IpVersion v) const;

  // -- connections
  uint32_t new_conn(const FourTuple& t, const tcp::ConnectionOptions& opts, bool reuse);
  void schedule_free(uint32_t slot);
  /// Ends an orphan TIME-WAIT early (a SYN reopened its tuple): out of the table now, then freed.
  void end_time_wait(uint32_t slot);
  void flush_deferred();
  void release_socket_conn(Socket& s);
  /// What a child takes from its listener, once, when its handshake completes
  /// (create_child): Linux's clone of the listener (socket_api.cpp says which).
  struct Inherited {
    tcp::ConnectionOptions conn;
    bool reuseaddr = false;
  };
  Inherited inherit_options(const Socket& listener) const;
  uint32_t readiness(const Socket& s) const;

  // -- listeners
  listen::Listener* listener_at(const Endpoint& local);
  listen::Listener* listener_of_fd(int fd);
  void stop_listening(int fd, Socket& s);

  // -- input
  void tcp_input(const wire::IpPacket& ip);
  void udp_input(const wire::IpPacket& ip);
  Errno udp_bind_table_add(int fd, Socket& s);
  void udp_bind_table_remove(int fd, Socket& s);
  int udp_lookup(const Endpoint& local, const Endpoint& remote) const;
  Result<size_t> udp_send(int fd, Socket& s, std::span<const uint8_t> data, const Endpoint& to);
  Errno autobind(int fd, Socket& s);

  // -- timers
  void run_timer(const stack::TimerEntry& e);
  bool timer_stale(const stack::TimerEntry& e) const;

  void check_accept_queue(const listen::Listener& l) const;
  /// Debug builds: SYNQ_DCHECK that invariant_violations() is empty, sampled
  /// so large tables stay cheap (invariants.cpp).
  void debug_check_invariants(bool timers_current);

  StackConfig config_;
  Counters counters_;
  Time now_{0};
  stack::IsnGenerator isn_;
  uint64_t rng_state_;
  uint16_t ip_id_;

  std::vector<Socket> socks_;        // index = fd - kFirstFd
  std::vector<int> free_fds_;        // min-heap: Linux hands out the lowest free descriptor
  std::vector<int> ready_;           // descriptors touched since the last drain_ready()
  std::vector<int> ready_draining_;  // the list being reported (kept for its capacity)
  std::vector<ConnSlot> conns_;
  std::vector<uint32_t> free_conns_;
  std::vector<uint32_t> pending_free_;
  stack::FlatHashMap<FourTuple, uint32_t> conn_table_;
  stack::FlatHashMap<Endpoint, int> listeners_;
  stack::FlatHashMap<Endpoint, int> udp_bound_;
  std::unordered_map<uint32_t, PortUsers> ports_;
  listen::PassiveOpener opener_;
  ListenTrace listen_trace_;
  mutable stack::TimerHeap timers_;
  stack::OutputQueue output_;
  size_t time_waits_ = 0;          // connections in TIME-WAIT (tcp_max_tw_buckets)
  uint64_t invariant_checks_ = 0;  // debug_check_invariants: calls left to skip (sampling)
};

}  // namespace synq
