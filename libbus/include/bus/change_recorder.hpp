#pragma once

// What a projector records of its model's changes for the next rows
// snapshot (snapshot_rows.hpp). Right after an apply the changed values
// are still in the cache, so a row is written then, at the cost of a
// lookup and a serialization. But rows grow with the changes, not with
// the keys: a model whose snapshot writer falls behind (many models on few
// cores, a large snapshot_every) would hold a row for every change since
// its last snapshot, a hundred megabytes a model and more. Past a bound
// the recorder keeps the keys the model holds, each once, and writes their
// rows when the snapshot is taken; a key the model no longer holds still
// gets its row at once, a short one (the key alone). So what it holds is
// bounded by the model's state and the keys removed since the snapshot.
// Not thread-safe: it belongs to its projector.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_set.hpp>

#include "bus/distinct_keys.hpp"
#include "bus/snapshot_rows.hpp"
#include "bus/string_keys.hpp"

namespace bus {

class read_model;

/// How a change_recorder records changes now.
enum class change_capture : std::uint8_t {
  /// A row per change, written at once.
  rows,
  /// The keys changed that the model holds, each once, their rows
  /// written on take(); removed keys' rows at once.
  keys,
};

/// Returns "rows" or "keys".
const char* to_string(change_capture x) noexcept;

/// Prints the name of `x`.
std::ostream& operator<<(std::ostream& out, change_capture x);

/// Records a model's changes as rows for its next snapshot.
class change_recorder {
public:
  /// Rows recorded at most (bytes) before the recorder keeps only keys.
  static constexpr std::size_t default_rows_at_most = std::size_t{4} << 20;

  /// Records rows in the model's form, or as JSON lines whatever the
  /// model's when `form` is row_form::json: a store that keeps text
  /// (PostgreSQL) would only turn record rows back into JSON, which costs
  /// more than writing it.
  explicit change_recorder(std::size_t rows_at_most = default_rows_at_most,
                           row_form form = row_form::record)
    : rows_at_most_(rows_at_most), form_(form) {
    // nop
  }

  /// Records that `model` changed `keys` (a key may repeat).
  void record(const std::vector<std::string>& keys, const read_model& model);

  /// Returns the rows recorded since the last take() or clear(), followed
  /// by a row for each key kept since, as `model` holds it now; then
  /// records rows again, into an empty buffer. `model` must be the one
  /// record() was given, changed only by what it recorded since.
  std::string take(const read_model& model);

  /// While no row is recorded yet: makes `buffer` (emptied) the one the
  /// next rows go to if it is larger than the one in use, and gives that
  /// room for about `expected` bytes of rows (at most the bound).
  void reuse(std::string buffer, std::size_t expected);

  /// The lines that take() would return now, and about how many keys
  /// they change (counted as they were recorded): whether folding them
  /// to a line per key pays, without a pass over them.
  row_count counted() const noexcept {
    auto lines = lines_ + keys_.size();
    return {lines, std::min(lines, keys_seen_.estimate())};
  }

  /// Forgets what was recorded; keeps the buffer.
  void clear() noexcept;

  /// Forgets what was recorded and frees its memory.
  void release() noexcept;

  /// How changes are recorded now.
  change_capture capture() const noexcept { return capture_; }

  /// The bytes of rows the buffer in use can hold without growing.
  std::size_t capacity() const noexcept { return rows_.capacity(); }

  /// The keys kept (capture() is keys) since the last take().
  std::size_t keys_kept() const noexcept { return keys_.size(); }

  /// The bytes of rows recorded since the last take().
  std::size_t rows_bytes() const noexcept { return rows_.size(); }

  /// The rows recorded since the last take(), in the buffer in use.
  std::string_view rows() const noexcept { return rows_; }

  /// The bound this recorder was made with.
  std::size_t rows_at_most() const noexcept { return rows_at_most_; }

  /// The row form this recorder was made with.
  row_form form() const noexcept { return form_; }

private:
  std::size_t rows_at_most_;
  row_form form_;
  change_capture capture_ = change_capture::rows;
  std::string rows_;
  /// The lines in rows_.
  std::size_t lines_ = 0;
  /// Every key recorded since the last take().
  distinct_keys keys_seen_;
  boost::unordered_flat_set<std::string, string_hash, string_equal> keys_;
};

} // namespace bus
