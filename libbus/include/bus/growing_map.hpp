#pragma once

// A hash map for read models that grows without stopping its owner: Boost's
// open-addressing flat map, except that when the table is full it does not
// move every entry into a table twice the size in one insert. It starts the
// bigger table and moves a few entries from the old one with each insert
// after that, while lookups search both (as the memory log's id index does).
//
// Why: a full rehash moves every entry into a new table in one insert. With
// 1 M keys that stopped the owner for about a quarter of a second, with
// 4 M for nearly one (bus-bench --only growth); every query and every batch
// behind it waits. The moves write the new table at random places, so its
// fresh pages would be faulted in by the inserts right after a doubling (on
// this project's VM, where a fresh page costs some 10 us, 2 to 7 ms a batch
// of 256 at 100 k keys): the tables come from a table_memory, which has the
// next table's pages faulted in by a background thread while the current
// one fills up (bus/table_memory.hpp).
//
// The interface is the flat map's own, for what read models use: find,
// try_emplace, emplace, erase, iteration, size, reserve, clear. As with it,
// an insert invalidates every iterator, an erase only the erased one.

#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/unordered/unordered_flat_map.hpp>

#include "bus/string_keys.hpp"
#include "bus/table_memory.hpp"

namespace bus {

template <class Key, class T, class Hash = boost::hash<Key>,
          class Pred = std::equal_to<Key>>
class growing_map {
public:
  using map_type = boost::unordered_flat_map<Key, T, Hash, Pred,
                                             table_allocator<std::pair<const Key, T>>>;
  using value_type = typename map_type::value_type;
  using size_type = std::size_t;

  /// Entries moved from the old table by each insert while it drains.
  static constexpr size_type moves_per_insert = 8;

  /// Below this many entries a table grows at once (a rehash that small
  /// costs less than the bookkeeping).
  static constexpr size_type incremental_from = 4096;

  template <bool Const>
  class basic_iterator {
  public:
    using owner_type = std::conditional_t<Const, const growing_map, growing_map>;
    using inner = std::conditional_t<Const, typename map_type::const_iterator,
                                     typename map_type::iterator>;
    using iterator_category = std::forward_iterator_tag;
    using value_type = typename growing_map::value_type;
    using difference_type = std::ptrdiff_t;
    using reference = std::conditional_t<Const, const value_type&, value_type&>;
    using pointer = std::conditional_t<Const, const value_type*, value_type*>;

    basic_iterator() = default;

    /// A mutable iterator converts to a const one.
    template <bool C = Const, class = std::enable_if_t<C>>
    basic_iterator(const basic_iterator<false>& other)
      : owner_(other.owner_), in_old_(other.in_old_), it_(other.it_) {
      // nop
    }

    reference operator*() const { return *it_; }
    pointer operator->() const { return &*it_; }

    basic_iterator& operator++() {
      ++it_;
      skip_to_old();
      return *this;
    }

    basic_iterator operator++(int) {
      auto result = *this;
      ++*this;
      return result;
    }

    friend bool operator==(const basic_iterator& x, const basic_iterator& y) {
      return x.in_old_ == y.in_old_ && x.it_ == y.it_;
    }

    friend bool operator!=(const basic_iterator& x, const basic_iterator& y) {
      return !(x == y);
    }

  private:
    friend class growing_map;
    template <bool>
    friend class basic_iterator;

    basic_iterator(owner_type* owner, bool in_old, inner it)
      : owner_(owner), in_old_(in_old), it_(it) {
      skip_to_old();
    }

    // Past the new table's last entry comes the old table's first.
    void skip_to_old() {
      if (!in_old_ && it_ == owner_->now_.end()) {
        in_old_ = true;
        it_ = owner_->old_.begin();
      }
    }

    owner_type* owner_ = nullptr;
    bool in_old_ = false;
    inner it_{};
  };

  using iterator = basic_iterator<false>;
  using const_iterator = basic_iterator<true>;

  growing_map() = default;

  /// Returns where the tables come from (for tests and benchmarks).
  const table_memory& memory() const noexcept { return *memory_; }

  // The drain cursor points into old_: a copy would point into the other's.
  // A move finishes the other's growth first.
  growing_map(const growing_map&) = delete;
  growing_map& operator=(const growing_map&) = delete;

  growing_map(growing_map&& other) { take(other); }

  growing_map& operator=(growing_map&& other) {
    if (this != &other)
      take(other);
    return *this;
  }

  iterator begin() { return {this, false, now_.begin()}; }
  iterator end() { return {this, true, old_.end()}; }
  const_iterator begin() const { return {this, false, now_.begin()}; }
  const_iterator end() const { return {this, true, old_.end()}; }

  size_type size() const noexcept { return now_.size() + old_.size(); }
  bool empty() const noexcept { return size() == 0; }

  /// True while entries are still moving from the old table.
  bool growing() const noexcept { return !old_.empty(); }

  // Not growing, the old table is empty: a miss does not hash the key
  // again to search it.

