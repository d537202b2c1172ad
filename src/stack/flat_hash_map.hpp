// Open-addressing hash map (linear probing, backward-shift deletion) for the
// demux tables: one probe sequence over a flat array, no node allocation, no
// tombstones. Capacity is a power of two; the load factor stays below 1/2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace synq::stack {

template <class Key, class Value, class Hash = std::hash<Key>>
class FlatHashMap {
 public:
  explicit FlatHashMap(size_t initial_capacity = 16) {
    size_t cap = 16;
    while (cap < initial_capacity) cap <<= 1;
    slots_.resize(cap);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  Value* find(const Key& k) {
    if (size_ == 0) return nullptr;
    for (size_t i = index_of(k);; i = next(i)) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == k) return &s.value;
    }
  }
  const Value* find(const Key& k) const { return const_cast<FlatHashMap*>(this)->find(k); }

  /// Inserts or overwrites. Returns true if the key was new.
  bool insert(const Key& k, Value v) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    for (size_t i = index_of(k);; i = next(i)) {
      Slot& s = slots_[i];
      if (!s.used) {
        s.used = true;
        s.key = k;
        s.value = std::move(v);
        ++size_;
        return true;
      }
      if (s.key == k) {
        s.value = std::move(v);
        return false;
      }
    }
  }

  /// Removes k; returns true if it was present.
  bool erase(const Key& k) {
    if (size_ == 0) return false;
    size_t i = index_of(k);
    for (;; i = next(i)) {
      if (!slots_[i].used) return false;
      if (slots_[i].key == k) break;
    }
    // Backward-shift: pull later members of the cluster into the hole when
    // their home position does not lie cyclically in (hole, j].
    size_t hole = i;
    for (size_t j = next(hole);; j = next(j)) {
      Slot& s = slots_[j];
      if (!s.used) break;
      size_t home = index_of(s.key);
      bool home_in_range = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!home_in_range) {
        slots_[hole] = std::move(s);
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --size_;
    return true;
  }

  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.used) f(s.key, s.value);
  }

 private:
  struct Slot {
    Key key{};
    Value value{};
    bool used = false;
  };

  size_t index_of(const Key& k) const { return Hash{}(k) & (slots_.size() - 1); }
  size_t next(size_t i) const { return (i + 1) & (slots_.size() - 1); }

  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(old.size() * 2);
    size_ = 0;
    for (Slot& s : old)
      if (s.used) insert(s.key, std::move(s.value));
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace synq::stack
