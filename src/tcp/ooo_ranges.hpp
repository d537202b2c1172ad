// Out-of-order data bookkeeping: the sequence ranges held beyond a hole,
// bounded (Linux bounds its ofo queue by memory; synq by range count), and
// the SACK blocks that describe them (RFC 2018 §4: most recent first).
#pragma once

#include <array>
#include <cstdint>

#include "tcp/seq.hpp"
#include "wire/tcp_header.hpp"

namespace synq::tcp {

class OooRanges {
 public:
  static constexpr int kMaxRanges = 16;

  bool empty() const { return n_ == 0; }
  int size() const { return n_; }
  void clear() { n_ = 0; }

  /// Adds [left, right). Returns false (and changes nothing) if keeping it
  /// would need more than kMaxRanges ranges.
  bool add(uint32_t left, uint32_t right) {
    uint32_t l = left, r = right;
    // Count ranges that stay separate from the merged one.
    int keep = 0;
    for (int i = 0; i < n_; ++i)
      if (!touches(r_[i], l, r)) ++keep;
    if (keep + 1 > kMaxRanges) return false;
    std::array<Range, kMaxRanges> out{};
    int m = 0;
    for (int i = 0; i < n_; ++i) {
      if (touches(r_[i], l, r)) {
        l = seq_min(l, r_[i].left);
        r = seq_max(r, r_[i].right);
      } else {
        out[m++] = r_[i];
      }
    }
    // Insert sorted by left edge.
    int pos = m;
    while (pos > 0 && seq_gt(out[pos - 1].left, l)) {
      out[pos] = out[pos - 1];
      --pos;
    }
    out[pos] = Range{l, r, ++clock_};
    r_ = out;
    n_ = m + 1;
    return true;
  }

  /// If the lowest range begins at or before `rcv_nxt`, removes it and
  /// returns its right edge; otherwise returns rcv_nxt.
  uint32_t pop_contiguous(uint32_t rcv_nxt) {
    while (n_ > 0 && seq_le(r_[0].left, rcv_nxt)) {
      rcv_nxt = seq_max(rcv_nxt, r_[0].right);
      for (int i = 1; i < n_; ++i) r_[i - 1] = r_[i];
      --n_;
    }
    return rcv_nxt;
  }

  /// Writes up to `max` SACK blocks, the most recently changed range first.
  uint8_t sack_blocks(std::array<wire::SackBlock, 4>& out, int max) const {
    bool used[kMaxRanges] = {};
    uint8_t k = 0;
    while (k < max && k < n_) {
      int best = -1;
      for (int i = 0; i < n_; ++i)
        if (!used[i] && (best < 0 || r_[i].stamp > r_[best].stamp)) best = i;
      used[best] = true;
      out[k++] = wire::SackBlock{r_[best].left, r_[best].right};
    }
    return k;
  }

 private:
  struct Range {
    uint32_t left = 0;
    uint32_t right = 0;
    uint32_t stamp = 0;  // recency, for SACK block order
  };
  // Overlapping or adjacent ranges merge.
  static bool touches(const Range& x, uint32_t l, uint32_t r) {
    return seq_le(x.left, r) && seq_le(l, x.right);
  }
  std::array<Range, kMaxRanges> r_{};
  int n_ = 0;
  uint32_t clock_ = 0;
};

}  // namespace synq::tcp
