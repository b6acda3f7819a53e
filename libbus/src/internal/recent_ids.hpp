#pragma once

// The durable log's exact index of its most recent ids: every id not yet
// written to disk, and the ids of roughly the last `window` events. It
// answers redeliveries of recent events, and duplicates within a batch,
// without touching the disk; older ids are the disk's (behind id_filter).
//
// Two generations of open-addressing {hash, seq} tables: inserts go to the
// current one; once it holds `window` ids and every id of the previous one
// is durable, the previous one is dropped and the current one takes its
// place. So it holds the ids of the last `window` to `2 * window` events. Ids are not
// stored: a slot whose hash matches is confirmed by the caller, who looks up the id at
// its seq. Owned by the log; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bus::internal {

class recent_ids {
public:
  /// Keeps the ids of at least the last `window` events (at least 1).
  explicit recent_ids(std::size_t window);

  /// Returns the seq of an entry with hash `h` for which `same(seq)` holds,
  /// or 0 when there is none.
  template <class Same>
  std::uint64_t find(std::uint64_t h, Same same) const {
    if (auto seq = current_.find(h, same))
      return seq;
    return previous_.find(h, same);
  }

  /// Asks for the slots where `find(h, ...)` starts, so that a lookup a
  /// few events later does not wait for memory. Always inlined: otherwise
  /// GCC 12 splits off a part it deems pure and drops its calls.
  [[gnu::always_inline]] void prefetch(std::uint64_t h) const noexcept {
    current_.prefetch(h);
    previous_.prefetch(h);
  }

  /// Adds {h, seq}; `seq` is above every seq added before.
  void insert(std::uint64_t h, std::uint64_t seq);

  /// Drops the older generation if the current one is full and every seq
  /// of the older one is at most `durable_head` (on disk).
  void rotate(std::uint64_t durable_head);

  /// Removes every entry above `seq` (appends undone).
  void erase_above(std::uint64_t seq);

  /// Returns the number of entries.
  std::size_t size() const noexcept { return current_.size + previous_.size; }

  /// Returns the bytes the tables use.
  std::size_t memory_bytes() const noexcept;

private:
  struct slot {
    std::uint64_t hash = 0;
    std::uint64_t seq = 0; // 0: empty
  };

  struct table {
    std::vector<slot> slots; // a power of two, at most half full
    std::size_t size = 0;
    std::uint64_t max_seq = 0;

    template <class Same>
    std::uint64_t find(std::uint64_t h, Same& same) const {
      if (size == 0)
        return 0;
      auto mask = slots.size() - 1;
      for (auto i = h & mask;; i = (i + 1) & mask) {
        auto& s = slots[i];
        if (s.seq == 0)
          return 0;
        if (s.hash == h && same(s.seq))
          return s.seq;
      }
    }

    [[gnu::always_inline]] void prefetch(std::uint64_t h) const noexcept {
      if (size != 0)
        __builtin_prefetch(&slots[h & (slots.size() - 1)]);
    }

    void put(std::uint64_t h, std::uint64_t seq) noexcept;
    void clear() noexcept;
  };

  static void grow(table& t, std::size_t capacity);

  std::size_t generation_;
  table current_;
  table previous_;
};

} // namespace bus::internal
