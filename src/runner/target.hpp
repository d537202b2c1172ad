// What a script runs against. One runner core (runner.hpp) drives either
// synq's own Stack in virtual time or the host's Linux kernel through a TUN
// device; both sit behind this interface.
//
// Contract: the runner, not the target, gives script semantics to calls:
// targets never block (blocking calls are retried by the runner, packetdrill's
// `...` form), descriptors are the target's own (the runner maps the script's
// numbers), and times are durations since the script's start.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "synq/address.hpp"
#include "synq/time.hpp"

namespace synq::runner {

/// An IP packet the target sent, and when (script time).
struct OutPacket {
  Duration at{0};
  std::vector<uint8_t> bytes;
};

/// Socket options a script can name (SOL_SOCKET / IPPROTO_TCP level).
enum class Opt : uint8_t {
  so_reuseaddr,
  so_rcvbuf,
  so_sndbuf,
  so_error,
  so_type,
  so_acceptconn,
  so_linger,
  tcp_nodelay,
  tcp_maxseg,
  tcp_syncnt,
  tcp_defer_accept,
};

/// A system call with its meaning decided and its descriptor already the
/// target's. `value` is the call's one integer argument (backlog, length,
/// option value, shutdown how).
struct Call {
  enum class Kind : uint8_t {
    socket,   // value: 1 stream, 2 dgram
    bind,     // endpoint
    listen,   // value: backlog
    accept,   // non-blocking; ret: the new descriptor
    connect,  // non-blocking; EINPROGRESS while the handshake runs
    read,     // value: length (recv/read)
    write,    // value: length (send/write); payload is zeros
    close,
    shutdown,    // value: 0 rd, 1 wr, 2 rdwr
    setsockopt,  // opt, value (or linger_on/value for SO_LINGER)
    getsockopt,  // opt; out: value (SO_LINGER: out = seconds, out2 = onoff)
    readiness,   // poll(2) revents of one descriptor, POLLIN=1 POLLOUT=4 POLLERR=8 POLLHUP=16
    fionread,    // ioctl(FIONREAD): out = readable bytes
  };
  Kind kind = Kind::socket;
  int fd = -1;
  Opt opt = Opt::so_reuseaddr;
  int64_t value = 0;
  bool linger_on = false;
  Endpoint endpoint;
};

/// What a call returned: ret ≥ 0, or ret = -1 with a Linux errno number.
struct CallOutcome {
  int64_t ret = 0;
  int err = 0;
  int64_t out = 0;
  int64_t out2 = 0;
  static CallOutcome ok(int64_t r = 0) { return CallOutcome{r, 0, 0, 0}; }
  static CallOutcome error(int e) { return CallOutcome{-1, e, 0, 0}; }
};

class Target {
 public:
  virtual ~Target() = default;
  /// "synq" or "linux".
  virtual std::string_view name() const = 0;
  /// A real kernel on the wall clock (passive-open.md §7 timer tolerance applies).
  virtual bool live() const = 0;
  /// Marks the script's time 0 (after setup and the init command).
  virtual void start_clock() = 0;
  /// Time since the script's start.
  virtual Duration now() = 0;
  /// Waits for the next packet the target sends, at most until `until`.
  /// Returns it (at ≤ until), or nothing when it made some progress without
  /// one (a timer ran, a slice of wall time passed) — now() tells how far;
  /// call again while now() < until.
  virtual std::optional<OutPacket> wait_packet(Duration until) = 0;
  /// The script's inbound packet, as the target's peer sends it now.
  virtual std::string inject(std::span<const uint8_t> ip_packet) = 0;
  virtual CallOutcome call(const Call& c) = 0;
  /// `sysctl -w name=value`. Returns an empty string, or why it failed.
  virtual std::string set_sysctl(std::string_view name, std::string_view value) = 0;
  /// A shell command line from a backtick block that is not a sysctl.
  /// Returns an empty string, or why it failed / cannot run here.
  virtual std::string run_shell(const std::string& command) = 0;
};

}  // namespace synq::runner
