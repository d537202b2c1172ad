// One TCP connection's state machine (RFC 9293), sans-I/O.
//
// The Stack owns Connections, demultiplexes segments to them, and gives each
// a ConnectionHost to send segments, report timers and state changes. A
// Connection never allocates per segment; its buffers are sized at creation
// (SO_RCVBUF/SO_SNDBUF) and reused.
//
// LISTEN is not handled here: listeners and their compact half-open requests
// live in src/listen/. A listener's child starts here ESTABLISHED, made by
// init_passive() when the handshake completes (every model keeps its
// half-open state in the listener until then: a request, a syncache entry or
// a cookie). SYN-RECEIVED is reached only by a simultaneous open: connect()
// and a SYN crossing ours.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "synq/address.hpp"
#include "synq/counters.hpp"
#include "synq/errno.hpp"
#include "synq/stack.hpp"
#include "synq/sysctl.hpp"
#include "synq/time.hpp"
#include "tcp/tcp_limits.hpp"
#include "wire/tcp_header.hpp"

namespace synq::tcp {

class Connection;

/// What a Connection needs from its stack.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  /// Queues a segment from t.local to t.remote. The payload is copied.
  virtual void send_segment(const FourTuple& t, const wire::TcpHeader& h,
                            std::span<const uint8_t> payload) = 0;
  virtual Counters& counters() = 0;
  virtual const Sysctls& sysctls() const = 0;
  /// The connection's earliest timer deadline is now `deadline` (kNever: none).
  virtual void timer_changed(Connection& c, Time deadline) = 0;
  /// Called after every state change (including to CLOSED). The stack uses it
  /// for readiness and freeing closed connections. The callee may not
  /// destroy `c` during the call; it defers that.
  virtual void state_changed(Connection& c, TcpState from, TcpState to) = 0;
  /// No room for another TIME-WAIT (net.ipv4.tcp_max_tw_buckets reached).
  virtual bool time_wait_full() const { return false; }
};

/// Per-socket settings that reach the engine.
struct ConnectionOptions {
  bool nodelay = false;   // TCP_NODELAY
  uint16_t user_mss = 0;  // TCP_MAXSEG (0: none)
  int syn_retries = -1;   // TCP_SYNCNT (-1: net.ipv4.tcp_syn_retries)
  int rcvbuf = 0;         // SO_RCVBUF as stored (doubled); 0: tcp_rmem[1]
  int sndbuf = 0;         // SO_SNDBUF as stored (doubled); 0: tcp_wmem[1]
  Linger linger{};        // SO_LINGER
  uint16_t mtu = 0;       // path MTU for our MSS (0: 1500 → 1460 v4 / 1440 v6)
};

/// A snapshot of a connection's engine state, like Linux's tcp_info (ss -i).
struct TcpInfo {
  TcpState state = TcpState::closed;
  uint32_t snd_una = 0, snd_nxt = 0, rcv_nxt = 0;
  uint32_t snd_wnd = 0;   // peer's window, scaled
  uint32_t rcv_wnd = 0;   // window we last advertised, scaled
  uint32_t cwnd = 0;      // bytes
  uint32_t ssthresh = 0;  // bytes (UINT32_MAX: infinite)
  uint16_t mss = 0;       // send MSS (payload per segment)
  uint16_t peer_mss = 0;
  uint8_t snd_wscale = 0, rcv_wscale = 0;
  bool ts_ok = false, sack_ok = false, ws_ok = false;
  Duration rto{}, srtt{}, rttvar{};
  int backoff = 0;                 // exponential backoff of the running timer
  int retransmits = 0;             // consecutive timeouts of the same data
  bool in_recovery = false;        // NewReno fast recovery
  uint32_t ooo_ranges = 0;         // out-of-order ranges held
  bool buffers_allocated = false;  // send or receive ring storage is held
};

/// Everything a passive open learned from the handshake so far (from a
/// request entry or a validated SYN cookie).
struct PassiveOpen {
  uint32_t iss = 0;                     // our initial sequence number
  uint32_t irs = 0;                     // the peer's initial sequence number
  uint16_t peer_mss = kDefaultPeerMss;  // MSS the peer announced (or the default; cookie table)
  bool wscale_ok = false;               // both sides sent window scale
  uint8_t snd_wscale = 0;               // peer's shift (applied to windows it sends)
  uint8_t rcv_wscale = 0;               // our shift (applied to windows we send)
  bool sack_ok = false;
  bool ts_ok = false;
  uint32_t ts_recent = 0;  // the peer's last TSval
  uint32_t ts_offset = 0;  // our TSval = ms clock + ts_offset
  uint32_t snd_wnd = 0;    // peer's window from the segment that completed the handshake, scaled
  /// The MSS the initial receive window is rounded down to; 0: our MSS less
  /// the timestamp option (a request's SYN-ACK). Linux's cookie_v4_check
  /// redoes tcp_select_initial_window with the cookie's table MSS instead.
  uint16_t window_mss = 0;
};

