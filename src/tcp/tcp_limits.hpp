// TCP's fixed numbers, each said once with the RFC or Linux name it comes
// from: RTO bounds, segment sizes, initial window, PAWS idle time. Option
// lengths live with the wire format (wire/tcp_option_kinds.hpp).
#pragma once

#include <algorithm>
#include <cstdint>

#include "synq/address.hpp"
#include "synq/time.hpp"

namespace synq::tcp {

// ------------------------------------------------------------ retransmission timeout

/// RFC 6298 §2.1 initial RTO; Linux TCP_TIMEOUT_INIT. Also the SYN-ACK's first timeout.
inline constexpr Duration kInitialRto = std::chrono::seconds(1);
/// Linux TCP_RTO_MAX: no backed-off timeout exceeds it (RFC 6298 §2.5 allows a cap ≥ 60 s).
inline constexpr Duration kMaxRto = std::chrono::seconds(120);
/// Linux TCP_RTO_MIN: the base of tcp_model_timeout and tcp_probe0_base
/// (the RTO's own floor is the tcp_rto_min_us sysctl).
inline constexpr Duration kLinuxRtoMinConst = std::chrono::milliseconds(200);

// ------------------------------------------------------------ segment sizes

/// RFC 9293 §3.7.1 default send MSS when the peer announces none; Linux TCP_MSS_DEFAULT.
inline constexpr uint16_t kDefaultPeerMss = 536;
/// The link MTU when none is configured (Ethernet, Linux ETH_DATA_LEN).
inline constexpr uint16_t kDefaultMtu = 1500;
/// Linux TCP_MIN_MSS: the smallest MSS synq derives from an MTU or accepts in TCP_MAXSEG.
inline constexpr uint16_t kMinMss = 88;

/// Linux TCP_MIN_SND_MSS: the send MSS never drops below it, options subtracted.
inline constexpr uint16_t kMinSndMss = 48;

/// Linux tcp_mtu_to_mss: the MSS an MTU allows (IPv4 20 + TCP 20 header
/// bytes, IPv6 40 + 20), for an MTU of 0 the default one.
inline constexpr uint16_t mss_from_mtu(IpVersion v, uint16_t mtu) {
  const int m = mtu ? mtu : kDefaultMtu;
  return static_cast<uint16_t>(std::max(m - (v == IpVersion::v4 ? 40 : 60), int{kMinMss}));
}

// ------------------------------------------------------------ windows and timestamps

/// RFC 9293 §3.1: the 16-bit window field's largest value (before RFC 7323 scaling).
inline constexpr uint32_t kMaxWindowField = 65535;
/// RFC 6928 initial congestion window in segments; Linux TCP_INIT_CWND.
inline constexpr uint32_t kInitialCwndSegments = 10;
/// RFC 7323 §2.3: the largest window scale shift; Linux TCP_MAX_WSCALE.
inline constexpr uint8_t kMaxWscale = 14;
/// RFC 7323 §5.5: TS.Recent older than 24 days is invalid; Linux TCP_PAWS_24DAYS.
inline constexpr Duration kPawsIdle = std::chrono::hours(24 * 24);

}  // namespace synq::tcp
