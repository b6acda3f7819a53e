#pragma once

// The write side's unit of consistency (CQRS, docs/commands.md): an
// aggregate is the state of one event stream ("order-42"), folded from the
// stream's events, that decides whether a command is valid and which events
// it produces. An aggregate never writes: stream_store stamps what it
// decides with the stream's next versions, and the command handler appends
// them to the bus.
//
// Aggregates are plain C++ objects, used by one thread at a time. User code
// may throw from apply() and handle(): the stream store turns it into an
// error (errc::apply_failed) and nothing is appended.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <caf/expected.hpp>

#include "bus/event.hpp"

namespace bus {

/// A request to change one stream, e.g. PlaceOrder on "order-42".
struct command {
  /// The command's name; it selects the aggregate type that handles it.
  std::string name;
  /// The stream it is for.
  std::string stream;
  /// The stream version the sender decided on (0: a new stream). The
  /// command is refused with errc::version_conflict when the stream has
  /// moved on since (optimistic concurrency).
  std::uint64_t expected_version = 0;
  /// The command's arguments.
  boost::json::object data;
};

/// An event an aggregate decided on, before the store gives it an id, a
/// stream version and its metadata.
struct decided_event {
  std::string type;
  boost::json::object payload;
};

/// The state of one stream, and the rules of its commands.
class aggregate {
public:
  virtual ~aggregate();

  /// Folds one event of the stream into the state (past facts: never
  /// refuses). Events come in stream-version order, each once.
  virtual void apply(const event& e) = 0;

  /// Validates `c` against the state and returns the events it produces
  /// (none: the command changes nothing), or an error, usually
  /// errc::command_rejected with a text saying why.
  virtual caf::expected<std::vector<decided_event>> handle(const command& c) const = 0;

  /// Returns the whole state as JSON, for snapshots.
  virtual boost::json::value snapshot() const = 0;

  /// Replaces the state with one that snapshot() returned.
  virtual void restore(const boost::json::value& state) = 0;
};

/// A kind of aggregate: its name, the commands it handles and how to make
/// a fresh (empty) one.
struct aggregate_type {
  /// E.g. "order"; recorded on every event of its streams.
  std::string name;
  /// The command names it handles; each belongs to one type only.
  std::vector<std::string> commands;
  /// Makes an aggregate in the state of an empty stream.
  std::function<std::unique_ptr<aggregate>()> make;
};

} // namespace bus