class Connection {
 public:
  Connection(ConnectionHost& host, const FourTuple& tuple, const ConnectionOptions& opts);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // ------------------------------------------------------------ opens
  /// Active open: sends a SYN (with MSS, SACK-permitted, timestamps, window
  /// scale per sysctls), state SYN-SENT. SYN retransmitted at RTO 1 s doubling;
  /// after syn_retries the connection fails with ETIMEDOUT (default 6: SYNs at
  /// 0, 1, 3, 7, 15, 31, 63 s, ETIMEDOUT at 127 s; 5: ETIMEDOUT at 63 s).
  /// Buffer sizes (options().rcvbuf/sndbuf) are taken here.
  void connect(Time now, uint32_t iss, uint32_t ts_offset);
  /// Passive open from a listener whose handshake is complete: the child is
  /// ESTABLISHED at once and sends nothing (see PassiveOpen).
  void init_passive(Time now, const PassiveOpen& p);

  // ------------------------------------------------------------ input
  /// A segment for this connection's four-tuple. `ecn` is the IP ECN field.
  void on_segment(Time now, const wire::TcpSegment& seg);
  /// Runs timers due at or before now.
  void on_timer(Time now);
  /// Earliest pending timer, or kNever.
  Time deadline() const;
  /// TIME-WAIT's verdict on a SYN: may it open a new incarnation (Linux
  /// TCP_TW_SYN: sequence above rcv_nxt, or a newer timestamp)? If so, the
  /// ISN Linux gives the new connection (snd_nxt + 65535 + 2, never 0) —
  /// the stack then ends this connection and hands the SYN and this ISN to
  /// the listener; otherwise nullopt. (Reaching on_segment() instead, such
  /// a SYN is answered with the TIME-WAIT's ACK: there is no listener.)
  std::optional<uint32_t> time_wait_syn_isn(const wire::TcpSegment& seg) const;

  // ------------------------------------------------------------ application
  /// Copies as much as fits in the send buffer. EAGAIN if none fits; EPIPE after
  /// shutdown(WR)/close; EAGAIN while SYN-SENT/SYN-RECEIVED (Linux non-blocking
  /// sk_stream_wait_connect); EPIPE when CLOSED; the pending error first if any.
  Result<size_t> send(Time now, std::span<const uint8_t> data);
  /// Reads in-order data. 0 at EOF; EAGAIN if none yet; ECONNRESET etc. after a reset.
  Result<size_t> recv(Time now, std::span<uint8_t> buf);
  size_t readable_bytes() const;
  /// True once the peer's FIN has been received and all data before it read.
  bool at_eof() const;
  /// Space left in the send buffer.
  size_t send_space() const;
  /// Bytes sent but not acknowledged plus bytes not yet sent.
  size_t send_queued() const;
  /// shutdown(SHUT_WR): FIN after queued data.
  Errno shutdown_write(Time now);
  /// shutdown(SHUT_RD), as Linux: recv() returns 0 once the queue is empty, but
  /// data that still arrives is queued and readable (only close() discards
  /// it); in FIN-WAIT-1/2 new data after SHUT_RD is answered with a RST.
  void shutdown_read();
  /// close(): like Linux tcp_close — unread data → RST (TCPAbortOnClose);
  /// SO_LINGER {1,0} → RST (Linux counts TCPAbortOnData on this path); else
  /// FIN after queued data.
  /// The connection lives on as an orphan until CLOSED/TIME-WAIT ends.
  void close(Time now);
  /// Sends RST (if synchronized) and goes to CLOSED at once.
  void abort(Time now, Errno error);

  // ------------------------------------------------------------ options & state
  void set_nodelay(bool on);
  void set_user_mss(uint16_t mss);
  void set_syn_retries(int n);
  ConnectionOptions& options();
  const ConnectionOptions& options() const;

  TcpState state() const;
  const FourTuple& tuple() const;
  /// The pending socket error (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...) or ok.
  Errno error() const;
  /// Reads and clears the pending error (SO_ERROR).
  Errno take_error();
  /// The MSS used for sending (after options and TCP_MAXSEG).
  uint16_t mss() const;
  bool closed_by_app() const;
  TcpInfo info() const;

  /// Opaque slot for the owning stack (socket index, listener link...).
  uint32_t owner_tag = 0;

  struct Impl;

 private:
  Impl* impl_;  // fixed-size state, allocated once per connection
};

/// Options for a SYN or SYN-ACK we send, per sysctls and (for SYN-ACK) what
/// the peer offered — shared by Connection and the listener's requests.
/// `peer` is null for an active open's SYN.
wire::TcpOptions make_syn_options(const Sysctls& s, uint16_t our_mss, uint8_t our_wscale,
                                  uint32_t ts_val, const wire::TcpOptions* peer);

/// Our receive window scale (from tcp_rmem's max, like Linux), and the
/// initial receive window we announce in a SYN/SYN-ACK for a given MSS.
uint8_t our_wscale(const Sysctls& s);
uint32_t initial_rcv_window(const Sysctls& s, uint16_t mss, int rcvbuf);

/// Our TSval clock: milliseconds (Linux uses a 1 ms clock since 4.13).
inline uint32_t ts_clock(Time now, uint32_t offset) {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) +
         offset;
}

}  // namespace synq::tcp
