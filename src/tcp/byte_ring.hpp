// A fixed-capacity byte ring for a connection's send and receive queues.
// Storage is allocated once, on first use (so connections that never carry
// data cost nothing), and never grows.
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
    head_ = size_ = 0;
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
    ensure_storage();
    size_t pos = (head_ + offset) % cap_;
    size_t first = std::min(data.size(), cap_ - pos);
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
    size_t pos = (head_ + offset) % cap_;
    size_t first = std::min(n, cap_ - pos);
    std::memcpy(out.data(), buf_.get() + pos, first);
    if (first < n) std::memcpy(out.data() + first, buf_.get(), n - first);
    return n;
  }
  /// The bytes at [offset, offset+n) if they are contiguous in storage, else empty.
  std::span<const uint8_t> contiguous(size_t offset, size_t n) const {
    if (n == 0 || offset + n > size_) return {};
    size_t pos = (head_ + offset) % cap_;
    if (pos + n > cap_) return {};
    return {buf_.get() + pos, n};
  }
  /// Frees the storage if nothing is queued (capacity is kept; storage comes
  /// back on the next write). For connections that will carry no more data.
  void release_if_empty() {
    if (size_ == 0) {
      buf_.reset();
      head_ = 0;
    }
  }
  bool has_storage() const { return static_cast<bool>(buf_); }
  /// Drops `n` bytes from the read position.
  void consume(size_t n) {
    n = std::min(n, size_);
    if (cap_ != 0) head_ = (head_ + n) % cap_;
    size_ -= n;
  }

 private:
  void ensure_storage() {
    // Not zero-filled: every byte is written before it can be read.
    if (!buf_) buf_ = std::make_unique_for_overwrite<uint8_t[]>(cap_);
  }
  std::unique_ptr<uint8_t[]> buf_;
  size_t cap_ = 0;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace synq::tcp
