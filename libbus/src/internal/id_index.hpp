#pragma once

// The memory log's id index: an open-addressing table of {hash, seq} slots.
// Ids are not stored; a slot whose hash matches is confirmed by comparing
// the id of the event at its seq. Against a node-based map of string views
// this is one cache miss per probe instead of three or four, and 16 bytes
// per slot instead of some 64 per entry.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bus::internal {

class id_index {
public:
  /// Returns the seq of an entry with hash `h` for which `same(seq)` holds,
  /// or 0 when there is none.
  template <class Same>
  std::uint64_t find(std::uint64_t h, Same same) const {
    if (slots_.empty())
      return 0;
    for (auto i = h & mask_;; i = (i + 1) & mask_) {
      auto& s = slots_[i];
      if (s.seq == 0)
        return 0;
      if (s.hash == h && same(s.seq))
        return s.seq;
    }
  }

  /// Adds {h, seq} unless an entry with hash `h` and `same(seq)` exists;
  /// returns that entry's seq, or 0 after adding.
  template <class Same>
  std::uint64_t insert(std::uint64_t h, std::uint64_t seq, Same same) {
    if ((size_ + 1) * 2 > slots_.size())
      grow();
    for (auto i = h & mask_;; i = (i + 1) & mask_) {
      auto& s = slots_[i];
      if (s.seq == 0) {
        s = slot{h, seq};
        ++size_;
        return 0;
      }
      if (s.hash == h && same(s.seq))
        return s.seq;
    }
  }

  /// Makes room for `n` entries at once (one allocation instead of a
  /// doubling and rehash per power of two, e.g. when loading a store).
  void reserve(std::size_t n) {
    auto want = std::size_t{1024};
    while (want < n * 2)
      want *= 2;
    if (want <= slots_.size())
      return;
    std::vector<slot> old;
    old.swap(slots_);
    slots_.resize(want);
    mask_ = want - 1;
    for (auto& s : old) {
      if (s.seq == 0)
        continue;
      auto i = s.hash & mask_;
      while (slots_[i].seq != 0)
        i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  /// Adds {h, seq} without looking for an equal entry (the caller knows
  /// the id is new, e.g. when loading a store whose ids are unique).
  void insert_new(std::uint64_t h, std::uint64_t seq) {
    if ((size_ + 1) * 2 > slots_.size())
      grow();
    auto i = h & mask_;
    while (slots_[i].seq != 0)
      i = (i + 1) & mask_;
    slots_[i] = slot{h, seq};
    ++size_;
  }

  /// Removes every entry whose seq is above `seq` (undoing appends that
  /// did not become durable). Rebuilds the table: meant for rare failures.
  void erase_above(std::uint64_t seq) {
    std::vector<slot> old;
    old.swap(slots_);
    slots_.assign(old.size(), slot{});
    size_ = 0;
    for (auto& s : old) {
      if (s.seq == 0 || s.seq > seq)
        continue;
      auto i = s.hash & mask_;
      while (slots_[i].seq != 0)
        i = (i + 1) & mask_;
      slots_[i] = s;
      ++size_;
    }
  }

  std::size_t size() const noexcept { return size_; }

  /// Returns the bytes the table uses.
  std::size_t memory_bytes() const noexcept {
    return slots_.capacity() * sizeof(slot);
  }

private:
  struct slot {
    std::uint64_t hash = 0;
    std::uint64_t seq = 0; // 0: empty
  };

  void grow() {
    std::vector<slot> old;
    old.swap(slots_);
    slots_.resize(old.empty() ? 1024 : old.size() * 2);
    mask_ = slots_.size() - 1;
    for (auto& s : old) {
      if (s.seq == 0)
        continue;
      auto i = s.hash & mask_;
      while (slots_[i].seq != 0)
        i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

} // namespace bus::internal
