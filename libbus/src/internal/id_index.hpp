#pragma once

// The memory log's id index: an open-addressing table of 8-byte slots, the
// high 32 bits of an id's hash and its seq. Ids are not stored; a slot whose
// hash bits match is confirmed by comparing the id of the event at its seq.
// Against a node-based map of string views this is one cache miss per probe
// instead of three or four, and 8 bytes per slot (16 to 32 per id, the table
// being between a quarter and half full) instead of some 64 per entry. A
// slot's home is given by the top bits of its hash: the table can double
// without the ids, and the seqs are at most 2^32 - 1 (a memory log of that
// many events would take hundreds of gigabytes).
//
// The table grows without stalls: a doubling allocates the new table (left
// to the kernel to zero, page by page) and moves a few old slots per insert
// after that, instead of rehashing everything at once. A one-shot rehash of
// a million entries stopped the log's owner for some 200 ms here, which
// showed as the tail of the publish latency. While a move is under way,
// lookups search both tables; an entry found in either is a valid answer.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "page_warmer.hpp"

namespace bus::internal {

class id_index {
public:
  /// Returns the seq of an entry with hash `h` for which `same(seq)` holds,
  /// or 0 when there is none.
  template <class Same>
  std::uint64_t find(std::uint64_t h, Same same) const {
    if (auto seq = table_.find(h, same))
      return seq;
    return old_.find(h, same);
  }

  /// Adds {h, seq} unless an entry with hash `h` and `same(seq)` exists;
  /// returns that entry's seq, or 0 after adding.
  template <class Same>
  std::uint64_t insert(std::uint64_t h, std::uint64_t seq, Same same) {
    if (auto found = find(h, same))
      return found;
    insert_new(h, seq);
    return 0;
  }

  /// Starts loading the slot where a lookup of hash `h` begins: a batch
  /// that asks this some lookups ahead finds its slots in cache, where each
  /// would otherwise wait for memory in turn (the table is far larger than
  /// the cache, and its slots are spread at random).
  void prefetch(std::uint64_t h) const noexcept {
    table_.prefetch(h);
    old_.prefetch(h);
  }

  /// The largest seq a slot holds.
  static constexpr std::uint64_t max_seq = 0xffffffffu;

  /// Adds {h, seq} without looking for an equal entry (the caller knows
  /// the id is new). `seq` is at most max_seq.
  void insert_new(std::uint64_t h, std::uint64_t seq) {
    if ((size_ + 1) * 2 > table_.capacity())
      start_growing(table_.capacity() == 0 ? 1024 : table_.capacity() * 2);
    table_.put(tag_of(h), static_cast<std::uint32_t>(seq));
    ++size_;
    move_some();
    unmap_some();
    prefault_some();
  }

  /// Makes room for `n` entries at once (one allocation instead of a
  /// doubling per power of two, e.g. when loading a store).
  void reserve(std::size_t n) {
    auto want = std::size_t{1024};
    while (want < n * 2)
      want *= 2;
    if (want <= table_.capacity())
      return;
    finish_growing();
    start_growing(want);
    finish_growing();
  }

  /// Removes every entry whose seq is above `seq` (undoing appends that
  /// did not become durable). Rebuilds the table: meant for rare failures.
  void erase_above(std::uint64_t seq) {
    finish_growing();
    auto capacity = table_.capacity();
    table old;
    old.swap(table_);
    table_.allocate(capacity);
    size_ = 0;
    for (std::size_t i = 0; i < old.capacity(); ++i) {
      auto& s = old.at(i);
      if (s.seq != 0 && s.seq <= seq) {
        table_.put(s.tag, s.seq);
        ++size_;
      }
    }
  }

  std::size_t size() const noexcept { return size_; }

  /// Returns the bytes the tables use.
  std::size_t memory_bytes() const noexcept {
    return (table_.capacity() + old_.capacity() + retired_.capacity()
            + next_.capacity())
           * sizeof(slot);
  }

private:
  struct slot {
    std::uint32_t tag = 0; // the high half of the id's hash
    std::uint32_t seq = 0; // 0: empty
  };

  static std::uint32_t tag_of(std::uint64_t h) noexcept {
    return static_cast<std::uint32_t>(h >> 32);
  }

  // One open-addressing table in its own anonymous mapping: its pages are
  // zero-filled by the kernel when first touched (no memset of the whole
  // table), and the old table is unmapped piece by piece as its slots move
  // (no single munmap of tens of megabytes, which costs milliseconds here).
  class table {
  public:
    table() = default;
    table(const table&) = delete;
    table& operator=(const table&) = delete;

    // Lookups land anywhere in the table: with 4 KiB pages nearly each one
    // also missed the TLB, which a VM pays twice (its page walk is nested).
    // Huge pages made appends to a memory log about 25 % faster here.
    void allocate(std::size_t capacity) {
      release();
      map_ = anonymous_mapping::create(capacity * sizeof(slot),
                                       anonymous_mapping::pages::huge);
      slots_ = static_cast<slot*>(map_->data());
      capacity_ = capacity;
      shift_ = 32;
      for (auto c = capacity; c > 1; c >>= 1)
        --shift_;
    }

    void swap(table& other) noexcept {
      std::swap(map_, other.map_);
      std::swap(slots_, other.slots_);
      std::swap(capacity_, other.capacity_);
      std::swap(shift_, other.shift_);
    }

    void release() noexcept {
      map_.reset();
      slots_ = nullptr;
      capacity_ = 0;
    }

