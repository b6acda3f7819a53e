#pragma once

// The text of a snapshot kept row by row (snapshot_layout::rows): one line
// per change of a key, in the order of the changes,
//
//   ["user-42",{"id":"user-42","name":"Ada"}]   the key and the value a
//                                               query of it answers
//   ["user-7"]                                  the key was removed
//
// so the state is the last line of each key. A projector appends a line
// whenever its model changes a key (cheap: the value is at hand); the
// snapshot writer appends them as a delta to the stored lines (folded to
// the last line of each key by compact_rows first when the delta is large
// beside the base), and now and then folds all of them into a base holding
// one line per key. Each line is a JSON array: the sqlite3 shell and any
// JSON tool read it.
//
// A model that holds its values in the record form of a stored event's
// payload (event_record.hpp) writes *record rows* instead
// (read_model::snapshot_row_form): the byte 0, the length of the rest (4
// bytes, little endian), then the key (a varint length and its bytes) and
// the value's record (a tag byte first), or the key alone when it was
// removed. Such a row is a copy of what the model holds, where JSON text
// costs a serialization to write and a parse to restore. No JSON line holds
// a byte 0, so both kinds mix in one text: a fold compares keys as they
// read (a JSON key unescaped), and the last row of a key wins whatever its
// kind. Stores that keep rows as text get them as JSON (rows_as_json).
// Plain functions, no state: safe from any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <caf/expected.hpp>

#include "bus/row_form.hpp"

namespace bus {

class read_model;
struct restore_progress;

/// Appends the line of `key`: with `value`, or removed when `value` is null.
void append_row(std::string& out, std::string_view key,
                const boost::json::value* value);

/// Appends the row of `key` with the value `model` writes for it, in the
/// model's row form (read_model::snapshot_row_form) unless `form` is
/// row_form::json (for a store that keeps JSON lines), or removed when the
/// model holds no `key`.
void append_row(std::string& out, std::string_view key, const read_model& model,
                row_form form = row_form::record);

/// Appends the record row of `key` with `value` (a tag byte, then the
/// encoded value), or removed when `value` is empty.
void append_record_row(std::string& out, std::string_view key, std::string_view value);

/// Returns `text` with each record row written as its JSON line, the JSON
/// lines as they are: what a store that keeps rows as text stores. A row
/// that does not read is an errc::storage_failed.
caf::expected<std::string> rows_as_json(std::string_view text);

/// Appends the JSON text of `x` to `out` (for read_model::write_value).
void append_json(std::string& out, const boost::json::value& x);
void append_json(std::string& out, const boost::json::object& x);

/// Appends `x` as a JSON string, quoted and escaped.
void append_json(std::string& out, std::string_view x);

/// Appends the line of every member of `state` (a model's whole state, as
/// its snapshot() returns it when it tracks its changes).
void append_rows(std::string& out, const boost::json::object& state);

/// Returns the state that the rows of `text` describe: the value of the
/// last line of each key that was not removed (what read_model::restore
/// takes). A line that is not a row is an errc::storage_failed.
caf::expected<boost::json::object> rows_state(std::string_view text);

/// Restores `model` to the state the lines of `text` describe: reset(),
/// then a restore_row() per key, or, for a model that cannot restore row by
/// row, restore() with the whole state as one object. Returns false (the
/// model reset) when the model does not take the state; a line that is not
/// a row is an errc::storage_failed (the model reset). `text` is freed once
/// folded, before the model grows. Given `progress`, its rows count the
/// rows restored as they go, and its `stop` makes it give up with an
/// errc::model_unavailable (the model reset).
caf::expected<bool> restore_rows(read_model& model, std::string text,
                                 restore_progress* progress = nullptr);

/// How many lines a text of rows holds, and about how many keys.
struct row_count {
  std::size_t lines = 0;
  /// An estimate, within a few percent (and never above `lines`).
  std::size_t keys = 0;
};

/// What a fold does with a key whose last line removed it.
enum class removed_rows : std::uint8_t {
  /// Leaves it out: the fold is a whole state (a base).
  drop,
  /// Keeps its ["key"] line: the fold is a delta, which must still remove
  /// the key from the rows before it.
  keep,
};

/// Returns the lines of `texts` (in order; a line never spans two) folded:
/// the last line of each key, once, in no particular order. A line that is
/// not a row is an errc::storage_failed.
caf::expected<std::string> compact_rows(const std::vector<std::string_view>& texts,
                                        removed_rows removed = removed_rows::drop);

} // namespace bus