  template <class K>
  iterator find(const K& key) {
    if (auto i = now_.find(key); i != now_.end() || !growing())
      return {this, false, i};
    return {this, true, old_.find(key)};
  }

  template <class K>
  const_iterator find(const K& key) const {
    if (auto i = now_.find(key); i != now_.end() || !growing())
      return {this, false, i};
    return {this, true, old_.find(key)};
  }

  template <class K>
  bool contains(const K& key) const {
    return now_.contains(key) || (growing() && old_.contains(key));
  }

  /// Inserts {key, T(args...)} unless `key` is there; returns the entry of
  /// `key` and whether it was inserted.
  template <class K, class... Args>
  std::pair<iterator, bool> try_emplace(K&& key, Args&&... args) {
    if (!growing()) {
      if (old_.bucket_count() != 0)
        release_old(); // emptied by erases
      // Half the table's inserts before it is full, that is right after the
      // drain of a doubling: time for the warmer to fault in the next one
      // (at three quarters the latency rows' tail was some 3x longer).
      // Counted against the table's capacity, not its max load: Boost's
      // flat map lowers that as it erases, and a map that only replaces
      // keys would prepare a table it never needs.
      if (auto buckets = now_.bucket_count();
          now_.size() >= buckets / 16 * 7 && prepared_for_ != buckets) {
        prepared_for_ = buckets;
        memory_->prepare_double();
      }
      if (full()) {
        if (auto i = now_.find(key); i != now_.end())
          return {iterator{this, false, i}, false};
        start_growing();
      }
    }
    if (growing()) {
      if (auto i = old_.find(key); i != old_.end())
        return {iterator{this, true, i}, false};
      drain(moves_per_insert);
    }
    auto [i, inserted] = now_.try_emplace(std::forward<K>(key),
                                          std::forward<Args>(args)...);
    return {iterator{this, false, i}, inserted};
  }

  /// Inserts {key, value} unless `key` is there, as try_emplace.
  template <class K, class V>
  std::pair<iterator, bool> emplace(K&& key, V&& value) {
    return try_emplace(std::forward<K>(key), std::forward<V>(value));
  }

  void erase(iterator pos) { erase(const_iterator{pos}); }

  void erase(const_iterator pos) {
    if (!pos.in_old_) {
      now_.erase(pos.it_);
      return;
    }
    if (pos.it_ == typename map_type::const_iterator{cursor_})
      ++cursor_;
    // An emptied old table is freed by the next insert: freeing it here
    // would move end() under the caller's iterators.
    old_.erase(pos.it_);
  }

  template <class K>
  size_type erase(const K& key) {
    auto i = find(key);
    if (i == end())
      return 0;
    erase(i);
    return 1;
  }

  /// Makes room for `n` entries (moving what is left of the old table).
  void reserve(size_type n) {
    drain(old_.size());
    now_.reserve(n);
  }

  void clear() {
    now_.clear();
    release_old();
  }

private:
  // True when the next insert into now_ would rehash it at once.
  bool full() const noexcept {
    return now_.size() + 1 > now_.max_load() && now_.size() >= incremental_from;
  }

  map_type fresh() const {
    return map_type(0, Hash{}, Pred{}, typename map_type::allocator_type{memory_});
  }

  void start_growing() {
    old_ = std::move(now_);
    now_ = fresh();
    // Room for the old entries and the inserts made while they move:
    // now_ does not rehash before old_ is empty.
    now_.reserve(2 * old_.size());
    cursor_ = old_.begin();
  }

  // Moves up to `n` entries from old_ to now_, from the cursor on: every
  // entry before the cursor has moved, so old_ is empty when it ends.
  void drain(size_type n) {
    for (; n > 0 && cursor_ != old_.end(); --n) {
      auto i = cursor_++;
      // The key is erased right after: moved from, as Boost's own rehash
      // moves keys.
      now_.try_emplace(std::move(const_cast<Key&>(i->first)), std::move(i->second));
      old_.erase(i);
    }
    if (cursor_ == old_.end())
      release_old();
  }

  // Takes the other's table and the memory it came from.
  void take(growing_map& other) {
    other.drain(other.old_.size());
    memory_ = std::exchange(other.memory_, std::make_shared<table_memory>());
    now_ = std::move(other.now_);
    release_old();
    prepared_for_ = std::exchange(other.prepared_for_, 0);
    other.now_ = other.fresh();
    other.release_old();
  }

  // Frees the drained old table.
  void release_old() {
    old_ = fresh();
    cursor_ = old_.end();
  }

  // Shared with the maps' allocators, which outlive a table_memory that
  // the map drops (a move).
  std::shared_ptr<table_memory> memory_ = std::make_shared<table_memory>();
  map_type now_ = fresh();
  map_type old_ = fresh();
  // The capacity of the table for which the next one was last asked for.
  size_type prepared_for_ = 0;
  typename map_type::iterator cursor_ = old_.end();
};

} // namespace bus