    /// Unmaps the slots below `end` (a multiple of unmap_step); they are
    /// never read again.
    void release_below(std::size_t end) noexcept {
      map_->release_below(end * sizeof(slot));
    }

    /// The table's mapping, to hand to the page warmer.
    const std::shared_ptr<anonymous_mapping>& mapping() const noexcept { return map_; }

    std::size_t capacity() const noexcept { return capacity_; }

    slot& at(std::size_t i) noexcept { return slots_[i]; }

    template <class Same>
    std::uint64_t find(std::uint64_t h, Same& same) const {
      if (capacity_ == 0)
        return 0;
      auto tag = tag_of(h);
      auto mask = capacity_ - 1;
      for (auto i = home(tag);; i = (i + 1) & mask) {
        auto& s = slots_[i];
        if (s.seq == 0)
          return 0;
        if (s.tag == tag && same(std::uint64_t{s.seq}))
          return s.seq;
      }
    }

    // The index is spelled out, not home()'s: GCC 12 drops a prefetch of
    // its conditional address.
    void prefetch(std::uint64_t h) const noexcept {
      if (capacity_ > 1)
        __builtin_prefetch(&slots_[tag_of(h) >> shift_]);
    }

    void put(std::uint32_t tag, std::uint32_t seq) noexcept {
      auto mask = capacity_ - 1;
      auto i = home(tag);
      while (slots_[i].seq != 0)
        i = (i + 1) & mask;
      slots_[i] = slot{tag, seq};
    }

  private:
    // The top bits of the tag: a doubled table needs one more of them,
    // which the slot has.
    std::size_t home(std::uint32_t tag) const noexcept {
      return shift_ >= 32 ? 0 : static_cast<std::size_t>(tag >> shift_);
    }

    std::shared_ptr<anonymous_mapping> map_;
    slot* slots_ = nullptr;
    std::size_t capacity_ = 0;
    unsigned shift_ = 32; // 32 - log2(capacity)
  };

  // Slots per memory page.
  static constexpr std::size_t page_slots = 4096 / sizeof(slot);

  // Slots per piece of the old table unmapped at once (1 MiB).
  static constexpr std::size_t unmap_step = (1u << 20) / sizeof(slot);

  // The old table holds at most capacity/4 entries of the new one's
  // capacity when a doubling starts, and the new one reaches its own limit
  // after capacity/4 more inserts: moving 4 old slots per insert empties
  // the old table (capacity/2 slots) well before that.
  static constexpr std::size_t moves_per_insert = 4;

  void start_growing(std::size_t capacity) {
    finish_growing();
    old_.swap(table_);
    // A next table the warmer is not done with is left to it: writing here
    // now would race its touches (and would wait for its faults anyway).
    if (next_.capacity() == capacity
        && (next_prefault_ == prefault::here || next_.mapping()->warm()))
      table_.swap(next_);
    else
      table_.allocate(capacity);
    next_.release();
    next_move_ = 0;
    prefaulted_ = 0;
  }

  // From a quarter full on, maps the next (doubled) table ahead of time and
  // has it faulted in before the doubling: a page fault costs some 10 us on
  // this kind of machine, and the move into a fresh table would otherwise
  // take all of them at once (milliseconds per batch while it lasts). The
  // page warmer touches it on its own thread: touched here, each first
  // touch of a huge page zeroed all of it at once, stopping the log's owner
  // for some 5 ms every 8 k inserts. The warmer zeroes some 0.4 GB/s here:
  // the capacity/4 inserts left before the doubling give it time even at
  // millions of appends a second. Without a warmer, this thread touches a
  // page every 16 inserts (capacity/256 pages), done half way.
  void prefault_some() {
    auto capacity = table_.capacity();
    if (old_.capacity() > 0 || size_ * 4 < capacity || size_ % 16 != 0)
      return;
    if (next_.capacity() != capacity * 2) {
      next_.allocate(capacity * 2);
      prefaulted_ = 0;
      next_prefault_ = warm_in_background(next_.mapping()) ? prefault::by_warmer
                                                           : prefault::here;
    }
    if (next_prefault_ == prefault::here && prefaulted_ < next_.capacity()) {
      next_.at(prefaulted_).seq = 0; // a write maps the page
      prefaulted_ += page_slots;
    }
  }

  void move_some() {
    for (std::size_t n = 0; n < moves_per_insert && old_.capacity() > 0; ++n)
      move_one();
  }

  void finish_growing() {
    while (old_.capacity() > 0)
      move_one();
  }

  void move_one() {
    auto& s = old_.at(next_move_);
    if (s.seq != 0)
      table_.put(s.tag, s.seq);
    if (++next_move_ == old_.capacity()) {
      // Lookups probe the old table (wrapping around) until the move is
      // done; only then is it retired and unmapped, a piece per insert.
      retired_.release();
      retired_.swap(old_);
      retired_end_ = 0;
    }
  }

  void unmap_some() noexcept {
    if (retired_.capacity() == 0)
      return;
    retired_end_ += unmap_step;
    if (retired_end_ >= retired_.capacity())
      retired_.release();
    else
      retired_.release_below(retired_end_);
  }

  table table_;
  table old_;
  std::size_t next_move_ = 0;
  // A moved-out old table being unmapped, and how far.
  table retired_;
  std::size_t retired_end_ = 0;
  // The next, doubled table, mapped ahead, and how far it is touched.
  table next_;
  std::size_t prefaulted_ = 0;
  // Who faults the next table in.
  enum class prefault { here, by_warmer };
  prefault next_prefault_ = prefault::here;
  std::size_t size_ = 0;
};

} // namespace bus::internal
