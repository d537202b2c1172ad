// A synq stack: one host's IPv4/IPv6 + TCP + UDP, sans-I/O.
//
// Driver side:   input(now, packet)  → feed a received IP packet
//                advance(now)        → run timers due at or before now
//                next_deadline()     → when advance() must be called next
//                drain_output(sink)  → take the IP packets the stack wants sent
//                drain_ready(sink)   → which descriptors a packet or timer touched
// Application side: a socket-like API on small integer descriptors. Every call
// is non-blocking; "now" is the time of the last driver call.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "synq/address.hpp"
#include "synq/counters.hpp"
#include "synq/errno.hpp"
#include "synq/sysctl.hpp"
#include "synq/time.hpp"
#include "synq/trace.hpp"

namespace synq {

enum class SockType : uint8_t { stream, dgram };
enum class ShutdownHow : uint8_t { rd = 0, wr = 1, rdwr = 2 };

/// Socket options with an int value (Linux semantics for each).
enum class SockOpt : uint8_t {
  so_reuseaddr,
  so_rcvbuf,  // set: doubled like Linux; get: the doubled value
  so_sndbuf,
  so_error,       // get only; reading clears it
  so_type,        // get only
  so_acceptconn,  // get only
  tcp_nodelay,
  tcp_maxseg,
  tcp_syncnt,        // SYN (client) / SYN-ACK (listener) retries, 1..127
  tcp_defer_accept,  // seconds; get returns the value rounded up to the retransmission schedule
};

struct Linger {
  bool on = false;
  int seconds = 0;
};

/// Readiness bits, like poll(2)'s revents.
enum Readiness : uint32_t {
  kReadable = 1u << 0,  // POLLIN: data, EOF, or (listener) a connection to accept
  kWritable = 1u << 1,  // POLLOUT
  kError = 1u << 2,     // POLLERR: SO_ERROR is set
  kHangup = 1u << 3,    // POLLHUP: both directions closed (or never connected after failure)
  kRdHangup = 1u << 4,  // POLLRDHUP: peer sent FIN
};

/// TCP states, RFC 9293 names (Linux's names in comments where they differ).
enum class TcpState : uint8_t {
  closed,
  listen,
  syn_sent,
  syn_received,  // SYN-RECV
  established,
  fin_wait_1,
  fin_wait_2,
  close_wait,
  closing,
  last_ack,
  time_wait,
};
std::string_view tcp_state_name(TcpState s);  // "SYN-SENT", "ESTAB" style: RFC names, upper case

struct StackConfig {
  /// The host's addresses (at least one). Packets to other addresses are dropped (InAddrErrors).
  std::vector<IpAddr> addresses;
  /// Seeds every random choice of this stack: ISN secret (RFC 6528), cookie
  /// secrets, ephemeral port choice.
  uint64_t seed = 1;
  Sysctls sysctls{};
  /// Name used in logs and traces ("server", "client-17").
  std::string name = "host";
};

/// One line of `ss -lnt`/`ss -tn`-like output.
struct SocketInfo {
  int fd = -1;  // -1 for entries without a descriptor (SYN-RECV requests, TIME-WAIT)
  TcpState state = TcpState::closed;
  SockType type = SockType::stream;
  Endpoint local;
  Endpoint remote;
  uint32_t recv_q = 0;  // listener: accept queue length; else unread bytes
  uint32_t send_q = 0;  // listener: backlog B; else unacked + unsent bytes
  std::string model;    // listener's backlog model name, else empty
};

/// A listener's queue lengths, read in O(1) (Stack::listener_queues).
struct ListenerQueues {
  uint32_t syn_queue = 0;     // half-open requests (SYN-RECV)
  uint32_t accept_queue = 0;  // established children not yet accepted
  uint32_t backlog = 0;       // B after listen()'s clamp
};

/// `ss`-like text for a sockets() listing: a header, then one line per entry
/// with ss's state names (LISTEN, SYN-RECV, ESTAB, TIME-WAIT, ...), Recv-Q,
/// Send-Q, local and peer address, and the listener's backlog model.
/// `listening_only` gives `ss -lnt` (listeners only); otherwise `ss -tan`,
/// which includes SYN-RECV requests and sockets without a descriptor.
std::string format_ss(const std::vector<SocketInfo>& sockets, bool listening_only = false);

class StackImpl;

class Stack {
 public:
  explicit Stack(StackConfig config);
  ~Stack();
  Stack(Stack&&) noexcept;
  Stack& operator=(Stack&&) noexcept;
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // ---------------------------------------------------------------- driver
  /// Feeds one received IP packet (v4 or v6, starting at the IP header).
  /// Malformed packets are counted and dropped; never throws.
  void input(Time now, std::span<const uint8_t> ip_packet);
  /// Runs every timer due at or before `now`. Time never goes backwards.
  void advance(Time now);
  /// The earliest time advance() has work to do, or kNever.
  Time next_deadline() const;
  /// Calls sink(packet) for every IP packet queued for sending, oldest first,
  /// then empties the queue. The spans are valid only during the call.
  void drain_output(const std::function<void(std::span<const uint8_t>)>& sink);
  /// Time of the last driver call.
  Time now() const;
  /// Readiness notification, like epoll with EPOLLET: calls sink(fd, events)
  /// once for every descriptor that a received packet or a timer touched
  /// since the last call — a connection's segment or timeout, a listener
  /// whose accept queue gained a child, a UDP socket's datagram — with its
  /// poll() bits (Readiness) as they are now, in the order the descriptors
  /// were first touched; descriptors with no bit set or closed since are
  /// skipped. Then the list is empty. What the application itself does
  /// (send, recv, accept, close) is not reported: it knows. A driver calls it
  /// after input()/advance() and does work in proportion to what happened.
  void drain_ready(const std::function<void(int fd, uint32_t events)>& sink);
  /// True when drain_ready() has descriptors to report.
  bool has_ready() const;

