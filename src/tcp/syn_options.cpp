// Options and windows for the SYN / SYN-ACK we send, as Linux chooses them
// (tcp_syn_options / tcp_synack_options, tcp_select_initial_window).
#include <algorithm>

#include "tcp/connection.hpp"
#include "tcp/tcp_limits.hpp"

namespace synq::tcp {

namespace {
// net.core.rmem_max on a default Linux host; tcp_select_initial_window takes
// max(tcp_rmem[2], rmem_max) as the largest window the socket could ever want.
constexpr uint32_t kLinuxRmemMax = 212992;
}  // namespace

wire::TcpOptions make_syn_options(const Sysctls& s, uint16_t our_mss, uint8_t our_wscale,
                                  uint32_t ts_val, const wire::TcpOptions* peer) {
  wire::TcpOptions o;
  o.has_mss = true;
  o.mss = our_mss;
  // A SYN-ACK may only carry what the SYN offered (RFC 2018 §2, RFC 7323 §2.2/§3.2).
  if (s.tcp_sack && (peer == nullptr || peer->sack_permitted)) o.sack_permitted = true;
  if (s.tcp_timestamps && (peer == nullptr || peer->has_timestamps)) {
    o.has_timestamps = true;
    o.ts_val = ts_val;
    o.ts_ecr = peer ? peer->ts_val : 0;  // RFC 7323 §3.2: TSecr is 0 in a SYN
  }
  if (s.tcp_window_scaling && (peer == nullptr || peer->has_wscale)) {
    o.has_wscale = true;
    o.wscale = our_wscale;
  }
  return o;
}

uint8_t our_wscale(const Sysctls& s) {
  // Linux tcp_select_initial_window: scale for the largest receive space the
  // socket could grow to, so later autotuning never needs a bigger shift.
  uint32_t space =
      std::max<uint32_t>(static_cast<uint32_t>(std::max(s.tcp_rmem[2], 0)), kLinuxRmemMax);
  uint8_t shift = 0;
  while (space > kMaxWindowField && shift < kMaxWscale) {
    space >>= 1;
    ++shift;
  }
  return shift;
}

uint32_t initial_rcv_window(const Sysctls& s, uint16_t mss, int rcvbuf) {
  // Linux (>= 4.19, "up initial rmem to 128KB and SYN rwin to around 64KB"):
  //   space = tcp_full_space(sk) = tcp_win_from_space(sk_rcvbuf); the default
  //   scaling ratio counts half of the buffer as payload → 131072 / 2 = 65536;
  //   if (space > mss) space = rounddown(space, mss);   → 44 * 1460 = 64240
  //   rcv_wnd = min(space, U16_MAX).
  // `mss` is what the caller segments by: advmss (1460) for a SYN, advmss
  // minus the 12-byte timestamp option for a SYN-ACK with timestamps (Linux
  // tcp_openreq_init_rwin), which gives the familiar 65160 = 45 * 1448.
  const int buf = rcvbuf > 0 ? rcvbuf : s.tcp_rmem[1];
  uint32_t space = static_cast<uint32_t>(std::max(buf, 0)) / 2;
  if (mss > 0 && space > mss) space = space / mss * mss;
  return std::min(space, kMaxWindowField);
}

}  // namespace synq::tcp
