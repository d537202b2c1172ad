#include "listen/syncookies_freebsd.hpp"

#include "base/keyed_hash.hpp"

#include <cstring>

namespace synq::listen {

namespace {

// Rotation number at `now`: the secret rotates at 15, 30, 45 s, ...
int64_t epoch(Time now) {
  return now.count() < 0 ? 0 : now / FreeBsdSyncookies::kLifetime;
}

}  // namespace

unsigned FreeBsdSyncookies::mss_index(uint16_t mss) {
  unsigned i = kMssTable.size() - 1;
  while (i > 0 && kMssTable[i] > mss) --i;
  return i;
}

unsigned FreeBsdSyncookies::wscale_index(uint8_t wscale) {
  unsigned i = kWscaleTable.size() - 1;
  // Index 0 means "no window scale"; the loop stops at 1 (shift 0) at the latest.
  while (i > 1 && kWscaleTable[i] > wscale) --i;
  return i;
}

uint8_t FreeBsdSyncookies::cookie_byte(const FreeBsdCookieOptions& o, unsigned odd_even) {
  const unsigned w = o.wscale_ok ? wscale_index(o.wscale) : 0;
  return static_cast<uint8_t>(mss_index(o.mss) << 5 | w << 2 | (o.sack_ok ? 2u : 0u) |
                              (odd_even & 1u));
}

unsigned FreeBsdSyncookies::current_parity(Time now) {
  return static_cast<unsigned>(epoch(now) & 1);
}

std::array<uint8_t, 16> FreeBsdSyncookies::secret(unsigned parity, Time now) const {
  // syncookie_reseed: at rotation e the slot (e & 1) gets secret number e and
  // becomes current; the other slot still holds secret e - 1 (secret -1 is
  // the one syncache_init drew for slot 1 at boot).
  const int64_t e = epoch(now);
  const int64_t n = (static_cast<unsigned>(e & 1) == (parity & 1u)) ? e : e - 1;
  std::array<uint8_t, 16> key{};
  for (uint8_t half = 0; half < 2; ++half) {
    uint8_t in[9];
    for (int i = 0; i < 8; ++i) in[i] = static_cast<uint8_t>(static_cast<uint64_t>(n) >> (8 * i));
    in[8] = half;
    const uint64_t h = siphash24(in, sizeof in, seed_key_);
    for (int i = 0; i < 8; ++i) key[half * 8 + i] = static_cast<uint8_t>(h >> (8 * i));
  }
  return key;
}

uint32_t FreeBsdSyncookies::mac(const std::array<uint8_t, 16>& key, const FourTuple& t,
                                uint32_t irs, uint8_t cookie, uint32_t secmod) const {
  // syncookie_mac's input order: faddr, laddr, fport, lport, irs, flags, secmod.
  uint8_t buf[16 + 16 + 2 + 2 + 4 + 1 + 4];
  uint8_t* p = buf;
  std::memcpy(p, t.remote.addr.bytes.data(), t.remote.addr.size());
  p += t.remote.addr.size();
  std::memcpy(p, t.local.addr.bytes.data(), t.local.addr.size());
  p += t.local.addr.size();
  *p++ = static_cast<uint8_t>(t.remote.port >> 8);
  *p++ = static_cast<uint8_t>(t.remote.port);
  *p++ = static_cast<uint8_t>(t.local.port >> 8);
  *p++ = static_cast<uint8_t>(t.local.port);
  for (int i = 0; i < 4; ++i) *p++ = static_cast<uint8_t>(irs >> (8 * i));
  *p++ = cookie;
  for (int i = 0; i < 4; ++i) *p++ = static_cast<uint8_t>(secmod >> (8 * i));
  const uint64_t h = siphash24(buf, static_cast<size_t>(p - buf), key);
  return static_cast<uint32_t>(h) ^ static_cast<uint32_t>(h >> 32);
}

uint32_t FreeBsdSyncookies::generate(const FourTuple& t, uint32_t irs,
                                     const FreeBsdCookieOptions& o, uint32_t secmod,
                                     Time now) const {
  const unsigned parity = current_parity(now);
  const uint8_t cookie = cookie_byte(o, parity);
  const uint32_t hash = mac(secret(parity, now), t, irs, cookie, secmod);
  // The option byte is XORed with MAC bits so it does not show on the wire.
  return (hash & ~0xffu) | ((cookie ^ (hash >> 24)) & 0xffu);
}

std::optional<FreeBsdCookieOptions> FreeBsdSyncookies::check(const FourTuple& t, uint32_t seq,
                                                             uint32_t ack, uint32_t secmod,
                                                             Time now) const {
  const uint32_t iss = ack - 1;
  const uint32_t irs = seq - 1;
  const uint8_t cookie = static_cast<uint8_t>((iss & 0xffu) ^ (iss >> 24));
  const uint32_t hash = mac(secret(cookie & 1u, now), t, irs, cookie, secmod);
  if ((iss & ~0xffu) != (hash & ~0xffu)) return std::nullopt;
  FreeBsdCookieOptions o;
  o.mss = kMssTable[cookie >> 5];
  const unsigned w = (cookie >> 2) & 7u;
  o.wscale_ok = w > 0;
  o.wscale = o.wscale_ok ? kWscaleTable[w] : 0;
  o.sack_ok = cookie & 2u;
  return o;
}

}  // namespace synq::listen