  // ---------------------------------------------------------------- sockets
  Result<int> socket(SockType type, IpVersion family = IpVersion::v4);
  Errno bind(int fd, const Endpoint& local);
  /// listen(2) with libc/Linux semantics: `backlog` is passed through as the
  /// kernel sees it (negative → somaxconn on linux). The listener's backlog
  /// model is the stack's synq.listen_model unless set_listen_model() chose one.
  Errno listen(int fd, int backlog);
  /// listen() as CPython's socket.listen([backlog]) calls it: the default is
  /// min(SOMAXCONN, 128), with SOMAXCONN the C library's constant (4096 in
  /// glibc's <bits/socket.h>, checked on glibc 2.36; 128 in older glibc), and a
  /// negative backlog becomes 0 before the system call. So Python's
  /// listen(-1) gets B = 0 where a C caller's listen(-1) gets somaxconn (passive-open.md §1).
  Errno listen_python(int fd, std::optional<int> backlog = std::nullopt);
  /// Per-listener backlog model override ("linux", "bsd44", "freebsd", "xnu"), before listen().
  Errno set_listen_model(int fd, std::string_view model);
  /// Non-blocking accept: EAGAIN when the accept queue is empty.
  Result<int> accept(int fd, Endpoint* peer = nullptr);
  /// Non-blocking connect: EINPROGRESS for TCP (completion shows as writable,
  /// failure as kError with SO_ERROR); UDP sets the default destination.
  Errno connect(int fd, const Endpoint& remote);
  Result<size_t> send(int fd, std::span<const uint8_t> data);
  Result<size_t> recv(int fd, std::span<uint8_t> buf);
  /// Bytes readable now without blocking (FIONREAD).
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
  /// poll(2)-like readiness bits (Readiness), or EBADF.
  Result<uint32_t> poll(int fd) const;
  /// TCP state of a stream socket.
  Result<TcpState> state(int fd) const;

  // ---------------------------------------------------------------- views
  Counters& counters();
  const Counters& counters() const;
  Sysctls& sysctls();
  const Sysctls& sysctls() const;
  const std::string& name() const;
  const std::vector<IpAddr>& addresses() const;
  /// Every socket, request and TIME-WAIT entry, like `ss -tan`.
  std::vector<SocketInfo> sockets() const;
  /// O(1) queue lengths of listener `fd` (EBADF, or EINVAL if it does not listen).
  Result<ListenerQueues> listener_queues(int fd) const;
  /// Receives one event per listener decision (include/synq/trace.hpp); empty: off.
  void set_listen_trace(ListenTrace trace);

  StackImpl& impl() { return *impl_; }
  const StackImpl& impl() const { return *impl_; }

 private:
  std::unique_ptr<StackImpl> impl_;
};

}  // namespace synq
