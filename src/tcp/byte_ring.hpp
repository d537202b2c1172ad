// A byte ring of fixed capacity (the socket buffer) for a connection's send
// and receive queues. Storage comes on first use and grows by doubling up to
// the capacity, so a connection that carries a 100-byte request costs a few
// hundred bytes, not its 128 KB buffer (measured: the lab's per-connection
// memory, docs/lab.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace synq::tcp {

class ByteRing {
 public:
  /// Sets the capacity (bytes) and empties the ring; storage comes later.
  void reset(size_t capacity) {
    buf_.reset();
    cap_ = capacity;
    store_ = head_ = size_ = 0;
  }
  size_t capacity() const { return cap_; }
  size_t size() const { return size_; }
  size_t free_space() const { return cap_ - size_; }

  /// Appends as much of `data` as fits; returns the count.
  size_t append(std::span<const uint8_t> data) {
    const size_t n = std::min(data.size(), free_space());
    write_at(size_, data.first(n));
    size_ += n;
    return n;
  }
  /// Writes bytes at `offset` from the read position without making them
  /// readable (out-of-order data); offset + size must fit the capacity.
  void write_at(size_t offset, std::span<const uint8_t> data) {
    if (data.empty()) return;
    ensure_storage(offset + data.size());
    size_t pos = (head_ + offset) % store_;
    size_t first = std::min(data.size(), store_ - pos);
    std::memcpy(buf_.get() + pos, data.data(), first);
    if (first < data.size()) std::memcpy(buf_.get(), data.data() + first, data.size() - first);
  }
  /// Makes `n` more bytes (already written with write_at) readable.
  void commit(size_t n) { size_ += n; }
  /// Copies up to out.size() bytes starting `offset` bytes after the read
  /// position; returns the count.
  size_t copy_out(size_t offset, std::span<uint8_t> out) const {
    if (offset >= size_) return 0;
    const size_t n = std::min(out.size(), size_ - offset);
    size_t pos = (head_ + offset) % store_;
    size_t first = std::min(n, store_ - pos);
    std::memcpy(out.data(), buf_.get() + pos, first);
    if (first < n) std::memcpy(out.data() + first, buf_.get(), n - first);
    return n;
  }
  /// The bytes at [offset, offset+n) if they are contiguous in storage, else empty.
  std::span<const uint8_t> contiguous(size_t offset, size_t n) const {
    if (n == 0 || offset + n > size_) return {};
    size_t pos = (head_ + offset) % store_;
    if (pos + n > store_) return {};
    return {buf_.get() + pos, n};
  }
  /// Frees the storage if nothing is queued (capacity is kept; storage comes
  /// back on the next write). For connections that will carry no more data.
  void release_if_empty() {
    if (size_ == 0) {
      buf_.reset();
      store_ = head_ = 0;
    }
  }
  bool has_storage() const { return static_cast<bool>(buf_); }
  /// Bytes of storage held now (at most the capacity).
  size_t storage() const { return store_; }
  /// Drops `n` bytes from the read position.
  void consume(size_t n) {
    n = std::min(n, size_);
    if (store_ != 0) head_ = (head_ + n) % store_;
    size_ -= n;
  }

 private:
  static constexpr size_t kMinStorage = 512;

  // Storage for `need` bytes from the read position: doubled (at least
  // kMinStorage, at most the capacity) with the old bytes moved to the front,
  // out-of-order ones included. Not zero-filled: every byte is written before
  // it can be read.
  void ensure_storage(size_t need) {
    if (need <= store_) return;
    size_t grown = std::max(kMinStorage, store_ * 2);
    while (grown < need) grown *= 2;
    grown = std::min(grown, cap_);
    auto bigger = std::make_unique_for_overwrite<uint8_t[]>(grown);
    if (buf_) {
      const size_t first = store_ - head_;
      std::memcpy(bigger.get(), buf_.get() + head_, first);
      std::memcpy(bigger.get() + first, buf_.get(), head_);
    }
    buf_ = std::move(bigger);
    store_ = grown;
    head_ = 0;
  }
  std::unique_ptr<uint8_t[]> buf_;
  size_t cap_ = 0;    // the socket buffer: what may be queued
  size_t store_ = 0;  // bytes allocated in buf_ (0 until the first write)
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace synq::tcp
