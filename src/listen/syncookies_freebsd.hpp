// FreeBSD's SYN cookies (tcp_syncache.c, syncookie_generate/lookup; passive-open.md §4).
// The ISS carries a 24-bit MAC and one byte of SYN options:
//
//   ISS = (MAC & ~0xff) | (cookie_byte ^ (MAC >> 24))
//   cookie_byte (struct syncookie on a little-endian host, low bit first):
//     bit 0     odd/even: which of the two secrets made the MAC
//     bit 1     SACK permitted
//     bits 2-4  index of the peer's window scale in {0, 0, 1, 2, 4, 6, 7, 8}
//               (0: no window scaling; others rounded down)
//     bits 5-7  index of the peer's MSS in {216, 536, 1200, 1360, 1400, 1440,
//               1452, 1460} (rounded down)
//
// MAC = SipHash-2-4(secret; faddr, laddr, fport, lport, IRS, cookie_byte,
// secmod), folded to 32 bits; secmod is the syncache bucket. Two secrets
// rotate every SYNCOOKIE_LIFETIME (15 s): at each rotation the older slot gets
// a fresh secret and becomes current, so a cookie lives 15–30 s. FreeBSD draws
// secrets from arc4random; synq derives secret number n from the stack's seed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "synq/address.hpp"
#include "synq/time.hpp"

namespace synq::listen {

/// What a cookie remembers of the SYN.
struct FreeBsdCookieOptions {
  uint16_t mss = 536;      // the peer's MSS, rounded down to the table
  bool wscale_ok = false;  // the SYN carried window scale
  uint8_t wscale = 0;      // the peer's shift, rounded down to the table
  bool sack_ok = false;
  bool operator==(const FreeBsdCookieOptions&) const = default;
};

class FreeBsdSyncookies {
 public:
  static constexpr Duration kLifetime = std::chrono::seconds(15);  // SYNCOOKIE_LIFETIME
  static constexpr std::array<uint16_t, 8> kMssTable{216, 536, 1200, 1360, 1400, 1440, 1452, 1460};
  static constexpr std::array<uint8_t, 8> kWscaleTable{0, 0, 1, 2, 4, 6, 7, 8};

  /// `seed_key`: 16 bytes from the stack's seed; every secret derives from it.
  explicit FreeBsdSyncookies(const std::array<uint8_t, 16>& seed_key) : seed_key_(seed_key) {}

  /// Largest table index whose MSS is not above `mss` (0 if all are).
  static unsigned mss_index(uint16_t mss);
  /// Largest table index (≥ 1) whose shift is not above `wscale`.
  static unsigned wscale_index(uint8_t wscale);
  /// The cookie byte for `o` under secret parity `odd_even`.
  static uint8_t cookie_byte(const FreeBsdCookieOptions& o, unsigned odd_even);

  /// Our ISS for a SYN with sequence `irs` on `t` at time `now`.
  uint32_t generate(const FourTuple& t, uint32_t irs, const FreeBsdCookieOptions& o,
                    uint32_t secmod, Time now) const;
  /// Checks the ACK (its seq and ack numbers) against a cookie; returns what
  /// the cookie carried, or nullopt if it is not one of ours (or too old).
  std::optional<FreeBsdCookieOptions> check(const FourTuple& t, uint32_t seq, uint32_t ack,
                                            uint32_t secmod, Time now) const;

  /// Which secret is current at `now` (odd/even bit of new cookies).
  static unsigned current_parity(Time now);

 private:
  std::array<uint8_t, 16> secret(unsigned parity, Time now) const;
  uint32_t mac(const std::array<uint8_t, 16>& key, const FourTuple& t, uint32_t irs, uint8_t cookie,
               uint32_t secmod) const;

  std::array<uint8_t, 16> seed_key_;
};

}  // namespace synq::listen
