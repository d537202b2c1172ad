// Descriptor -> index of the client or served connection using it, for the
// hooks that learn of a socket only by its descriptor (Stack::drain_ready).
// Descriptors are small integers, lowest free first, so a flat table stays
// as small as the most sockets open at once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace synq::lab {

class DescriptorIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  void set(int fd, uint32_t index) {
    const auto at = static_cast<size_t>(fd);
    if (table_.size() <= at) table_.resize(std::max(at + 1, table_.size() * 2), kNone);
    table_[at] = index;
  }
  /// The descriptor was closed: a later socket may reuse it.
  void clear(int fd) { table_[static_cast<size_t>(fd)] = kNone; }
  /// The index set for `fd`, or kNone.
  uint32_t at(int fd) const {
    const auto at = static_cast<size_t>(fd);
    return at < table_.size() ? table_[at] : kNone;
  }

 private:
  std::vector<uint32_t> table_;
};

}  // namespace synq::lab
