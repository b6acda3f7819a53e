#pragma once

// The read model interface: one CQRS projection that a projector actor owns
// and feeds with events in seq order. User code implements it in C++; the
// declarative models (document_model, index_model) implement it from JSON.
// A read model is used by one actor at a time and needs no locking.
// Its code may throw: the projector catches the exception where it calls
// it and nothing is printed. From apply() it follows the model's recovery
// policy; from query() or snapshot() it answers the caller an error and
// the model goes on; from a restore at start, the model is rebuilt from the
// log (actors/include/bus/actors/projector.hpp).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "bus/event.hpp"
#include "bus/recovery_policy.hpp"
#include "bus/row_form.hpp"

namespace bus {

class upcaster_registry;

/// A view of the event log kept for fast queries.
class read_model {
public:
  virtual ~read_model();

  /// Returns the model's name, unique within a bus.
  virtual const std::string& name() const noexcept = 0;

  /// Returns the event types the model handles ("*" for every type).
  virtual const std::vector<std::string>& event_types() const noexcept = 0;

  /// Applies `e`, whose type the model handles. Returns true if the model
  /// took the event, false if it ignored it (for instance, the payload lacks
  /// the model's key). May throw.
  virtual bool apply(const event& e) = 0;

  /// Returns the value stored under `key`, or nothing. May throw: the
  /// caller gets errc::query_failed with the exception's text.
  virtual std::optional<boost::json::value> query(std::string_view key) const = 0;

  /// Returns the whole state as JSON (for comparisons, dumps, snapshots).
  /// A model that tracks its changes returns an object of every key and
  /// what query() answers for it: its snapshots are kept row by row. May
  /// throw: a snapshot request gets errc::query_failed, a periodic snapshot
  /// is skipped (logged) and tried again with the next.
  virtual boost::json::value snapshot() const = 0;

  /// Drops all state, as before the first event. An exception from it
  /// during a restore fails the projector: the state is then unknown.
  virtual void reset() = 0;

  /// Replaces the state with one that snapshot() returned. Returns false
  /// when the model cannot restore (the default): it is then rebuilt from
  /// the log instead. Throwing counts as false, the exception logged.
  virtual bool restore(const boost::json::value& state);

  /// Says that restore_row() is about to be called for `rows` keys (a hint,
  /// to make room for them at once). The default does nothing.
  virtual void expect_rows(std::size_t rows);

  /// Restores one key of a model that tracks its changes, after reset():
  /// `value` is what query(key) answered when its snapshot was taken. A
  /// restart from a rows snapshot calls it once per key, so that the state
  /// never has to be held as one JSON object beside the model (it holds
  /// millions of keys). Returns false when the model cannot (the default):
  /// the restart then calls restore() with the whole state instead. An
  /// exception means it cannot take the state at all: rebuilt from the log.
  virtual bool restore_row(std::string_view key, const boost::json::value& value);

  /// Returns what defines the model's behaviour (for declarative models,
  /// their configuration). A snapshot taken under another definition is
  /// not restored. The default, "", means "always the same".
  virtual std::string definition() const;

  /// Starts recording the keys whose query() answer may change, so that
  /// the model can persist to a table of key -> value rows (see
  /// model_table.hpp) and be snapshotted row by row, each snapshot writing
  /// only the rows changed since the last (snapshot_store.hpp). restore()
  /// must then take an object of key -> query() answer. Returns false when
  /// the model cannot (the default): it then lives in memory, and each
  /// snapshot writes its whole state.
  virtual bool track_changes();

  /// Moves the keys recorded since the last call (or reset()) to the end of
  /// `out`; a key may repeat. Does nothing for a model that does not track.
  virtual void take_changes(std::vector<std::string>& out);

  /// Appends the JSON text of what query(key) answers to `out` and returns
  /// true, or returns false, appending nothing, when the model holds no
  /// `key`. A rows snapshot asks it for every key the model changed. The
  /// default serializes query(key); a model may write the value without
  /// copying it (snapshot_rows.hpp has append_json for that).
  virtual bool write_value(std::string_view key, std::string& out) const;

  /// The form of this model's snapshot rows (snapshot_rows.hpp). The
  /// default, row_form::json: write_value() writes them and restore_row()
  /// takes them. A model that holds its values in the record form of a
  /// stored event's payload returns row_form::record and implements
  /// write_record(), so that a row is a copy rather than a serialization.
  virtual row_form snapshot_row_form() const noexcept;

  /// Appends what query(key) answers in record form (a tag byte, then the
  /// encoded value, event_record.hpp) to `out` and returns true, or returns
  /// false, appending nothing, when the model holds no `key`. Asked only of
  /// a model whose snapshot_row_form() is row_form::record; the default
  /// returns false.
  virtual bool write_record(std::string_view key, std::string& out) const;

  /// Restores one key from a record row, as restore_row() does from a JSON
  /// one: `value` is a checked encoded value (a tag byte first). The
  /// default decodes it and calls restore_row(); a model that writes
  /// record rows may take the bytes as they are.
  virtual bool restore_record(std::string_view key, std::string_view value);

  /// Returns true when the model holds `key` (write_value() would write
  /// it). A tracking model's recorder asks this for each changed key once
  /// its rows outgrow their bound, so it should cost a lookup: the default
  /// serializes the value and throws it away.
  virtual bool holds(std::string_view key) const;

  /// Returns the key that orders `e` among the model's events: events of
  /// one key must be applied in seq order, events of different keys need
  /// not. When an event is parked, the later events of its key are parked
  /// behind it (see recovery_policy.hpp). The default, nothing, means the
  /// model's events are independent: a parked event holds nothing back.
  virtual std::optional<std::string> key_of(const event& e) const;

  /// Returns true when the model is key-local: query(k) answers from the
  /// events e with key_of(e) == k, and from nothing else. Only such a model
  /// can run as key-hash partitions (partitions.hpp), which route a query
  /// to the partition of its key; the supervisor runs any other model
  /// whole. The default is false: only the model's author can promise it.
  virtual bool key_local() const noexcept;

  /// Returns true if the model handles events of `type`.
  bool handles(std::string_view type) const;
};

using read_model_ptr = std::unique_ptr<read_model>;

/// Makes a fresh, empty read model; called again for every restart.
using read_model_factory = std::function<read_model_ptr()>;

/// Where a projector keeps its read model's state.
enum class model_storage {
  /// In memory (with snapshots, if the projector takes them).
  memory,
  /// In a table of a SQLite models database, committed with the checkpoint
  /// and processed ids before the batches it covers are acknowledged (the
  /// model must track_changes()).
  sqlite,
};

/// Returns "memory" or "sqlite".
const char* to_string(model_storage x) noexcept;

/// What a supervisor needs to run one projector.
struct model_spec {
  /// The read model's name.
  std::string name;
  /// Makes the read model.
  read_model_factory make;
  /// Where its state lives.
  model_storage storage = model_storage::memory;
  /// What happens when its apply() throws.
  recovery_policy recovery{};
  /// Key-hash shards it runs as (partitions.hpp); 1 runs it whole.
  std::uint32_t partitions = 1;
  /// The upcasters its events pass through before apply (upcasters.hpp);
  /// null: the process's, projector_options::upcasters. A blue/green
  /// rebuild may bring in a new model with upcasters of its own.
  std::shared_ptr<const upcaster_registry> upcasters{};
};

} // namespace bus
