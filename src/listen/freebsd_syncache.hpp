// FreeBSD's syncache bookkeeping for one listener (tcp_syncache.c; passive-open.md §4):
// hash buckets of pending entries (synq Requests) with FreeBSD's per-bucket
// limit, the overall cache limit, each bucket's last overflow time (which
// decides whether a returning ACK may be a cookie) and the "pause" that
// switches to cookies only for a while after a bucket overflows.
//
// FreeBSD has one syncache for the whole host (per VNET), shared by every
// listener; synq keeps one per listener, so one listener's flood cannot
// overflow another's buckets or pause its syncache.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "listen/request.hpp"
#include "synq/address.hpp"
#include "synq/sysctl.hpp"
#include "synq/time.hpp"

namespace synq::listen {

class FreeBsdSyncache {
 public:
  /// TCP_SYNCACHE_PAUSE_TIME (= SYNCOOKIE_LIFETIME) and its backoff limit.
  static constexpr Duration kPauseTime = std::chrono::seconds(15);
  static constexpr unsigned kMaxBackoff = 6;

  /// Sizes the table from the sysctls (read once, like FreeBSD's boot-time
  /// tunables) with a hash key from the stack's seed.
  FreeBsdSyncache(const Sysctls& s, const std::array<uint8_t, 16>& hash_key);

  /// One entry of a bucket: the request and its sc_rxttime (when its next
  /// SYN-ACK is due).
  struct Entry {
    uint32_t req = kNoRequest;
    Time rxttime = kNever;
  };

  uint32_t bucket_of(const FourTuple& t) const;
  size_t bucket_length(uint32_t b) const { return buckets_[b].entries.size(); }
  /// The bucket's entries, oldest first (FreeBSD's TAILQ runs newest first).
  const std::vector<Entry>& entries(uint32_t b) const { return buckets_[b].entries; }
  /// The entry of `req` in bucket b (it must be there).
  Entry& entry(uint32_t b, uint32_t req);
  size_t size() const { return size_; }
  unsigned bucket_limit() const { return bucket_limit_; }
  unsigned cache_limit() const { return cache_limit_; }
  /// The bucket's oldest entry (TAILQ_LAST), or kNoRequest.
  uint32_t oldest(uint32_t b) const;
  void insert(uint32_t b, uint32_t req);
  void erase(uint32_t b, uint32_t req);

  /// sch_nextc: when the bucket's one timer (callout) fires. It only moves
  /// earlier between firings (syncache_timeout), so it may still be the time
  /// of an entry that has left the bucket; kNever is FreeBSD's ticks + INT_MAX.
  Time nextc(uint32_t b) const { return buckets_[b].nextc; }
  void set_nextc(uint32_t b, Time t) { buckets_[b].nextc = t; }

  Time last_overflow(uint32_t b) const { return buckets_[b].last_overflow; }
  void set_last_overflow(uint32_t b, Time now) { buckets_[b].last_overflow = now; }

  /// syncache_cookiesonly's "paused" half: within a pause started by an overflow.
  bool paused(Time now) const { return now < pause_until_; }
  /// syncache_pause: starts (or extends, with backoff) a pause. Returns true
  /// when this call started one (FreeBSD then counts sc_bucketoverflow).
  /// The pause's length is then pause_until() - now (15 s << backoff).
  bool pause(Time now);
  Time pause_until() const { return pause_until_; }

 private:
  struct Bucket {
    std::vector<Entry> entries;                        // oldest first
    Time nextc = kNever;                               // sch_nextc
    Time last_overflow = -(std::chrono::seconds(16));  // -(SYNCOOKIE_LIFETIME + 1)
  };
  std::vector<Bucket> buckets_;
  uint32_t mask_ = 0;
  unsigned bucket_limit_ = 30;
  unsigned cache_limit_ = 15360;
  size_t size_ = 0;
  std::array<uint8_t, 16> hash_key_;
  Time pause_until_ = -kPauseTime;  // syncache_init: time_uptime - TCP_SYNCACHE_PAUSE_TIME
  unsigned pause_backoff_ = 0;
};

}  // namespace synq::listen
