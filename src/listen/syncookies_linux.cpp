#include "listen/syncookies_linux.hpp"

#include "base/keyed_hash.hpp"

#include <cstdlib>
#include <cstring>

namespace synq::listen {

namespace {

constexpr uint32_t kCookieBits = 24;  // COOKIEBITS: the low 24 bits carry the keyed data
constexpr uint32_t kCookieMask = (1u << kCookieBits) - 1;

}  // namespace

LinuxSyncookies::LinuxSyncookies(uint64_t seed) {
  k0_ = derive_key(seed, "synq-linux-syncookie-0");
  k1_ = derive_key(seed, "synq-linux-syncookie-1");
}

uint8_t LinuxSyncookies::mss_index(uint16_t peer_mss) {
  // __cookie_v4_init_sequence: scan down from the largest entry; index 0 (536)
  // is the floor even for a smaller MSS.
  uint8_t i = kMssTable.size() - 1;
  while (i > 0 && peer_mss < kMssTable[i]) --i;
  return i;
}

uint32_t LinuxSyncookies::minute_count(Time now) {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::minutes>(now).count());
}

uint32_t LinuxSyncookies::hash(const FourTuple& t, uint32_t minute,
                               const std::array<uint8_t, 16>& key) const {
  // Linux hashes (saddr, daddr, sport << 16 | dport, count): the peer is the source.
  uint8_t buf[16 + 16 + 8];
  uint8_t* p = buf;
  std::memcpy(p, t.remote.addr.bytes.data(), t.remote.addr.size());
  p += t.remote.addr.size();
  std::memcpy(p, t.local.addr.bytes.data(), t.local.addr.size());
  p += t.local.addr.size();
  *p++ = uint8_t(t.remote.port >> 8);
  *p++ = uint8_t(t.remote.port);
  *p++ = uint8_t(t.local.port >> 8);
  *p++ = uint8_t(t.local.port);
  for (int i = 0; i < 4; ++i) *p++ = uint8_t(minute >> (8 * i));
  return static_cast<uint32_t>(siphash24(buf, size_t(p - buf), key));
}

uint32_t LinuxSyncookies::encode(const FourTuple& t, uint32_t peer_isn, uint32_t minute,
                                 uint8_t mss_index) const {
  return hash(t, 0, k0_) + peer_isn + (minute << kCookieBits) +
         ((hash(t, minute, k1_) + mss_index) & kCookieMask);
}

std::optional<uint8_t> LinuxSyncookies::decode(const FourTuple& t, uint32_t peer_isn,
                                               uint32_t cookie, uint32_t minute) const {
  // check_tcp_syn_cookie: strip the unkeyed part; the top 8 bits then hold the
  // minute the cookie was made (mod 256).
  const uint32_t rest = cookie - hash(t, 0, k0_) - peer_isn;
  const uint32_t age = (minute - (rest >> kCookieBits)) & (0xFFFFFFFFu >> kCookieBits);
  if (age >= kMaxAgeMinutes) return std::nullopt;
  const uint32_t data = (rest - hash(t, minute - age, k1_)) & kCookieMask;
  if (data >= kMssTable.size()) return std::nullopt;  // not our cookie (or tampered)
  return static_cast<uint8_t>(data);
}

uint32_t LinuxSyncookies::encode_ts(uint32_t clock, const TsOptions& o) {
  uint32_t options = o.wscale_ok ? (o.snd_wscale & 0xF) : kTsWscaleNone;
  if (o.sack_ok) options |= kTsSack;
  if (o.ecn_ok) options |= kTsEcn;
  const uint32_t mask = (1u << kTsBits) - 1;
  uint32_t ts = (clock & ~mask) | options;
  // The peer's PAWS must never see our clock jump ahead: step back a period.
  if (ts > clock) ts -= 1u << kTsBits;
  return ts;
}

LinuxSyncookies::TsOptions LinuxSyncookies::decode_ts(uint32_t echoed_clock) {
  TsOptions o;
  o.sack_ok = (echoed_clock & kTsSack) != 0;
  o.ecn_ok = (echoed_clock & kTsEcn) != 0;
  const uint32_t ws = echoed_clock & 0xF;
  if (ws != kTsWscaleNone) {
    o.wscale_ok = true;
    o.snd_wscale = static_cast<uint8_t>(ws);
  }
  return o;
}

}  // namespace synq::listen
