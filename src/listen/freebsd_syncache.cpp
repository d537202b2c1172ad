#include "listen/freebsd_syncache.hpp"

#include "base/keyed_hash.hpp"

#include <algorithm>
#include <cstring>

#include "stack/dcheck.hpp"

namespace synq::listen {

FreeBsdSyncache::FreeBsdSyncache(const Sysctls& s, const std::array<uint8_t, 16>& hash_key)
    : hash_key_(hash_key) {
  // syncache_init: a hash size that is not a power of 2 falls back to 512.
  unsigned hashsize = static_cast<unsigned>(std::max(s.freebsd_syncache_hashsize, 0));
  if (hashsize == 0 || (hashsize & (hashsize - 1)) != 0) hashsize = 512;
  mask_ = hashsize - 1;
  bucket_limit_ = static_cast<unsigned>(std::max(s.freebsd_syncache_bucketlimit, 1));
  cache_limit_ = static_cast<unsigned>(std::max(s.freebsd_syncache_cachelimit, 1));
  buckets_.resize(hashsize);
}

uint32_t FreeBsdSyncache::bucket_of(const FourTuple& t) const {
  // syncache_hashbucket hashes foreign port, local port and foreign address
  // with a secret (jenkins_hash32 there; SipHash here).
  uint8_t buf[2 + 2 + 16];
  buf[0] = static_cast<uint8_t>(t.remote.port >> 8);
  buf[1] = static_cast<uint8_t>(t.remote.port);
  buf[2] = static_cast<uint8_t>(t.local.port >> 8);
  buf[3] = static_cast<uint8_t>(t.local.port);
  std::memcpy(buf + 4, t.remote.addr.bytes.data(), t.remote.addr.size());
  return static_cast<uint32_t>(siphash24(buf, 4 + t.remote.addr.size(), hash_key_)) & mask_;
}

uint32_t FreeBsdSyncache::oldest(uint32_t b) const {
  const auto& e = buckets_[b].entries;
  return e.empty() ? kNoRequest : e.front().req;
}

FreeBsdSyncache::Entry& FreeBsdSyncache::entry(uint32_t b, uint32_t req) {
  auto& e = buckets_[b].entries;
  auto it = std::find_if(e.begin(), e.end(), [req](const Entry& x) { return x.req == req; });
  SYNQ_DCHECK(it != e.end());
  return *it;
}

void FreeBsdSyncache::insert(uint32_t b, uint32_t req) {
  buckets_[b].entries.push_back(Entry{req, kNever});
  ++size_;
}

void FreeBsdSyncache::erase(uint32_t b, uint32_t req) {
  auto& e = buckets_[b].entries;
  auto it = std::find_if(e.begin(), e.end(), [req](const Entry& x) { return x.req == req; });
  SYNQ_DCHECK(it != e.end());
  if (it == e.end()) return;
  e.erase(it);
  --size_;
}

bool FreeBsdSyncache::pause(Time now) {
  if (paused(now)) return false;
  // A renewed attack within the last pause's length after it ended doubles the
  // pause (up to 15 s << 6 = 16 min); otherwise it starts again at 15 s.
  Duration delta = kPauseTime * (1 << pause_backoff_);
  if (pause_until_ + delta > now) {
    if (pause_backoff_ < kMaxBackoff) {
      delta *= 2;
      ++pause_backoff_;
    }
  } else {
    delta = kPauseTime;
    pause_backoff_ = 0;
  }
  pause_until_ = now + delta;
  return true;
}

}  // namespace synq::listen
