// Linux SYN cookies (passive-open.md §2 "SYN cookies"; Linux net/ipv4/syncookies.c):
// a SYN-ACK whose ISN encodes what a request would have stored, so a listener
// under a flood answers without keeping state and rebuilds the connection
// from the ACK. Pure functions of a four-tuple, the peer's ISN and the minute
// counter, keyed by two SipHash secrets derived from the stack seed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "synq/address.hpp"
#include "synq/time.hpp"

namespace synq::listen {

class LinuxSyncookies {
 public:
  /// The MSS values a cookie can carry (Linux msstab): the index is 2 bits.
  static constexpr std::array<uint16_t, 4> kMssTable{536, 1300, 1440, 1460};
  /// A cookie is accepted while the minute counter moved on by less than this
  /// (MAX_SYNCOOKIE_AGE): between 1 and 2 minutes depending on the phase.
  static constexpr uint32_t kMaxAgeMinutes = 2;
  /// How long a listener counts as "recently overflowed" after sending a
  /// cookie (TCP_SYNCOOKIE_VALID = MAX_SYNCOOKIE_AGE * 60 s).
  static constexpr Duration kValid = std::chrono::seconds(120);

  /// Secrets k0, k1 derived from `seed` (deterministic, like every secret in synq).
  explicit LinuxSyncookies(uint64_t seed);

  /// The largest table entry not above `peer_mss` (index 0 if none is).
  static uint8_t mss_index(uint16_t peer_mss);
  /// tcp_cookie_time: whole minutes since the driver's epoch.
  static uint32_t minute_count(Time now);

  /// ISN = H(t, 0; k0) + peer ISN + (minute << 24) + ((H(t, minute; k1) + mss_index) & 0xFFFFFF).
  uint32_t encode(const FourTuple& t, uint32_t peer_isn, uint32_t minute, uint8_t mss_index) const;
  /// The MSS index carried by `cookie` (our ISN, i.e. the ACK's ack - 1) if it
  /// was made for this tuple and peer ISN at most kMaxAgeMinutes - 1 minutes
  /// before `minute`, else nullopt.
  std::optional<uint8_t> decode(const FourTuple& t, uint32_t peer_isn, uint32_t cookie,
                                uint32_t minute) const;

  // ---- what a cookie keeps of the SYN's options, in our TSval's low 6 bits
  // (cookie_init_timestamp / cookie_timestamp_decode). Without timestamps
  // there is nowhere to keep them: window scaling and SACK are lost.
  static constexpr uint32_t kTsBits = 6;
  static constexpr uint32_t kTsWscaleNone = 0xF;  // low 4 bits: peer's shift, 0xF = none
  static constexpr uint32_t kTsSack = 1u << 4;
  static constexpr uint32_t kTsEcn = 1u << 5;

  struct TsOptions {
    bool wscale_ok = false;
    uint8_t snd_wscale = 0;
    bool sack_ok = false;
    bool ecn_ok = false;
  };
  /// Our TSval clock value (before the per-peer offset) for a cookie SYN-ACK:
  /// `clock` with its low 6 bits replaced by the options, never above `clock`.
  static uint32_t encode_ts(uint32_t clock, const TsOptions& o);
  /// The options from the echoed TSecr (less our per-peer offset).
  static TsOptions decode_ts(uint32_t echoed_clock);

 private:
  uint32_t hash(const FourTuple& t, uint32_t minute, const std::array<uint8_t, 16>& key) const;

  std::array<uint8_t, 16> k0_{};
  std::array<uint8_t, 16> k1_{};
};

}  // namespace synq::listen
